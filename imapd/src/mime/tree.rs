//! The MIME structure of a raw message: every entity's header and body as byte ranges, found in
//! one pass over the bytes, the way Dovecot's message parser finds them (so that sizes, line
//! counts and `BODY[n]` slices agree with what imaptest expects).
//!
//! ```text
//! multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
//!                   *encapsulation close-delimiter transport-padding [CRLF epilogue]
//! encapsulation  := delimiter transport-padding CRLF body-part       ; RFC 2046 §5.1.1
//! delimiter      := CRLF dash-boundary
//! dash-boundary  := "--" boundary
//! close-delimiter := delimiter "--"
//! ```
//!
//! The rules, as Dovecot applies them:
//! - A boundary line is a line starting with `--` and a boundary of *any* enclosing multipart
//!   (the longest one that matches, innermost first on a tie); whatever follows it on the line
//!   is ignored. So a part whose closing boundary is missing ends at an outer boundary, and a
//!   missing outermost close runs to the end of the message.
//! - The line break before a boundary line belongs to the boundary, except when the boundary is
//!   the first line of a body or of a header (then there is none to take).
//! - A header ends at a blank line, at an enclosing boundary line, or at the end of the data.
//! - `message/rfc822` (and `message/global`) parts hold an entity parsed from their body,
//!   whatever their Content-Transfer-Encoding says.
//! - A multipart with no usable boundary, or whose boundary never appears, has no parts.
//!
//! Limits keep hostile input cheap: nesting deeper than [`MAX_DEPTH`] is not parsed (such an
//! entity is treated as `text/plain`), and after about [`MAX_PARTS`] entities no new parts are
//! made (their bytes stay in the enclosing multipart's body). Boundary matching is per line, so the
//! pass is linear in the message size times the nesting depth.

use std::ops::Range;

use super::content::ContentInfo;
use super::headers;
use super::{Part, PartKind};

/// The deepest nesting of multiparts and encapsulated messages that is parsed.
pub const MAX_DEPTH: usize = 100;

/// The most entities one message is split into.
pub const MAX_PARTS: usize = 10_000;

/// A boundary line found by [`Builder::find_boundary`].
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Where the delimiter begins: the line break before the boundary line, or the line itself
    /// when it is the first line scanned.
    delim: usize,
    /// After the boundary line and its line end.
    next: usize,
    /// Which enclosing multipart (index into the boundary stack).
    level: usize,
    /// A close delimiter (`--boundary--`).
    close: bool,
}

struct Builder<'a> {
    raw: &'a [u8],
    parts: Vec<Part>,
    /// Boundaries of the multiparts being parsed, outermost first.
    stack: Vec<Vec<u8>>,
}

/// Splits `raw` into entities; index 0 is the message itself.
pub fn build(raw: &[u8]) -> Vec<Part> {
    let mut b = Builder {
        raw,
        parts: Vec::new(),
        stack: Vec::new(),
    };
    b.entity(0, false, 0);
    b.parts
}

impl Builder<'_> {
    /// The end of the line starting at `p`: after its LF, or the end of the data.
    fn line_end(&self, p: usize) -> usize {
        match self.raw[p..].iter().position(|&c| c == b'\n') {
            Some(i) => p + i + 1,
            None => self.raw.len(),
        }
    }

    /// If the line at `p` is a boundary line of an enclosing multipart: (level, close, next).
    fn boundary_at(&self, p: usize) -> Option<(usize, bool, usize)> {
        if self.stack.is_empty() || !self.raw[p..].starts_with(b"--") {
            return None;
        }
        let end = self.line_end(p);
        let line = headers::strip_eol(&self.raw[p + 2..end]);
        let mut best: Option<(usize, usize)> = None;
        for (level, b) in self.stack.iter().enumerate().rev() {
            if line.starts_with(b) && best.is_none_or(|(_, len)| b.len() > len) {
                best = Some((level, b.len()));
            }
        }
        let (level, len) = best?;
        Some((level, line[len..].starts_with(b"--"), end))
    }

    /// The first boundary line at or after the line starting at `from`.
    fn find_boundary(&self, from: usize) -> Option<Hit> {
        if self.stack.is_empty() {
            return None;
        }
        let mut p = from;
        while p < self.raw.len() {
            if let Some((level, close, next)) = self.boundary_at(p) {
                return Some(Hit {
                    delim: self.delim_start(from, p),
                    next,
                    level,
                    close,
                });
            }
            p = self.line_end(p);
        }
        None
    }

    /// Where the delimiter of a boundary line at `p` begins, scanning having started at `from`.
    fn delim_start(&self, from: usize, p: usize) -> usize {
        if p == from {
            return p;
        }
        let mut d = p - 1; // the LF ending the previous line
        if d > from && self.raw[d - 1] == b'\r' {
            d -= 1;
        }
        d
    }

    /// Parses the entity whose header starts at `start`. Returns its index, its end, and the
    /// boundary line that ended it (if any).
    fn entity(
        &mut self,
        start: usize,
        in_digest: bool,
        depth: usize,
    ) -> (usize, usize, Option<Hit>) {
        let len = self.raw.len();
        // The header: up to a blank line, an enclosing boundary line, or the end.
        let mut p = start;
        let mut header_end = len;
        let mut hit = None;
        while p < len {
            if let Some((level, close, next)) = self.boundary_at(p) {
                header_end = self.delim_start(start, p);
                hit = Some(Hit {
                    delim: header_end,
                    next,
                    level,
                    close,
                });
                break;
            }
            let e = self.line_end(p);
            if headers::strip_eol(&self.raw[p..e]).is_empty() && self.raw[e - 1] == b'\n' {
                header_end = e;
                break;
            }
            p = e;
        }
        let fields = headers::fields(self.raw, start..header_end);
        let mut content = ContentInfo::from_fields(self.raw, &fields, in_digest);
        let body_start = header_end;
        let structured = content.is_multipart() || content.is_message();
        if structured && (depth >= MAX_DEPTH || self.parts.len() >= MAX_PARTS) {
            content = ContentInfo::default_for(false);
        }
        let idx = self.parts.len();
        self.parts.push(Part {
            header: start..header_end,
            body: body_start..body_start,
            content,
            kind: PartKind::Leaf,
        });
        if hit.is_some() {
            // The header was cut short by a boundary: an empty body. A message part still
            // gets its (empty) message so that every message part has one.
            let kind = if self.parts[idx].content.is_message() {
                let child = self.parts.len();
                self.parts.push(Part {
                    header: header_end..header_end,
                    body: header_end..header_end,
                    content: ContentInfo::default_for(false),
                    kind: PartKind::Leaf,
                });
                PartKind::Message(child)
            } else if self.parts[idx].content.is_multipart() {
                PartKind::Multipart(Vec::new())
            } else {
                PartKind::Leaf
            };
            self.parts[idx].kind = kind;
            return (idx, header_end, hit);
        }

        let c = &self.parts[idx].content;
        let (end, hit, kind) = if c.is_multipart() {
            let boundary = c.boundary().map(<[u8]>::to_vec);
            let digest = c.subtype == "digest";
            match boundary {
                Some(b) => self.multipart_body(body_start, b, digest, depth),
                None => {
                    let h = self.find_boundary(body_start);
                    (
                        h.map_or(len, |h| h.delim),
                        h,
                        PartKind::Multipart(Vec::new()),
                    )
                }
            }
        } else if c.is_message() {
            let (child, end, h) = self.entity(body_start, false, depth + 1);
            (end, h, PartKind::Message(child))
        } else {
            let h = self.find_boundary(body_start);
            (h.map_or(len, |h| h.delim), h, PartKind::Leaf)
        };
        let part = &mut self.parts[idx];
        part.body = body_start..end;
        part.kind = kind;
        (idx, end, hit)
    }

    /// The body of a multipart with boundary `boundary`: its parts, its end, and the enclosing
    /// boundary line that ended it.
    fn multipart_body(
        &mut self,
        body_start: usize,
        boundary: Vec<u8>,
        digest: bool,
        depth: usize,
    ) -> (usize, Option<Hit>, PartKind) {
        let len = self.raw.len();
        let level = self.stack.len();
        self.stack.push(boundary);
        let mut children = Vec::new();
        let mut h = self.find_boundary(body_start);
        let (end, out) = loop {
            match h {
                None => break (len, None),
                Some(x) if x.level < level => break (x.delim, Some(x)),
                Some(x) if x.close => {
                    // The epilogue runs to an enclosing boundary or the end.
                    self.stack.truncate(level);
                    let h2 = self.find_boundary(x.next);
                    break (h2.map_or(len, |h| h.delim), h2);
                }
                Some(x) => {
                    if self.parts.len() >= MAX_PARTS {
                        h = self.find_boundary(x.next);
                        continue;
                    }
                    let (child, _, ch) = self.entity(x.next, digest, depth + 1);
                    children.push(child);
                    h = ch;
                }
            }
        };
        self.stack.truncate(level);
        (end, out, PartKind::Multipart(children))
    }
}

/// `raw[r]`, or nothing if the range is out of bounds.
pub fn slice(raw: &[u8], r: Range<usize>) -> &[u8] {
    raw.get(r).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(raw: &[u8]) -> Vec<(String, String, String)> {
        build(raw)
            .iter()
            .map(|p| {
                (
                    format!("{}/{}", p.content.media_type, p.content.subtype),
                    String::from_utf8_lossy(slice(raw, p.header.clone())).into_owned(),
                    String::from_utf8_lossy(slice(raw, p.body.clone())).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn single_part() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let t = show(raw);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].1, "Subject: x\r\n\r\n");
        assert_eq!(t[0].2, "body\r\n");
    }

    #[test]
    fn header_only_and_empty() {
        let t = show(b"Subject: x");
        assert_eq!((t[0].1.as_str(), t[0].2.as_str()), ("Subject: x", ""));
        let t = show(b"");
        assert_eq!((t[0].1.as_str(), t[0].2.as_str()), ("", ""));
        let t = show(b"\r\nbody");
        assert_eq!((t[0].1.as_str(), t[0].2.as_str()), ("\r\n", "body"));
    }

    #[test]
    fn multipart_with_preamble_and_epilogue() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b \r\nContent-Type: text/html\r\n\r\n<p>\r\n\r\n--b--\r\nepi\r\n";
        let t = show(raw);
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].1, "\r\n");
        assert_eq!(t[1].2, "one");
        assert_eq!(t[2].0, "text/html");
        assert_eq!(t[2].2, "<p>\r\n");
        assert!(t[0].2.ends_with("--b--\r\nepi\r\n"));
    }

    #[test]
    fn missing_close_delimiters() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\na\r\n--out\r\n\r\nb\r\n";
        let parts = build(raw);
        assert_eq!(parts.len(), 4);
        match &parts[0].kind {
            PartKind::Multipart(c) => assert_eq!(c.len(), 2),
            k => panic!("{k:?}"),
        }
        assert_eq!(slice(raw, parts[2].body.clone()), b"a");
        assert_eq!(slice(raw, parts[3].body.clone()), b"b\r\n");
    }

    #[test]
    fn boundary_never_found_or_absent() {
        let raw = b"Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n";
        let p = build(raw);
        assert_eq!(p.len(), 1);
        assert!(matches!(&p[0].kind, PartKind::Multipart(c) if c.is_empty()));
        let raw = b"Content-Type: multipart/mixed\r\n\r\nx\r\n";
        assert!(matches!(&build(raw)[0].kind, PartKind::Multipart(c) if c.is_empty()));
    }

    #[test]
    fn header_cut_by_boundary() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n";
        let t = show(raw);
        assert_eq!(t[1].1, "Content-Type: text/plain");
        assert_eq!(t[1].2, "");
    }

    #[test]
    fn nested_message_and_bare_lf() {
        let raw = b"Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n";
        let p = build(raw);
        assert_eq!(p.len(), 2);
        assert!(matches!(p[0].kind, PartKind::Message(1)));
        assert_eq!(slice(raw, p[1].header.clone()), b"Subject: inner\n\n");
        assert_eq!(slice(raw, p[1].body.clone()), b"inner body\n");
    }

    #[test]
    fn deep_nesting_is_cut_off() {
        let mut raw = Vec::new();
        for _ in 0..(MAX_DEPTH + 50) {
            raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        raw.extend_from_slice(b"x\r\n");
        let p = build(&raw);
        assert_eq!(p.len(), MAX_DEPTH + 1);
        assert!(matches!(p[MAX_DEPTH].kind, PartKind::Leaf));
    }

    #[test]
    fn many_parts_are_capped() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..(MAX_PARTS + 10) {
            raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
        }
        let p = build(&raw);
        assert_eq!(p.len(), MAX_PARTS);
    }
}
