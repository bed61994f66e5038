//! The IMAP client connection: plain TCP, reads whole responses (literals included).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::tokens::{Response, parse_response};

/// Largest literal accepted from a server (a sanity limit, not imaptest's).
pub const MAX_LITERAL: usize = 64 << 20;

/// Why reading a response failed.
#[derive(Debug)]
pub enum ReadError {
    /// The server closed the connection (possibly in the middle of a response).
    Eof,
    /// No data within the configured timeout.
    Timeout,
    /// A socket error.
    Io(io::Error),
    /// The response could not be parsed.
    Protocol(String, Vec<u8>),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Eof => write!(f, "connection closed by server"),
            ReadError::Timeout => write!(f, "timed out waiting for the server"),
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Protocol(m, raw) => {
                write!(f, "{m}: {}", super::tokens::render_bytes(raw))
            }
        }
    }
}

/// One TCP connection to the IMAP server.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    trace: Option<String>,
}

impl Client {
    /// Connects, with `timeout` for connecting and for every read.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<Client> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(Client {
                        stream,
                        buf: Vec::new(),
                        start: 0,
                        trace: None,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Prints every line sent (`C:`) and received (`S:`) to stderr, prefixed with `label`.
    pub fn set_trace(&mut self, label: Option<String>) {
        self.trace = label;
    }

    fn trace_lines(&self, dir: &str, data: &[u8]) {
        if let Some(label) = &self.trace {
            let text = data.strip_suffix(b"\r\n").unwrap_or(data);
            for line in text.split(|&c| c == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                eprintln!("{label} {dir} {}", super::tokens::render_bytes(line));
            }
        }
    }

    /// Writes bytes.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.trace_lines("C:", data);
        self.stream.write_all(data)?;
        self.stream.flush()
    }

    /// Closes both directions.
    pub fn shutdown(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    fn fill(&mut self) -> Result<(), ReadError> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let mut tmp = [0u8; 16384];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(ReadError::Eof),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Err(ReadError::Timeout);
                }
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Reads one line including its LF.
    fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(p) = self.buf[self.start..].iter().position(|&c| c == b'\n') {
                let line = self.buf[self.start..self.start + p + 1].to_vec();
                self.start += p + 1;
                return Ok(line);
            }
            self.fill()?;
        }
    }

    fn read_exact_bytes(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() - self.start < n {
            self.fill()?;
        }
        let data = self.buf[self.start..self.start + n].to_vec();
        self.start += n;
        Ok(data)
    }

    /// Reads one whole response: its lines and literals, without the final CRLF.
    pub fn read_raw(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut raw = Vec::new();
        loop {
            let line = self.read_line()?;
            raw.extend_from_slice(&line);
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            match trailing_literal_size(body) {
                Some(n) if n > MAX_LITERAL => {
                    return Err(ReadError::Protocol("literal too large".into(), raw));
                }
                Some(n) => {
                    let data = self.read_exact_bytes(n)?;
                    raw.extend_from_slice(&data);
                }
                None => break,
            }
        }
        if raw.ends_with(b"\n") {
            raw.pop();
            if raw.ends_with(b"\r") {
                raw.pop();
            }
        }
        Ok(raw)
    }

    /// Reads and parses one response.
    pub fn read_response(&mut self) -> Result<(Response, Vec<u8>), ReadError> {
        let raw = self.read_raw()?;
        self.trace_lines("S:", &raw);
        match parse_response(&raw) {
            Ok(r) => Ok((r, raw)),
            Err(e) => Err(ReadError::Protocol(
                format!("error parsing input: {e}"),
                raw,
            )),
        }
    }
}

/// If a line ends with a literal announcement (`{n}`, `{n+}` or `~{n}`) at the start of a token,
/// returns n.
pub fn trailing_literal_size(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&c| c == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut before = open;
    if before > 0 && inner[before - 1] == b'~' {
        before -= 1;
    }
    if before > 0 && !matches!(inner[before - 1], b' ' | b'(') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}
