//! A small SMTP client for the smart host: one message per connection, plain TCP from the host
//! (the smart host is reached directly, not through the TCPIP machine, which only listens).
//!
//! ```text
//! reply = *(code "-" text CRLF) code [SP text] CRLF    ; at most 100 lines of 4096 bytes
//! ```

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpStream, ToSocketAddrs},
    time::Duration,
};

/// How long connecting, and each reply, may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How a sending attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The message was taken for `accepted` (maybe none); the others were refused for good
    /// (5xx) or for now (4xx), with the reply.
    Sent {
        /// Recipients the host accepted.
        accepted: Vec<String>,
        /// Refused for good.
        refused: Vec<(String, String)>,
        /// Refused for now.
        deferred: Vec<(String, String)>,
    },
    /// Try again later (connection failed, 4xx).
    Temporary(String),
    /// The host refused the message itself (5xx to MAIL or DATA).
    Permanent(String),
}

struct Conn {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
}

impl Conn {
    /// Reads a reply: its code and its text (lines joined).
    fn reply(&mut self) -> Result<(u16, String), String> {
        let mut text = Vec::new();
        for _ in 0..100 {
            let mut line = Vec::new();
            let n = (&mut self.rd)
                .take(4096)
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading the reply: {e}"))?;
            if n == 0 {
                return Err("the smart host closed the connection".into());
            }
            let s = String::from_utf8_lossy(&line);
            let s = s.trim_end();
            let code = s
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| {
                    format!(
                        "not an SMTP reply: {:?}",
                        s.chars().take(60).collect::<String>()
                    )
                })?;
            text.push(s.get(4..).unwrap_or("").to_string());
            if s.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, format!("{code} {}", text.join(" / "))));
            }
        }
        Err("a reply of more than 100 lines".into())
    }

    fn send(&mut self, line: &str) -> Result<(u16, String), String> {
        self.wr
            .write_all(format!("{line}\r\n").as_bytes())
            .map_err(|e| format!("sending {}: {e}", line.split(' ').next().unwrap_or("")))?;
        self.reply()
    }
}

fn connect(host: &str, port: u16) -> Result<Conn, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("no address for {host}");
    for a in addrs {
        match TcpStream::connect_timeout(&a, TIMEOUT) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(TIMEOUT));
                let _ = s.set_write_timeout(Some(TIMEOUT));
                let wr = s.try_clone().map_err(|e| e.to_string())?;
                return Ok(Conn {
                    rd: BufReader::new(s),
                    wr,
                });
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    Err(last)
}

/// Sends one message (its lines, without CRLF) from `from` to `to` through `host:port`,
/// saying EHLO `me`.
pub fn send(
    host: &str,
    port: u16,
    me: &str,
    from: &str,
    to: &[String],
    lines: &[Vec<u8>],
) -> Outcome {
    match attempt(host, port, me, from, to, lines) {
        Ok(o) => o,
        Err(e) => Outcome::Temporary(e),
    }
}

fn attempt(
    host: &str,
    port: u16,
    me: &str,
    from: &str,
    to: &[String],
    lines: &[Vec<u8>],
) -> Result<Outcome, String> {
    let mut c = connect(host, port)?;
    let fail = |code: u16, text: String| {
        if code >= 500 {
            Ok(Outcome::Permanent(text))
        } else {
            Ok(Outcome::Temporary(text))
        }
    };
    let (code, text) = c.reply()?;
    if code != 220 {
        return fail(code, text);
    }
    let (code, _) = c.send(&format!("EHLO {me}"))?;
    if code != 250 {
        let (code, text) = c.send(&format!("HELO {me}"))?;
        if code != 250 {
            return fail(code, text);
        }
    }
    let (code, text) = c.send(&format!("MAIL FROM:<{from}>"))?;
    if code != 250 {
        let _ = c.send("QUIT");
        return fail(code, text);
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut deferred = Vec::new();
    for t in to {
        let (code, text) = c.send(&format!("RCPT TO:<{t}>"))?;
        match code {
            250 | 251 => accepted.push(t.clone()),
            500..=599 => refused.push((t.clone(), text)),
            _ => deferred.push((t.clone(), text)),
        }
    }
    if accepted.is_empty() {
        let _ = c.send("QUIT");
        return Ok(Outcome::Sent {
            accepted,
            refused,
            deferred,
        });
    }
    let (code, text) = c.send("DATA")?;
    if code != 354 {
        let _ = c.send("QUIT");
        return fail(code, text);
    }
    let mut body = Vec::with_capacity(lines.iter().map(|l| l.len() + 3).sum::<usize>() + 3);
    for l in lines {
        if l.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(l);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    c.wr.write_all(&body)
        .map_err(|e| format!("sending the message: {e}"))?;
    let (code, text) = c.reply()?;
    let _ = c.send("QUIT");
    if code != 250 {
        return fail(code, text);
    }
    Ok(Outcome::Sent {
        accepted,
        refused,
        deferred,
    })
}
