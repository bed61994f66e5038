//! Errors of the spool store.

use std::{io, path::PathBuf};

/// Result alias for spool operations.
pub type SpoolResult<T> = Result<T, SpoolError>;

/// Why a spool operation failed. CP maps these onto its HCP messages.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The owner already has the maximum number of spool files (CP rc 439).
    #[error("spool fileid limit exceeded for {0}")]
    SpoolidLimit(String),
    /// No such file in the owner's queues.
    #[error("spool file {0:04} does not exist")]
    NoSuchFile(u16),
    /// A file or record is larger than the system allows.
    #[error("spool file too large: {0}")]
    TooLarge(String),
    /// An I/O error while reading or writing spool space.
    #[error("spool I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The on-disk spool is damaged or of an unknown format.
    #[error("spool damaged: {0}")]
    Corrupt(String),
    /// An earlier write to spool space failed; the spool refuses further changes until re-IPL.
    #[error("spool space failed earlier ({0}); re-IPL the system")]
    Failed(String),
    /// The spool is locked by another process (a running system).
    #[error("{0}")]
    Locked(String),
}

impl SpoolError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        SpoolError::Io {
            path: path.into(),
            source,
        }
    }
}
