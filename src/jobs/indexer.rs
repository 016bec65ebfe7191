//! The indexer of a serving node: follows the change log into the search index, woken by
//! NOTIFY on `dangan_index`, polling as fallback, and picks up rebuilt generations.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;

/// Follows the change log until `stop` is cancelled.
pub async fn run_indexer(app: App, poll: Duration, stop: CancellationToken) {
    let mut listener = None;
    loop {
        if listener.is_none() {
            listener = app.search.listen_changes().await.ok();
        }
        match app.search.catch_up().await {
            Ok(0) => {}
            Ok(applied) => tracing::debug!(applied, "index caught up"),
            Err(error) => tracing::warn!(%error, "indexing failed; will retry"),
        }
        let notified = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            ok = notified => if !ok { listener = None },
            () = tokio::time::sleep(poll) => {}
        }
    }
}
