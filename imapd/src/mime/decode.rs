//! Text for SEARCH: header values with RFC 2047 encoded words decoded, and bodies converted from
//! their charset to UTF-8. The conversions are mail-parser's, so the server decodes exactly the
//! charsets mail-parser knows; an unknown charset falls back to UTF-8 with replacement
//! characters rather than failing, because a search must still look at the text.
//!
//! ```text
//! encoded-word = "=?" charset "?" encoding "?" encoded-text "?="   ; RFC 2047 §2
//! ```

use mail_parser::HeaderValue;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::html::html_to_text;
use mail_parser::parsers::MessageStream;

/// An unstructured header value (raw, possibly folded) as text: encoded words decoded, white
/// space runs made single spaces, the ends trimmed.
pub fn header_text(raw: &[u8]) -> String {
    if !raw.windows(2).any(|w| w == b"=?") {
        let s = String::from_utf8_lossy(raw);
        return s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    // mail-parser's unstructured reader stops at a line end that is not followed by white
    // space; give it one so the whole value is read.
    let mut buf = Vec::with_capacity(raw.len() + 2);
    buf.extend(
        raw.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
    buf.extend_from_slice(b"\r\n");
    match MessageStream::new(&buf).parse_unstructured() {
        HeaderValue::Text(t) => t.into_owned(),
        HeaderValue::TextList(l) => l.join(" "),
        _ => String::new(),
    }
}

/// `bytes` in `charset` as UTF-8. UTF-8, US-ASCII, an empty or an unknown charset are read as
/// UTF-8 (invalid sequences replaced).
pub fn charset_to_utf8(bytes: &[u8], charset: &str) -> String {
    let cs = charset.trim();
    let is_utf8 = cs.is_empty()
        || cs.eq_ignore_ascii_case("utf-8")
        || cs.eq_ignore_ascii_case("utf8")
        || cs.eq_ignore_ascii_case("us-ascii");
    if !is_utf8 && let Some(decoder) = charset_decoder(cs.as_bytes()) {
        return decoder(bytes);
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// HTML to its text, so a search does not match markup.
pub fn html_text(html: &str) -> String {
    html_to_text(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_are_decoded() {
        assert_eq!(
            header_text(b"=?ISO-8859-1?Q?Andr=E9?= Pirard"),
            "André Pirard"
        );
        assert_eq!(header_text(b"=?utf-8?B?w6k=?= =?utf-8?B?w6k=?="), "éé");
        assert_eq!(
            header_text(b"plain\r\n  folded   text "),
            "plain folded text"
        );
        assert_eq!(header_text(b"=?bogus"), "=?bogus");
        assert_eq!(header_text(b""), "");
    }

    #[test]
    fn charsets() {
        assert_eq!(charset_to_utf8(b"caf\xe9", "iso-8859-1"), "café");
        assert_eq!(charset_to_utf8("café".as_bytes(), "UTF-8"), "café");
        assert_eq!(charset_to_utf8(b"abc", "x-no-such"), "abc");
        assert_eq!(charset_to_utf8(b"\xff", ""), "\u{fffd}");
    }

    #[test]
    fn html() {
        assert!(html_text("<p>Hello <b>world</b></p>").contains("Hello world"));
    }
}
