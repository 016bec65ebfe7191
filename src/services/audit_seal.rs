//! The whole audit trail as one hash chain (R13): the sealer appends every event whose
//! transaction has ended to the chain, in seal order, and anchors the chain's head in the
//! object store, outside PostgreSQL; the check walks the chain and compares its head with
//! the newest anchor, so a changed, deleted or newest-deleted event shows.

use serde::Serialize;
use utoipa::ToSchema;

use super::audit::AuditService;
use super::{ServiceError, ServiceResult};
use crate::db::{self, PgConnection};
use crate::domain::audit::Anchor;

/// Events sealed per transaction.
const SEAL_BATCH: i64 = 1000;
/// Events read per round trip by the check.
const CHECK_PAGE: i64 = 5000;

/// How the whole trail's chain stands.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TrailChain {
    /// Events sealed into the chain.
    pub sealed: u64,
    /// Events whose chain hash does not follow (changed, or after a deleted one), by id.
    pub broken: Vec<i64>,
    /// Seal numbers missing from the chain (deleted events).
    pub missing_seals: Vec<i64>,
    /// The newest anchor in the object store and whether the chain still reaches it.
    pub anchor: Option<AnchorCheck>,
}

/// The chain's head as anchored, against the database.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnchorCheck {
    pub seal_seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub ok: bool,
    /// What does not match, if anything.
    pub problem: Option<String>,
}

impl TrailChain {
    /// Nothing changed, deleted or missing.
    pub fn holds(&self) -> bool {
        self.broken.is_empty()
            && self.missing_seals.is_empty()
            && self.anchor.as_ref().is_none_or(|anchor| anchor.ok)
    }
}

impl AuditService {
    /// Seals every event whose transaction has ended into the chain and anchors the head
    /// in the object store; returns how many events were sealed. Safe to run from several
    /// processes at once (one seals at a time).
    pub async fn seal(&self) -> ServiceResult<u64> {
        let mut sealed = 0;
        loop {
            let mut tx = db::begin(self.pool()).await?;
            db::audit::lock_sealer(&mut tx).await?;
            let head = db::audit::seal_head(&mut tx).await?;
            let batch = db::audit::to_seal(&mut tx, SEAL_BATCH).await?;
            if batch.is_empty() {
                tx.commit().await.map_err(db::DbError::from)?;
                break;
            }
            let (first, mut previous) =
                head.map_or((1, Vec::new()), |(seq, _, hash)| (seq + 1, hash));
            let ids: Vec<i64> = batch.iter().map(|event| event.id).collect();
            let seqs: Vec<i64> = (first..).take(batch.len()).collect();
            let hashes: Vec<Vec<u8>> = batch
                .iter()
                .map(|event| {
                    previous = event.expected_hash(Some(&previous)).to_vec();
                    previous.clone()
                })
                .collect();
            db::audit::seal(&mut tx, &ids, &seqs, &hashes).await?;
            tx.commit().await.map_err(db::DbError::from)?;
            sealed += batch.len() as u64;
        }
        self.anchor().await?;
        Ok(sealed)
    }

    /// Writes the chain's head to the object store unless the newest anchor holds it.
    async fn anchor(&self) -> ServiceResult<()> {
        let mut conn = db::acquire(self.pool()).await?;
        let Some((seal_seq, event_id, hash)) = db::audit::seal_head(&mut conn).await? else {
            return Ok(());
        };
        drop(conn);
        if self
            .latest_anchor()
            .await?
            .is_some_and(|anchor| anchor.seal_seq >= seal_seq)
        {
            return Ok(());
        }
        let anchor = Anchor {
            seal_seq,
            event_id,
            chain_hash: hex::encode(hash),
            at: chrono::Utc::now(),
        };
        let body = serde_json::to_vec(&anchor)
            .map_err(|error| ServiceError::Internal(format!("audit anchor: {error}")))?;
        self.blobs().put_anchor(seal_seq, body).await?;
        tracing::info!(seal_seq, "audit chain anchored");
        Ok(())
    }

    async fn latest_anchor(&self) -> ServiceResult<Option<Anchor>> {
        let Some(body) = self.blobs().latest_anchor().await? else {
            return Ok(None);
        };
        serde_json::from_slice(&body).map(Some).map_err(|error| {
            ServiceError::Internal(format!("the newest audit anchor is unreadable: {error}"))
        })
    }

    /// Walks the whole chain in seal order and compares its head with the newest anchor.
    pub(super) async fn check_trail(&self, conn: &mut PgConnection) -> ServiceResult<TrailChain> {
        let mut report = TrailChain::default();
        let mut previous: Option<Vec<u8>> = None;
        let mut expected_seq = 1;
        let mut after = 0;
        let mut hashes_at_anchor = None;
        let anchor = self.latest_anchor().await?;
        loop {
            let page = db::audit::sealed_page(conn, after, CHECK_PAGE).await?;
            let done = page.len() < CHECK_PAGE as usize;
            for event in page {
                report.sealed += 1;
                if event.seal_seq != expected_seq {
                    report
                        .missing_seals
                        .extend(expected_seq..event.seal_seq.min(expected_seq + 100));
                }
                let expected = event.expected_hash(previous.as_deref());
                if event.chain_hash.as_deref() != Some(expected.as_slice()) {
                    report.broken.push(event.id);
                }
                if anchor
                    .as_ref()
                    .is_some_and(|anchor| anchor.seal_seq == event.seal_seq)
                {
                    hashes_at_anchor = event.chain_hash.clone();
                }
                expected_seq = event.seal_seq + 1;
                after = event.seal_seq;
                previous = event.chain_hash;
            }
            if done {
                break;
            }
        }
        report.anchor = anchor.map(|anchor| {
            let problem = match &hashes_at_anchor {
                None => Some(format!(
                    "the anchored head (seal {}) is gone: the newest events were deleted",
                    anchor.seal_seq
                )),
                Some(hash) if hex::encode(hash) != anchor.chain_hash => Some(format!(
                    "the event at the anchored head (seal {}) no longer has the anchored hash",
                    anchor.seal_seq
                )),
                Some(_) => None,
            };
            AnchorCheck {
                seal_seq: anchor.seal_seq,
                at: anchor.at,
                ok: problem.is_none(),
                problem,
            }
        });
        Ok(report)
    }
}
