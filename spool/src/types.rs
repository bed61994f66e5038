//! The spool data model: queues, device types, file attributes.

use std::fmt;

use crate::UserId;

/// The three spool queues a file can be on, per owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Queue {
    /// The virtual reader (input) queue.
    Rdr = 0,
    /// The printer (output) queue.
    Prt = 1,
    /// The punch (output) queue.
    Pun = 2,
}

impl Queue {
    /// All queues, in display order.
    pub const ALL: [Queue; 3] = [Queue::Rdr, Queue::Prt, Queue::Pun];

    /// The three-letter name CP displays.
    pub fn name(self) -> &'static str {
        match self {
            Queue::Rdr => "RDR",
            Queue::Prt => "PRT",
            Queue::Pun => "PUN",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<Queue> {
        match v {
            0 => Some(Queue::Rdr),
            1 => Some(Queue::Prt),
            2 => Some(Queue::Pun),
            _ => None,
        }
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of virtual device that created a file (the `PUN`/`PRT`/`CON` column of QUERY RDR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DevType {
    /// A virtual printer.
    Prt = 1,
    /// A virtual punch.
    Pun = 2,
    /// A spooled console.
    Con = 3,
    /// A reader (a file created by a system service).
    Rdr = 4,
}

impl DevType {
    /// The three-letter name CP displays.
    pub fn name(self) -> &'static str {
        match self {
            DevType::Prt => "PRT",
            DevType::Pun => "PUN",
            DevType::Con => "CON",
            DevType::Rdr => "RDR",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<DevType> {
        match v {
            1 => Some(DevType::Prt),
            2 => Some(DevType::Pun),
            3 => Some(DevType::Con),
            4 => Some(DevType::Rdr),
            _ => None,
        }
    }
}

/// A spool class: one character `A`–`Z` or `0`–`9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(u8);

impl Class {
    /// Class A, the default of punches and printers.
    pub const A: Class = Class(b'A');
    /// Class T, the default of consoles.
    pub const T: Class = Class(b'T');

    /// A class from its character; `None` unless `A`–`Z` or `0`–`9` (lower case is folded).
    pub fn new(c: char) -> Option<Class> {
        let c = c.to_ascii_uppercase();
        (c.is_ascii_uppercase() || c.is_ascii_digit()).then_some(Class(c as u8))
    }

    /// The class character.
    pub fn as_char(self) -> char {
        self.0 as char
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0 as char)
    }
}

/// Hold status of a file: held by its user, by the system (spooling operator), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hold {
    /// User hold (SPOOL … HOLD, CHANGE … HOLD).
    pub user: bool,
    /// System hold (the class D HOLD command).
    pub system: bool,
}

impl Hold {
    /// The QUERY column text: `NONE`, `USER`, `SYS ` or `USYS`.
    pub fn column(self) -> &'static str {
        match (self.user, self.system) {
            (false, false) => "NONE",
            (true, false) => "USER",
            (false, true) => "SYS ",
            (true, true) => "USYS",
        }
    }

    /// Whether either hold is set.
    pub fn any(self) -> bool {
        self.user || self.system
    }
}

/// The attributes of a spool file that SPOOL, CLOSE and CHANGE set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAttrs {
    /// Spool class.
    pub class: Class,
    /// Number of copies, 1–255.
    pub copies: u8,
    /// Hold status.
    pub hold: Hold,
    /// KEEP: the file is kept (held) instead of purged after it is processed.
    pub keep: bool,
    /// MSG: notify the owner when processed.
    pub msg: bool,
    /// Form name (default `STANDARD`).
    pub form: String,
    /// Destination (default `OFF`).
    pub dest: String,
    /// Distribution code (default the owner's userid).
    pub dist: String,
    /// File name (CMS `fn`, or a dsname up to 24 characters when `ftype` is empty).
    pub fname: String,
    /// File type (CMS `ft`).
    pub ftype: String,
    /// TAG text (RSCS routing data; up to 136 characters).
    pub tag: String,
}

impl FileAttrs {
    /// Attributes with CP's defaults for an output file of `class`.
    pub fn with_class(class: Class, dist: &str) -> FileAttrs {
        FileAttrs {
            class,
            copies: 1,
            hold: Hold::default(),
            keep: false,
            msg: false,
            form: "STANDARD".into(),
            dest: "OFF".into(),
            dist: dist.into(),
            fname: String::new(),
            ftype: String::new(),
            tag: String::new(),
        }
    }
}

/// Where a file's records are kept in spool space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataRef {
    /// Journal segment number.
    pub segment: u32,
    /// Byte offset of the encoded records in that segment.
    pub offset: u64,
    /// Length of the encoded records in bytes.
    pub len: u64,
}

/// One closed spool file: where it is, its attributes and where its data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolFile {
    /// System-wide file number (internal; never displayed).
    pub sfid: u64,
    /// The owner, in whose queue the file is.
    pub owner: UserId,
    /// The queue it is on.
    pub queue: Queue,
    /// Its spoolid in the owner's space.
    pub spoolid: u16,
    /// The user who created it (ORIGINID).
    pub origin: UserId,
    /// The device that created it.
    pub origin_dev: DevType,
    /// The previous owner and spoolid, when the file was sent or transferred.
    pub prev: Option<(UserId, u16)>,
    /// Attributes.
    pub attrs: FileAttrs,
    /// Creation time, seconds since the Unix epoch (UTC).
    pub created: i64,
    /// Number of records.
    pub records: u32,
    /// Queue order key: smaller is processed first.
    pub order: i64,
    /// Where the records are.
    pub data: DataRef,
}
