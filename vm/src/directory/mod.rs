//! The system directory (`USER DIRECT`): who may log on, with which privileges, devices, IUCV
//! authority and guest program.

mod defaults;
mod parse;
pub mod password;

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

pub use defaults::{DefaultUser, default_directory};
pub use password::Password;
pub use spool::UserId;

use crate::privilege::PrivClasses;

/// A loaded user directory.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Entries by userid.
    pub users: BTreeMap<UserId, Arc<UserEntry>>,
    /// The file it was read from.
    pub source: PathBuf,
}

/// The kind of a unit-record device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrKind {
    /// A card reader.
    Reader,
    /// A card punch.
    Punch,
    /// A printer.
    Printer,
    /// The virtual console.
    Console,
}

/// A `SPOOL` or `CONSOLE` statement: one virtual unit-record device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrDev {
    /// Virtual device number.
    pub vdev: u16,
    /// Device type as written (`2540`, `1403`, `3215`…).
    pub devtype: String,
    /// What it is.
    pub kind: UrKind,
    /// Spool class (`*` allowed for readers).
    pub class: char,
}

/// The target of an `IUCV` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IucvTarget {
    /// `IUCV ALLOW`: any user may connect to this one.
    Allow,
    /// `IUCV ANY`: this user may connect to any other.
    Any,
    /// `IUCV userid`: this user may connect to that user.
    User(UserId),
    /// `IUCV *service`: this user may connect to a CP system service such as `*SPL`.
    Service(String),
}

/// An `IUCV` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IucvStmt {
    /// What it authorises.
    pub target: IucvTarget,
    /// `PRIORITY` was given.
    pub priority: bool,
    /// `MSGLIMIT n`, if given.
    pub msglimit: Option<u32>,
}

/// An `MDISK` statement: a minidisk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mdisk {
    /// Virtual device number.
    pub vdev: u16,
    /// Device type (`3390`…).
    pub devtype: String,
    /// Volume label, shown by CMS (e.g. in the PUNCH header card).
    pub volser: String,
    /// Link mode (`MR`, `W`…).
    pub mode: String,
    /// Size in cylinders (or blocks), as written.
    pub size: u64,
}

/// The `IPL` statement: the guest program the virtual machine runs at logon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipl {
    /// Program name, e.g. `CMS`, `TCPIP`, `IMAPD`.
    pub program: String,
    /// `PARM` text, if any.
    pub parm: Option<String>,
}

/// One user's directory entry.
#[derive(Debug, Clone)]
pub struct UserEntry {
    /// The userid.
    pub userid: UserId,
    /// Logon password (or NOLOG/AUTOONLY…).
    pub password: Password,
    /// Logon storage in bytes.
    pub storage: u64,
    /// Maximum storage in bytes.
    pub max_storage: u64,
    /// Privilege classes.
    pub classes: PrivClasses,
    /// Guest program to IPL at logon.
    pub ipl: Option<Ipl>,
    /// Unit-record devices (reader, punch, printer, console).
    pub devices: Vec<UrDev>,
    /// IUCV authorisations.
    pub iucv: Vec<IucvStmt>,
    /// `OPTION` operands, upper-cased.
    pub options: Vec<String>,
    /// Users allowed to XAUTOLOG this one.
    pub xautolog: Vec<UserId>,
    /// Users allowed to log on as this one (LOGONBY).
    pub logonby: Vec<UserId>,
    /// `SPOOLFILE MAXSPOOL n` (default 9999).
    pub maxspool: u16,
    /// `ACCOUNT acct [distcode]`.
    pub account: Option<String>,
    /// Distribution code from ACCOUNT, or the userid.
    pub dist: String,
    /// Minidisks.
    pub mdisks: Vec<Mdisk>,
    /// Line of the USER statement in the source file.
    pub line: usize,
}

impl UserEntry {
    /// The device of `kind` with the lowest device number, if any.
    pub fn device(&self, kind: UrKind) -> Option<&UrDev> {
        self.devices
            .iter()
            .filter(|d| d.kind == kind)
            .min_by_key(|d| d.vdev)
    }

    /// `OPTION MAXCONN n` (default 64, as on CP).
    pub fn maxconn(&self) -> u32 {
        self.options
            .iter()
            .position(|o| o == "MAXCONN")
            .and_then(|i| self.options.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(64)
    }

    /// Whether the entry has `IUCV ALLOW`.
    pub fn iucv_allow(&self) -> bool {
        self.iucv.iter().any(|s| s.target == IucvTarget::Allow)
    }

    /// The `IUCV` statement that authorises this user to connect to `target` (a userid or a
    /// `*service` name), if any: a specific statement first, then `IUCV ANY` (which does not cover
    /// system services).
    pub fn iucv_to(&self, target: &str) -> Option<&IucvStmt> {
        let specific = self.iucv.iter().find(|s| match &s.target {
            IucvTarget::User(u) => u.as_str() == target,
            IucvTarget::Service(n) => n.eq_ignore_ascii_case(target),
            _ => false,
        });
        specific.or_else(|| {
            if target.starts_with('*') {
                None
            } else {
                self.iucv.iter().find(|s| s.target == IucvTarget::Any)
            }
        })
    }
}

/// A problem in a directory or configuration file, naming the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// File name.
    pub file: PathBuf,
    /// 1-based line number (0 when the problem is with the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file.display().to_string());
        if self.line == 0 {
            write!(f, "{name}: {}", self.msg)
        } else {
            write!(f, "{name} line {}: {}", self.line, self.msg)
        }
    }
}

impl std::error::Error for FileError {}

impl Directory {
    /// Reads and checks a directory file.
    pub fn load(path: &Path) -> Result<Directory, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            file: path.to_path_buf(),
            line: 0,
            msg: format!("cannot read: {e}"),
        })?;
        Directory::parse(&text, path)
    }

    /// Parses directory text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Directory, FileError> {
        let users = parse::parse(text).map_err(|(line, msg)| FileError {
            file: path.to_path_buf(),
            line,
            msg,
        })?;
        Ok(Directory {
            users: users
                .into_iter()
                .map(|u| (u.userid.clone(), Arc::new(u)))
                .collect(),
            source: path.to_path_buf(),
        })
    }

    /// The entry of `userid`, if it exists.
    pub fn get(&self, userid: &UserId) -> Option<&Arc<UserEntry>> {
        self.users.get(userid)
    }

    /// Looks up a userid given as text (any case).
    pub fn lookup(&self, userid: &str) -> Option<&Arc<UserEntry>> {
        UserId::parse(userid).ok().and_then(|u| self.users.get(&u))
    }
}
