//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2).
//!
//! ```text
//! body            = "(" (body-type-1part / body-type-mpart) ")"
//! body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
//! body-type-basic = media-basic SP body-fields
//! body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
//! body-type-text  = media-text SP body-fields SP body-fld-lines
//! body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
//!                   body-fld-octets
//! body-fld-param  = "(" string SP string *(SP string SP string) ")" / nil
//! body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
//! body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
//! body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
//! body-fld-dsp    = "(" string SP body-fld-param ")" / nil
//! body-fld-lang   = nstring / "(" string *(SP string) ")"
//! ```
//!
//! Choices, following Dovecot where the RFC leaves room:
//! - type, subtype, parameter names, the encoding and the disposition type are sent upper case
//!   (as RFC 3501's examples do; clients compare them without case); parameter values as
//!   written, RFC 2231 pieces merged (see [`super::params`]).
//! - a `text/*` part without a charset gets `("CHARSET" "us-ascii")` added, the RFC 2045
//!   default made explicit; the encoding defaults to `7BIT`.
//! - sizes are octets of the body as stored; line counts count LFs.
//! - the language is always a list; the MD5 and location are the field values.
//! - a multipart without parts (no boundary, or the boundary never appears) is given one empty
//!   `text/plain` part, since the grammar needs at least one.
//! - the extension data is written in full (md5, disposition, language, location), never cut.

use super::content::{ContentInfo, Disposition};
use super::params::Params;
use super::{Message, PartKind};
use crate::proto::write::Out;

/// Writes the body structure of entity `id` of `m`.
pub fn write(m: &Message<'_>, id: usize, out: &mut Out, extended: bool) {
    let Some(part) = m.parts().get(id) else {
        empty_part(out, extended);
        return;
    };
    let c = part.content();
    let body = m.bytes(part.body_range());
    out.open();
    match part.kind() {
        PartKind::Multipart(children) => {
            if children.is_empty() {
                empty_part(out, extended);
            }
            for &child in children {
                write(m, child, out, extended);
            }
            out.sp();
            upper(out, &c.subtype);
            if extended {
                out.sp();
                params(out, &c.params, false);
                out.sp();
                common_extension(out, c);
            }
        }
        PartKind::Message(inner) => {
            upper(out, "message").sp();
            upper(out, &c.subtype).sp();
            fields(out, c, body.len(), false);
            out.sp();
            m.envelope_of(*inner, out);
            out.sp();
            write(m, *inner, out, extended);
            out.sp().num(lines(body));
            if extended {
                single_extension(out, c);
            }
        }
        PartKind::Leaf => {
            upper(out, &c.media_type).sp();
            upper(out, &c.subtype).sp();
            fields(out, c, body.len(), c.is_text());
            if c.is_text() {
                out.sp().num(lines(body));
            }
            if extended {
                single_extension(out, c);
            }
        }
    }
    out.close();
}

/// The part that stands in for the missing parts of an empty multipart.
fn empty_part(out: &mut Out, extended: bool) {
    out.text("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0");
    if extended {
        out.text(" NIL NIL NIL NIL");
    }
    out.close();
}

/// `body-fields`
fn fields(out: &mut Out, c: &ContentInfo, size: usize, default_charset: bool) {
    params(out, &c.params, default_charset);
    out.sp();
    out.nstring(c.id.as_deref()).sp();
    out.nstring(c.description.as_deref()).sp();
    upper(out, c.encoding.as_deref().unwrap_or("7bit")).sp();
    out.num(size as u64);
}

/// `body-ext-1part` after its leading SP: md5, disposition, language, location.
fn single_extension(out: &mut Out, c: &ContentInfo) {
    out.sp();
    out.nstring(c.md5.as_deref()).sp();
    common_extension(out, c);
}

/// disposition SP language SP location
fn common_extension(out: &mut Out, c: &ContentInfo) {
    disposition(out, c.disposition.as_ref());
    out.sp();
    if c.language.is_empty() {
        out.nil();
    } else {
        out.open();
        for (i, l) in c.language.iter().enumerate() {
            if i > 0 {
                out.sp();
            }
            out.string(l.as_bytes());
        }
        out.close();
    }
    out.sp();
    out.nstring(c.location.as_deref());
}

/// `body-fld-dsp`
fn disposition(out: &mut Out, d: Option<&Disposition>) {
    match d {
        None => {
            out.nil();
        }
        Some(d) => {
            out.open();
            upper(out, &d.kind).sp();
            params(out, &d.params, false);
            out.close();
        }
    }
}

/// `body-fld-param`; with `default_charset`, a missing charset is given as `us-ascii`.
fn params(out: &mut Out, p: &Params, default_charset: bool) {
    let add_charset = default_charset && p.get("charset").is_none();
    if p.is_empty() && !add_charset {
        out.nil();
        return;
    }
    out.open();
    for (i, param) in p.0.iter().enumerate() {
        if i > 0 {
            out.sp();
        }
        upper(out, &param.name).sp();
        out.string(&param.value);
    }
    if add_charset {
        if !p.is_empty() {
            out.sp();
        }
        out.text("\"CHARSET\" \"us-ascii\"");
    }
    out.close();
}

/// A string, upper case.
fn upper<'o>(out: &'o mut Out, s: &str) -> &'o mut Out {
    out.string(s.to_ascii_uppercase().as_bytes())
}

/// `body-fld-lines`: the number of LFs.
fn lines(body: &[u8]) -> u64 {
    body.iter().filter(|&&c| c == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bs(raw: &[u8], extended: bool) -> String {
        let m = Message::parse(raw);
        let mut out = Out::new();
        m.body_structure(&mut out, extended);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn plain_message_defaults() {
        assert_eq!(
            bs(b"Subject: x\r\n\r\nbody1\r\n\r\n", false),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 9 2)"
        );
        assert_eq!(
            bs(b"Subject: x\r\n\r\nbody1\r\n\r\n", true),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 9 2 NIL NIL NIL NIL)"
        );
        assert_eq!(
            bs(b"", false),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
        );
    }

    #[test]
    fn multipart_mixed_with_folded_boundary() {
        let raw = b"From: user@domain.org\r\nMime-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"foo\r\n bar\"\r\n\r\n--foo bar\r\nContent-Type: text/x-myown; charset=us-ascii\r\n\r\nhello\r\n\r\n--foo bar--\r\n";
        assert_eq!(
            bs(raw, false),
            "((\"TEXT\" \"X-MYOWN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1) \"MIXED\")"
        );
        assert_eq!(
            bs(raw, true),
            "((\"TEXT\" \"X-MYOWN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"foo bar\") NIL NIL NIL)"
        );
    }

    #[test]
    fn attachments_with_extension_data() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\nContent-Language: en\r\n\r\n\
--b\r\nContent-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n\
--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\r\nContent-ID: <c@x>\r\n\
Content-Description: the file\r\nContent-MD5: abc=\r\nContent-Language: en, de\r\nContent-Location: a.pdf\r\n\r\nJVBERi0=\r\n\
--b--\r\n";
        assert_eq!(
            bs(raw, true),
            "((\"TEXT\" \"PLAIN\" (\"FORMAT\" \"flowed\" \"CHARSET\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 9 0 NIL NIL NIL NIL)\
(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") \"<c@x>\" \"the file\" \"BASE64\" 8 \"abc=\" \
(\"ATTACHMENT\" (\"FILENAME*\" \"utf-8''%E2%82%AC.pdf\")) (\"en\" \"de\") \"a.pdf\") \
\"MIXED\" (\"BOUNDARY\" \"b\") NIL (\"en\") NIL)"
        );
        assert_eq!(
            bs(raw, false),
            "((\"TEXT\" \"PLAIN\" (\"FORMAT\" \"flowed\" \"CHARSET\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 9 0)\
(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") \"<c@x>\" \"the file\" \"BASE64\" 8) \"MIXED\")"
        );
    }

    #[test]
    fn nested_message() {
        let raw = b"Content-Type: message/rfc822\r\n\r\nFrom: sub@domain.org\r\nSubject: submsg\r\n\r\nHello world\r\n";
        assert_eq!(
            bs(raw, false),
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 54 (NIL \"submsg\" ((NIL NIL \"sub\" \"domain.org\")) \
((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) NIL NIL NIL NIL NIL) \
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1) 4)"
        );
        assert!(bs(raw, true).ends_with(" 13 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)"));
    }

    #[test]
    fn empty_multipart_gets_a_placeholder() {
        assert_eq!(
            bs(
                b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
                true
            ),
            "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL) \"MIXED\" NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn digest_parts_default_to_message() {
        let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: m1\r\n\r\nm1\r\n--d--\r\n";
        let s = bs(raw, false);
        assert!(
            s.starts_with("((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 17 (NIL \"m1\""),
            "{s}"
        );
        assert!(s.ends_with(" \"DIGEST\")"), "{s}");
    }
}
