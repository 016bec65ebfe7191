//! The capabilities of dangan, one module each. A service owns its transactions and returns
//! [`ServiceError`](crate::services::ServiceError); HTTP handlers and CLI commands call exactly one service function.

pub mod access;
pub mod audit;
pub mod audit_seal;
pub mod auth;
pub mod backup;
pub mod catalogue;
pub mod corrections;
pub mod destruction;
pub mod disposition;
pub mod export;
pub mod extraction;
pub mod filing;
pub mod health;
pub mod holds;
pub mod import;
pub mod ingest;
pub mod integrity;
pub mod jobs;
pub mod ledger;
pub mod loans;
pub(crate) mod paging;
pub mod parties;
pub mod records;
pub mod releases;
pub mod reminders;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod stats;
pub mod users;

use uuid::Uuid;

use crate::blobs::BlobError;
use crate::db::DbError;
use crate::domain::ErrorCode;
use crate::domain::permissions::Capability;
use crate::domain::user::Role;
use crate::domain::validation::ValidationError;

/// The signed-in user a request acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub department_id: Option<Uuid>,
    /// The user's own employee folder, which they never see.
    pub party_id: Option<Uuid>,
}

/// Why a service call failed; [`ServiceError::code`] is what the client sees.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    OnHold(String),
    #[error("{0}")]
    Gone(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("range not satisfiable: the content is {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// Too many attempts; `retry_after` seconds to wait.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Validation(_) => ErrorCode::Validation,
            ServiceError::Unauthorized(_) => ErrorCode::Unauthorized,
            ServiceError::Forbidden(_) => ErrorCode::Forbidden,
            ServiceError::NotFound(_) => ErrorCode::NotFound,
            ServiceError::Conflict(_) => ErrorCode::Conflict,
            ServiceError::OnHold(_) => ErrorCode::OnHold,
            ServiceError::Gone(_) => ErrorCode::Gone,
            ServiceError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ServiceError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ServiceError::RangeNotSatisfiable { .. } => ErrorCode::RangeNotSatisfiable,
            ServiceError::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            ServiceError::Db(error) => error.code(),
            ServiceError::Blob(error) => error.code(),
            ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A message safe to show the client: internal details stay in the log.
    pub fn public_detail(&self) -> String {
        match self.code() {
            ErrorCode::Internal => "internal error; the server log has the details".to_owned(),
            ErrorCode::Unavailable => match self {
                ServiceError::Db(_) => "the database is unreachable; try again shortly".to_owned(),
                ServiceError::Blob(_) => {
                    "the object store is unreachable; try again shortly".to_owned()
                }
                other => other.to_string(),
            },
            _ => self.to_string(),
        }
    }
}

impl From<ValidationError> for ServiceError {
    fn from(error: ValidationError) -> Self {
        ServiceError::Validation(error.to_string())
    }
}

/// `Forbidden` unless the actor's role holds `capability` (the table is `Role::may`).
pub(crate) fn require(actor: &Actor, capability: Capability) -> ServiceResult<()> {
    if actor.role.may(capability) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "a {} may not {}",
        actor.role.as_str(),
        capability.describe()
    )))
}

/// A result of a service call.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Prints a document off the async threads (laying out text and embedding fonts is CPU work).
pub(crate) async fn printed<F>(print: F) -> ServiceResult<Vec<u8>>
where
    F: FnOnce() -> Result<Vec<u8>, crate::print::PrintError> + Send + 'static,
{
    tokio::task::spawn_blocking(print)
        .await
        .map_err(|error| ServiceError::Internal(format!("printing: {error}")))?
        .map_err(|error| ServiceError::Internal(error.to_string()))
}
