//! The worker: claims jobs from the PostgreSQL queue, runs them, and settles them — done,
//! retried later with backoff, or failed for good. Woken by NOTIFY, polling as fallback; a
//! worker that dies leaves its jobs claimable by the others at once (see `db::jobs`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{JobError, execute, give_up};
use crate::app::App;
use crate::services::jobs::{ClaimedJob, WorkerSlot};

/// How a process runs its workers.
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs without being woken.
    pub poll_interval: Duration,
}

/// Runs `options.concurrency` workers until `stop` is cancelled; jobs in flight finish first.
pub async fn run_workers(app: App, options: WorkerOptions, stop: CancellationToken) {
    let wake = Arc::new(Notify::new());
    let mut tasks = JoinSet::new();
    tasks.spawn(listen(app.clone(), wake.clone(), stop.clone()));
    tasks.spawn(keep_statistics(app.clone(), stop.clone()));
    for _ in 0..options.concurrency.max(1) {
        tasks.spawn(worker(
            app.clone(),
            wake.clone(),
            options.poll_interval,
            stop.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}

/// Runs every job that is due now, one at a time, until none is left; returns how many ran.
/// For tests and for `dangan worker --once`.
pub async fn run_until_idle(app: &App) -> anyhow::Result<usize> {
    let mut slot = app.jobs.register_worker().await?;
    let mut ran = 0;
    loop {
        match run_due(app, &mut slot, &CancellationToken::new()).await? {
            0 => return Ok(ran),
            count => ran += count,
        }
    }
}

/// How often the planner statistics of the growing tables are looked at.
const STATISTICS_EVERY: Duration = Duration::from_secs(5);

/// Keeps the planner statistics of the tables that jobs and filings grow fresh, so that a
/// bulk import does not run for minutes on plans made for nearly empty tables.
async fn keep_statistics(app: App, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(STATISTICS_EVERY) => {}
        }
        match app.jobs.refresh_statistics().await {
            Ok(tables) if !tables.is_empty() => {
                tracing::debug!(?tables, "planner statistics refreshed");
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "planner statistics not refreshed"),
        }
    }
}

async fn listen(app: App, wake: Arc<Notify>, stop: CancellationToken) {
    loop {
        let mut listener = match app.jobs.listen().await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for new jobs; polling until it works");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(5)) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                received = listener.recv() => match received {
                    Ok(_) => wake.notify_waiters(),
                    Err(error) => {
                        tracing::warn!(%error, "job notifications interrupted; reconnecting");
                        break;
                    }
                },
            }
        }
    }
}

async fn worker(app: App, wake: Arc<Notify>, poll: Duration, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let mut slot = match app.jobs.register_worker().await {
            Ok(slot) => slot,
            Err(error) => {
                tracing::warn!(%error, "worker cannot reach the queue; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(poll) => continue,
                }
            }
        };
        tracing::debug!(worker = slot.id(), "worker registered");
        loop {
            if stop.is_cancelled() {
                return;
            }
            match run_due(&app, &mut slot, &stop).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(error) => {
                    tracing::warn!(%error, "worker lost the queue; registering again");
                    break;
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}

/// Claims and runs jobs while they are due and `stop` is not cancelled; how many ran. The
/// job that finishes claims the next in the same round trip.
async fn run_due(
    app: &App,
    slot: &mut WorkerSlot,
    stop: &CancellationToken,
) -> anyhow::Result<usize> {
    let mut next = slot.claim().await?;
    let mut ran = 0;
    while let Some(job) = next {
        ran += 1;
        next = run_claimed(app, slot, job, !stop.is_cancelled()).await?;
    }
    Ok(ran)
}

/// Runs one claimed job and settles it; with `more`, a job that finished claims the next.
async fn run_claimed(
    app: &App,
    slot: &mut WorkerSlot,
    job: ClaimedJob,
    more: bool,
) -> anyhow::Result<Option<ClaimedJob>> {
    let span = tracing::info_span!("job", job.id = job.id, job.kind = %job.kind, job.attempt = job.attempts);
    async {
        if job.exhausted.is_some() {
            // out of attempts or crashes: never run again, only its failure recorded
            let reason = slot.give_up_reason(&job);
            if let Err(error) = give_up(app, &job, &reason).await {
                tracing::warn!(%error, "recording what the given-up job leaves behind failed");
            }
            slot.fail(&job, &reason, true).await?;
            tracing::error!(error = %reason, "job given up");
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let (message, permanent) = match execute(app, &job).await {
            Ok(()) => {
                let next = if more {
                    slot.finish_and_claim(&job).await?
                } else {
                    slot.finish(&job).await?;
                    None
                };
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "job done");
                return Ok(next);
            }
            Err(JobError::NotYet(delay, reason)) => {
                slot.postpone(&job, delay).await?;
                tracing::debug!(reason, retry_in_s = delay.as_secs(), "job waits");
                return Ok(None);
            }
            Err(JobError::Retry(error)) => (format!("{error:#}"), false),
            Err(JobError::Permanent(error)) => (format!("{error:#}"), true),
        };
        match slot.fail(&job, &message, permanent).await? {
            Some(delay) => {
                tracing::warn!(error = %message, retry_in_s = delay.as_secs(), "job failed; will retry");
            }
            None => tracing::error!(error = %message, "job failed for good"),
        }
        Ok(None)
    }
    .instrument(span)
    .await
}
