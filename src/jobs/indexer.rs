//! The indexer of a serving node: follows the change log into the search index, woken by
//! NOTIFY on `dangan_index`, polling as fallback, and picks up rebuilt generations.
//!
//! A catch-up that found work is followed by a short pause before the next one, so that
//! during a bulk import the filings of that pause reach the index in one commit (one new
//! reader for the searchers) instead of one commit each. An idle index takes a filing at once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;

/// The pause after a catch-up that applied changes: at most this much later does a filing
/// that arrives meanwhile become searchable.
const GATHER: Duration = Duration::from_millis(250);

/// Follows the change log until `stop` is cancelled.
pub async fn run_indexer(app: App, poll: Duration, stop: CancellationToken) {
    let mut listener = None;
    loop {
        if listener.is_none() {
            listener = app.search.listen_changes().await.ok();
        }
        let applied = match app.search.catch_up().await {
            Ok(applied) => applied,
            Err(error) => {
                tracing::warn!(%error, "indexing failed; will retry");
                0
            }
        };
        if applied > 0 {
            tracing::debug!(applied, "index caught up");
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(GATHER) => {}
            }
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
        // the notifications of the filings gathered meanwhile are answered by one catch-up
        if let Some(listener) = listener.as_mut() {
            listener.drain();
        }
    }
}
