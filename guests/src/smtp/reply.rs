//! SMTP replies: a code, an enhanced status code (RFC 3463) and one or more lines of text.
//!
//! ```text
//! reply = *(code "-" [esc SP] text CRLF) code SP [esc SP] text CRLF
//! esc   = class "." subject "." detail        ; e.g. 5.1.1
//! ```

use std::fmt;

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The enhanced status code, if the reply has one.
    pub esc: Option<&'static str>,
    /// The text, one entry per line (at least one).
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, esc: &'static str, text: impl Into<String>) -> Reply {
        Reply {
            code,
            esc: (!esc.is_empty()).then_some(esc),
            lines: vec![text.into()],
        }
    }

    /// A reply of several lines.
    pub fn lines(code: u16, esc: &'static str, lines: Vec<String>) -> Reply {
        let lines = if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        };
        Reply {
            code,
            esc: (!esc.is_empty()).then_some(esc),
            lines,
        }
    }

    /// Whether the reply reports a failure (4xx or 5xx).
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// Whether the reply is a positive completion (2xx).
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The reply's lines as sent, without line ends.
    pub fn wire_lines(&self) -> Vec<String> {
        let n = self.lines.len();
        self.lines
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let sep = if i + 1 == n { ' ' } else { '-' };
                match self.esc {
                    Some(e) => format!("{}{sep}{e} {t}", self.code),
                    None => format!("{}{sep}{t}", self.code),
                }
            })
            .collect()
    }

    /// Appends the reply, CRLF after each line, to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        for l in self.wire_lines() {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.wire_lines().join(" / "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_replies() {
        let mut out = Vec::new();
        Reply::new(250, "2.0.0", "OK").write(&mut out);
        Reply::lines(214, "", vec!["a".into(), "b".into()]).write(&mut out);
        assert_eq!(out, b"250 2.0.0 OK\r\n214-a\r\n214 b\r\n");
        assert!(Reply::new(452, "4.5.3", "x").is_error());
        assert!(!Reply::new(354, "", "x").is_ok());
    }
}
