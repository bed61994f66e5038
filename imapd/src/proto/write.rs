//! Writing IMAP responses: atoms, numbers, strings (quoted or literal), NIL, lists.
//!
//! ```text
//! string  = quoted / literal
//! quoted  = DQUOTE *QUOTED-CHAR DQUOTE        ; no CR, LF, NUL; \ and " escaped
//! literal = "{" number "}" CRLF *CHAR8         ; literal8 = "~{" number "}" CRLF *OCTET
//! nstring = string / "NIL"
//! ```
//!
//! A string is written quoted when that is possible and short, else as a literal, so any bytes
//! at all can be sent.

/// The longest string written quoted; longer ones go as literals.
const QUOTED_MAX: usize = 1024;

/// A response being built.
#[derive(Debug, Default, Clone)]
pub struct Out {
    /// The bytes so far.
    pub buf: Vec<u8>,
    /// UTF8=ACCEPT is enabled: 8-bit UTF-8 may be quoted.
    pub utf8: bool,
}

impl Out {
    /// An empty response buffer.
    pub fn new() -> Out {
        Out::default()
    }

    /// Raw bytes.
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// Raw text.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.raw(s.as_bytes())
    }

    /// One space.
    pub fn sp(&mut self) -> &mut Self {
        self.buf.push(b' ');
        self
    }

    /// CRLF.
    pub fn crlf(&mut self) -> &mut Self {
        self.raw(b"\r\n")
    }

    /// A decimal number.
    pub fn num(&mut self, n: u64) -> &mut Self {
        let mut b = itoa_buf(n);
        self.buf.append(&mut b);
        self
    }

    /// `NIL`.
    pub fn nil(&mut self) -> &mut Self {
        self.raw(b"NIL")
    }

    /// A string, quoted if possible, else a literal.
    pub fn string(&mut self, s: &[u8]) -> &mut Self {
        if quotable(s, self.utf8) {
            self.buf.reserve(s.len() + 2);
            self.buf.push(b'"');
            for &c in s {
                if c == b'"' || c == b'\\' {
                    self.buf.push(b'\\');
                }
                self.buf.push(c);
            }
            self.buf.push(b'"');
            self
        } else {
            self.literal(s)
        }
    }

    /// A string or NIL.
    pub fn nstring(&mut self, s: Option<&[u8]>) -> &mut Self {
        match s {
            Some(s) => self.string(s),
            None => self.nil(),
        }
    }

    /// A literal: `{n}` CRLF and the bytes.
    pub fn literal(&mut self, s: &[u8]) -> &mut Self {
        self.buf.push(b'{');
        self.num(s.len() as u64);
        self.raw(b"}\r\n");
        self.raw(s)
    }

    /// A literal8 (BINARY): `~{n}` CRLF and the bytes.
    pub fn literal8(&mut self, s: &[u8]) -> &mut Self {
        self.raw(b"~{");
        self.num(s.len() as u64);
        self.raw(b"}\r\n");
        self.raw(s)
    }

    /// An astring: an atom when the text is one, else a string.
    pub fn astring(&mut self, s: &[u8]) -> &mut Self {
        if !s.is_empty() && s.iter().all(|&c| is_astring_char(c)) {
            self.raw(s)
        } else {
            self.string(s)
        }
    }

    /// `(`
    pub fn open(&mut self) -> &mut Self {
        self.buf.push(b'(');
        self
    }

    /// `)`
    pub fn close(&mut self) -> &mut Self {
        self.buf.push(b')');
        self
    }
}

/// Whether a string may go quoted.
pub fn quotable(s: &[u8], utf8: bool) -> bool {
    s.len() <= QUOTED_MAX
        && s.iter()
            .all(|&c| c != 0 && c != b'\r' && c != b'\n' && (c < 0x80 || utf8))
        && (!utf8 || std::str::from_utf8(s).is_ok())
}

/// `ATOM-CHAR` plus `]` (ASTRING-CHAR): any CHAR except atom-specials.
pub fn is_astring_char(c: u8) -> bool {
    c > 0x20 && c < 0x7f && !b"(){ %*\"\\".contains(&c)
}

/// `ATOM-CHAR`
pub fn is_atom_char(c: u8) -> bool {
    is_astring_char(c) && c != b']'
}

fn itoa_buf(mut n: u64) -> Vec<u8> {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    tmp[i..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        let mut o = Out::new();
        o.string(b"plain")
            .sp()
            .string(b"a \"q\" \\")
            .sp()
            .string(b"line\r\nbreak");
        assert_eq!(
            o.buf,
            b"\"plain\" \"a \\\"q\\\" \\\\\" {11}\r\nline\r\nbreak".to_vec()
        );
        let mut o = Out::new();
        o.astring(b"INBOX")
            .sp()
            .astring(b"with space")
            .sp()
            .nstring(None)
            .sp()
            .num(0)
            .sp()
            .num(4294967295);
        assert_eq!(o.buf, b"INBOX \"with space\" NIL 0 4294967295".to_vec());
        let mut o = Out::new();
        o.string("é".as_bytes());
        assert!(o.buf.starts_with(b"{2}"));
        let mut o = Out {
            utf8: true,
            ..Default::default()
        };
        o.string("é".as_bytes());
        assert_eq!(o.buf, "\"é\"".as_bytes());
    }
}
