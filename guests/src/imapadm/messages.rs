//! IMAPADM's messages, `DTCADMnnnnX` in the z/VM TCP/IP style of the IMAP server's `DTCIMA`
//! set: `I` information, `W` warning, `E` error. Every answer to a request ends with exactly one
//! `DTCADM` line (the IMAP server's own lines come before it), so a program can tell where an
//! answer ends and whether it failed. docs/imapadm.md lists them all.

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Number.
    pub num: u16,
    /// `I`, `W` or `E`.
    pub sev: char,
    /// Text.
    pub text: String,
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DTCADM{:04}{} {}", self.num, self.sev, self.text)
    }
}

impl Msg {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.sev == 'E'
    }
}

fn m(num: u16, sev: char, text: impl Into<String>) -> Msg {
    Msg {
        num,
        sev,
        text: text.into(),
    }
}

/// DTCADM0001I (console)
pub fn ready(imap: &str, authorized: &str, audit: &str) -> Msg {
    m(
        1,
        'I',
        format!("IMAPADM ready: administering {imap} for {authorized}; audit log {audit}"),
    )
}
/// DTCADM0002I (console)
pub fn ended() -> Msg {
    m(2, 'I', "IMAPADM ended")
}
/// DTCADM0003I (console)
pub fn audit_available(audit: &str) -> Msg {
    m(3, 'I', format!("Audit log {audit} is available"))
}
/// DTCADM0004I (console)
pub fn autoenroll_done(enrolled: usize, already: usize, failed: usize) -> Msg {
    m(
        4,
        'I',
        format!(
            "AUTOENROLL done: {enrolled} enrolled, {already} already enrolled, {failed} failed"
        ),
    )
}
/// DTCADM0005I (console)
pub fn deck_done(spoolid: u16, origin: &str, n: usize, failed: usize) -> Msg {
    m(
        5,
        'I',
        format!("Deck {spoolid:04} from {origin}: {n} requests, {failed} failed; result file sent"),
    )
}
/// DTCADM0010I: a request the IMAP server carried out.
pub fn done(request: &str) -> Msg {
    m(10, 'I', format!("{request} done"))
}
/// DTCADM0011I
pub fn help() -> Msg {
    m(
        11,
        'I',
        "Requests: ENROLL userid [blocks], DELETE userid, LIST, QUOTA userid blocks, HELP",
    )
}
/// DTCADM0101E: the IMAP server refused or failed a request.
pub fn failed(request: &str) -> Msg {
    m(101, 'E', format!("{request} failed"))
}
/// DTCADM0102E
pub fn not_authorized(user: &str) -> Msg {
    m(
        102,
        'E',
        format!("{user} is not authorized to give IMAPADM requests"),
    )
}
/// DTCADM0103E
pub fn unknown_request(verb: &str) -> Msg {
    m(
        103,
        'E',
        format!("Unknown request {verb}; SMSG IMAPADM HELP lists the requests"),
    )
}
/// DTCADM0104E
pub fn invalid(what: &str) -> Msg {
    m(104, 'E', format!("Invalid request: {what}"))
}
/// DTCADM0105E
pub fn no_answer(imap: &str, secs: u64) -> Msg {
    m(
        105,
        'E',
        format!("The IMAP server {imap} did not answer within {secs} seconds"),
    )
}
/// DTCADM0106E
pub fn unreachable(imap: &str, why: &str) -> Msg {
    m(
        106,
        'E',
        format!("The IMAP server {imap} cannot be reached: {why}"),
    )
}
/// DTCADM0107E
pub fn audit_unavailable(why: &str) -> Msg {
    m(
        107,
        'E',
        format!("The audit log is not available ({why}); the request was not done"),
    )
}
/// DTCADM0108E
pub fn audit_failed(why: &str) -> Msg {
    m(
        108,
        'E',
        format!("The request was done but could not be audited: {why}"),
    )
}
/// DTCADM0109E (console)
pub fn unreadable(spoolid: u16, origin: &str, why: &str) -> Msg {
    m(
        109,
        'E',
        format!("Reader file {spoolid:04} from {origin} cannot be read: {why}"),
    )
}
/// DTCADM0110E (console)
pub fn result_not_sent(spoolid: u16, origin: &str, why: &str) -> Msg {
    m(
        110,
        'E',
        format!("Result file for deck {spoolid:04} not sent to {origin}: {why}"),
    )
}
/// DTCADM0111E
pub fn empty_deck(spoolid: u16) -> Msg {
    m(111, 'E', format!("Deck {spoolid:04} holds no requests"))
}
/// DTCADM0112W (console)
pub fn refused(user: &str, via: &str, text: &str) -> Msg {
    m(
        112,
        'W',
        format!("Request from {user} by {via} refused (not in AUTHORIZE): {text}"),
    )
}
/// DTCADM0113E (console)
pub fn audit_not_ready(audit: &str, why: &str) -> Msg {
    m(
        113,
        'E',
        format!(
            "Audit log {audit} is not available: {why}; requests are refused until it is \
             (a file pool administrator can ENROLL USER IMAPADM for it)"
        ),
    )
}
/// DTCADM0114W (console)
pub fn autoenroll_failed(user: &str, why: &str) -> Msg {
    m(114, 'W', format!("AUTOENROLL of {user} failed: {why}"))
}
/// DTCADM0115E (console)
pub fn purge_failed(spoolid: u16, why: &str) -> Msg {
    m(
        115,
        'E',
        format!("Deck {spoolid:04} could not be purged: {why}"),
    )
}
