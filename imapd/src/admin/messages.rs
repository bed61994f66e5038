//! The administrator interface's replies. VM IMAP's own message ids are not known, so this
//! server uses one consistent set in the z/VM TCP/IP style, `DTCIMAnnnnX`: `I` information,
//! `E` error. Every reply ends with exactly one `DTCIMA` line (data lines before it are
//! indented), so a program can tell where a reply ends and whether it failed.

/// One reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminMsg {
    /// Number.
    pub num: u16,
    /// `I` or `E`.
    pub sev: char,
    /// Text.
    pub text: String,
}

impl std::fmt::Display for AdminMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DTCIMA{:04}{} {}", self.num, self.sev, self.text)
    }
}

fn i(num: u16, text: impl Into<String>) -> AdminMsg {
    AdminMsg {
        num,
        sev: 'I',
        text: text.into(),
    }
}

fn e(num: u16, text: impl Into<String>) -> AdminMsg {
    AdminMsg {
        num,
        sev: 'E',
        text: text.into(),
    }
}

/// DTCIMA0001I
pub fn enrolled(user: &str, blocks: u64) -> AdminMsg {
    i(
        1,
        format!("User {user} enrolled with {blocks} blocks; folders INBOX Sent Drafts Trash Junk"),
    )
}
/// DTCIMA0002I
pub fn deleted(user: &str) -> AdminMsg {
    i(2, format!("User {user} deleted with all mail and folders"))
}
/// DTCIMA0003I
pub fn users(n: usize) -> AdminMsg {
    i(3, format!("{n} users enrolled"))
}
/// DTCIMA0004I
pub fn connections(n: usize) -> AdminMsg {
    i(4, format!("{n} connections"))
}
/// DTCIMA0005I
pub fn user_status(user: &str, blocks: u64, used: u64, sessions: usize) -> AdminMsg {
    i(
        5,
        format!("User {user} enrolled; {used} of {blocks} blocks used; {sessions} sessions"),
    )
}
/// DTCIMA0006I
pub fn trace(on: bool) -> AdminMsg {
    i(6, format!("Trace is {}", if on { "ON" } else { "OFF" }))
}
/// DTCIMA0007I
pub fn shutting_down(by: &str) -> AdminMsg {
    i(7, format!("IMAP server shutdown requested by {by}"))
}
/// DTCIMA0008I
pub fn help() -> AdminMsg {
    i(
        8,
        "Commands: ENROLL userid [blocks], DELETE userid, QUERY USERS|CONNECTIONS|userid, TRACE ON|OFF, SHUTDOWN, HELP",
    )
}
/// DTCIMA0009I
pub fn modified(user: &str, blocks: u64) -> AdminMsg {
    i(9, format!("User {user} now has {blocks} blocks"))
}
/// DTCIMA0101E
pub fn unknown_command(cmd: &str) -> AdminMsg {
    e(
        101,
        format!("Unknown command {cmd}; SMSG IMAP HELP lists the commands"),
    )
}
/// DTCIMA0102E
pub fn not_in_directory(user: &str) -> AdminMsg {
    e(102, format!("{user} is not in the CP directory"))
}
/// DTCIMA0103E
pub fn already_enrolled(user: &str) -> AdminMsg {
    e(103, format!("{user} is already enrolled"))
}
/// DTCIMA0104E
pub fn not_enrolled(user: &str) -> AdminMsg {
    e(104, format!("{user} is not enrolled"))
}
/// DTCIMA0105E
pub fn not_authorized(user: &str) -> AdminMsg {
    e(
        105,
        format!("{user} is not authorized to administer the IMAP server"),
    )
}
/// DTCIMA0106E
pub fn invalid_operand(what: &str) -> AdminMsg {
    e(106, format!("Invalid operand: {what}"))
}
/// DTCIMA0107E
pub fn mailstore_error(what: &str) -> AdminMsg {
    e(107, format!("Mailstore error: {what}"))
}
