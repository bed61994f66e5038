//! BINARY[part] and BINARY.SIZE[part] (RFC 3516, RFC 9051 §6.4.5): a part's content with its
//! Content-Transfer-Encoding undone.
//!
//! ```text
//! section-binary = "[" [section-part] "]"
//! mechanism      = "7bit" / "8bit" / "binary" / "quoted-printable" / "base64"
//!                  / ietf-token / x-token                          ; RFC 2045 §6.1
//! ```
//!
//! - 7bit, 8bit, binary (and no encoding) are the bytes as they are; base64 and
//!   quoted-printable are decoded; anything else is [`BinaryError::UnknownEncoding`], which the
//!   caller answers with `NO [UNKNOWN-CTE]`.
//! - `BINARY[]`, and a multipart or `message/rfc822` part, is returned as it is: RFC 2045 §6.4
//!   allows only the identity encodings on composite types, so there is nothing to undo — this is
//!   what the imaptest `fetch-binary-mime` script expects of `BINARY[]` and of a
//!   `message/rfc822` part (RFC 3516 does not forbid it). Encoded parts nested inside are not
//!   decoded.
//! - base64 is read leniently: anything outside the alphabet (line breaks, spaces, tabs, junk)
//!   is skipped, and `=` ends a quantum, so concatenated encodings decode too.
//! - quoted-printable (RFC 2045 §6.7): white space at the end of a line is transport padding and
//!   dropped, `=` at the end of a line (after that) is a soft break, `=XX` is a byte (either
//!   case), a `=` not followed by two hex digits stays; line breaks become CRLF.
//!
//! Decoded data is at most twice the size of the encoded data (a bare LF in quoted-printable
//! becomes CRLF), so no allocation is out of proportion to the message.

use std::borrow::Cow;

use super::params::hex;
use super::{Message, PartKind};

/// Why BINARY cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// There is no such part.
    #[error("no such part")]
    NoSuchPart,
    /// The part's Content-Transfer-Encoding is not one the server can undo.
    #[error("unknown content-transfer-encoding {0}")]
    UnknownEncoding(String),
}

/// The decoded content of `part` of `m`.
pub fn get<'a>(m: &Message<'a>, part: &[u32]) -> Result<Cow<'a, [u8]>, BinaryError> {
    if part.is_empty() {
        return Ok(Cow::Borrowed(m.raw()));
    }
    let id = m.find(part).ok_or(BinaryError::NoSuchPart)?;
    let p = &m.parts()[id];
    let body = m.bytes(p.body_range());
    match p.kind() {
        PartKind::Leaf => decode(p.content().encoding.as_deref(), body),
        PartKind::Multipart(_) | PartKind::Message(_) => Ok(Cow::Borrowed(body)),
    }
}

/// Whether decoded data must be sent as a `literal8`: it holds a NUL, which no other string
/// may carry (RFC 3516 §4.3: otherwise a plain string SHOULD be used).
pub fn needs_literal8(data: &[u8]) -> bool {
    data.contains(&0)
}

/// `body` with the transfer encoding `encoding` (lower case; `None` = 7bit) undone.
pub fn decode<'a>(encoding: Option<&str>, body: &'a [u8]) -> Result<Cow<'a, [u8]>, BinaryError> {
    match encoding.unwrap_or("7bit") {
        "7bit" | "8bit" | "binary" => Ok(Cow::Borrowed(body)),
        "base64" => Ok(Cow::Owned(base64(body))),
        "quoted-printable" => Ok(Cow::Owned(quoted_printable(body))),
        other => Err(BinaryError::UnknownEncoding(other.to_string())),
    }
}

/// The value of a base64 alphabet byte.
fn b64(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Lenient base64 decoding (see the module notes).
pub fn base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    for &c in input {
        if c == b'=' {
            // Padding: emit what the quantum holds, start afresh.
            match n {
                2 => out.push((acc >> 4) as u8),
                3 => {
                    out.push((acc >> 10) as u8);
                    out.push((acc >> 2) as u8);
                }
                _ => {}
            }
            acc = 0;
            n = 0;
            continue;
        }
        let Some(v) = b64(c) else { continue };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.push((acc >> 16) as u8);
            out.push((acc >> 8) as u8);
            out.push(acc as u8);
            acc = 0;
            n = 0;
        }
    }
    // An unpadded tail still carries whole bytes.
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => {
            out.push((acc >> 10) as u8);
            out.push((acc >> 2) as u8);
        }
        _ => {}
    }
    out
}

/// Quoted-printable decoding (see the module notes).
pub fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while !rest.is_empty() {
        let (line, had_eol, next) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, &rest[rest.len()..]),
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let trimmed_len = line
            .iter()
            .rposition(|&c| c != b' ' && c != b'\t')
            .map_or(0, |i| i + 1);
        let line = &line[..trimmed_len];
        let (line, soft) = match line.strip_suffix(b"=") {
            Some(l) => (l, true),
            None => (line, false),
        };
        let mut i = 0;
        while i < line.len() {
            if line[i] == b'='
                && let (Some(h), Some(l)) = (
                    line.get(i + 1).and_then(|&c| hex(c)),
                    line.get(i + 2).and_then(|&c| hex(c)),
                )
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(line[i]);
            i += 1;
        }
        if had_eol && !soft {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_lenient() {
        assert_eq!(base64(b"\r\naGVs\r\nbG8gd29y\r\nbGQ=\r\n"), b"hello world");
        assert_eq!(
            base64(b"  aGVs    \r\n bG8g  \r\n   d29y  \t \r\n    bGQ= \r\n\r\n"),
            b"hello world"
        );
        assert_eq!(
            base64(b"aGVsbG8g\r\ndG8geW91IHRv\r\nbw==\r\n"),
            b"hello to you too"
        );
        assert_eq!(base64(b"aGVsbG8gdG8gZXZlcnlvbmUh"), b"hello to everyone!");
        assert_eq!(
            base64(b"YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6\r\n"),
            b"abcdefg\rhijkl\r\nmno\npqrstuvqxyz"
        );
        assert_eq!(base64(b"YQ==YQ=="), b"aa");
        assert_eq!(base64(b"YQ"), b"a");
        assert_eq!(base64(b"!!!*"), b"");
        assert_eq!(base64(b"===="), b"");
    }

    #[test]
    fn quoted_printable_rules() {
        let qp = b"hello  \r\nbar=\r\n\r\nfoo\t=\r\nbar\r\nfoo\t \t= \r\n=62\r\nfoo = \t\r\nbar\r\nfoo =\r\n=62\r\nfoo  \r\nbar=\r\n\r\nfoo_bar\r\n";
        let d = quoted_printable(qp);
        assert_eq!(
            d,
            b"hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"
        );
        assert_eq!(d.len(), 65);
        assert_eq!(quoted_printable(b"caf=C3=a9=\nx=4"), "caféx=4".as_bytes());
        assert_eq!(quoted_printable(b"a=ZZb\n"), b"a=ZZb\r\n");
        assert_eq!(quoted_printable(b"="), b"");
    }

    #[test]
    fn literal8_only_for_nul() {
        assert!(needs_literal8(b"a\0b"));
        assert!(!needs_literal8(b"a\rb\xff"));
    }

    #[test]
    fn encodings() {
        assert_eq!(&*decode(None, b"x\r\n").unwrap(), b"x\r\n");
        assert_eq!(&*decode(Some("8bit"), b"\xff").unwrap(), b"\xff");
        assert_eq!(
            decode(Some("x-uuencode"), b""),
            Err(BinaryError::UnknownEncoding("x-uuencode".into()))
        );
    }

    #[test]
    fn parts() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\nContent-Transfer-Encoding: x-foo\r\n\r\nzz\r\n--b--\r\n";
        let m = Message::parse(raw);
        assert_eq!(&*m.binary(&[1]).unwrap(), b"hi");
        assert_eq!(m.binary_size(&[1]), Ok(2));
        assert!(matches!(
            m.binary(&[2]),
            Err(BinaryError::UnknownEncoding(_))
        ));
        assert_eq!(m.binary(&[3]), Err(BinaryError::NoSuchPart));
        assert_eq!(&*m.binary(&[]).unwrap(), &raw[..]);
        let single = Message::parse(b"Content-Transfer-Encoding: quoted-printable\n\na=3Db\n");
        assert_eq!(&*single.binary(&[1]).unwrap(), b"a=b\r\n");
    }
}
