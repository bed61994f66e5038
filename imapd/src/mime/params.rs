//! MIME parameter lists (`; name=value`) with RFC 2231 continuations merged the way Dovecot
//! merges them, so BODYSTRUCTURE shows what Dovecot shows.
//!
//! ```text
//! parameter  = attribute "=" value                       ; RFC 2045 §5.1
//! attribute  = token
//! value      = token / quoted-string
//! ext-param  = attribute "*" [section] "*" "=" ext-value  ; RFC 2231 §3, §4
//!            / attribute "*" section "=" value
//! section    = "*" 1*DIGIT
//! ext-value  = [charset] "'" [language] "'" *(attribute-char / "%" 2HEXDIG)
//! ```
//!
//! `title*0*=us-ascii'en'This%20is; title*1=" fun"` becomes one parameter `title*` with the
//! value `us-ascii'en'This%20is%20fun`: the pieces are joined in index order, the unencoded
//! pieces of an encoded parameter have their `%` escaped, and the value stays percent-encoded —
//! IMAP has no way to say which charset a parameter value is in, so the client decodes it, as
//! with Dovecot. A run with a missing index is left as separate `name*N` parameters.
//! [`Params::decoded`] gives the decoded text for the server's own use (SEARCH, names).
//!
//! Bad input is read leniently: a value that is not a token and not quoted (`name=my file.pdf`)
//! runs to the next `;`; garbage between parameters is skipped.

use super::decode;
use super::lexer::Lexer;

/// One parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The attribute as written (after merging, `name` or `name*`).
    pub name: String,
    /// The value, unquoted.
    pub value: Vec<u8>,
}

/// A parameter list in the order BODYSTRUCTURE shows it: plain parameters as written, then the
/// merged RFC 2231 ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// Reads `*(";" parameter)` from the lexer to the end of the value.
    pub fn parse(lx: &mut Lexer<'_>) -> Params {
        let mut raw: Vec<Param> = Vec::new();
        loop {
            lx.skip_cfws();
            if lx.eof() {
                break;
            }
            if !lx.eat(b';') {
                lx.skip_until(b";");
                continue;
            }
            lx.skip_cfws();
            let Some(name) = lx.token() else {
                lx.skip_until(b";");
                continue;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            lx.skip_cfws();
            if !lx.eat(b'=') {
                lx.skip_until(b";");
                continue;
            }
            lx.skip_cfws();
            let value = if lx.peek() == Some(b'"') {
                lx.quoted().unwrap_or_default()
            } else {
                let start = lx.pos();
                lx.token();
                let token_end = lx.pos();
                lx.skip_cfws();
                if lx.eof() || lx.peek() == Some(b';') {
                    let end = lx.pos();
                    lx.set_pos(token_end);
                    let v = lx.since(start).to_vec();
                    lx.set_pos(end);
                    v
                } else {
                    // Not a token: take everything to the next `;`, as mailers mean.
                    lx.set_pos(start);
                    lx.skip_until(b";");
                    trim(lx.since(start)).to_vec()
                }
            };
            raw.push(Param { name, value });
        }
        merge_rfc2231(raw)
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the parameter called `name` (ASCII case-insensitive), as stored.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_slice())
    }

    /// The value of `name` as text: an RFC 2231 `name*` is percent-decoded and converted from
    /// its charset, a plain value has its RFC 2047 encoded words decoded.
    pub fn decoded(&self, name: &str) -> Option<String> {
        let star = format!("{name}*");
        if let Some(v) = self.get(&star) {
            return Some(decode_ext_value(v));
        }
        self.get(name).map(decode::header_text)
    }
}

/// `ext-value` to text: `charset'language'percent-encoded`.
fn decode_ext_value(v: &[u8]) -> String {
    let mut parts = v.splitn(3, |&c| c == b'\'');
    let (charset, text) = match (parts.next(), parts.next(), parts.next()) {
        (Some(cs), Some(_lang), Some(text)) => (cs, text),
        _ => (&b""[..], v),
    };
    let bytes = percent_decode(text);
    decode::charset_to_utf8(&bytes, std::str::from_utf8(charset).unwrap_or(""))
}

/// `%XX` to bytes; a `%` not followed by two hex digits stays.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&c| hex(c)),
                s.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// One hex digit's value.
pub fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// One RFC 2231 piece: `base*idx[*]`.
struct Piece {
    base: String,
    idx: u32,
    extended: bool,
    value: Vec<u8>,
}

/// `name*N[*]` / `name*` → (base, index, extended); `None` for a plain name.
fn split_ext_name(name: &str) -> Option<(String, u32, bool)> {
    let star = name.find('*')?;
    let base = &name[..star];
    let rest = &name[star + 1..];
    if rest.is_empty() {
        return Some((base.to_string(), 0, true));
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let idx: u32 = if digits == 0 {
        0
    } else {
        rest[..digits].parse().ok()?
    };
    match &rest[digits..] {
        "" if digits > 0 => Some((base.to_string(), idx, false)),
        "*" => Some((base.to_string(), idx, true)),
        _ => None,
    }
}

/// Merges RFC 2231 pieces; plain parameters keep their order and come first.
fn merge_rfc2231(raw: Vec<Param>) -> Params {
    let mut plain = Vec::new();
    let mut pieces = Vec::new();
    for p in raw {
        match split_ext_name(&p.name) {
            Some((base, idx, extended)) => pieces.push(Piece {
                base,
                idx,
                extended,
                value: p.value,
            }),
            None => plain.push(p),
        }
    }
    pieces.sort_by(|a, b| {
        a.base
            .to_ascii_lowercase()
            .cmp(&b.base.to_ascii_lowercase())
            .then(a.idx.cmp(&b.idx))
    });
    let mut i = 0;
    while i < pieces.len() {
        let mut j = i;
        while j < pieces.len() && pieces[j].base.eq_ignore_ascii_case(&pieces[i].base) {
            j += 1;
        }
        let group = &pieces[i..j];
        let in_order = group.iter().zip(0u32..).all(|(p, n)| p.idx == n);
        let any_ext = group.iter().any(|p| p.extended);
        if in_order {
            let mut value = Vec::new();
            if any_ext && !group[0].extended {
                value.extend_from_slice(b"''");
            }
            for p in group {
                if any_ext && !p.extended {
                    for &c in &p.value {
                        if c == b'%' {
                            value.extend_from_slice(b"%25");
                        } else {
                            value.push(c);
                        }
                    }
                } else {
                    value.extend_from_slice(&p.value);
                }
            }
            let name = if any_ext {
                format!("{}*", group[0].base)
            } else {
                group[0].base.clone()
            };
            plain.push(Param { name, value });
        } else {
            for p in group {
                let name = format!("{}*{}{}", p.base, p.idx, if p.extended { "*" } else { "" });
                plain.push(Param {
                    name,
                    value: p.value.clone(),
                });
            }
        }
        i = j;
    }
    Params(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Params {
        Params::parse(&mut Lexer::new(s.as_bytes()))
    }

    fn pairs(p: &Params) -> Vec<(String, String)> {
        p.0.iter()
            .map(|p| {
                (
                    p.name.clone(),
                    String::from_utf8_lossy(&p.value).into_owned(),
                )
            })
            .collect()
    }

    fn pv(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn plain_and_quoted_values() {
        let p = parse("; charset=us-ascii (Plain text); boundary=\"foo bar\";format = flowed");
        assert_eq!(
            pairs(&p),
            pv(&[
                ("charset", "us-ascii"),
                ("boundary", "foo bar"),
                ("format", "flowed")
            ])
        );
        assert_eq!(p.get("BOUNDARY"), Some(&b"foo bar"[..]));
    }

    #[test]
    fn broken_values_run_to_the_semicolon() {
        let p = parse("; name=my file.pdf; x; =y; a=b/c; z=\"q\\\"\"");
        assert_eq!(
            pairs(&p),
            pv(&[("name", "my file.pdf"), ("a", "b/c"), ("z", "q\"")])
        );
        assert!(parse("garbage ; ;;").is_empty());
    }

    #[test]
    fn rfc2231_continuations_are_merged_like_dovecot() {
        let p = parse("; title*1=\" is it\"; title*0=\"This\"");
        assert_eq!(pairs(&p), pv(&[("title", "This is it")]));
        let p = parse("; title*0*=us-ascii'en'This%20is; title*1=\" 100%\"; x=y");
        assert_eq!(
            pairs(&p),
            pv(&[("x", "y"), ("title*", "us-ascii'en'This%20is 100%25")])
        );
        assert_eq!(p.decoded("title").as_deref(), Some("This is 100%"));
        let p = parse("; title*0=\"a\"; title*2=\"c\"");
        assert_eq!(pairs(&p), pv(&[("title*0", "a"), ("title*2", "c")]));
        let p = parse("; filename*=utf-8''%E2%82%AC.txt");
        assert_eq!(pairs(&p), pv(&[("filename*", "utf-8''%E2%82%AC.txt")]));
        assert_eq!(p.decoded("FILENAME").as_deref(), Some("€.txt"));
        let p = parse("; n*99999999999999=x; n*a=y");
        assert_eq!(pairs(&p), pv(&[("n*99999999999999", "x"), ("n*a", "y")]));
    }

    #[test]
    fn decoded_plain_values_undo_rfc2047() {
        let p = parse("; filename=\"=?utf-8?q?caf=C3=A9.txt?=\"");
        assert_eq!(p.decoded("filename").as_deref(), Some("café.txt"));
        let p = parse("; filename*=iso-8859-1'fr'caf%E9");
        assert_eq!(p.decoded("filename").as_deref(), Some("café"));
    }
}
