//! Plain types and rules of the archive, with no I/O: error codes, content digests, users
//! and roles, record metadata.

pub mod archival_code;
pub mod catalogue;
pub mod digest;
pub mod error;
pub mod export;
pub mod media;
pub mod party;
pub mod record;
pub mod retention;
pub mod user;

pub use digest::Sha256Digest;
pub use error::ErrorCode;
