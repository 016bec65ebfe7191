//! The commit of a write that stored new content: a refused or failed write removes that
//! content again (unless a concurrent write took it meanwhile), and a commit whose reply
//! was lost is decided by the server's commit log, not guessed.

use uuid::Uuid;

use super::IngestService;
use crate::db::{self, Tx};
use crate::domain::Sha256Digest;
use crate::services::{ServiceError, ServiceResult};

/// Asks after an ambiguous commit's outcome this many times, first after this pause
/// (doubled each time: 0.2 + 0.4 + … + 3.2 s, about six seconds in all).
const OUTCOME_ATTEMPTS: u32 = 6;
const OUTCOME_FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Whether a failed write's new content is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discard {
    Content,
    /// The write may have committed: its content stays (at worst an unreferenced object,
    /// which a fixity sweep reports).
    Nothing,
}

/// Rolls a failed write back at once, so that its locks are gone before its content is
/// cleaned up (which waits for them).
async fn roll_back(tx: Tx) {
    if let Err(error) = db::rollback(tx).await {
        tracing::warn!(%error, "a failed write could not be rolled back");
    }
}

/// Content that a write stored for the first time, to remove again if the write fails.
#[derive(Debug, Clone, Copy)]
pub(in crate::services) struct NewContent {
    pub(super) digest: Sha256Digest,
    pub(super) size: i64,
}

impl IngestService {
    /// Commits `tx`, in which `written` stored the content listed in `created` and returned
    /// its id with the transaction's ([`db::xact_id`]), and returns that id. On failure the
    /// content it put in place is removed again. A commit whose reply was lost is decided by the server's commit log: the upload
    /// succeeds when its transaction committed after all, and its content stays whenever
    /// the outcome is not known to be a rollback.
    pub(in crate::services) async fn settle(
        &self,
        tx: Tx,
        written: ServiceResult<(Uuid, db::XactId)>,
        created: Vec<NewContent>,
    ) -> ServiceResult<Uuid> {
        let committed = match written {
            Ok((id, xact)) => self.commit(tx, xact, id).await,
            Err(error) => {
                roll_back(tx).await;
                Err((error, Discard::Content))
            }
        };
        let (error, discard) = match committed {
            Ok(id) => return Ok(id),
            Err(failure) => failure,
        };
        if discard == Discard::Content {
            for content in created {
                if let Err(cleanup) = self.discard_content(content).await {
                    let digest = content.digest;
                    tracing::warn!(%cleanup, %digest, "content of a failed write left in the store; a fixity sweep will report it");
                }
            }
        }
        Err(error)
    }

    /// Commits `tx`, the write `id`. A failure also says whether the write's new content
    /// may go: not while the commit's outcome is unknown.
    async fn commit(
        &self,
        tx: Tx,
        xact: db::XactId,
        id: Uuid,
    ) -> Result<Uuid, (ServiceError, Discard)> {
        let error = match db::commit(tx).await {
            Ok(()) => return Ok(id),
            Err(db::CommitFailure::RolledBack(error)) => {
                return Err((error.into(), Discard::Content));
            }
            Err(db::CommitFailure::Unknown(error)) => error,
        };
        tracing::warn!(%error, %id, "the reply to a commit was lost; asking what became of it");
        match self.outcome(xact).await {
            Ok(db::XactOutcome::Committed) => {
                tracing::info!(%id, "the write committed after all");
                Ok(id)
            }
            Ok(db::XactOutcome::Aborted) => Err((error.into(), Discard::Content)),
            Ok(db::XactOutcome::InProgress) | Err(_) => Err((error.into(), Discard::Nothing)),
        }
    }

    /// Deletes content that a failed write stored, unless a write that waited for it has
    /// meanwhile committed a reference to the same content (its promotion found the object
    /// there and kept it). The blob row's lock is held while the object goes.
    async fn discard_content(&self, content: NewContent) -> ServiceResult<()> {
        let mut tx = db::begin(&self.pool).await?;
        if db::blobs::lock_unreferenced(&mut tx, content.digest.as_bytes(), content.size).await? {
            self.blobs.delete(content.digest).await?;
            db::blobs::forget_unreferenced(&mut tx, content.digest.as_bytes()).await?;
        }
        db::commit(tx).await.map_err(|failure| match failure {
            db::CommitFailure::RolledBack(error) | db::CommitFailure::Unknown(error) => error,
        })?;
        Ok(())
    }

    /// The outcome of the transaction `xact`, whose commit reply was lost. The lost
    /// connection often means the database is briefly hard to reach, and a commit may still
    /// be running: both are asked again with back-off before the upload answers 503, since
    /// a client told "failed" may file the record a second time.
    async fn outcome(&self, xact: db::XactId) -> Result<db::XactOutcome, db::DbError> {
        let mut pause = OUTCOME_FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            let asked = db::xact_outcome(&self.pool, xact).await;
            let decided = matches!(
                asked,
                Ok(Some(db::XactOutcome::Committed | db::XactOutcome::Aborted) | None)
            );
            if decided || attempt == OUTCOME_ATTEMPTS {
                return asked.map(|outcome| outcome.unwrap_or(db::XactOutcome::InProgress));
            }
            tracing::warn!(
                ?asked,
                ?xact,
                attempt,
                "the outcome of a commit is not known yet; asking again"
            );
            tokio::time::sleep(pause).await;
            pause *= 2;
            attempt += 1;
        }
    }
}
