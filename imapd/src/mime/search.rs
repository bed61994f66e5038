//! What SEARCH reads from a message (RFC 3501 §6.4.4): header values, address lists written
//! back as text, and the decoded text of the body.
//!
//! ```text
//! search-key =/ "HEADER" SP header-fld-name SP astring / "FROM" SP astring / "TO" SP astring
//!             / "CC" SP astring / "BCC" SP astring / "SUBJECT" SP astring
//!             / "BODY" SP astring / "TEXT" SP astring
//! ```
//!
//! Only the top-level header is searched by HEADER/FROM/…; BODY looks at the text of every
//! `text/*` part, nested messages included, decoded from its transfer encoding and charset
//! (HTML reduced to its text). Address fields are matched against the parsed list written back
//! (`Name <user@host>, group: a@b;`), so `<user (c)@ (c) host>` is found as `user@host`.

use std::borrow::Cow;

use super::address::{self, Address};
use super::binary;
use super::decode;
use super::headers;
use super::{Message, PartKind};

/// The decoded texts SEARCH FROM, TO, CC, BCC and SUBJECT match, computed once per message
/// (parsing the header, RFC 2047 decoding and writing address lists back is most of a header
/// search's time) and cached by the folder beside the header block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFields {
    /// For FROM, TO, CC, BCC in that order: each field's address list written back, then each
    /// field's decoded value (a key matches either).
    pub addr: [Vec<String>; 4],
    /// The decoded Subject values.
    pub subject: Vec<String>,
}

impl SearchFields {
    /// The header names of `addr`, in order.
    pub const ADDR_FIELDS: [&'static str; 4] = ["from", "to", "cc", "bcc"];

    /// The fields of a parsed message.
    pub fn of(m: &Message<'_>) -> SearchFields {
        let addr = Self::ADDR_FIELDS.map(|name| {
            let mut v = m.address_text(name);
            v.extend(m.header_values(name));
            v
        });
        SearchFields {
            addr,
            subject: m.header_values("subject"),
        }
    }

    /// Bytes this holds (for the cache's budget).
    pub fn size(&self) -> usize {
        self.addr
            .iter()
            .chain(std::iter::once(&self.subject))
            .flatten()
            .map(|s| s.len() + 24)
            .sum::<usize>()
            + 128
    }
}

impl<'a> Message<'a> {
    /// The values of every top-level field called `name`, unfolded but not decoded.
    pub fn header_values_raw(&self, name: &str) -> Vec<Cow<'a, [u8]>> {
        let raw = self.raw();
        headers::fields(raw, self.parts()[0].header_range())
            .into_iter()
            .filter(|f| f.is(raw, name))
            .map(|f| f.unfolded(raw))
            .collect()
    }

    /// The values of every top-level field called `name`, RFC 2047 decoded, as text.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.header_values_raw(name)
            .iter()
            .map(|v| decode::header_text(v))
            .collect()
    }

    /// The addresses of every top-level field called `name` (group markers included).
    pub fn addresses(&self, name: &str) -> Vec<Address> {
        self.header_values_raw(name)
            .iter()
            .flat_map(|v| address::parse_list(v))
            .collect()
    }

    /// Each field called `name` as an address list written back with decoded names — the text
    /// SEARCH FROM/TO/CC/BCC match.
    pub fn address_text(&self, name: &str) -> Vec<String> {
        self.header_values_raw(name)
            .iter()
            .map(|v| address::to_text(&address::parse_list(v)))
            .collect()
    }

    /// The top-level header as text, one `Name: decoded value` line per field (for SEARCH TEXT).
    pub fn headers_decoded(&self) -> String {
        let raw = self.raw();
        let mut s = String::new();
        for f in headers::fields(raw, self.parts()[0].header_range()) {
            s.push_str(&String::from_utf8_lossy(
                raw.get(f.name.clone()).unwrap_or(&[]),
            ));
            s.push_str(": ");
            s.push_str(&decode::header_text(&f.unfolded(raw)));
            s.push('\n');
        }
        s
    }

    /// The decoded text of every `text/*` part, joined by newlines (for SEARCH BODY and TEXT).
    pub fn text_body_decoded(&self) -> String {
        let mut texts = Vec::new();
        for part in self.parts() {
            let c = part.content();
            if part.kind() != &PartKind::Leaf || !c.is_text() {
                continue;
            }
            let body = self.bytes(part.body_range());
            let bytes = binary::decode(c.encoding.as_deref(), body).unwrap_or(Cow::Borrowed(body));
            let text = decode::charset_to_utf8(&bytes, &c.charset());
            texts.push(if c.subtype == "html" {
                decode::html_text(&text)
            } else {
                text
            });
        }
        texts.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_decoded_and_raw() {
        let m = Message::parse(
            b"Subject: =?utf-8?q?caf=C3=A9?=\r\n  ok\r\nX-A: 1\r\nx-a: 2\r\n\r\n=?utf-8?q?body?=",
        );
        assert_eq!(m.header_values("subject"), ["café ok"]);
        assert_eq!(
            m.header_values_raw("SUBJECT"),
            [Cow::Borrowed(&b"=?utf-8?q?caf=C3=A9?=  ok"[..])]
        );
        assert_eq!(m.header_values("x-a"), ["1", "2"]);
        assert!(m.header_values("nope").is_empty());
        assert_eq!(m.headers_decoded(), "Subject: café ok\nX-A: 1\nx-a: 2\n");
    }

    #[test]
    fn addresses_for_search() {
        let m = Message::parse(
            b"From: <user-from (comment)@ (comment) domain.org>\r\nTo: user-to@domain.org (RealTo)\r\nCc: groupname:;\r\n\r\n",
        );
        assert_eq!(m.address_text("from"), ["user-from@domain.org"]);
        assert_eq!(m.address_text("to"), ["RealTo <user-to@domain.org>"]);
        assert_eq!(m.address_text("cc"), ["groupname:;"]);
        assert_eq!(m.addresses("to").len(), 1);
    }

    #[test]
    fn search_fields_hold_what_the_keys_match() {
        let m = Message::parse(
            b"From: =?utf-8?q?Jos=C3=A9?= <jose@example.org>\r\nTo: a@b.example, c@d.example\r\nSubject: =?utf-8?q?caf=C3=A9?= menu\r\n\r\nbody",
        );
        let f = SearchFields::of(&m);
        assert_eq!(
            f.addr[0],
            ["José <jose@example.org>", "José <jose@example.org>"]
        );
        assert_eq!(f.addr[1][0], "a@b.example, c@d.example");
        assert!(f.addr[2].is_empty() && f.addr[3].is_empty());
        assert_eq!(f.subject, ["café menu"]);
        assert!(f.size() > 0);
    }

    #[test]
    fn body_text_is_decoded() {
        let raw = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+SGVsbG8gPGI+d29ybGQ8L2I+PC9wPg==\r\n\
--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0=\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nnested text\r\n\
--b--\r\n";
        let m = Message::parse(raw);
        let t = m.text_body_decoded();
        assert!(t.contains("café"), "{t}");
        assert!(t.contains("Hello world"), "{t}");
        assert!(!t.contains("<b>"), "{t}");
        assert!(t.contains("nested text"), "{t}");
        assert!(!t.contains("PNG"), "{t}");
    }
}
