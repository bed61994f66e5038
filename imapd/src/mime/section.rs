//! The data of `BODY[section]<partial>` (RFC 3501 §6.4.5).
//!
//! ```text
//! section         = "[" [section-spec] "]"
//! section-spec    = section-msgtext / (section-part ["." section-text])
//! section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//! section-text    = section-msgtext / "MIME"
//! partial         = "<" number "." nz-number ">"
//! ```
//!
//! - `[]` is the whole message; `HEADER` the header including its blank line; `TEXT` the body.
//! - `n` is part n's body (for a `message/rfc822` part: the whole encapsulated message).
//! - `n.MIME` is part n's own MIME header (for part 1 of a non-multipart message: the message
//!   header, which is where its MIME fields are).
//! - `n.HEADER`, `n.TEXT`, `n.HEADER.FIELDS` apply to the message inside a `message/rfc822`
//!   part; for any other part they do not exist.
//! - `HEADER.FIELDS (names)` is every field whose name is listed (without case), each with its
//!   continuation lines, in message order, then a blank line; `.NOT` is every other field. These
//!   are built, not sliced, so they are sent with CRLF line ends whatever the stored ones are.
//!
//! Slices are borrowed from the raw message; nothing is copied except HEADER.FIELDS.

use std::borrow::Cow;

use super::headers;
use super::{Message, PartKind};
use crate::proto::section::{Section, SectionText};

/// The section's data, or `None` if it does not exist.
pub fn get<'a>(m: &Message<'a>, s: &Section) -> Option<Cow<'a, [u8]>> {
    let parts = m.parts();
    if s.part.is_empty() {
        let root = parts.first()?;
        return Some(match &s.text {
            SectionText::Whole => Cow::Borrowed(m.raw()),
            SectionText::Header => Cow::Borrowed(m.bytes(root.header_range())),
            SectionText::Text => Cow::Borrowed(m.bytes(root.body_range())),
            SectionText::HeaderFields { not, names } => {
                Cow::Owned(header_fields(m.raw(), root.header_range(), names, *not))
            }
            SectionText::Mime => return None,
        });
    }
    let id = m.find(&s.part)?;
    let part = parts.get(id)?;
    let inner = match part.kind() {
        PartKind::Message(e) => parts.get(*e),
        _ => None,
    };
    Some(match &s.text {
        SectionText::Whole => Cow::Borrowed(m.bytes(part.body_range())),
        SectionText::Mime => Cow::Borrowed(m.bytes(part.header_range())),
        SectionText::Header => Cow::Borrowed(m.bytes(inner?.header_range())),
        SectionText::Text => Cow::Borrowed(m.bytes(inner?.body_range())),
        SectionText::HeaderFields { not, names } => {
            Cow::Owned(header_fields(m.raw(), inner?.header_range(), names, *not))
        }
    })
}

/// The fields of the header block `header` whose names are (or, with `not`, are not) in
/// `names`, then CRLF.
pub fn header_fields(
    raw: &[u8],
    header: std::ops::Range<usize>,
    names: &[String],
    not: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    for f in headers::fields(raw, header) {
        let listed = names.iter().any(|n| f.is(raw, n));
        if listed != not {
            let bytes = raw.get(f.whole.clone()).unwrap_or(&[]);
            headers::push_crlf(&mut out, bytes);
            if !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `<origin.count>`: the bytes from `origin`, at most `count` of them (all with `None`); empty
/// if `origin` is past the end. Used for BODY and BINARY partial fetches.
pub fn partial(data: &[u8], origin: u64, count: Option<u64>) -> &[u8] {
    let start = usize::try_from(origin)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let rest = &data[start..];
    match count {
        Some(n) => &rest[..usize::try_from(n).unwrap_or(usize::MAX).min(rest.len())],
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(m: &Message<'_>, part: &[u32], text: SectionText) -> Option<String> {
        m.section(&Section {
            part: part.to_vec(),
            text,
        })
        .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn fields(not: bool, names: &[&str]) -> SectionText {
        SectionText::HeaderFields {
            not,
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    const MSG: &[u8] = b"From: User1 <user1@domain.org>\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nSubject: s1\r\n  folded\r\n\r\nbody1\r\n\r\n";

    #[test]
    fn top_level_sections() {
        let m = Message::parse(MSG);
        assert_eq!(sec(&m, &[], SectionText::Whole).unwrap().len(), MSG.len());
        assert!(
            sec(&m, &[], SectionText::Header)
                .unwrap()
                .ends_with("folded\r\n\r\n")
        );
        assert_eq!(sec(&m, &[], SectionText::Text).unwrap(), "body1\r\n\r\n");
        assert_eq!(sec(&m, &[], SectionText::Mime), None);
        assert_eq!(
            sec(&m, &[], fields(false, &["FROM", "subject", "from"])).unwrap(),
            "From: User1 <user1@domain.org>\r\nSubject: s1\r\n  folded\r\n\r\n"
        );
        assert_eq!(
            sec(&m, &[], fields(true, &["date"])).unwrap(),
            "From: User1 <user1@domain.org>\r\nSubject: s1\r\n  folded\r\n\r\n"
        );
        assert_eq!(sec(&m, &[], fields(false, &["xyz"])).unwrap(), "\r\n");
        assert_eq!(sec(&m, &[1], SectionText::Whole).unwrap(), "body1\r\n\r\n");
        assert!(
            sec(&m, &[1], SectionText::Mime)
                .unwrap()
                .starts_with("From:")
        );
        assert_eq!(sec(&m, &[1], SectionText::Header), None);
        assert_eq!(sec(&m, &[2], SectionText::Whole), None);
    }

    #[test]
    fn header_fields_are_sent_with_crlf() {
        let m = Message::parse(b"A: 1\nB: 2\n 3\n\nbody\n");
        assert_eq!(
            sec(&m, &[], fields(false, &["b"])).unwrap(),
            "B: 2\r\n 3\r\n\r\n"
        );
        let m = Message::parse(b"A: 1");
        assert_eq!(sec(&m, &[], fields(false, &["a"])).unwrap(), "A: 1\r\n\r\n");
    }

    #[test]
    fn message_part_sections() {
        let raw = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\nX-Foo: y\r\n\r\ninner\r\n--x--\r\n";
        let m = Message::parse(raw);
        assert_eq!(
            sec(&m, &[1], SectionText::Mime).unwrap(),
            "Content-Type: message/rfc822\r\n\r\n"
        );
        assert_eq!(
            sec(&m, &[1], SectionText::Header).unwrap(),
            "Subject: in\r\nX-Foo: y\r\n\r\n"
        );
        assert_eq!(sec(&m, &[1], SectionText::Text).unwrap(), "inner");
        assert_eq!(
            sec(&m, &[1], fields(true, &["subject"])).unwrap(),
            "X-Foo: y\r\n\r\n"
        );
        assert_eq!(sec(&m, &[1, 1], SectionText::Whole).unwrap(), "inner");
        assert_eq!(sec(&m, &[1, 1], SectionText::Header), None);
    }

    #[test]
    fn partial_ranges() {
        let d = b"body33\r\n\r\n";
        assert_eq!(partial(d, 0, Some(3)), b"bod");
        assert_eq!(partial(d, 5, Some(2)), b"3\r");
        assert_eq!(partial(d, 7, Some(100)), b"\n\r\n");
        assert_eq!(partial(d, 100, Some(1)), b"");
        assert_eq!(partial(d, u64::MAX, Some(u64::MAX)), b"");
        assert_eq!(partial(d, 2, None), b"dy33\r\n\r\n");
    }
}
