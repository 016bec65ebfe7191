//! The HTTP API: one route table, thin handlers that call one service function each, and
//! one error type rendered as problem details.

mod audit;
mod auth;
mod borrowers;
mod catalogue;
mod corrections;
mod destruction;
mod disposition;
pub mod error;
mod export;
mod extract;
mod integrity;
mod loans;
mod openapi;
mod ops;
mod parties;
mod records;
mod releases;
mod reminders;
mod rooms;
mod router;
mod search;
mod stats;
mod stocktakes;
mod users;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use error::status_of;
pub use extract::{ClientAddress, SESSION_COOKIE};
pub(crate) use records::{field_stream, multipart_error};
pub use router::router;

use crate::app::App;

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight (such
/// as uploads) finish for up to `grace` before returning.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let draining = Arc::new(Notify::new());
    let signal = {
        let draining = draining.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            draining.notify_one();
        }
    };
    let server = axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let deadline = async {
        draining.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(?grace, "requests still running after the grace period; stopping anyway");
            Ok(())
        }
    }
}
