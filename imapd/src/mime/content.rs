//! The `Content-*` fields of one MIME entity: what BODYSTRUCTURE reports and what the structure
//! parser needs (is it multipart, what is the boundary, is it an encapsulated message).
//!
//! ```text
//! content     := "Content-Type" ":" type "/" subtype *(";" parameter)   ; RFC 2045 §5.1
//! encoding    := "Content-Transfer-Encoding" ":" mechanism              ; RFC 2045 §6.1
//! disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm) ; RFC 2183
//! Language-Header = "Content-Language" ":" 1#Language-tag                ; RFC 3282
//! ```
//!
//! The first occurrence of each field counts. A Content-Type that cannot be read (no `/`, no
//! subtype) is ignored, so the RFC 2045 §5.2 default applies: `text/plain; charset=us-ascii`,
//! or `message/rfc822` for a part of a `multipart/digest` (RFC 2046 §5.1.5). MIME-Version is not
//! required (Dovecot does not require it either): mail without it still carries Content-Type.

use super::headers::{self, Field};
use super::lexer::Lexer;
use super::params::Params;

/// `Content-Disposition`: the type and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    /// `inline`, `attachment`, … as written.
    pub kind: String,
    /// The parameters (`filename`, …).
    pub params: Params,
}

/// What the `Content-*` fields of an entity say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentInfo {
    /// The media type, lower case (`text`, `multipart`, …).
    pub media_type: String,
    /// The subtype, lower case.
    pub subtype: String,
    /// Content-Type parameters.
    pub params: Params,
    /// `Content-ID`, unfolded and trimmed.
    pub id: Option<Vec<u8>>,
    /// `Content-Description`, unfolded and trimmed (encoded words kept).
    pub description: Option<Vec<u8>>,
    /// `Content-Transfer-Encoding` mechanism, lower case; `None` when absent or unreadable.
    pub encoding: Option<String>,
    /// `Content-MD5`, trimmed.
    pub md5: Option<Vec<u8>>,
    /// `Content-Disposition`.
    pub disposition: Option<Disposition>,
    /// `Content-Language` tags; empty when absent.
    pub language: Vec<String>,
    /// `Content-Location`, unfolded and trimmed.
    pub location: Option<Vec<u8>>,
}

impl ContentInfo {
    /// The default content of an entity without a (readable) Content-Type.
    pub fn default_for(in_digest: bool) -> ContentInfo {
        let (t, s) = if in_digest {
            ("message", "rfc822")
        } else {
            ("text", "plain")
        };
        ContentInfo {
            media_type: t.into(),
            subtype: s.into(),
            params: Params::default(),
            id: None,
            description: None,
            encoding: None,
            md5: None,
            disposition: None,
            language: Vec::new(),
            location: None,
        }
    }

    /// Reads the `Content-*` fields among `fields` (of `raw`).
    pub fn from_fields(raw: &[u8], fields: &[Field], in_digest: bool) -> ContentInfo {
        let mut info = ContentInfo::default_for(in_digest);
        let value = |name: &str| headers::first(raw, fields, name).map(|f| f.unfolded(raw));
        if let Some(v) = value("Content-Type") {
            let mut lx = Lexer::new(&v);
            lx.skip_cfws();
            let t = lx.token().map(<[u8]>::to_vec);
            lx.skip_cfws();
            let slash = lx.eat(b'/');
            lx.skip_cfws();
            let s = lx.token().map(<[u8]>::to_vec);
            if let (Some(t), true, Some(s)) = (t, slash, s) {
                info.media_type = String::from_utf8_lossy(&t).to_ascii_lowercase();
                info.subtype = String::from_utf8_lossy(&s).to_ascii_lowercase();
                info.params = Params::parse(&mut lx);
            }
        }
        if let Some(v) = value("Content-Transfer-Encoding") {
            let mut lx = Lexer::new(&v);
            lx.skip_cfws();
            let tok = lx.token().map(<[u8]>::to_vec);
            lx.skip_cfws();
            if let Some(tok) = tok
                && lx.eof()
            {
                info.encoding = Some(String::from_utf8_lossy(&tok).to_ascii_lowercase());
            }
        }
        if let Some(v) = value("Content-Disposition") {
            let mut lx = Lexer::new(&v);
            lx.skip_cfws();
            if let Some(kind) = lx.token().map(<[u8]>::to_vec) {
                info.disposition = Some(Disposition {
                    kind: String::from_utf8_lossy(&kind).into_owned(),
                    params: Params::parse(&mut lx),
                });
            }
        }
        if let Some(v) = value("Content-Language") {
            let mut lx = Lexer::new(&v);
            lx.skip_cfws();
            while let Some(tag) = lx.token() {
                info.language
                    .push(String::from_utf8_lossy(tag).into_owned());
                lx.skip_cfws();
                if !lx.eat(b',') {
                    break;
                }
                lx.skip_cfws();
            }
        }
        info.id = value("Content-ID").map(|v| trim(&v).to_vec());
        info.description = value("Content-Description").map(|v| trim(&v).to_vec());
        info.md5 = value("Content-MD5").map(|v| trim(&v).to_vec());
        info.location = value("Content-Location").map(|v| trim(&v).to_vec());
        info
    }

    /// `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        self.media_type == "multipart"
    }

    /// `message/rfc822` or `message/global` (RFC 6532): a part holding a whole message, which
    /// BODYSTRUCTURE describes with its envelope and structure.
    pub fn is_message(&self) -> bool {
        self.media_type == "message" && (self.subtype == "rfc822" || self.subtype == "global")
    }

    /// `text/*`, whose BODYSTRUCTURE carries a line count.
    pub fn is_text(&self) -> bool {
        self.media_type == "text"
    }

    /// The multipart boundary, if there is a usable (non-empty) one.
    pub fn boundary(&self) -> Option<&[u8]> {
        self.params.get("boundary").filter(|b| !b.is_empty())
    }

    /// The charset parameter as text (empty when absent).
    pub fn charset(&self) -> String {
        self.params
            .get("charset")
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .unwrap_or_default()
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |c: &u8| matches!(*c, b' ' | b'\t');
    let start = s.iter().position(|c| !is_ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(hdr: &str) -> ContentInfo {
        let raw = hdr.as_bytes();
        let f = headers::fields(raw, 0..raw.len());
        ContentInfo::from_fields(raw, &f, false)
    }

    #[test]
    fn content_type_with_folded_boundary() {
        let i = info("Content-Type: Multipart/Mixed; boundary=\"foo\r\n bar\"\r\n\r\n");
        assert!(i.is_multipart());
        assert_eq!(i.subtype, "mixed");
        assert_eq!(i.boundary(), Some(&b"foo bar"[..]));
    }

    #[test]
    fn defaults_and_bad_content_types() {
        let i = info("Subject: x\r\n\r\n");
        assert_eq!(
            (i.media_type.as_str(), i.subtype.as_str()),
            ("text", "plain")
        );
        let i = info("Content-Type: garbage\r\n\r\n");
        assert_eq!(
            (i.media_type.as_str(), i.subtype.as_str()),
            ("text", "plain")
        );
        assert!(i.params.is_empty());
        let i = info("Content-Type: multipart/\r\n\r\n");
        assert!(!i.is_multipart());
        let raw = b"X: y\r\n\r\n";
        let f = headers::fields(raw, 0..raw.len());
        assert!(ContentInfo::from_fields(raw, &f, true).is_message());
        let i = info("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n");
        assert_eq!(i.boundary(), None);
    }

    #[test]
    fn the_other_content_fields() {
        let i = info(
            "Content-Transfer-Encoding: BASE64 (comment)\r\n\
             Content-Disposition: attachment; filename=\"a b.pdf\"\r\n\
             Content-Language: en-US (x), de\r\n\
             Content-ID:  <id@x> \r\n\
             Content-Description: =?utf-8?q?d?=\r\n\
             Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\
             Content-Location: http://x/\r\n  y\r\n\
             Content-Type: text/html\r\n\r\n",
        );
        assert_eq!(i.encoding.as_deref(), Some("base64"));
        let d = i.disposition.as_ref().unwrap();
        assert_eq!(d.kind, "attachment");
        assert_eq!(d.params.get("filename"), Some(&b"a b.pdf"[..]));
        assert_eq!(i.language, ["en-US", "de"]);
        assert_eq!(i.id.as_deref(), Some(&b"<id@x>"[..]));
        assert_eq!(i.description.as_deref(), Some(&b"=?utf-8?q?d?="[..]));
        assert_eq!(i.md5.as_deref(), Some(&b"Q2hlY2sgSW50ZWdyaXR5IQ=="[..]));
        assert_eq!(i.location.as_deref(), Some(&b"http://x/  y"[..]));
        assert!(i.is_text());
        assert_eq!(i.charset(), "");
        let i = info("Content-Transfer-Encoding: base64 junk\r\n\r\n");
        assert_eq!(i.encoding, None);
    }
}
