//! The scheduler: enqueues recurring jobs at the slots of their cron patterns. Every process
//! that runs workers runs it; `schedule_runs` lets only the first enqueue each slot.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::job::Job;
use crate::domain::schedule::Schedule;

/// Enqueues each schedule's job at its slots until `stop` is cancelled. Slots missed while
/// no process ran are not made up; the next one comes as usual.
pub async fn run_scheduler(
    app: App,
    schedules: Vec<Schedule>,
    zone: Tz,
    job: impl Fn(&Schedule) -> Option<Job>,
    stop: CancellationToken,
) {
    if schedules.is_empty() {
        return;
    }
    let mut after = Utc::now();
    loop {
        let Some((slot, due)) = next_slot(&schedules, after, zone) else {
            return;
        };
        let wait = (slot - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        for schedule in due {
            let Some(job) = job(schedule) else { continue };
            match app.jobs.enqueue_scheduled(slot, &job).await {
                Ok(true) => {
                    tracing::info!(kind = schedule.kind.as_str(), %slot, "scheduled job enqueued")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, kind = schedule.kind.as_str(), "scheduled job not enqueued")
                }
            }
        }
        after = slot;
    }
}

/// The earliest slot after `after` and the schedules due at it.
fn next_slot(
    schedules: &[Schedule],
    after: DateTime<Utc>,
    zone: Tz,
) -> Option<(DateTime<Utc>, Vec<&Schedule>)> {
    let nexts: Vec<(DateTime<Utc>, &Schedule)> = schedules
        .iter()
        .filter_map(|schedule| Some((schedule.next_after(after, zone)?, schedule)))
        .collect();
    let slot = nexts.iter().map(|(slot, _)| *slot).min()?;
    Some((
        slot,
        nexts
            .into_iter()
            .filter(|(at, _)| *at == slot)
            .map(|(_, schedule)| schedule)
            .collect(),
    ))
}
