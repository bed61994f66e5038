//! Reads one whole command from the client: its line, and each literal the line announces with
//! the rest of the command after it.
//!
//! ```text
//! command  = line *(literal line)
//! line     = *(CHAR8 except CR LF) [literal-announcement] CRLF      ; LF alone is accepted
//! literal-announcement = ["~"] "{" number ["+"] "}"                   ; literal8, LITERAL+
//! ```
//!
//! Limits are checked before anything is allocated for them: a line longer than MAXLINE is
//! discarded to its end and reported; a synchronizing literal over MAXLITERAL is refused without
//! the `+` go-ahead (so the client sends nothing more of it); a non-synchronizing one over the
//! limit cannot be refused, so the session ends with BYE. A literal's buffer grows as its bytes
//! arrive, never to the size the client announced.

use std::io;

use super::conn::Conn;

/// Bytes of an overlong line kept so that its tag can be answered.
const TAG_PREFIX: usize = 256;

/// Limits for one command.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line (without literals).
    pub max_line: usize,
    /// Largest literal.
    pub max_literal: u64,
    /// Largest command in all (lines and literals).
    pub max_command: u64,
}

/// What the framer read.
#[derive(Debug)]
pub enum Frame {
    /// A complete command (lines with CRLF, literals inline after their announcement).
    Command(Vec<u8>),
    /// A line was longer than allowed; what there was of the command up to then (for its tag).
    LineTooLong(Vec<u8>),
    /// A synchronizing literal was too large; the command so far (for its tag). Nothing more of
    /// the command will come.
    LiteralTooLarge(Vec<u8>),
    /// A non-synchronizing literal was too large: the session cannot continue.
    Fatal(String),
    /// The client closed the connection.
    Eof,
}

/// A literal announced at the end of a line: (length, non-synchronizing).
pub fn announcement(line: &[u8]) -> Option<(u64, bool)> {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    let l = l.strip_suffix(b"}")?;
    let (l, plus) = match l.strip_suffix(b"+") {
        Some(x) => (x, true),
        None => (l, false),
    };
    let open = l.iter().rposition(|&c| c == b'{')?;
    let digits = &l[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((n, plus))
}

/// The client's bytes not yet used, and the reads that fill them.
#[derive(Debug, Default)]
pub struct Input {
    /// Bytes received and not yet consumed.
    pub buf: Vec<u8>,
    /// Start of the unconsumed bytes.
    pub pos: usize,
}

impl Input {
    /// Bytes waiting.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Forgets consumed bytes; frees the buffer when nothing is waiting, so an idle session
    /// holds no memory for input.
    pub fn compact(&mut self) {
        if self.pos == self.buf.len() {
            self.buf = Vec::new();
            self.pos = 0;
        } else if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    async fn fill(&mut self, conn: &mut Conn) -> io::Result<usize> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        conn.read_into(&mut self.buf).await
    }

    /// Reads one line (through LF). `Ok(None)` at end of input; `Err(start)` inside the result
    /// means the line was too long and has been skipped to its end (`start` is its first bytes,
    /// enough for the tag).
    pub async fn line(
        &mut self,
        conn: &mut Conn,
        max: usize,
    ) -> io::Result<Option<Result<Vec<u8>, Vec<u8>>>> {
        let mut scanned = 0;
        loop {
            let p = self.pending();
            if let Some(i) = p[scanned..].iter().position(|&c| c == b'\n') {
                let end = scanned + i + 1;
                if end > max {
                    let start = p[..end.min(TAG_PREFIX)].to_vec();
                    self.pos += end;
                    return Ok(Some(Err(start)));
                }
                let line = p[..end].to_vec();
                self.pos += end;
                return Ok(Some(Ok(line)));
            }
            scanned = p.len();
            if scanned > max {
                // Too long: drop what we have (but its start) and skip to the end of the line.
                let start = p[..TAG_PREFIX.min(p.len())].to_vec();
                self.pos = self.buf.len();
                loop {
                    if self.fill(conn).await? == 0 {
                        return Ok(None);
                    }
                    if let Some(i) = self.pending().iter().position(|&c| c == b'\n') {
                        self.pos += i + 1;
                        return Ok(Some(Err(start)));
                    }
                    self.pos = self.buf.len();
                }
            }
            if self.fill(conn).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Appends exactly `n` bytes of input to `out`.
    async fn take(&mut self, conn: &mut Conn, mut n: u64, out: &mut Vec<u8>) -> io::Result<bool> {
        while n > 0 {
            if self.pending().is_empty() && self.fill(conn).await? == 0 {
                return Ok(false);
            }
            let p = self.pending();
            let k = (p.len() as u64).min(n) as usize;
            out.extend_from_slice(&p[..k]);
            self.pos += k;
            n -= k as u64;
        }
        Ok(true)
    }

    /// Reads a whole command. `go_ahead` is sent for each synchronizing literal.
    pub async fn command(&mut self, conn: &mut Conn, lim: Limits) -> io::Result<Frame> {
        let mut msg = Vec::new();
        loop {
            let room = lim.max_line;
            let line = match self.line(conn, room).await? {
                None => return Ok(Frame::Eof),
                Some(Err(start)) => {
                    // What came before (earlier lines of this command), or the start of the
                    // long line itself: either begins with the tag.
                    if msg.is_empty() {
                        msg = start;
                    }
                    return Ok(Frame::LineTooLong(msg));
                }
                Some(Ok(l)) => l,
            };
            msg.extend_from_slice(&line);
            let Some((n, nonsync)) = announcement(&line) else {
                return Ok(Frame::Command(msg));
            };
            let total = msg.len() as u64 + n;
            if n > lim.max_literal || total > lim.max_command {
                if nonsync {
                    return Ok(Frame::Fatal(format!(
                        "[TOOBIG] Literal of {n} bytes is over the limit of {}",
                        lim.max_literal
                    )));
                }
                return Ok(Frame::LiteralTooLarge(msg));
            }
            if !nonsync {
                conn.write_all(b"+ Ready for literal data\r\n").await?;
            }
            if !self.take(conn, n, &mut msg).await? {
                return Ok(Frame::Eof);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements() {
        assert_eq!(announcement(b"a APPEND x {12}\r\n"), Some((12, false)));
        assert_eq!(announcement(b"a APPEND x ~{5+}\r\n"), Some((5, true)));
        assert_eq!(announcement(b"a APPEND x {}\r\n"), None);
        assert_eq!(announcement(b"a LOGIN x y\r\n"), None);
        assert_eq!(announcement(b"a X {99999999999999999999}\r\n"), None);
        assert_eq!(announcement(b"a X {1a}\n"), None);
    }
}
