//! The engine's one error type.
//!
//! Every fallible engine call returns [`Error`]; callers that map errors to a protocol (HTTP
//! status codes, Python exceptions) match on [`Error::kind`] instead of on variants, so new
//! variants never ripple into them.

use std::path::{Path, PathBuf};

/// The broad class of an [`Error`], stable for protocol mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller sent something invalid (bad vector, unknown operator, malformed id, …).
    InvalidArgument,
    /// A named collection or point does not exist.
    NotFound,
    /// Something with that name already exists.
    AlreadyExists,
    /// The operation conflicts with the current state (e.g. directory locked by another process).
    Conflict,
    /// Bytes on disk are not what the engine wrote: checksum, magic or structure mismatch.
    Corruption,
    /// The operating system refused an I/O operation.
    Io,
    /// A configured limit was exceeded (payload too large, too deep, batch too big).
    ResourceExhausted,
    /// A bug: an invariant of the engine itself did not hold.
    Internal,
}

/// An engine error. Construct with the helper functions; match with [`Error::kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("database directory {path} is locked by another process; close it there or open another directory")]
    Locked { path: PathBuf },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("corruption in {path}: {detail}")]
    Corruption { path: PathBuf, detail: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("limit exceeded: {0}")]
    ResourceExhausted(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::Locked { .. } | Error::Conflict(_) => ErrorKind::Conflict,
            Error::Corruption { .. } => ErrorKind::Corruption,
            Error::Io { .. } => ErrorKind::Io,
            Error::ResourceExhausted(_) => ErrorKind::ResourceExhausted,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }

    pub(crate) fn corruption(path: &Path, detail: impl Into<String>) -> Self {
        Error::Corruption {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result alias for engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
