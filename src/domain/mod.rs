//! Plain types and rules of the archive, with no I/O: error codes, content digests, users
//! and roles, record metadata, import manifests.

/// A closed set of values stored and sent as snake_case text, with `as_str`, `parse`, `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod archival_code;
pub mod audit;
pub mod catalogue;
pub mod correction;
pub mod digest;
pub mod disposition;
pub mod error;
pub mod export;
pub mod file_origin;
pub mod integrity;
pub mod job;
pub mod loan;
pub mod location;
pub mod manifest;
pub mod media;
pub mod party;
pub mod patch;
pub mod permissions;
pub mod proposal;
pub mod record;
pub mod reminder;
pub mod retention;
pub mod schedule;
pub mod search_query;
pub mod stocktake;
pub mod storage_care;
pub mod user;
pub mod validation;

pub use digest::Sha256Digest;
pub use error::ErrorCode;
