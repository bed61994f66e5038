//! The lexical tokens of structured header fields (RFC 5322 §3.2, RFC 2045 §5.1), read from an
//! unfolded field value.
//!
//! ```text
//! CFWS          = (1*([FWS] comment) [FWS]) / FWS
//! comment       = "(" *([FWS] ccontent) [FWS] ")"
//! ccontent      = ctext / quoted-pair / comment
//! atom          = [CFWS] 1*atext [CFWS]
//! dot-atom      = [CFWS] dot-atom-text [CFWS]
//! quoted-string = [CFWS] DQUOTE *([FWS] qcontent) [FWS] DQUOTE [CFWS]
//! word          = atom / quoted-string
//! phrase        = 1*word / obs-phrase          ; obs-phrase allows "." between words
//! domain        = dot-atom / domain-literal / obs-domain
//! token         = 1*<any CHAR except SPACE, CTLs, or tspecials>   ; RFC 2045
//! ```
//!
//! Every reader is total: it never fails on bad input, it only reports that the expected token
//! is not there, and it always moves forward or stays put, so the parsers built on it terminate.
//! Mail in the wild breaks every rule, and a FETCH must still answer.

/// `atext` (RFC 5322), plus any 8-bit byte (RFC 6532 allows UTF-8 there).
pub fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c) || c >= 0x80
}

/// A byte of an RFC 2045 `token`: not a space, a control or a `tspecial`.
pub fn is_token_char(c: u8) -> bool {
    c > b' ' && c != 0x7f && !b"()<>@,;:\\\"/[]?=".contains(&c)
}

/// A cursor over one unfolded field value.
#[derive(Debug)]
pub struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    /// The text of the last comment skipped, kept because an address written
    /// `user@host (Real Name)` takes its display name from it.
    pub last_comment: Option<Vec<u8>>,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `s`.
    pub fn new(s: &'a [u8]) -> Lexer<'a> {
        Lexer {
            s,
            pos: 0,
            last_comment: None,
        }
    }

    /// The byte under the cursor.
    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Whether everything has been read.
    pub fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The cursor position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves the cursor back to a position taken from [`Lexer::pos`].
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    /// The input from `start` to the cursor.
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.s.get(start..self.pos).unwrap_or(&[])
    }

    /// The input from the cursor to the end.
    pub fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or(&[])
    }

    /// Steps over one byte.
    pub fn bump(&mut self) {
        if self.pos < self.s.len() {
            self.pos += 1;
        }
    }

    /// Steps over `c` if it is under the cursor.
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips `CFWS` (white space, line breaks and comments); true if anything was skipped.
    pub fn skip_cfws(&mut self) -> bool {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => self.comment(),
                _ => break,
            }
        }
        self.pos != start
    }

    /// `comment`, possibly nested; an unclosed comment runs to the end. Nesting is counted, not
    /// recursed, so a flood of `(` cannot exhaust the stack.
    fn comment(&mut self) {
        let mut depth = 0usize;
        let mut text = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'(' => {
                    if depth > 0 {
                        text.push(c);
                    }
                    depth += 1;
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    text.push(c);
                }
                b'\\' => {
                    if let Some(q) = self.peek() {
                        self.pos += 1;
                        text.push(q);
                    }
                }
                b'\r' | b'\n' => {}
                _ => text.push(c),
            }
        }
        self.last_comment = Some(text);
    }

    /// A run of `atext`, without surrounding CFWS.
    pub fn atom(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_atext) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.since(start))
    }

    /// An RFC 2045 `token`, without surrounding CFWS.
    pub fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.since(start))
    }

    /// `quoted-string` content with the quotes and quoted-pairs removed; the cursor must be on
    /// the opening quote. An unclosed string runs to the end.
    pub fn quoted(&mut self) -> Option<Vec<u8>> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(q) = self.peek() {
                        self.pos += 1;
                        out.push(q);
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(c),
            }
        }
        Some(out)
    }

    /// `word` = atom / quoted-string, without surrounding CFWS.
    pub fn word(&mut self) -> Option<Vec<u8>> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            self.atom().map(<[u8]>::to_vec)
        }
    }

    /// `phrase` (with obs-phrase's dots): words joined by one space where the input had white
    /// space or a comment between them; RFC 2047 encoded words are kept as they are. Leaves the
    /// cursor after the trailing CFWS. Returns `None` if there was no word at all.
    pub fn phrase(&mut self) -> Option<Vec<u8>> {
        let mut out: Vec<u8> = Vec::new();
        let mut any = false;
        let mut gap = false;
        loop {
            let item = match self.peek() {
                Some(b'.') if any => {
                    self.pos += 1;
                    Some(b".".to_vec())
                }
                Some(b'"') => self.quoted(),
                Some(c) if is_atext(c) => self.atom().map(<[u8]>::to_vec),
                _ => None,
            };
            let Some(item) = item else { break };
            if any && gap {
                out.push(b' ');
            }
            out.extend_from_slice(&item);
            any = true;
            gap = self.skip_cfws();
        }
        any.then_some(out)
    }

    /// `dot-atom` / obs-local-part: words separated by dots, CFWS allowed around each dot;
    /// returned joined with bare dots. Leaves the cursor after the trailing CFWS.
    pub fn dotted_words(&mut self) -> Option<Vec<u8>> {
        let mut out = self.word()?;
        self.skip_cfws();
        while self.peek() == Some(b'.') {
            self.pos += 1;
            self.skip_cfws();
            out.push(b'.');
            if let Some(w) = self.word() {
                out.extend_from_slice(&w);
                self.skip_cfws();
            }
        }
        Some(out)
    }

    /// `domain` = dot-atom / domain-literal; a literal keeps its brackets. Leaves the cursor
    /// after the trailing CFWS.
    pub fn domain(&mut self) -> Option<Vec<u8>> {
        self.skip_cfws();
        if self.peek() == Some(b'[') {
            let mut out = Vec::new();
            while let Some(c) = self.peek() {
                self.pos += 1;
                match c {
                    b'\\' => {
                        if let Some(q) = self.peek() {
                            self.pos += 1;
                            out.push(q);
                        }
                    }
                    b'\r' | b'\n' => {}
                    _ => out.push(c),
                }
                if c == b']' {
                    break;
                }
            }
            self.skip_cfws();
            return Some(out);
        }
        let mut out = self.atom()?.to_vec();
        self.skip_cfws();
        while self.peek() == Some(b'.') {
            self.pos += 1;
            self.skip_cfws();
            out.push(b'.');
            if let Some(a) = self.atom() {
                out.extend_from_slice(a);
                self.skip_cfws();
            }
        }
        Some(out)
    }

    /// Skips to the next `stop` byte outside quoted strings and comments (or to the end); used
    /// to resynchronise after garbage.
    pub fn skip_until(&mut self, stop: &[u8]) {
        while let Some(c) = self.peek() {
            if stop.contains(&c) {
                break;
            }
            match c {
                b'"' => {
                    self.quoted();
                }
                b'(' => self.comment(),
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_nest_and_are_remembered() {
        let mut l = Lexer::new(b"  (a (b) \\) c) x");
        assert!(l.skip_cfws());
        assert_eq!(l.last_comment.as_deref(), Some(&b"a (b) ) c"[..]));
        assert_eq!(l.atom(), Some(&b"x"[..]));
        assert!(l.eof());
    }

    #[test]
    fn unclosed_comment_and_quote_run_to_the_end() {
        let mut l = Lexer::new(b"((((( x");
        l.skip_cfws();
        assert!(l.eof());
        let mut l = Lexer::new(b"\"abc\\\"d");
        assert_eq!(l.quoted(), Some(b"abc\"d".to_vec()));
        assert!(l.eof());
    }

    #[test]
    fn phrases_join_words_with_one_space() {
        let mut l = Lexer::new(b"John  Q. \"Public, Jr\" (c) <x>");
        assert_eq!(l.phrase(), Some(b"John Q. Public, Jr".to_vec()));
        assert_eq!(l.peek(), Some(b'<'));
        let mut l = Lexer::new(b"=?utf-8?q?a?= =?utf-8?q?b?=");
        assert_eq!(l.phrase(), Some(b"=?utf-8?q?a?= =?utf-8?q?b?=".to_vec()));
        let mut l = Lexer::new(b"<x>");
        assert_eq!(l.phrase(), None);
    }

    #[test]
    fn dotted_words_and_domains_drop_cfws() {
        let mut l = Lexer::new(b"user-from (comment)@ (comment) domain.org");
        assert_eq!(l.dotted_words(), Some(b"user-from".to_vec()));
        assert!(l.eat(b'@'));
        assert_eq!(l.domain(), Some(b"domain.org".to_vec()));
        let mut l = Lexer::new(b"a . b .c");
        assert_eq!(l.dotted_words(), Some(b"a.b.c".to_vec()));
        let mut l = Lexer::new(b" [1.2.3.4] ");
        assert_eq!(l.domain(), Some(b"[1.2.3.4]".to_vec()));
    }

    #[test]
    fn tokens_stop_at_tspecials() {
        let mut l = Lexer::new(b"application/vnd.ms-excel");
        assert_eq!(l.token(), Some(&b"application"[..]));
        assert!(l.eat(b'/'));
        assert_eq!(l.token(), Some(&b"vnd.ms-excel"[..]));
    }
}
