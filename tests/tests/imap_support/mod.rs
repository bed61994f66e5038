//! Helpers of the IMAP client tests: a small IMAP line client over a plain `TcpStream`, the
//! administrator interface through `vmimap admin`, and running Python (imaplib) and curl as real
//! clients.
//!
//! A test file uses them with `mod common; mod imap_support;`.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use crate::common::{HostOut, TestSystem};

// ---------------------------------------------------------------------------------------------
// The administrator interface

/// `vmimap admin WORDS… [--as USER] --system DIR`, the documented form.
pub fn admin(t: &TestSystem, as_user: Option<&str>, words: &[&str]) -> HostOut {
    let mut args = vec!["admin"];
    args.extend(words);
    if let Some(u) = as_user {
        args.extend(["--as", u]);
    }
    let out = t.run(&args);
    HostOut {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Enrols a user and asserts the DTCIMA0001I reply and exit status 0.
pub fn enroll(t: &TestSystem, user: &str) {
    let out = admin(t, None, &["enroll", user]);
    assert_eq!(out.code, 0, "enroll {user}: {out:?}");
    assert!(
        out.stdout.contains("DTCIMA0001I") && out.stdout.contains(user),
        "enroll {user}: {out:?}"
    );
}

/// A new system with DEMO enrolled; DEMO's directory password.
pub fn system_with_demo() -> (TestSystem, String) {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    (t, pw)
}

// ---------------------------------------------------------------------------------------------
// External clients

/// Runs `python3 -c SCRIPT ARGS…`; asserts exit status 0 and returns standard output.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3 failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `python3 -c SCRIPT ARGS…` and parses the last line of its output as JSON.
pub fn python_json(script: &str, args: &[&str]) -> serde_json::Value {
    let out = python(script, args);
    let last = out.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("python output is not JSON ({e}): {out}"))
}

/// Runs curl with these arguments (plus `-sS` and a 20 s limit).
pub fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

/// Runs curl and asserts exit status 0; standard output.
pub fn curl_ok(args: &[&str]) -> Vec<u8> {
    let out = curl(args);
    assert!(
        out.status.success(),
        "curl {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

// ---------------------------------------------------------------------------------------------
// A small IMAP client

/// One server response: the line (without CRLF) with any literals inline, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp(pub Vec<u8>);

impl Resp {
    /// As text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// The answer to one command: the untagged and continuation responses, then the tagged one.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Untagged responses, in order.
    pub untagged: Vec<Resp>,
    /// The tagged completion line, e.g. `A3 OK [APPENDUID 1 2] APPEND completed`.
    pub tagged: String,
}

impl Reply {
    /// The completion status word (OK/NO/BAD).
    pub fn status(&self) -> &str {
        self.tagged.split(' ').nth(1).unwrap_or("")
    }

    /// Whether the tagged response is OK.
    pub fn ok(&self) -> bool {
        self.status() == "OK"
    }

    /// The untagged responses as text lines.
    pub fn lines(&self) -> Vec<String> {
        self.untagged.iter().map(Resp::text).collect()
    }

    /// Untagged lines containing `pat`.
    pub fn with(&self, pat: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(pat))
            .collect()
    }

    /// The numbers of the `* SEARCH` response (empty if there is none).
    pub fn search(&self) -> Vec<u32> {
        self.lines()
            .iter()
            .find_map(|l| l.strip_prefix("* SEARCH"))
            .map(|r| r.split_whitespace().map(|n| n.parse().unwrap()).collect())
            .unwrap_or_default()
    }

    /// The response code `[NAME args]` of the tagged line, as its argument words.
    pub fn code(&self, name: &str) -> Option<Vec<String>> {
        code_in(&self.tagged, name)
    }
}

/// The arguments of response code `[NAME …]` in a line.
pub fn code_in(line: &str, name: &str) -> Option<Vec<String>> {
    let start = line.find(&format!("[{name}"))?;
    let rest = &line[start + 1..];
    let end = rest.find(']')?;
    Some(
        rest[..end]
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect(),
    )
}

/// An IMAP connection over plain TCP: commands are tagged `T1`, `T2`, …; every line read and
/// written is kept in a transcript for failure messages.
#[derive(Debug)]
pub struct Imap {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    next: u32,
    start: std::time::Instant,
    /// Name in transcripts ("A", "B").
    pub name: String,
    /// Everything sent (`C:`) and received (`S:`), first 300 bytes of each line, with the time
    /// since the connection was made.
    pub transcript: Vec<String>,
}

impl Imap {
    /// Connects and reads the greeting.
    pub fn connect(port: u16, name: &str) -> Imap {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to IMAP");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let mut c = Imap {
            stream,
            reader,
            next: 1,
            start: std::time::Instant::now(),
            name: name.to_string(),
            transcript: Vec::new(),
        };
        let greeting = c.read_resp();
        assert!(
            greeting.text().starts_with("* OK"),
            "greeting: {greeting:?}"
        );
        c
    }

    /// Connects, logs in and asserts OK.
    pub fn login(port: u16, name: &str, user: &str, password: &str) -> Imap {
        let mut c = Imap::connect(port, name);
        let r = c.cmd(&format!("LOGIN {user} {}", quote(password)));
        assert!(r.ok(), "{name}: LOGIN: {}", c.dump());
        c
    }

    /// Connects, logs in and selects a mailbox.
    pub fn select(port: u16, name: &str, user: &str, password: &str, mailbox: &str) -> Imap {
        let mut c = Imap::login(port, name, user, password);
        c.ok(&format!("SELECT {mailbox}"));
        c
    }

    /// The transcript as text.
    pub fn dump(&self) -> String {
        format!("[{}]\n{}", self.name, self.transcript.join("\n"))
    }

    fn note(&mut self, dir: &str, bytes: &[u8]) {
        let n = bytes.len().min(300);
        let mut s = String::from_utf8_lossy(&bytes[..n]).into_owned();
        if n < bytes.len() {
            s.push('…');
        }
        let ms = self.start.elapsed().as_secs_f64() * 1e3;
        self.transcript.push(format!(
            "{ms:9.3} ms {dir} {}",
            s.trim_end_matches(['\r', '\n'])
        ));
    }

    /// Writes bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Err(e) = self.try_send_raw(bytes) {
            panic!("{}: write failed: {e}\n{}", self.name, self.dump());
        }
    }

    /// Writes bytes as they are; the error if the write fails.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.note("C:", bytes);
        self.stream.write_all(bytes)
    }

    /// The bytes of `APPEND mailbox [(flags)] {n+}` + message + CRLF, with a new tag.
    pub fn append_bytes(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> (String, Vec<u8>) {
        let tag = self.tag();
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({flags})")
        };
        let mut bytes =
            format!("{tag} APPEND {mailbox}{flags} {{{}+}}\r\n", msg.len()).into_bytes();
        bytes.extend_from_slice(msg);
        bytes.extend_from_slice(b"\r\n");
        (tag, bytes)
    }

    /// A new tag.
    pub fn tag(&mut self) -> String {
        let t = format!("T{}", self.next);
        self.next += 1;
        t
    }

    /// Sends `TAG TEXT\r\n`; returns the tag.
    pub fn send(&mut self, text: &str) -> String {
        let tag = self.tag();
        self.send_raw(format!("{tag} {text}\r\n").as_bytes());
        tag
    }

    /// Reads one line including its CRLF; None at EOF or on an error.
    fn try_line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    }

    /// Reads one response: a line, and when it ends in a literal `{n}`, the literal and the rest
    /// of the response. CRLF at the end is removed. None if the connection ends (or nothing comes
    /// for 15 s).
    pub fn try_read_resp(&mut self) -> Option<Resp> {
        let mut all = Vec::new();
        loop {
            let line = self.try_line()?;
            self.note("S:", &line);
            let body = line.strip_suffix(b"\r\n").unwrap_or(&line);
            if let Some(n) = literal_len(body) {
                all.extend_from_slice(&line);
                let mut lit = vec![0; n];
                self.reader.read_exact(&mut lit).ok()?;
                self.note("S: (literal)", &lit);
                all.extend_from_slice(&lit);
            } else {
                all.extend_from_slice(body);
                return Some(Resp(all));
            }
        }
    }

    /// Like [`Imap::try_read_resp`]; panics (with the transcript) if the connection ends.
    pub fn read_resp(&mut self) -> Resp {
        match self.try_read_resp() {
            Some(r) => r,
            None => panic!(
                "{}: connection closed or read timed out\n{}",
                self.name,
                self.dump()
            ),
        }
    }

    /// Reads responses until the tagged one for `tag`; None if the connection ends first.
    pub fn try_finish(&mut self, tag: &str) -> Option<Reply> {
        let mut untagged = Vec::new();
        loop {
            let r = self.try_read_resp()?;
            let t = r.text();
            if t.starts_with(&format!("{tag} ")) {
                return Some(Reply {
                    untagged,
                    tagged: t,
                });
            }
            untagged.push(r);
        }
    }

    /// Reads responses until the tagged one for `tag`.
    pub fn finish(&mut self, tag: &str) -> Reply {
        match self.try_finish(tag) {
            Some(r) => r,
            None => panic!(
                "{}: connection closed or read timed out before {tag} completed\n{}",
                self.name,
                self.dump()
            ),
        }
    }

    /// Sends a command and reads its answer.
    pub fn cmd(&mut self, text: &str) -> Reply {
        let tag = self.send(text);
        self.finish(&tag)
    }

    /// Sends a command and asserts OK.
    pub fn ok(&mut self, text: &str) -> Reply {
        let r = self.cmd(text);
        assert!(
            r.ok(),
            "{}: {text} -> {}\n{}",
            self.name,
            r.tagged,
            self.dump()
        );
        r
    }

    /// `APPEND mailbox [flags] {n+}` with a non-synchronizing literal, in one write; returns the
    /// tag (the answer is read with [`Imap::finish`]).
    pub fn send_append(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> String {
        let (tag, bytes) = self.append_bytes(mailbox, flags, msg);
        self.send_raw(&bytes);
        tag
    }

    /// Appends and asserts OK; returns the UID from APPENDUID.
    pub fn append(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> u32 {
        let tag = self.send_append(mailbox, flags, msg);
        let r = self.finish(&tag);
        assert!(
            r.ok(),
            "{}: APPEND -> {}\n{}",
            self.name,
            r.tagged,
            self.dump()
        );
        let code = r
            .code("APPENDUID")
            .unwrap_or_else(|| panic!("no APPENDUID: {}", r.tagged));
        code[1].parse().unwrap()
    }

    /// `LOGOUT`, reading the BYE and the tagged OK.
    pub fn logout(mut self) {
        let r = self.cmd("LOGOUT");
        assert!(r.ok(), "LOGOUT: {}", self.dump());
    }
}

/// `{n}` / `{n+}` / `~{n}` at the end of a line: n.
fn literal_len(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&c| c == b'{')?;
    let digits = &line[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An IMAP quoted string.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A small test message with CRLF line ends.
pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: DEMO <demo@vmimap.example>\r\nSubject: {subject}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n",
        subject.replace(' ', "."),
    )
    .into_bytes()
}

/// The flags in `FLAGS (…)` of a FETCH line, sorted, without `\\Recent` (which depends on
/// which session saw a message first).
pub fn flags_of(line: &str) -> Vec<String> {
    let flags = line
        .split("FLAGS (")
        .nth(1)
        .unwrap_or_else(|| panic!("no FLAGS: {line}"));
    let mut v: Vec<String> = flags
        .split(')')
        .next()
        .unwrap()
        .split_whitespace()
        .filter(|f| *f != "\\Recent")
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// One message as `UID FETCH (UID FLAGS BODY.PEEK[])` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// UID.
    pub uid: u32,
    /// Flags, sorted, without `\\Recent`.
    pub flags: Vec<String>,
    /// The message's bytes.
    pub bytes: Vec<u8>,
}

/// A mailbox's UIDVALIDITY and messages, after `SELECT mailbox` on this connection.
pub fn snapshot(c: &mut Imap, mailbox: &str) -> (u32, Vec<Stored>) {
    let r = c.ok(&format!("SELECT {mailbox}"));
    let validity = r
        .lines()
        .iter()
        .find_map(|l| code_in(l, "UIDVALIDITY"))
        .unwrap_or_else(|| panic!("no UIDVALIDITY\n{}", c.dump()))[0]
        .parse()
        .unwrap();
    let r = c.ok("UID FETCH 1:* (UID FLAGS BODY.PEEK[])");
    let mut msgs = Vec::new();
    for resp in &r.untagged {
        let text = resp.text();
        if !text.contains(" FETCH (") {
            continue;
        }
        let head = &text[..text.find("BODY[").unwrap_or(text.len())];
        let tail = &text[text.rfind('}').unwrap_or(0)..];
        let uid = head
            .split("UID ")
            .nth(1)
            .or_else(|| tail.split("UID ").nth(1))
            .and_then(|r| r.split([' ', ')']).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no UID in {text}"));
        let flags = if head.contains("FLAGS (") {
            flags_of(head)
        } else {
            flags_of(tail)
        };
        msgs.push(Stored {
            uid,
            flags,
            bytes: fetched_body(resp),
        });
    }
    (validity, msgs)
}

/// The literal of `BODY[]` (or `BODY[…]`) in a FETCH response.
pub fn fetched_body(resp: &Resp) -> Vec<u8> {
    let b = &resp.0;
    let at = find(b, b"BODY[").unwrap_or_else(|| panic!("no BODY[ in {}", resp.text()));
    let open = at + find(&b[at..], b"{").unwrap();
    let close = open + find(&b[open..], b"}\r\n").unwrap();
    let n: usize = std::str::from_utf8(&b[open + 1..close])
        .unwrap()
        .parse()
        .unwrap();
    b[close + 3..close + 3 + n].to_vec()
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file()
                && let Ok(bytes) = std::fs::read(&p)
                && find(&bytes, needle).is_some()
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

/// Removes ANSI colour escapes (the detached system's log is written with them).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every log of the system folder (logs/*) as text without colour escapes: (file, text).
pub fn logs(t: &TestSystem) -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(t.dir.join("logs")) {
        for e in rd.flatten() {
            let text = std::fs::read(e.path()).unwrap_or_default();
            v.push((
                e.file_name().to_string_lossy().into_owned(),
                strip_ansi(&String::from_utf8_lossy(&text)),
            ));
        }
    }
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Base64 (RFC 4648), enough for AUTHENTICATE PLAIN and the Python scripts' output

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with padding.
pub fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 (padding optional); panics on anything else.
pub fn b64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .unwrap_or_else(|| panic!("not base64: {text:?}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
