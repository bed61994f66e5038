//! Helpers of the SMTP tests: a raw SMTP line client, restarting SMTP with another SMTP CONFIG,
//! reading an IMAP user's INBOX with Python's imaplib, SMSG through the control socket, and a
//! small SMTP server that stands in for the smart host.
//!
//! A test file uses them with `mod common; mod imap_support; mod smtp_support;`.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{common::TestSystem, imap_support::python_json};

/// A raw SMTP client: lines in, replies out.
pub struct Smtp {
    rd: BufReader<TcpStream>,
    pub wr: TcpStream,
}

impl Smtp {
    /// Connects and reads the greeting.
    pub fn connect(port: u16) -> (Smtp, Vec<String>) {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to SMTP");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Smtp {
            wr: s.try_clone().unwrap(),
            rd: BufReader::new(s),
        };
        let g = c.reply();
        (c, g)
    }

    /// Reads one reply (all its lines); empty when the server closed the connection.
    pub fn reply(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let mut l = String::new();
            match self.rd.read_line(&mut l) {
                Ok(0) | Err(_) => return out,
                Ok(_) => {}
            }
            let l = l.trim_end_matches(['\r', '\n']).to_string();
            let more = l.as_bytes().get(3) == Some(&b'-');
            out.push(l);
            if !more {
                return out;
            }
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, b: &[u8]) {
        self.wr.write_all(b).expect("send to SMTP");
    }

    /// Sends a command line and reads its reply.
    pub fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// The last line of a command's reply.
    pub fn last(&mut self, line: &str) -> String {
        self.cmd(line).pop().unwrap_or_default()
    }

    /// Whether the server has closed the connection (within 5 s).
    pub fn closed(&mut self) -> bool {
        self.rd
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 1];
        matches!(self.rd.read(&mut b), Ok(0))
    }
}

/// Polls `f` every 100 ms until it gives `Some`, for up to `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes SMTP CONFIG (PORT plus `extra`), FORCEs SMTP and waits until TCPIP has restarted it
/// and it greets on its port again.
pub fn restart_smtp(t: &TestSystem, extra: &str) {
    std::fs::write(
        t.dir.join("SMTP CONFIG"),
        format!("/* written by a test */\nPORT {}\n{extra}", t.ports.smtp),
    )
    .unwrap();
    let ready = |t: &TestSystem| smtp_console(t).matches("DTCSMT001I").count();
    let before = ready(t);
    t.cp_ok("MAINT", "FORCE SMTP");
    // Wait for the new machine to say it is ready, then for it to greet.
    wait_for(30, "SMTP to be restarted", || {
        (ready(t) > before).then_some(())
    });
    wait_for(30, "SMTP to greet again", || {
        let s = TcpStream::connect(("127.0.0.1", t.ports.smtp)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut l = String::new();
        BufReader::new(s).read_line(&mut l).ok()?;
        l.starts_with("220 ").then_some(())
    });
}

/// Every message in `user`'s INBOX (read with imaplib, without setting \Seen), once there are
/// at least `n` of them (waits up to 20 s).
pub fn inbox(t: &TestSystem, user: &str, password: &str, n: usize) -> Vec<Vec<u8>> {
    const SCRIPT: &str = r#"
import base64, imaplib, json, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
c.select('INBOX', readonly=True)
typ, data = c.search(None, 'ALL')
out = []
for num in data[0].split():
    typ, d = c.fetch(num, '(BODY.PEEK[])')
    out.append(base64.b64encode(d[0][1]).decode())
c.logout()
print(json.dumps(out))
"#;
    let port = t.ports.imap.to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let last = loop {
        let v = python_json(SCRIPT, &[&port, user, password]);
        let got: Vec<Vec<u8>> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| b64(s.as_str().unwrap()))
            .collect();
        if got.len() >= n || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        last.len() >= n,
        "{user}'s INBOX has {} messages, expected {n}",
        last.len()
    );
    last
}

fn b64(s: &str) -> Vec<u8> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let Some(v) = T.iter().position(|&x| x == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A message split after SMTP's `Received:` field (its two lines): (the field, the rest).
pub fn split_received(m: &[u8]) -> (String, Vec<u8>) {
    let first = m
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a first line");
    let second = first
        + 2
        + m[first + 2..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a second line");
    (
        String::from_utf8_lossy(&m[..second]).into_owned(),
        m[second + 2..].to_vec(),
    )
}

/// `SMSG to text` as `user` through the control socket: the MSG lines that came back.
pub fn smsg(t: &TestSystem, user: &str, to: &str, text: &str) -> Vec<String> {
    smsg_timed(t, user, to, text, 10_000, 500)
}

/// [`smsg`] waiting up to `wait_ms` for the first line, then until `quiet_ms` pass without one.
pub fn smsg_timed(
    t: &TestSystem,
    user: &str,
    to: &str,
    text: &str,
    wait_ms: u64,
    quiet_ms: u64,
) -> Vec<String> {
    let mut s = std::os::unix::net::UnixStream::connect(t.dir.join("control.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(wait_ms * 2 + 10_000)))
        .unwrap();
    let req = serde_json::json!({
        "op": "smsg", "user": user, "to": to, "text": text,
        "wait_ms": wait_ms, "quiet_ms": quiet_ms
    });
    s.write_all(format!("{req}\n").as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("a JSON reply");
    v["lines"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The files in `user`'s reader (`QUERY RDR * ALL` lines after the heading).
pub fn reader(t: &TestSystem, user: &str) -> Vec<String> {
    let (_, lines) = t.cp(user, "QUERY RDR * ALL");
    lines
        .into_iter()
        .filter(|l| {
            !l.starts_with("ORIGINID") && !l.starts_with("OWNERID") && !l.starts_with("NO RDR")
        })
        .collect()
}

/// SMTP's console log.
pub fn smtp_console(t: &TestSystem) -> String {
    std::fs::read_to_string(t.dir.join("logs/SMTP.console")).unwrap_or_default()
}

/// A message a [`SinkServer`] received: envelope and data.
#[derive(Debug, Clone)]
pub struct Got {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// A tiny SMTP server standing in for the smart host: it takes every message and keeps it.
pub struct SinkServer {
    pub port: u16,
    pub got: Arc<Mutex<Vec<Got>>>,
}

impl SinkServer {
    /// Listens on `port` (0: any free port).
    pub fn start(port: u16) -> SinkServer {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind the smart host");
        let port = l.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || serve_sink(s, &g));
            }
        });
        SinkServer { port, got }
    }
}

fn serve_sink(s: TcpStream, got: &Mutex<Vec<Got>>) {
    let mut wr = s.try_clone().unwrap();
    let mut rd = BufReader::new(s);
    let mut say = |t: &str| {
        let _ = wr.write_all(format!("{t}\r\n").as_bytes());
    };
    say("220 sink.test ESMTP");
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut l = String::new();
        if rd.read_line(&mut l).unwrap_or(0) == 0 {
            return;
        }
        let u = l.trim_end().to_string();
        let up = u.to_ascii_uppercase();
        if up.starts_with("EHLO") || up.starts_with("HELO") {
            say("250 sink.test");
        } else if up.starts_with("MAIL FROM:") {
            from = u[10..].trim_matches(['<', '>']).to_string();
            to.clear();
            say("250 OK");
        } else if up.starts_with("RCPT TO:") {
            let a = u[8..].trim_matches(['<', '>']).to_string();
            if a.starts_with("refuse") {
                say("550 5.1.1 no such user");
            } else {
                to.push(a);
                say("250 OK");
            }
        } else if up == "DATA" {
            say("354 go ahead");
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if rd.read_until(b'\n', &mut l).unwrap_or(0) == 0 {
                    return;
                }
                if l == b".\r\n" {
                    break;
                }
                if l.first() == Some(&b'.') {
                    l.remove(0);
                }
                data.extend_from_slice(&l);
            }
            got.lock().unwrap().push(Got {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            say("250 queued");
        } else if up == "QUIT" {
            say("221 bye");
            return;
        } else {
            say("250 OK");
        }
    }
}
