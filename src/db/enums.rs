//! Domain enums stored as text: rows carry them typed, and a value the schema should never
//! hold is an error of the read, not a string that every caller compares.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::catalogue::{Carrier, OpenStatus, SecurityLevel};
use crate::domain::party::PartyStatus;
use crate::domain::record::RecordStatus;

/// Stores each enum as its `as_str` text and reads it back with `parse`.
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

        impl Encode<'_, Postgres> for $kind {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    )*};
}

stored_as_text!(
    RecordStatus,
    PartyStatus,
    SecurityLevel,
    OpenStatus,
    Carrier
);
