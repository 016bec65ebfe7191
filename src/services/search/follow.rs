//! Following the database's change log: the indexer's catch-up, this node's registration
//! as a reader of the log, its pruning, and the rebuild of a generation from the tables.

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{SearchService, blocking, document};
use crate::db;
use crate::index::{IndexError, Position, Rebuild, RecordDocument, SearchIndex};
use crate::services::{ServiceError, ServiceResult};

const CHANGE_BATCH: i64 = 2_000; // change-log entries applied per index commit
/// How long a process waits for another process holding the index's writer (on the same
/// data directory) to commit what this one was about to apply.
const WRITER_ELSEWHERE: Duration = Duration::from_secs(30);
/// Readers of the change log not seen for this long are forgotten: the log is pruned past
/// them, and they rebuild when they come back.
const READER_STALE_DAYS: i32 = 7;
/// How often a reader with nothing new to apply says it is still alive.
const SEEN_EVERY: Duration = Duration::from_secs(60);
/// Change-log entries deleted per housekeeping round at the most.
const PRUNE_BATCH: i64 = 100_000;

impl SearchService {
    /// Subscribes to the notifications that new change-log entries send.
    pub async fn listen_changes(&self) -> ServiceResult<db::jobs::Listener> {
        Ok(db::jobs::Listener::connect(&self.background, "dangan_index").await?)
    }

    /// Applies every committed change of the log to the index; returns how many entries.
    /// The remembered position only passes entries below the oldest running transaction
    /// (anything later may still be joined by entries committed out of order), so entries
    /// beyond it are applied now and again later: applying is idempotent.
    pub async fn catch_up(&self) -> ServiceResult<usize> {
        let mut last_registered = self.catching_up.lock().await;
        let index = self.index().await?;
        let current = index.clone();
        blocking(move || current.follow_current()).await?;
        if !self.registered(&index).await? {
            tracing::warn!("the change log was pruned past this search index; rebuilding it");
            self.rebuild(|_, _| {}).await?;
            let current = index.clone();
            blocking(move || current.follow_current()).await?;
            if !self.registered(&index).await? {
                return Err(ServiceError::Internal(
                    "the rebuilt search index is behind the pruned change log".into(),
                ));
            }
        }
        let reader = index.clone();
        let mut position = blocking(move || reader.position())
            .await?
            .unwrap_or_default();
        // Reading goes on past entries of transactions that were running when read (the
        // position may not pass them yet: they are applied now and again later), so that a
        // long transaction anywhere on the server (a backup's dump, a slow export) cannot
        // hold the index behind a full batch of such entries.
        let mut cursor = (i64::try_from(position.tx).unwrap_or(i64::MAX), position.seq);
        let mut settled_so_far = true;
        let mut applied = 0;
        loop {
            let mut conn = db::acquire(&self.background).await?;
            // the position was registered when it was reached; only say now and then that
            // this reader is alive, so that an idle index writes nothing
            if last_registered.is_none_or(|at| at.elapsed() >= SEEN_EVERY) {
                let tx = i64::try_from(position.tx).unwrap_or(i64::MAX);
                db::search::register_reader(&mut conn, index.reader_id(), tx, position.seq).await?;
                *last_registered = Some(Instant::now());
            }
            let changes =
                db::search::changes_after(&mut conn, cursor.0, cursor.1, CHANGE_BATCH).await?;
            let Some(last) = changes.last() else {
                return Ok(applied);
            };
            cursor = (last.tx, last.seq);
            if settled_so_far {
                for change in &changes {
                    if !change.settled {
                        settled_so_far = false;
                        break;
                    }
                    position = Position {
                        tx: u64::try_from(change.tx).unwrap_or_default(),
                        seq: change.seq,
                    };
                }
            }
            let next = position;
            let mut ids: Vec<Uuid> = changes.iter().map(|change| change.record_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let sources = db::search::sources(&mut conn, &ids).await?;
            drop(conn);
            let found = document::changes(&ids, sources);
            applied += changes.len();
            let writer = index.clone();
            blocking(move || match writer.apply(found, next) {
                // the other process applies the same log: its commit past `next` will do
                Err(IndexError::HeldElsewhere) if writer.wait_for(next, WRITER_ELSEWHERE)? => {
                    Ok(())
                }
                other => other,
            })
            .await?;
            let mut conn = db::acquire(&self.background).await?;
            let tx = i64::try_from(next.tx).unwrap_or(i64::MAX);
            db::search::register_reader(&mut conn, index.reader_id(), tx, next.seq).await?;
            *last_registered = Some(Instant::now());
            drop(conn);
            if changes.len() < CHANGE_BATCH as usize {
                return Ok(applied);
            }
        }
    }

    /// Catches up as [`Self::catch_up`] does, then lets go of the index's writer: for a
    /// job that must see its changes searchable (a destruction run) in a process that is
    /// not the node's indexer, so that `dangan worker` never keeps the writer from the
    /// `dangan serve` beside it.
    pub async fn catch_up_once(&self) -> ServiceResult<usize> {
        let applied = self.catch_up().await;
        let index = self.index().await?;
        blocking(move || {
            index.release_writer();
            Ok(())
        })
        .await?;
        applied
    }

    /// Registers the current generation as a reader of the change log at its position,
    /// once per process, and tells whether the log still holds everything after it (else
    /// the index must be rebuilt).
    async fn registered(&self, index: &Arc<SearchIndex>) -> ServiceResult<bool> {
        let reader_id = index.reader_id();
        let known = self
            .registered
            .lock()
            .is_ok_and(|registered| registered.contains(&reader_id));
        if known {
            return Ok(true);
        }
        let reader = index.clone();
        let position = blocking(move || reader.position())
            .await?
            .unwrap_or_default();
        if !self.register_at(reader_id, position).await? {
            return Ok(false);
        }
        if let Ok(mut registered) = self.registered.lock() {
            registered.insert(reader_id);
        }
        Ok(true)
    }

    /// Registers `reader_id` at `position`; whether the log was not pruned past it. Once
    /// registered, pruning waits for the reader.
    async fn register_at(&self, reader_id: Uuid, position: Position) -> ServiceResult<bool> {
        let mut conn = db::acquire(&self.background).await?;
        let tx = i64::try_from(position.tx).unwrap_or(i64::MAX);
        db::search::register_reader(&mut conn, reader_id, tx, position.seq).await?;
        let pruned = db::search::pruned_horizon(&mut conn).await?;
        Ok(pruned.is_none_or(|pruned| pruned <= (tx, position.seq)))
    }

    /// Deletes change-log entries every registered reader has passed; how many went.
    pub async fn prune_change_log(&self) -> ServiceResult<u64> {
        let mut tx = db::begin(&self.background).await?;
        let pruned = db::search::prune_changes(&mut tx, READER_STALE_DAYS, PRUNE_BATCH).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(pruned)
    }

    /// Builds a new index generation from PostgreSQL while the current one keeps serving,
    /// then makes it current. `progress(done, total)` is called as records are added.
    pub async fn rebuild(&self, progress: impl Fn(u64, u64)) -> ServiceResult<u64> {
        let root = self.root.clone();
        let writer_memory = self.writer_memory;
        let mut rebuild = blocking(move || Rebuild::start(&root, writer_memory)).await?;
        db::search::refresh_statistics(&mut *db::acquire(&self.background).await?).await?;
        // the snapshot's horizon is where the new generation will follow the log from: it
        // is registered first, so pruning cannot pass it; a prune that got there first
        // means a later snapshot
        let mut attempts = 0;
        let (mut tx, horizon) = loop {
            let mut tx = db::begin(&self.background).await?;
            db::search::begin_snapshot(&mut tx).await?;
            let horizon = db::search::snapshot_horizon(&mut tx).await?;
            if self
                .register_at(rebuild.reader_id(), rebuilt_position(horizon))
                .await?
            {
                break (tx, horizon);
            }
            attempts += 1;
            if attempts == 3 {
                return Err(ServiceError::Internal(
                    "the change log keeps being pruned past the rebuild's snapshot".into(),
                ));
            }
        };
        let total = u64::try_from(db::search::count_active(&mut tx).await?).unwrap_or_default();
        let mut done = 0u64;
        let mut after = None;
        loop {
            let ids = db::search::active_ids_after(&mut tx, after, 500).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = Some(last);
            let documents: Vec<RecordDocument> = db::search::sources(&mut tx, &ids)
                .await?
                .into_iter()
                .map(document)
                .collect();
            done += documents.len() as u64;
            rebuild = blocking(move || rebuild.add(documents).map(|()| rebuild)).await?;
            progress(done, total);
        }
        tx.commit().await.map_err(db::DbError::from)?;
        let position = rebuilt_position(horizon);
        blocking(move || rebuild.finish(position)).await?;
        Ok(done)
    }
}

/// The position of a generation built from a snapshot with `horizon`: everything below the
/// horizon is in; later changes are replayed.
fn rebuilt_position(horizon: i64) -> Position {
    Position {
        tx: u64::try_from(horizon).unwrap_or_default().saturating_sub(1),
        seq: i64::MAX,
    }
}
