//! The token model shared by script expectations and server responses (FORMAT.md section 4).
//!
//! imaptest runs both its expected lines and the server's responses through Dovecot's IMAP parser
//! in "atoms may contain any character" mode; this module is that parser. Tokens are separated by
//! spaces; `"…"` is a quoted string, `{n}`+CRLF+n bytes a literal and `~{n}` a literal8 (all three
//! count as strings); `(` at the start of a token opens a list; `)` ends an atom only inside a
//! list; `[ ] \ % * < >` are ordinary atom characters; `NIL` in any case is NIL but keeps its text.

use std::fmt::Write as _;

/// One IMAP token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An atom: any run of characters up to a space (or `)` inside a list).
    Atom(Vec<u8>),
    /// A quoted string, backslash escapes removed.
    Quoted(Vec<u8>),
    /// A `{n}` literal.
    Literal(Vec<u8>),
    /// A `~{n}` literal8.
    Literal8(Vec<u8>),
    /// `NIL` in any case; the original text is kept.
    Nil(Vec<u8>),
    /// A parenthesised list.
    List(Vec<Token>),
}

impl Token {
    /// Atoms, quoted strings and literals: what Dovecot calls an astring.
    pub fn as_astring(&self) -> Option<&[u8]> {
        match self {
            Token::Atom(s) | Token::Quoted(s) | Token::Literal(s) | Token::Literal8(s) => Some(s),
            _ => None,
        }
    }

    /// The text of any non-list token, NIL included (as its own text).
    pub fn as_text(&self) -> Option<&[u8]> {
        match self {
            Token::Nil(s) => Some(s),
            other => other.as_astring(),
        }
    }

    /// The text of an atom.
    pub fn as_atom(&self) -> Option<&[u8]> {
        match self {
            Token::Atom(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is an atom equal (case-insensitively) to `s`.
    pub fn atom_eq(&self, s: &str) -> bool {
        self.as_atom()
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    }

    /// The elements of a list.
    pub fn as_list(&self) -> Option<&[Token]> {
        match self {
            Token::List(l) => Some(l),
            _ => None,
        }
    }

    /// Whether this is any kind of string (quoted, literal or literal8).
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            Token::Quoted(_) | Token::Literal(_) | Token::Literal8(_)
        )
    }
}

/// Parses one logical line (literals included inline as `{n}\r\n<n bytes>`) into tokens.
///
/// `multiline_strings` lets quoted strings contain CR and LF (imaptest allows that in scripts).
/// Parsing stops at a CR or LF outside any token; anything other than whitespace after it is an
/// error.
pub fn parse_args(data: &[u8], multiline_strings: bool) -> Result<Vec<Token>, String> {
    let mut stack: Vec<Vec<Token>> = vec![Vec::new()];
    let mut i = 0;
    let len = data.len();
    loop {
        while i < len && data[i] == b' ' {
            i += 1;
        }
        if i >= len {
            break;
        }
        match data[i] {
            b'\r' | b'\n' => {
                if stack.len() > 1 {
                    return Err("Missing ')'".into());
                }
                if data[i..].iter().any(|&c| !matches!(c, b'\r' | b'\n')) {
                    return Err("Unexpected data after end of line".into());
                }
                break;
            }
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    let Some(&c) = data.get(i) else {
                        return Err("Missing '\"'".into());
                    };
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => {
                            let Some(&n) = data.get(i + 1) else {
                                return Err("Missing '\"'".into());
                            };
                            s.push(n);
                            i += 2;
                        }
                        b'\r' | b'\n' if !multiline_strings => {
                            return Err("Quoted string contains a line break".into());
                        }
                        _ => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                push(&mut stack, Token::Quoted(s));
            }
            b'{' => {
                let (content, next) = parse_literal(data, i + 1)?;
                push(&mut stack, Token::Literal(content));
                i = next;
            }
            b'~' if data.get(i + 1) == Some(&b'{') => {
                let (content, next) = parse_literal(data, i + 2)?;
                push(&mut stack, Token::Literal8(content));
                i = next;
            }
            b'(' => {
                stack.push(Vec::new());
                i += 1;
            }
            b')' => {
                if stack.len() == 1 {
                    return Err("Unexpected ')'".into());
                }
                let list = stack.pop().unwrap_or_default();
                push(&mut stack, Token::List(list));
                i += 1;
            }
            _ => {
                let start = i;
                let in_list = stack.len() > 1;
                while i < len {
                    let c = data[i];
                    if c == b' ' || c == b'\r' || c == b'\n' || (c == b')' && in_list) {
                        break;
                    }
                    i += 1;
                }
                let atom = data[start..i].to_vec();
                if atom.eq_ignore_ascii_case(b"NIL") {
                    push(&mut stack, Token::Nil(atom));
                } else {
                    push(&mut stack, Token::Atom(atom));
                }
            }
        }
    }
    if stack.len() > 1 {
        return Err("Missing ')'".into());
    }
    Ok(stack.pop().unwrap_or_default())
}

fn push(stack: &mut [Vec<Token>], t: Token) {
    if let Some(top) = stack.last_mut() {
        top.push(t);
    }
}

/// Parses `n}` (or `n+}`) followed by CRLF (or LF) and n bytes, starting just after the `{`.
fn parse_literal(data: &[u8], mut i: usize) -> Result<(Vec<u8>, usize), String> {
    let start = i;
    while i < data.len() && data[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return Err("Invalid literal size".into());
    }
    let size: usize = std::str::from_utf8(&data[start..i])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("Invalid literal size")?;
    if data.get(i) == Some(&b'+') {
        i += 1;
    }
    if data.get(i) != Some(&b'}') {
        return Err("Invalid literal size".into());
    }
    i += 1;
    if data.get(i) == Some(&b'\r') {
        i += 1;
    }
    if data.get(i) != Some(&b'\n') {
        return Err("Missing LF after literal size".into());
    }
    i += 1;
    if data.len() < i + size {
        return Err("Literal is shorter than its size".into());
    }
    Ok((data[i..i + size].to_vec(), i + size))
}

/// One parsed server response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `+ text`: a command continuation request.
    Continuation(Vec<u8>),
    /// `* …`: the tokens after `* `.
    Untagged(Vec<Token>),
    /// `TAG …`: the tag and the tokens after it (status first).
    Tagged { tag: String, args: Vec<Token> },
}

/// Parses a whole server response (without its final CRLF; literals inline).
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    if raw.first() == Some(&b'+') && (raw.len() == 1 || raw[1] == b' ') {
        return Ok(Response::Continuation(
            raw.get(2..).unwrap_or_default().to_vec(),
        ));
    }
    let (tag, rest) = match raw.iter().position(|&c| c == b' ') {
        Some(p) => (&raw[..p], &raw[p + 1..]),
        None => (raw, &[][..]),
    };
    if tag.is_empty() {
        return Err("Broken tag".into());
    }
    let args = parse_args(rest, false)?;
    if tag == b"*" {
        Ok(Response::Untagged(args))
    } else {
        Ok(Response::Tagged {
            tag: String::from_utf8_lossy(tag).into_owned(),
            args,
        })
    }
}

/// Renders tokens for messages: strings quoted, control characters escaped, long strings cut.
pub fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    render_into(&mut out, tokens);
    out
}

fn render_into(out: &mut String, tokens: &[Token]) {
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match t {
            Token::Atom(a) | Token::Nil(a) => escape_into(out, a, false),
            Token::Quoted(s) => {
                out.push('"');
                escape_into(out, s, true);
                out.push('"');
            }
            Token::Literal(s) | Token::Literal8(s) => {
                let _ = write!(
                    out,
                    "{}{{{}}}\"",
                    if matches!(t, Token::Literal8(_)) {
                        "~"
                    } else {
                        ""
                    },
                    s.len()
                );
                escape_into(out, s, true);
                out.push('"');
            }
            Token::List(l) => {
                out.push('(');
                render_into(out, l);
                out.push(')');
            }
        }
    }
}

const RENDER_MAX: usize = 400;

fn escape_into(out: &mut String, s: &[u8], quoted: bool) {
    for (n, &c) in s.iter().enumerate() {
        if n >= RENDER_MAX {
            let _ = write!(out, "…({} bytes)", s.len());
            return;
        }
        match c {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' | b'\\' if quoted => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
}

/// Renders raw bytes (a command or a raw line) for messages.
pub fn render_bytes(s: &[u8]) -> String {
    let mut out = String::new();
    escape_into(&mut out, s, false);
    out
}
