//! A raw IMAP client for protocol-level tests: bytes go out exactly as given, responses come
//! back whole (a server literal is read with the line that announces it), and every line read
//! is kept for failure messages. Also: IPL with extra `IMAP CONFIG` statements, enrolment, and
//! the resident memory of the system process.

use std::{
    collections::HashMap,
    io::{self, Read, Write},
    net::TcpStream,
    time::Duration,
};

use super::{TestSystem, vmimap, write_network_config};

/// How long a read waits before a test calls the server hung.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

impl TestSystem {
    /// Like [`TestSystem::ipl`], with `extra` appended to the IMAP CONFIG the harness writes
    /// (a later statement overrides an earlier one, so `LOGINDELAY 1` replaces `LOGINDELAY 0`).
    pub fn ipl_with_imap_config(extra: &str) -> TestSystem {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("vmsys");
        let ports = write_network_config(&dir);
        let cfg = dir.join("IMAP CONFIG");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str(extra);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        std::fs::write(&cfg, text).unwrap();
        let mut t = TestSystem {
            _tmp: tmp,
            dir,
            ports,
            passwords: HashMap::new(),
            first_ipl_output: String::new(),
        };
        let out = t.run(&["ipl", "--detach"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ipl failed: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.passwords = first_ipl_passwords(&text);
        t.first_ipl_output = text;
        t
    }

    /// `vmimap admin enroll USER`, asserting that it worked. (`t.run` cannot be used: it puts
    /// `--system` after the admin request, where it is taken as part of the request.)
    pub fn enroll(&self, user: &str) {
        let out = vmimap(&["admin", "enroll", user], &self.dir);
        assert!(
            out.code == 0 && out.stdout.contains("enrolled"),
            "enroll {user}: {out:?}"
        );
    }

    /// The resident set size of the system process, in KiB (VmRSS of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.pid().expect("system pid");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

/// The userid/password table that first IPL prints after HCPIPL9001I.
pub fn first_ipl_passwords(text: &str) -> HashMap<String, String> {
    let mut pw = HashMap::new();
    let mut in_pw = false;
    for line in text.lines() {
        if line.contains("HCPIPL9001I") {
            in_pw = true;
            continue;
        }
        if in_pw {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() == 2 && w[0].chars().all(|c| c.is_ascii_uppercase()) {
                pw.insert(w[0].to_string(), w[1].to_string());
            } else if !line.starts_with("            They") {
                in_pw = false;
            }
        }
    }
    pw
}

/// One server response: its first line, and all of its bytes (literals and the lines that
/// continue after them included).
#[derive(Debug, Clone)]
pub struct Resp {
    /// The first line, without CRLF, as text (invalid UTF-8 replaced).
    pub first: String,
    /// Every byte of the response, CRLFs included.
    pub raw: Vec<u8>,
}

impl Resp {
    /// `* …`
    pub fn is_untagged(&self) -> bool {
        self.first.starts_with("* ")
    }

    /// `+ …` (or a bare `+`).
    pub fn is_continuation(&self) -> bool {
        self.first == "+" || self.first.starts_with("+ ")
    }

    /// `* BYE …`
    pub fn is_bye(&self) -> bool {
        self.first.starts_with("* BYE")
    }

    /// For a tagged response: (tag, OK/NO/BAD, text after the status).
    pub fn tagged(&self) -> Option<(&str, &str, &str)> {
        if self.is_untagged() || self.is_continuation() {
            return None;
        }
        let mut it = self.first.splitn(3, ' ');
        let tag = it.next()?;
        let status = it.next()?;
        let text = it.next().unwrap_or("");
        matches!(status, "OK" | "NO" | "BAD").then_some((tag, status, text))
    }

    /// Whether this is a status response (tagged, or untagged OK/NO/BAD/BYE/PREAUTH), whose
    /// text can never carry a literal.
    pub fn is_status(&self) -> bool {
        if self.tagged().is_some() {
            return true;
        }
        let Some(rest) = self.first.strip_prefix("* ") else {
            return false;
        };
        ["OK", "NO", "BAD", "BYE", "PREAUTH"]
            .iter()
            .any(|s| rest == *s || rest.starts_with(&format!("{s} ")))
    }
}

/// The literal a server line announces at its end (`{n}` or `~{n}`), if any.
pub fn server_literal(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"\r\n").unwrap_or(line);
    let l = l.strip_suffix(b"}")?;
    let open = l.iter().rposition(|&c| c == b'{')?;
    let digits = &l[open + 1..];
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A plain TCP connection to the IMAP server.
pub struct ImapConn {
    /// The socket.
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// First lines of every response read, for failure messages.
    pub transcript: Vec<String>,
    /// The greeting.
    pub greeting: String,
}

impl ImapConn {
    /// Connects and reads the greeting.
    pub fn connect(port: u16) -> ImapConn {
        let mut c = ImapConn::connect_raw(port);
        let g = c
            .read_resp()
            .expect("reading the greeting")
            .expect("a greeting, not end of connection");
        c.greeting = g.first;
        c
    }

    /// Connects without reading anything.
    pub fn connect_raw(port: u16) -> ImapConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to IMAP");
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        ImapConn {
            stream,
            buf: Vec::new(),
            transcript: Vec::new(),
            greeting: String::new(),
        }
    }

    /// Connects and logs in, asserting OK.
    pub fn login(port: u16, user: &str, password: &str) -> ImapConn {
        let mut c = ImapConn::connect(port);
        let r = c.command("L0", &format!("LOGIN {user} {password}"));
        assert!(
            r.last().is_some_and(|l| l.starts_with("L0 OK")),
            "login {user}: {r:?}"
        );
        c
    }

    /// Sets the read timeout.
    pub fn set_timeout(&self, d: Duration) {
        self.stream.set_read_timeout(Some(d)).unwrap();
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// One line through LF; `None` at end of input (a partial line at the end is returned).
    fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..].iter().position(|&c| c == b'\n') {
                let end = scanned + i + 1;
                return Ok(Some(self.buf.drain(..end).collect()));
            }
            scanned = self.buf.len();
            if self.fill()? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
        }
    }

    fn read_exact_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "end of connection inside a literal",
                ));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one whole response; `Ok(None)` when the server has closed the connection. A
    /// timeout is an error (`WouldBlock`/`TimedOut`).
    pub fn read_resp(&mut self) -> io::Result<Option<Resp>> {
        let Some(line) = self.read_line()? else {
            return Ok(None);
        };
        let first_bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let first_bytes = first_bytes.strip_suffix(b"\r").unwrap_or(first_bytes);
        let mut r = Resp {
            first: String::from_utf8_lossy(first_bytes).into_owned(),
            raw: line.clone(),
        };
        // Status responses carry text, never literals.
        if !r.is_status() {
            let mut last = line;
            while let Some(n) = server_literal(&last) {
                let data = self.read_exact_n(n)?;
                r.raw.extend_from_slice(&data);
                match self.read_line()? {
                    Some(l) => {
                        r.raw.extend_from_slice(&l);
                        last = l;
                    }
                    None => break,
                }
            }
        }
        self.transcript.push(r.first.clone());
        Ok(Some(r))
    }

    /// Reads responses until the tagged one for `tag` (included) or the end of the
    /// connection; panics on a timeout.
    pub fn until_tagged(&mut self, tag: &str) -> Vec<Resp> {
        let mut got = Vec::new();
        loop {
            match self.read_resp() {
                Ok(Some(r)) => {
                    let done = r.tagged().is_some_and(|(t, _, _)| t == tag);
                    got.push(r);
                    if done {
                        return got;
                    }
                }
                Ok(None) => return got,
                Err(e) => panic!(
                    "waiting for {tag}: {e}; transcript:\n{}",
                    self.transcript.join("\n")
                ),
            }
        }
    }

    /// Sends `TAG TEXT CRLF` and returns the first lines of the responses, the tagged last.
    pub fn command(&mut self, tag: &str, text: &str) -> Vec<String> {
        self.send(format!("{tag} {text}\r\n").as_bytes())
            .expect("send command");
        self.until_tagged(tag)
            .into_iter()
            .map(|r| r.first)
            .collect()
    }

    /// Like [`ImapConn::command`], returning whole responses.
    pub fn command_resps(&mut self, tag: &str, text: &[u8]) -> Vec<Resp> {
        let mut b = format!("{tag} ").into_bytes();
        b.extend_from_slice(text);
        b.extend_from_slice(b"\r\n");
        self.send(&b).expect("send command");
        self.until_tagged(tag)
    }

    /// Reads until the server closes the connection (or `limit` passes): the responses read
    /// and whether it closed.
    pub fn until_closed(&mut self, limit: Duration) -> (Vec<Resp>, bool) {
        self.set_timeout(limit);
        let mut got = Vec::new();
        loop {
            match self.read_resp() {
                Ok(Some(r)) => got.push(r),
                Ok(None) => return (got, true),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return (got, true),
                Err(_) => return (got, false),
            }
        }
    }
}

/// The tagged status (`OK`/`NO`/`BAD`) of the last response, with its text.
pub fn status_of(lines: &[String], tag: &str) -> (String, String) {
    let last = lines
        .iter()
        .rev()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no tagged response for {tag}: {lines:?}"));
    let mut it = last.splitn(3, ' ');
    it.next();
    (
        it.next().unwrap_or("").to_string(),
        it.next().unwrap_or("").to_string(),
    )
}

/// A message for APPEND.
pub fn message(subject: &str, body: &str) -> String {
    format!(
        "From: fuzz@example.org\r\nTo: demo@example.org\r\nSubject: {subject}\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n"
    )
}

/// APPENDs a message with a non-synchronizing literal; returns the tagged status line.
pub fn append(c: &mut ImapConn, tag: &str, mailbox: &str, msg: &str) -> String {
    let cmd = format!("{tag} APPEND {mailbox} {{{}+}}\r\n{msg}\r\n", msg.len());
    c.send(cmd.as_bytes()).expect("send APPEND");
    let r = c.until_tagged(tag);
    r.last().map(|r| r.first.clone()).unwrap_or_default()
}

/// Runs a Python 3 program with arguments; returns (exit code, stdout, stderr).
pub fn python(program: &str, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(program)
        .args(args)
        .output()
        .expect("run python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
