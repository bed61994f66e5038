//! Why a mailstore request failed, in terms an IMAP response can use.

use vm::sfs::DmsError;

/// A mailstore failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such mailbox.
    #[error("Mailbox does not exist: {0}")]
    NoMailbox(String),
    /// The mailbox exists already.
    #[error("Mailbox already exists: {0}")]
    Exists(String),
    /// The user is not enrolled in the mailstore.
    #[error("{0} is not enrolled in the mailstore")]
    NotEnrolled(String),
    /// The user is enrolled already.
    #[error("{0} is already enrolled in the mailstore")]
    AlreadyEnrolled(String),
    /// The user's space is full.
    #[error("Quota exceeded: {0}")]
    OverQuota(String),
    /// A limit of this server (keywords per mailbox, UIDs…).
    #[error("{0}")]
    Limit(String),
    /// The request makes no sense for this mailbox (deleting INBOX…).
    #[error("{0}")]
    Refused(String),
    /// The mailbox was deleted while in use.
    #[error("Mailbox has been deleted")]
    Gone,
    /// An index in a format this server does not read.
    #[error("{0}")]
    Version(String),
    /// An index or list that cannot be read.
    #[error("Mailstore damaged: {0}")]
    Corrupt(String),
    /// The file pool failed (not available, storage error).
    #[error("Mailstore unavailable: {0}")]
    Unavailable(String),
}

impl From<DmsError> for StoreError {
    fn from(e: DmsError) -> StoreError {
        match e {
            DmsError::QuotaExceeded { .. } => StoreError::OverQuota(e.to_string()),
            DmsError::NotEnrolled { user, .. } => StoreError::NotEnrolled(user),
            DmsError::AlreadyEnrolled(u) => StoreError::AlreadyEnrolled(u),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}
