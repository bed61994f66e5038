//! The CP system services reached over IUCV: `*MSG` and `*MSGALL` (messages for a program instead
//! of the console) and `*SPL` (reader arrivals and reader file data for a service machine).

use spool::{DevType, SpoolFile, UserId};

/// `*MSG`: messages whose SET option is IUCV go to the program.
pub const MSG: &str = "*MSG";
/// `*MSGALL`: every message bound for the machine goes to the program.
pub const MSGALL: &str = "*MSGALL";
/// `*SPL`: the spool system service.
pub const SPL: &str = "*SPL";

/// The class of a message delivered through `*MSG`/`*MSGALL` (the IUCV target class CP uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgClass {
    /// MSG / MESSAGE and MSGNOH (class 1).
    Msg = 1,
    /// WARNING (class 2).
    Wng = 2,
    /// Asynchronous CP messages (class 3).
    Cp = 3,
    /// SMSG (class 4).
    Smsg = 4,
    /// Error messages (class 6).
    Emsg = 6,
    /// Informational messages such as file arrivals (class 7).
    Imsg = 7,
}

impl MsgClass {
    /// The name of the SET option that governs the class.
    pub fn name(self) -> &'static str {
        match self {
            MsgClass::Msg => "MSG",
            MsgClass::Wng => "WNG",
            MsgClass::Cp => "CPCONIO",
            MsgClass::Smsg => "SMSG",
            MsgClass::Emsg => "EMSG",
            MsgClass::Imsg => "IMSG",
        }
    }
}

/// A reader file as `*SPL` reports it.
///
/// `*SPL` on z/VM serves spool file data to authorised print and transfer servers; we read the VM
/// IMAP server's use of it as "tell me about each file that arrives in my reader and let me read
/// it", which is what this service does (see docs/architecture.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplFile {
    /// System-wide file number: unique and never reused, across restarts too. Use it to record
    /// which spool file something came from.
    pub file_id: u64,
    /// Spoolid in the reader.
    pub spoolid: u16,
    /// Who created it.
    pub origin: UserId,
    /// The device that created it.
    pub dev: DevType,
    /// Spool class.
    pub class: char,
    /// File name and type.
    pub fname: String,
    /// File type.
    pub ftype: String,
    /// Number of records.
    pub records: u32,
    /// TAG text.
    pub tag: String,
    /// Creation time (seconds since the epoch).
    pub created: i64,
    /// Distribution code.
    pub dist: String,
}

impl From<&SpoolFile> for SplFile {
    fn from(f: &SpoolFile) -> SplFile {
        SplFile {
            file_id: f.sfid,
            spoolid: f.spoolid,
            origin: f.origin.clone(),
            dev: f.origin_dev,
            class: f.attrs.class.as_char(),
            fname: f.attrs.fname.clone(),
            ftype: f.attrs.ftype.clone(),
            records: f.records,
            tag: f.attrs.tag.clone(),
            created: f.created,
            dist: f.attrs.dist.clone(),
        }
    }
}
