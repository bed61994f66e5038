//! SFS errors, as CMS shows them: `DMSxxxnnnnE text`, with a CMS return code and an SFS reason
//! code. IBM's exact message numbers for these were not confirmed (cp-cms.md §5); the numbers and
//! texts here are vmimap's, kept stable and listed in docs/cp-commands.md.

use std::fmt;

/// Why an SFS request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmsError {
    /// The pool name is malformed.
    InvalidPool(String),
    /// No such file pool on this system.
    UnknownPool(String),
    /// The pool's server is not running.
    PoolUnavailable(String),
    /// The directory id is malformed.
    InvalidDirId(String),
    /// The file id is malformed (name or type longer than 8 characters, bad characters).
    InvalidFileId(String),
    /// The user may not connect to the pool.
    ConnectRefused {
        /// User.
        user: String,
        /// Pool.
        pool: String,
    },
    /// The user is not enrolled in the pool.
    NotEnrolled {
        /// User.
        user: String,
        /// Pool.
        pool: String,
    },
    /// The user is already enrolled.
    AlreadyEnrolled(String),
    /// Not authorised for the object.
    NotAuthorized(String),
    /// The directory does not exist.
    DirNotFound(String),
    /// The directory already exists.
    DirExists(String),
    /// The directory is not empty.
    DirNotEmpty(String),
    /// The file does not exist.
    FileNotFound(String),
    /// The file already exists.
    FileExists(String),
    /// The write would exceed the user's block limit.
    QuotaExceeded {
        /// Whose space.
        user: String,
        /// Blocks the write needs in all.
        need: u64,
        /// The limit.
        limit: u64,
    },
    /// A record or file is not of the form asked (record length, format).
    BadRecord(String),
    /// The pool's storage failed; the change was not made.
    Storage(String),
}

impl DmsError {
    /// The message id.
    pub fn id(&self) -> &'static str {
        match self {
            DmsError::InvalidPool(_) => "DMSSFS1101E",
            DmsError::UnknownPool(_) => "DMSSFS1102E",
            DmsError::PoolUnavailable(_) => "DMSSFS1103E",
            DmsError::InvalidDirId(_) => "DMSSFS1104E",
            DmsError::InvalidFileId(_) => "DMSSFS1105E",
            DmsError::ConnectRefused { .. } => "DMSSFS1106E",
            DmsError::NotEnrolled { .. } => "DMSSFS1107E",
            DmsError::AlreadyEnrolled(_) => "DMSSFS1108E",
            DmsError::NotAuthorized(_) => "DMSSFS1109E",
            DmsError::DirNotFound(_) => "DMSSFS1110E",
            DmsError::DirExists(_) => "DMSSFS1111E",
            DmsError::DirNotEmpty(_) => "DMSSFS1112E",
            DmsError::FileNotFound(_) => "DMSSFS1113E",
            DmsError::FileExists(_) => "DMSSFS1114E",
            DmsError::QuotaExceeded { .. } => "DMSSFS1115E",
            DmsError::BadRecord(_) => "DMSSFS1116E",
            DmsError::Storage(_) => "DMSSFS1117S",
        }
    }

    /// The CMS return code: 24 bad parameters, 28 not found, 36 not accessed/unavailable,
    /// 76 not authorised, 70 already exists, 101 space limit, 100 storage failure.
    pub fn rc(&self) -> i32 {
        match self {
            DmsError::InvalidPool(_)
            | DmsError::InvalidDirId(_)
            | DmsError::InvalidFileId(_)
            | DmsError::BadRecord(_) => 24,
            DmsError::UnknownPool(_) | DmsError::PoolUnavailable(_) => 36,
            DmsError::DirNotFound(_) | DmsError::FileNotFound(_) => 28,
            DmsError::ConnectRefused { .. }
            | DmsError::NotEnrolled { .. }
            | DmsError::NotAuthorized(_) => 76,
            DmsError::AlreadyEnrolled(_)
            | DmsError::DirExists(_)
            | DmsError::FileExists(_)
            | DmsError::DirNotEmpty(_) => 70,
            DmsError::QuotaExceeded { .. } => 101,
            DmsError::Storage(_) => 100,
        }
    }

    /// The SFS reason code (as the CSL routines return with the return code).
    pub fn reason(&self) -> u32 {
        match self {
            DmsError::InvalidPool(_) => 90410,
            DmsError::UnknownPool(_) => 90411,
            DmsError::PoolUnavailable(_) => 90412,
            DmsError::InvalidDirId(_) => 90420,
            DmsError::InvalidFileId(_) => 90421,
            DmsError::ConnectRefused { .. } => 90430,
            DmsError::NotEnrolled { .. } => 90431,
            DmsError::AlreadyEnrolled(_) => 90432,
            DmsError::NotAuthorized(_) => 90440,
            DmsError::DirNotFound(_) => 90450,
            DmsError::DirExists(_) => 90451,
            DmsError::DirNotEmpty(_) => 90452,
            DmsError::FileNotFound(_) => 90460,
            DmsError::FileExists(_) => 90461,
            DmsError::QuotaExceeded { .. } => 90470,
            DmsError::BadRecord(_) => 90480,
            DmsError::Storage(_) => 90490,
        }
    }
}

impl fmt::Display for DmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.id())?;
        match self {
            DmsError::InvalidPool(p) => write!(f, "Invalid file pool name {p}"),
            DmsError::UnknownPool(p) => write!(f, "File pool {p} is not defined on this system"),
            DmsError::PoolUnavailable(p) => write!(f, "File pool {p} is not available"),
            DmsError::InvalidDirId(d) => write!(f, "Invalid directory id {d}"),
            DmsError::InvalidFileId(w) => write!(f, "Invalid file id: {w}"),
            DmsError::ConnectRefused { user, pool } => {
                write!(f, "{user} is not authorized to connect to file pool {pool}")
            }
            DmsError::NotEnrolled { user, pool } => {
                write!(f, "{user} is not enrolled in file pool {pool}")
            }
            DmsError::AlreadyEnrolled(u) => write!(f, "{u} is already enrolled"),
            DmsError::NotAuthorized(w) => write!(f, "Not authorized for {w}"),
            DmsError::DirNotFound(d) => write!(f, "Directory {d} not found"),
            DmsError::DirExists(d) => write!(f, "Directory {d} already exists"),
            DmsError::DirNotEmpty(d) => write!(f, "Directory {d} is not empty"),
            DmsError::FileNotFound(x) => write!(f, "File {x} not found"),
            DmsError::FileExists(x) => write!(f, "File {x} already exists"),
            DmsError::QuotaExceeded { user, need, limit } => write!(
                f,
                "File space limit exceeded for {user}: {need} blocks needed, limit {limit}"
            ),
            DmsError::BadRecord(w) => write!(f, "Invalid record: {w}"),
            DmsError::Storage(w) => write!(f, "File pool storage error: {w}"),
        }
    }
}

impl std::error::Error for DmsError {}

impl From<spool::SpoolError> for DmsError {
    fn from(e: spool::SpoolError) -> DmsError {
        DmsError::Storage(e.to_string())
    }
}
