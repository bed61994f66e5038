//! MIME structure for FETCH: ENVELOPE, BODYSTRUCTURE, BODY[section] and BINARY, and the
//! decoded text SEARCH looks at.
//!
//! A [`Message`] is parsed once from the raw bytes (CRLF or bare LF line ends) and keeps byte
//! ranges into them, so `BODY[…]` answers are slices of what is stored, byte for byte, and
//! sizes and line counts are those of the stored bytes.
//!
//! Part numbers are IMAP's (RFC 3501 §6.4.5):
//!
//! ```text
//! section-part = nz-number *("." nz-number)
//! ```
//!
//! - the parts of a multipart are numbered 1..n;
//! - a message that is not multipart has one part, 1: its body;
//! - a `message/rfc822` part's own numbering continues below it: if the encapsulated message is
//!   multipart, `n.1`… are its parts, otherwise `n.1` is its body.
//!
//! The structure is found the way Dovecot finds it (see [`tree`]); each other job has a file:
//! [`envelope`], [`bodystructure`], [`section`], [`binary`], and [`search`] for SEARCH.
//! No input makes any of it panic, and no number in the input sizes an allocation.

pub mod address;
pub mod binary;
pub mod bodystructure;
pub mod content;
pub mod decode;
pub mod encode;
pub mod envelope;
pub mod headers;
pub mod lexer;
pub mod params;
pub mod search;
pub mod section;
pub mod tree;

#[cfg(test)]
mod conformance;

use std::borrow::Cow;
use std::ops::Range;

pub use self::address::Address;
pub use self::binary::BinaryError;
pub use self::content::ContentInfo;
pub use self::search::SearchFields;
pub use self::section::partial;
use crate::proto::section::Section;
use crate::proto::write::Out;

/// What an entity contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartKind {
    /// A leaf: its body is content.
    Leaf,
    /// A multipart: the ids of its parts, in order.
    Multipart(Vec<usize>),
    /// A `message/rfc822` (or `message/global`) part: the id of the message it holds.
    Message(usize),
}

/// One MIME entity: the message itself, a body part, or an encapsulated message.
#[derive(Debug, Clone)]
pub struct Part {
    header: Range<usize>,
    body: Range<usize>,
    content: ContentInfo,
    kind: PartKind,
}

impl Part {
    /// The header block's byte range, including the blank line that ends it (if any). For a
    /// body part this is its MIME header.
    pub fn header_range(&self) -> Range<usize> {
        self.header.clone()
    }

    /// The body's byte range.
    pub fn body_range(&self) -> Range<usize> {
        self.body.clone()
    }

    /// What the `Content-*` fields say.
    pub fn content(&self) -> &ContentInfo {
        &self.content
    }

    /// What the entity contains.
    pub fn kind(&self) -> &PartKind {
        &self.kind
    }
}

/// A message parsed for FETCH and SEARCH; borrows the raw bytes.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    raw: &'a [u8],
    parts: Vec<Part>,
}

/// Where part numbering stands: at a message (root or encapsulated), or at a body part.
#[derive(Debug, Clone, Copy)]
enum Cursor {
    Msg(usize),
    Part(usize),
}

impl<'a> Message<'a> {
    /// Parses the raw message.
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        Message {
            raw,
            parts: tree::build(raw),
        }
    }

    /// The raw message.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// RFC822.SIZE: the size of the message as stored (and as `BODY[]` sends it).
    pub fn rfc822_size(&self) -> u64 {
        self.raw.len() as u64
    }

    /// Every entity; index 0 is the message itself. The ids in [`PartKind`] index this.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The bytes of a range taken from a [`Part`].
    pub fn bytes(&self, r: Range<usize>) -> &'a [u8] {
        tree::slice(self.raw, r)
    }

    /// The entity with IMAP part number `path` (`[2, 1]` for part 2.1); `None` if there is no
    /// such part. The empty path is the message itself.
    pub fn find(&self, path: &[u32]) -> Option<usize> {
        let mut cur = Cursor::Msg(0);
        let mut id = 0;
        for &n in path {
            let i = (n as usize).checked_sub(1)?;
            id = match cur {
                Cursor::Msg(m) => self.nth_of_message(m, i)?,
                Cursor::Part(p) => match &self.parts[p].kind {
                    PartKind::Multipart(children) => *children.get(i)?,
                    PartKind::Message(e) => self.nth_of_message(*e, i)?,
                    PartKind::Leaf => return None,
                },
            };
            cur = Cursor::Part(id);
        }
        Some(id)
    }

    /// Part `i + 1` of message entity `m`: a multipart's i-th part, else (i = 0) the message's
    /// body itself.
    fn nth_of_message(&self, m: usize, i: usize) -> Option<usize> {
        match &self.parts[m].kind {
            PartKind::Multipart(children) => children.get(i).copied(),
            _ => (i == 0).then_some(m),
        }
    }

    /// The encapsulated message of part `id`, if it is a `message/rfc822` part.
    pub fn inner_message(&self, id: usize) -> Option<usize> {
        match self.parts.get(id)?.kind {
            PartKind::Message(e) => Some(e),
            _ => None,
        }
    }

    /// Every IMAP part number with its entity id, in order (`1`, `1.1`, `2`, …).
    pub fn numbered(&self) -> Vec<(Vec<u32>, usize)> {
        let mut out = Vec::new();
        self.number_message(0, &mut Vec::new(), &mut out);
        out
    }

    fn number_message(&self, m: usize, prefix: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, usize)>) {
        match &self.parts[m].kind {
            PartKind::Multipart(children) => {
                for (c, n) in children.iter().zip(1u32..) {
                    prefix.push(n);
                    self.number_part(*c, prefix, out);
                    prefix.pop();
                }
            }
            _ => {
                prefix.push(1);
                self.number_part(m, prefix, out);
                prefix.pop();
            }
        }
    }

    fn number_part(&self, p: usize, number: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, usize)>) {
        out.push((number.clone(), p));
        match &self.parts[p].kind {
            PartKind::Multipart(children) => {
                for (c, n) in children.iter().zip(1u32..) {
                    number.push(n);
                    self.number_part(*c, number, out);
                    number.pop();
                }
            }
            PartKind::Message(e) => self.number_message(*e, number, out),
            PartKind::Leaf => {}
        }
    }

    /// Writes ENVELOPE (RFC 3501 §7.4.2) of the message.
    pub fn envelope(&self, out: &mut Out) {
        envelope::write(out, self.raw, self.parts[0].header.clone());
    }

    /// Writes the ENVELOPE of entity `id` (an encapsulated message, as BODYSTRUCTURE needs).
    pub fn envelope_of(&self, id: usize, out: &mut Out) {
        let header = self.parts.get(id).map_or(0..0, |p| p.header.clone());
        envelope::write(out, self.raw, header);
    }

    /// Writes BODY (`extended` false) or BODYSTRUCTURE (`extended` true).
    pub fn body_structure(&self, out: &mut Out, extended: bool) {
        bodystructure::write(self, 0, out, extended);
    }

    /// The data of `BODY[section]`, before any partial range. `None` when the section does not
    /// exist (no such part, or HEADER/TEXT of a part that is not a message); Dovecot answers
    /// those with an empty string, and so should the caller.
    pub fn section(&self, section: &Section) -> Option<Cow<'a, [u8]>> {
        section::get(self, section)
    }

    /// `BINARY[part]`: the part's content with its Content-Transfer-Encoding undone.
    pub fn binary(&self, part: &[u32]) -> Result<Cow<'a, [u8]>, BinaryError> {
        binary::get(self, part)
    }

    /// `BINARY.SIZE[part]`: the size of what [`Message::binary`] returns.
    pub fn binary_size(&self, part: &[u32]) -> Result<u64, BinaryError> {
        binary::get(self, part).map(|b| b.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\none\r\n\
--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n\
--y\r\n\r\nplain\r\n--y\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--y--\r\n\
--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: single\r\n\r\nsingle body\r\n\
--x--\r\n";

    fn body_of(m: &Message<'_>, path: &[u32]) -> String {
        let id = m.find(path).unwrap();
        String::from_utf8_lossy(m.bytes(m.parts()[id].body_range())).into_owned()
    }

    #[test]
    fn imap_part_numbers() {
        let m = Message::parse(MIXED);
        assert_eq!(body_of(&m, &[1]), "one");
        assert!(body_of(&m, &[2]).starts_with("Subject: in"));
        assert_eq!(body_of(&m, &[2, 1]), "plain");
        assert_eq!(body_of(&m, &[2, 2]), "<b>html</b>");
        assert_eq!(body_of(&m, &[3, 1]), "single body");
        assert_eq!(m.find(&[3, 2]), None);
        assert_eq!(m.find(&[1, 1]), None);
        assert_eq!(m.find(&[0]), None);
        assert_eq!(m.find(&[4]), None);
        assert_eq!(m.find(&[u32::MAX]), None);
        let numbers: Vec<String> = m
            .numbered()
            .iter()
            .map(|(n, _)| n.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
            .collect();
        assert_eq!(numbers, ["1", "2", "2.1", "2.2", "3", "3.1"]);
    }

    #[test]
    fn deep_nesting_stays_within_the_stack() {
        let mut raw = Vec::new();
        for i in 0..300 {
            raw.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
            raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        let m = Message::parse(&raw);
        let mut out = Out::new();
        m.body_structure(&mut out, true);
        let numbers = m.numbered();
        assert!(numbers.len() > 50);
        let deepest = &numbers.last().unwrap().0;
        assert!(m.find(deepest).is_some());
        let s = Section {
            part: deepest.clone(),
            text: crate::proto::section::SectionText::Mime,
        };
        assert!(m.section(&s).is_some());
    }

    #[test]
    fn single_part_message_is_part_one() {
        let m = Message::parse(b"Subject: x\n\nhello\n");
        assert_eq!(m.find(&[1]), Some(0));
        assert_eq!(m.find(&[2]), None);
        assert_eq!(m.find(&[1, 1]), None);
        assert_eq!(m.numbered(), vec![(vec![1], 0)]);
        assert_eq!(m.rfc822_size(), 18);
    }

    #[test]
    fn message_rfc822_at_top_level() {
        let m = Message::parse(
            b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nHello world\r\n",
        );
        assert_eq!(m.find(&[1]), Some(0));
        assert_eq!(body_of(&m, &[1, 1]), "Hello world\r\n");
        assert_eq!(m.inner_message(0), Some(1));
        let mut out = Out::new();
        m.envelope_of(1, &mut out);
        assert!(String::from_utf8_lossy(&out.buf).starts_with("(NIL \"inner\""));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Everything a FETCH or SEARCH can ask of a message.
    fn exercise(raw: &[u8]) {
        let m = Message::parse(raw);
        let mut out = Out::new();
        m.envelope(&mut out);
        m.body_structure(&mut out, false);
        m.body_structure(&mut out, true);
        let mut paths: Vec<Vec<u32>> = m.numbered().into_iter().map(|(n, _)| n).collect();
        paths.push(vec![]);
        paths.push(vec![9, 9]);
        for p in &paths {
            for text in [
                crate::proto::section::SectionText::Whole,
                crate::proto::section::SectionText::Header,
                crate::proto::section::SectionText::Text,
                crate::proto::section::SectionText::Mime,
                crate::proto::section::SectionText::HeaderFields {
                    not: true,
                    names: vec!["subject".into()],
                },
            ] {
                let _ = m.section(&Section {
                    part: p.clone(),
                    text,
                });
            }
            let _ = m.binary(p);
            let _ = m.binary_size(p);
        }
        let _ = m.header_values("subject");
        let _ = m.address_text("from");
        let _ = m.text_body_decoded();
        let _ = m.headers_decoded();
    }

    /// Random MIME-ish text: the pieces the parsers care about, shuffled.
    fn mimeish() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(&b"\r\n"[..]),
            Just(&b"\n"[..]),
            Just(&b"--b"[..]),
            Just(&b"--b--"[..]),
            Just(&b"Content-Type: multipart/mixed; boundary=b"[..]),
            Just(&b"Content-Type: multipart/digest; boundary=\"b\""[..]),
            Just(&b"Content-Type: message/rfc822"[..]),
            Just(&b"Content-Transfer-Encoding: base64"[..]),
            Just(&b"Content-Transfer-Encoding: quoted-printable"[..]),
            Just(&b"From: \"x\" <a@b>, g: c@d;"[..]),
            Just(&b"=?utf-8?q?=C3=A9?="[..]),
            Just(&b" "[..]),
            Just(&b"(("[..]),
            Just(&b"=\r\n"[..]),
            Just(&b"aGVsbG8="[..]),
            Just(&b"; name*0*=utf-8''%E2; name*1=x"[..]),
            Just(&b"Content-Type: text/html; charset=iso-8859-2"[..]),
            Just(&b"Content-Type: text/plain; charset=utf-16"[..]),
            Just(&b"<p>&amp;<b"[..]),
            Just(&b"\xff\xfe\x00"[..]),
        ];
        prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2000)) {
            exercise(&raw);
        }

        #[test]
        fn random_mime_never_panics(raw in mimeish()) {
            exercise(&raw);
        }
    }
}
