//! Domain enums stored as text: rows carry them typed, and a value the schema should never
//! hold is an error of the read, not a string that every caller compares.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, Postgres, Type};

use crate::domain::catalogue::{Carrier, OpenStatus, SecurityLevel};
use crate::domain::disposition::BatchStatus;
use crate::domain::integrity::{CheckKind, CheckStatus, Stage};
use crate::domain::job::JobStatus;
use crate::domain::loan::LoanStatus;
use crate::domain::party::{PartyKind, PartyStatus};
use crate::domain::proposal::ProposalStatus;
use crate::domain::record::{RecordStatus, TextStatus};
use crate::domain::reminder::{ReminderKind, ReminderStatus};

/// Reads each enum from the text its `as_str` stores (queries bind `as_str()`), with `parse`.
macro_rules! stored_as_text {
    ($($kind:ty),* $(,)?) => {$(
        impl Type<Postgres> for $kind {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $kind {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                <$kind>::parse(text).ok_or_else(|| {
                    format!("{text:?} is not a {}", stringify!($kind)).into()
                })
            }
        }
    )*};
}

stored_as_text!(
    RecordStatus,
    PartyKind,
    PartyStatus,
    SecurityLevel,
    OpenStatus,
    Carrier,
    BatchStatus,
    LoanStatus,
    TextStatus,
    JobStatus,
    ProposalStatus,
    CheckKind,
    CheckStatus,
    Stage,
    ReminderKind,
    ReminderStatus
);
