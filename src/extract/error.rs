//! What can go wrong while extracting text, split into permanent and transient failures.

use std::time::Duration;

use crate::domain::ErrorCode;

use super::command::Tool;

/// A failure to extract text from a file.
///
/// [`ExtractError::is_permanent`] tells the job runner whether trying again can help: a corrupt,
/// encrypted, oversized or unsupported file fails the same way every time; a timeout, a missing
/// tool or an I/O error may not.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// No extractor handles this media type.
    #[error("no text extraction for media type {media_type:?}")]
    Unsupported {
        /// The media type that was asked for.
        media_type: String,
    },
    /// The file is not a valid file of its type.
    #[error("{format} file is corrupt: {reason}")]
    Corrupt {
        /// The format the file claimed to be (`pdf`, `docx`, `image`, …).
        format: &'static str,
        /// What the parser or tool said.
        reason: String,
    },
    /// The file needs a password to be read.
    #[error("{format} file is encrypted with a password")]
    Encrypted {
        /// The format of the file.
        format: &'static str,
    },
    /// The file expands past the limits that guard against decompression bombs.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The part of the file that was too large.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// An external tool ran longer than the configured timeout and was killed.
    #[error("{tool} did not finish within {after:?}")]
    Timeout {
        /// The tool that was killed.
        tool: Tool,
        /// The timeout that expired.
        after: Duration,
    },
    /// An external tool is not installed (not found on `PATH`).
    #[error("{tool} is not installed")]
    ToolMissing {
        /// The missing tool.
        tool: Tool,
    },
    /// An external tool failed for a reason that is not known to be the file's fault.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// The tool that failed.
        tool: Tool,
        /// Its exit status, as `exit status: 1` or `signal: 9`.
        status: String,
        /// The end of what it wrote to standard error.
        stderr: String,
    },
    /// The parser of a file used up a limit of its sandbox process (`dangan sandbox`).
    #[error("the extractor ran out of {resource} on this file ({detail})")]
    OutOfResources {
        /// What ran out.
        resource: Resource,
        /// Which limit, e.g. `address space limit of 2048 MiB`.
        detail: String,
        /// Whether the limit is one the file itself exhausts (memory, CPU time) rather than
        /// the wall clock, which a busy machine may run out of as well.
        permanent: bool,
    },
    /// The parser of a file crashed in its sandbox process: a panic or a fatal signal.
    #[error("the extractor crashed on this file ({detail})")]
    Crashed {
        /// The signal or the panic message.
        detail: String,
    },
    /// A failure the sandbox process reported, as it reported it.
    #[error("{message}")]
    Reported {
        /// The failure's message.
        message: String,
        /// Whether the same file fails the same way every time.
        permanent: bool,
    },
    /// Reading the file, writing a temporary file or starting a process failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done, naming the thing.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A limit of the sandbox that a parser can run out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Memory,
    Time,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Memory => "memory",
            Resource::Time => "time",
        })
    }
}

impl ExtractError {
    /// Whether the same file will fail the same way every time, so the caller records the
    /// failure instead of retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Unsupported { .. }
            | Self::Corrupt { .. }
            | Self::Encrypted { .. }
            | Self::TooLarge { .. }
            | Self::Crashed { .. } => true,
            Self::OutOfResources { permanent, .. } | Self::Reported { permanent, .. } => *permanent,
            Self::Timeout { .. }
            | Self::ToolMissing { .. }
            | Self::ToolFailed { .. }
            | Self::Io { .. } => false,
        }
    }

    /// Whether the failure only means that dangan has no extractor for the media type
    /// (`file_texts.status = 'unsupported'` rather than `'failed'`).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Self::Unsupported { .. })
    }

    /// The API error code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unsupported { .. } => ErrorCode::UnsupportedMediaType,
            Self::Corrupt { .. } | Self::Encrypted { .. } | Self::Crashed { .. } => {
                ErrorCode::Validation
            }
            Self::TooLarge { .. } | Self::OutOfResources { .. } => ErrorCode::PayloadTooLarge,
            Self::Reported {
                permanent: true, ..
            } => ErrorCode::Validation,
            Self::Reported { .. } => ErrorCode::Internal,
            Self::Timeout { .. } | Self::ToolMissing { .. } => ErrorCode::Unavailable,
            Self::ToolFailed { .. } | Self::Io { .. } => ErrorCode::Internal,
        }
    }

    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source,
        }
    }

    pub(crate) fn corrupt(format: &'static str, reason: impl ToString) -> Self {
        Self::Corrupt {
            format,
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_faults_are_permanent_and_environment_faults_are_not() {
        let permanent = [
            ExtractError::Unsupported {
                media_type: "application/x-foo".into(),
            },
            ExtractError::corrupt("pdf", "no trailer"),
            ExtractError::Encrypted { format: "pdf" },
            ExtractError::TooLarge {
                what: "word/document.xml".into(),
                limit: 1,
            },
        ];
        let transient = [
            ExtractError::Timeout {
                tool: Tool::Tesseract,
                after: Duration::from_millis(1),
            },
            ExtractError::ToolMissing {
                tool: Tool::Pdftotext,
            },
            ExtractError::ToolFailed {
                tool: Tool::Pdftoppm,
                status: "signal: 9".into(),
                stderr: String::new(),
            },
            ExtractError::io("read x", std::io::Error::other("disk")),
        ];
        assert!(permanent.iter().all(ExtractError::is_permanent));
        assert!(!transient.iter().any(ExtractError::is_permanent));
        assert!(permanent[0].is_unsupported());
        assert!(!permanent[1].is_unsupported());
    }
}
