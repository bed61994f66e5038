//! Header fields of one header block, as byte ranges into the raw message.
//!
//! ```text
//! fields       = *(field-name ":" unstructured CRLF)     ; RFC 5322 §2.2, §3.6
//! field-name   = 1*ftext
//! FWS          = ([*WSP CRLF] 1*WSP)                     ; a line starting with WSP continues
//! ```
//!
//! The ranges are kept rather than copies because `BODY[HEADER.FIELDS (…)]` must return each
//! field byte for byte, folded continuation lines included. Bare LF line ends are accepted
//! wherever CRLF is. A line without a colon is kept as a field whose whole line is its name (as
//! Dovecot does), so `HEADER.FIELDS.NOT` still returns it.

use std::borrow::Cow;
use std::ops::Range;

/// One header field: `name: value` and its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The whole field, from the first byte of its name to after the line end of its last line
    /// (or to the end of the header if the last line has no line end).
    pub whole: Range<usize>,
    /// The field name, without white space before the colon.
    pub name: Range<usize>,
    /// The value: after the colon, to the end of `whole` (line ends included).
    pub value: Range<usize>,
}

impl Field {
    /// Whether the field's name is `name`, compared as ASCII without case.
    pub fn is(&self, raw: &[u8], name: &str) -> bool {
        raw.get(self.name.clone())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The unfolded value: leading white space skipped, every CR and LF removed (the white
    /// space after a fold stays), as Dovecot gives the "full value" of a field.
    pub fn unfolded<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        let v = raw.get(self.value.clone()).unwrap_or(&[]);
        let skip = v.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        let v = &v[skip..];
        if v.iter().any(|&c| c == b'\r' || c == b'\n') {
            Cow::Owned(
                v.iter()
                    .copied()
                    .filter(|&c| c != b'\r' && c != b'\n')
                    .collect(),
            )
        } else {
            Cow::Borrowed(v)
        }
    }
}

/// The fields of the header block `header` (a range of `raw` that may include the blank line
/// ending it). Stops at the blank line.
pub fn fields(raw: &[u8], header: Range<usize>) -> Vec<Field> {
    let end = header.end.min(raw.len());
    let mut p = header.start.min(end);
    let mut out: Vec<Field> = Vec::new();
    while p < end {
        let line_end = match raw[p..end].iter().position(|&c| c == b'\n') {
            Some(i) => p + i + 1,
            None => end,
        };
        let line = &raw[p..line_end];
        let content = strip_eol(line);
        if content.is_empty() && line_end > p && line.last() == Some(&b'\n') {
            break; // the blank line ending the header
        }
        if matches!(raw[p], b' ' | b'\t')
            && let Some(last) = out.last_mut()
        {
            last.whole.end = line_end;
            last.value.end = line_end;
            p = line_end;
            continue;
        }
        let field = match content.iter().position(|&c| c == b':') {
            Some(colon) => {
                let mut name_end = p + colon;
                while name_end > p && matches!(raw[name_end - 1], b' ' | b'\t') {
                    name_end -= 1;
                }
                Field {
                    whole: p..line_end,
                    name: p..name_end,
                    value: p + colon + 1..line_end,
                }
            }
            None => Field {
                whole: p..line_end,
                name: p..p + content.len(),
                value: line_end..line_end,
            },
        };
        out.push(field);
        p = line_end;
    }
    out
}

/// The first field called `name`.
pub fn first<'f>(raw: &[u8], fields: &'f [Field], name: &str) -> Option<&'f Field> {
    fields.iter().find(|f| f.is(raw, name))
}

/// A line without its line end (`\n` or `\r\n`).
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Appends `bytes` with every bare LF made CRLF; used where the server builds text rather than
/// slicing the message, so what it builds is canonical whatever the stored line ends are.
pub fn push_crlf(out: &mut Vec<u8>, bytes: &[u8]) {
    for &c in bytes {
        if c == b'\n' && out.last() != Some(&b'\r') {
            out.push(b'\r');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &[u8]) -> Vec<String> {
        fields(raw, 0..raw.len())
            .iter()
            .map(|f| String::from_utf8_lossy(&raw[f.name.clone()]).into_owned())
            .collect()
    }

    #[test]
    fn splits_fields_with_continuations() {
        let raw = b"From: a@b\r\nSubject: one\r\n two\r\n\tthree\r\nX-Y : z\r\n\r\nbody";
        let f = fields(raw, 0..raw.len());
        assert_eq!(names(raw), ["From", "Subject", "X-Y"]);
        assert_eq!(
            &raw[f[1].whole.clone()],
            b"Subject: one\r\n two\r\n\tthree\r\n"
        );
        assert_eq!(&*f[1].unfolded(raw), b"one two\tthree");
        assert_eq!(&*f[2].unfolded(raw), b"z");
        assert!(f[2].is(raw, "x-y"));
    }

    #[test]
    fn bare_lf_and_no_final_newline() {
        let raw = b"A: 1\nB: 2\n c";
        let f = fields(raw, 0..raw.len());
        assert_eq!(f.len(), 2);
        assert_eq!(&*f[1].unfolded(raw), b"2 c");
        assert_eq!(f[1].whole.end, raw.len());
    }

    #[test]
    fn lines_without_colon_and_leading_continuations() {
        let raw = b" lead\r\ngarbage line\r\nA:\r\n\r\n";
        let f = fields(raw, 0..raw.len());
        assert_eq!(names(raw), [" lead", "garbage line", "A"]);
        assert_eq!(&*f[2].unfolded(raw), b"");
    }

    #[test]
    fn crlf_normalisation() {
        let mut out = Vec::new();
        push_crlf(&mut out, b"a\nb\r\nc");
        assert_eq!(out, b"a\r\nb\r\nc");
    }
}
