//! The closed set of error codes that clients see in problem-details bodies (api.md).

use serde::Serialize;

/// A stable, machine-readable error code; its string is the `code` field of every error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a value is invalid.
    Validation,
    /// No valid token or session.
    Unauthorized,
    /// The caller may not do this (used only where existence is not secret).
    Forbidden,
    /// The thing does not exist, or the caller may not know that it does.
    NotFound,
    /// The request conflicts with the current state (duplicate code, second approval…).
    Conflict,
    /// A legal hold blocks the change.
    OnHold,
    /// The thing existed and was destroyed.
    Gone,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The content type of the request or of an uploaded file is not accepted.
    UnsupportedMediaType,
    /// The requested byte range lies outside the content.
    RangeNotSatisfiable,
    /// Too many attempts (failed logins): wait for the Retry-After header.
    TooManyRequests,
    /// A store the request needs (database, object store) is unreachable.
    Unavailable,
    /// A fault of ours; the details are in the log, never in the response.
    Internal,
}

impl ErrorCode {
    /// The `code` string of api.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::OnHold => "on_hold",
            Self::Gone => "gone",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RangeNotSatisfiable => "range_not_satisfiable",
            Self::TooManyRequests => "too_many_requests",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// A short human title for the code.
    pub fn title(self) -> &'static str {
        match self {
            Self::Validation => "invalid request",
            Self::Unauthorized => "authentication required",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::OnHold => "on legal hold",
            Self::Gone => "gone",
            Self::PayloadTooLarge => "payload too large",
            Self::UnsupportedMediaType => "unsupported media type",
            Self::RangeNotSatisfiable => "range not satisfiable",
            Self::TooManyRequests => "too many requests",
            Self::Unavailable => "service unavailable",
            Self::Internal => "internal error",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_codes_match_their_strings() {
        for code in [
            ErrorCode::Validation,
            ErrorCode::NotFound,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::OnHold,
            ErrorCode::Unavailable,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
