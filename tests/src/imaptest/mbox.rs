//! The mbox reader for the messages a test APPENDs (FORMAT.md 5.2, "mbox messages").
//!
//! A message runs from after one valid `From <sender> <asctime> [±zone]` line to just before the
//! next, trailing blank separator line included. LF becomes CRLF (an existing CRLF stays); there
//! is no `>From` unescaping. INTERNALDATE comes from the From line, with its zone if present,
//! else `+0000`.

use std::path::Path;

/// One message of an mbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MboxMessage {
    /// The message as sent on the wire (CRLF line ends).
    pub data: Vec<u8>,
    /// The IMAP date-time from the From line, e.g. `22-Feb-2008 17:06:23 +0000`.
    pub internaldate: String,
}

/// All messages of an mbox file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mbox {
    /// The messages, in file order.
    pub messages: Vec<MboxMessage>,
}

impl Mbox {
    /// Reads an mbox file.
    pub fn load(path: &Path) -> std::io::Result<Mbox> {
        Ok(Mbox::parse(&std::fs::read(path)?))
    }

    /// Parses mbox contents.
    pub fn parse(data: &[u8]) -> Mbox {
        let mut messages = Vec::new();
        let mut cur: Option<MboxMessage> = None;
        let mut rest = data;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&c| c == b'\n') {
                Some(p) => (&rest[..p + 1], &rest[p + 1..]),
                None => (rest, &[][..]),
            };
            rest = next;
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body_nocr = body.strip_suffix(b"\r").unwrap_or(body);
            if let Some(date) = parse_from_line(body_nocr) {
                if let Some(m) = cur.take() {
                    messages.push(m);
                }
                cur = Some(MboxMessage {
                    data: Vec::new(),
                    internaldate: date,
                });
                continue;
            }
            let Some(m) = cur.as_mut() else { continue };
            if line.ends_with(b"\n") {
                m.data.extend_from_slice(body_nocr);
                m.data.extend_from_slice(b"\r\n");
            } else {
                m.data.extend_from_slice(line);
            }
        }
        if let Some(m) = cur.take() {
            messages.push(m);
        }
        Mbox { messages }
    }
}

/// The message cursor of one test, shared by setup and the script's `append`s. It wraps around
/// to the first message after the last.
#[derive(Clone, Debug)]
pub struct MboxCursor {
    mbox: Mbox,
    next: usize,
}

impl MboxCursor {
    /// A cursor at the first message.
    pub fn new(mbox: Mbox) -> MboxCursor {
        MboxCursor { mbox, next: 0 }
    }

    /// Whether every message has been handed out at least once.
    pub fn at_end(&self) -> bool {
        self.next >= self.mbox.messages.len()
    }

    /// The next message (wrapping around); None only for an empty mbox.
    pub fn next_message(&mut self) -> Option<MboxMessage> {
        let n = self.mbox.messages.len();
        if n == 0 {
            return None;
        }
        let m = self.mbox.messages[self.next % n].clone();
        self.next += 1;
        Some(m)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Parses `From <sender> Www Mmm dd hh:mm:ss yyyy [±hhmm]` and returns the IMAP date-time, or
/// None when the line is not a valid From line.
pub fn parse_from_line(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"From ")?;
    let text = std::str::from_utf8(rest).ok()?;
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let _sender = words.next()?;
    let wday = words.next()?;
    let mon = words.next()?;
    let day = words.next()?;
    let time = words.next()?;
    let year = words.next()?;
    let zone = words.next();
    if words.next().is_some() {
        return None;
    }
    if !WEEKDAYS.iter().any(|w| w.eq_ignore_ascii_case(wday)) {
        return None;
    }
    let mon = MONTHS.iter().find(|m| m.eq_ignore_ascii_case(mon))?;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let tparts: Vec<&str> = time.split(':').collect();
    if tparts.len() != 3
        || !tparts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    if year.len() != 4 || !year.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let zone = match zone {
        None => "+0000".to_string(),
        Some(z) => {
            let b = z.as_bytes();
            if b.len() != 5
                || !(b[0] == b'+' || b[0] == b'-')
                || !b[1..].iter().all(u8::is_ascii_digit)
            {
                return None;
            }
            z.to_string()
        }
    };
    Some(format!("{day:02}-{mon}-{year} {time} {zone}"))
}
