//! Plain types and rules of the archive, with no I/O: error codes, content digests, users
//! and roles, record metadata.

pub mod digest;
pub mod error;
pub mod media;
pub mod record;
pub mod user;

pub use digest::Sha256Digest;
pub use error::ErrorCode;
