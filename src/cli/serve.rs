//! `dangan serve`, `dangan worker` and `dangan migrate`.

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Stores};
use crate::config::Settings;
use crate::domain::job::Job;
use crate::priority::BackgroundRuntime;
use crate::{http, jobs};

/// Opens the stores, creates the first admin if needed, and serves until SIGTERM or Ctrl-C.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let admin_password = settings
        .auth
        .admin_password
        .as_ref()
        .map(|secret| secret.expose());
    if let Some(generated) = app.auth.ensure_admin(admin_password).await? {
        tracing::warn!(
            "first start: created user `admin` with password {generated} \
             (shown only this once; set DANGAN_ADMIN_PASSWORD to choose it)"
        );
    }
    if let Some(summary) = app.catalogue.initialise(&settings.catalogue.preset).await? {
        tracing::info!(
            preset = %settings.catalogue.preset,
            categories = summary.categories,
            retention_policies = summary.retention_policies,
            "new installation: catalogue preset loaded"
        );
    }
    let listen = settings.server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("cannot listen on {listen}: is another process using it? set DANGAN_LISTEN")
        })?;
    tracing::info!(address = %listener.local_addr()?, "dangan is serving");

    // uploads, jobs and the indexer run behind requests (see `priority`)
    let runtime = background_runtime()?;
    let app = app.with_background(runtime.background());
    let background_app = stores.background_app(&settings, &app);
    let stop = CancellationToken::new();
    let scheduler = spawn_scheduler(&background_app, &settings, &stop);
    let workers = app.background.spawn(jobs::runner::run_workers(
        background_app.clone(),
        jobs::runner::WorkerOptions {
            concurrency: settings.worker.jobs_at_once(None),
            poll_interval: settings.worker.poll_interval,
        },
        stop.clone(),
    ));
    let indexer = app.background.spawn(jobs::indexer::run_indexer(
        background_app,
        settings.search.poll_interval,
        stop.clone(),
    ));
    http::serve(
        listener,
        app,
        shutdown_signal(),
        settings.server.shutdown_grace,
    )
    .await?;
    stop.cancel();
    let _ = tokio::join!(scheduler, workers, indexer);
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    runtime.stop();
    tracing::info!("dangan stopped");
    Ok(())
}

/// The runtime of background work, a worker thread per core.
fn background_runtime() -> anyhow::Result<BackgroundRuntime> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    BackgroundRuntime::start(cores).context("cannot start the background runtime")
}

/// Runs only background workers until SIGTERM or Ctrl-C; jobs in flight finish first.
pub async fn worker(settings: Settings, concurrency: Option<usize>) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let concurrency = settings.worker.jobs_at_once(concurrency);
    tracing::info!(concurrency, "dangan worker is running");
    let runtime = background_runtime()?;
    let app = stores.background_app(&settings, &app.with_background(runtime.background()));
    let stop = CancellationToken::new();
    let app_for_scheduler = app.clone();
    let background = app.background.clone();
    let workers = background.spawn(jobs::runner::run_workers(
        app,
        jobs::runner::WorkerOptions {
            concurrency,
            poll_interval: settings.worker.poll_interval,
        },
        stop.clone(),
    ));
    let scheduler = spawn_scheduler(&app_for_scheduler, &settings, &stop);
    shutdown_signal().await;
    tracing::info!("stopping: letting running jobs finish");
    stop.cancel();
    let _ = tokio::join!(workers, scheduler);
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    runtime.stop();
    Ok(())
}

/// Opens the database (starting the embedded cluster if needed), migrates it, and stops.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings).await?;
    tracing::info!("database is up to date");
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    Ok(())
}

/// Runs the configured recurring jobs' scheduler beside the workers.
fn spawn_scheduler(
    app: &App,
    settings: &Settings,
    stop: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let staging_max_age = settings.storage.staging_max_age.as_secs();
    app.background.spawn(jobs::scheduler::run_scheduler(
        app.clone(),
        settings.schedules(),
        settings.time.timezone,
        move |schedule| Job::scheduled(schedule.kind, staging_max_age),
        stop.clone(),
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
