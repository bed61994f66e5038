//! One SMTP dialogue, sans I/O: bytes in, replies out. A TCP connection and a batch SMTP deck
//! from the reader both feed a [`Session`], so the two behave alike (vm-mail.md §3.1).
//!
//! ```text
//! input    = *(command-line / data)
//! command-line = *(%x01-09 / %x0B-FF) [CR] LF  ; at most MAX_LINE bytes
//! command  = smtp-command                      ; parsed by smtp-proto's Request::parse
//!          / "QUEU" [SP "DATE"] / "VERB" SP ("ON" / "OFF") / "TICK" SP 1*9DIGIT   ; IBM's
//! data     = *octet CRLF "." CRLF              ; after 354; dot-unstuffed by DataReceiver
//! ```
//!
//! Lines are framed here rather than by smtp-proto's `RequestReceiver` because that receiver
//! cannot hand back the text of a command it does not know, and QUEU, VERB and TICK are IBM's:
//! each complete line is given to `Request::parse` (the same grammar `RequestReceiver` uses), and
//! the line length limit is ours. The body is taken by `DataReceiver`, primed with a CRLF so that
//! a body whose first line is `.` (or starts with `..`) is read as RFC 5321 §4.5.2 says.
//!
//! The session decides nothing about where mail goes: it asks its [`Mta`] (the command exit and
//! the spool) at MAIL, at each RCPT, at DATA, and to deliver. Those calls may block (IUCV, an
//! exit program, spool I/O); the TCP driver makes them on a blocking-capable thread.

use std::{net::SocketAddr, sync::Arc};

use smtp_proto::{
    EXT_8BIT_MIME, EXT_ENHANCED_STATUS_CODES, EXT_HELP, EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8,
    EXT_START_TLS, EhloResponse, Error as ProtoError, MAIL_SMTPUTF8, Request,
    request::receiver::DataReceiver,
};
use vm::UserId;

use super::reply::Reply;

/// Longest command line (bytes, with its line end); smtp-proto's own limit.
pub const MAX_LINE: usize = smtp_proto::request::receiver::MAX_LINE_LENGTH;

/// Error replies after which a session is ended (421).
pub const MAX_ERRORS: u32 = 100;

/// Commands that move no mail (NOOP, RSET, HELO, VRFY, HELP, QUEU…) after which a session is
/// ended (421): a client may not keep a connection busy forever.
pub const MAX_CHATTER: u32 = 1000;

/// Where a dialogue comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A TCP client.
    Tcp {
        /// Its address.
        peer: SocketAddr,
    },
    /// A batch SMTP deck in SMTP's reader.
    Batch {
        /// The user whose spool file it is (CP's origin of the file).
        user: UserId,
        /// Its spoolid in SMTP's reader.
        spoolid: u16,
    },
}

/// Where the command exit sends mail for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the IMAP machine's reader, for this enrolled user.
    Imap(UserId),
    /// To this user's own reader, in LOCALFORMAT.
    Local(UserId),
    /// To the smart host.
    Relay,
}

/// A recipient accepted at RCPT, with its route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rcpt {
    /// The address as given in RCPT TO.
    pub address: String,
    /// Where it goes.
    pub route: Route,
}

/// A mail transaction ready for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path ("" for the null sender).
    pub from: String,
    /// The accepted recipients.
    pub rcpts: Vec<Rcpt>,
    /// The HELO/EHLO name.
    pub helo: String,
    /// `SMTP`, `ESMTP`, `ESMTPS` or `BSMTP` (for the `Received:` line).
    pub protocol: &'static str,
}

/// What a session needs from the server: the command exit's decisions and delivery.
pub trait Mta: Send + Sync {
    /// This server's host name.
    fn hostname(&self) -> &str;
    /// Largest message.
    fn max_bytes(&self) -> u64;
    /// Most recipients of one message.
    fn max_recipients(&self) -> usize;
    /// Whether STARTTLS can be offered.
    fn tls_available(&self) -> bool;
    /// The exit's word on MAIL FROM: `Err` is the reply refusing it.
    fn check_mail(&self, from: &str, origin: &Origin) -> Result<(), Reply>;
    /// The exit's decision for one RCPT TO.
    fn check_rcpt(&self, from: &str, to: &str, origin: &Origin) -> Result<Route, Reply>;
    /// The exit's word on DATA.
    fn check_data(&self, env: &Envelope, origin: &Origin) -> Result<(), Reply>;
    /// Delivers a message (every spool file durable before it returns); the reply to DATA.
    fn deliver(&self, env: &Envelope, message: &[u8], origin: &Origin) -> Reply;
    /// VRFY.
    fn vrfy(&self, what: &str) -> Reply;
    /// EXPN.
    fn expn(&self, what: &str) -> Reply;
    /// The lines of IBM's QUEU report.
    fn queue_report(&self, dated: bool) -> Vec<String>;
}

/// What the driver must do after feeding input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Go on reading.
    Continue,
    /// Start TLS now (the 220 is in the output; buffered plaintext was dropped).
    StartTls,
    /// Send the output and close the connection.
    Close,
}

#[derive(Debug)]
struct Txn {
    from: String,
    rcpts: Vec<Rcpt>,
}

struct DataIn {
    recv: DataReceiver,
    buf: Vec<u8>,
    /// Bytes seen once the message was too large (then no longer kept).
    dropped: u64,
    too_big: bool,
}

enum Phase {
    Command,
    Data(Box<DataIn>),
    /// Batch: DATA was refused, so the body up to its `.` line is passed over.
    Skip,
    Closed,
}

/// One dialogue.
pub struct Session {
    mta: Arc<dyn Mta>,
    origin: Origin,
    batch: bool,
    tls: bool,
    helo: Option<(String, bool)>,
    txn: Option<Txn>,
    phase: Phase,
    line: Vec<u8>,
    overlong: bool,
    errors: u32,
    chatter: u32,
    /// VERB ON was given.
    pub verbose: bool,
    /// The TICK number, if given.
    pub tick: Option<String>,
    /// The last sender MAIL FROM accepted.
    pub last_sender: Option<String>,
    /// Whether any reply was 4xx or 5xx.
    pub had_error: bool,
    /// Messages delivered.
    pub delivered: u32,
    /// Batch: the commands and every reply, for the response file and the error report.
    pub transcript: Vec<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({:?})", self.origin)
    }
}

fn data_receiver() -> DataReceiver {
    let mut r = DataReceiver::new();
    let mut primer = Vec::new();
    // The body follows the DATA line's CRLF: the receiver must know it is at a line start.
    r.ingest(&mut b"\r\n".iter(), &mut primer);
    r
}

/// Why a message body is refused, if it is: NUL bytes, or a CR or LF that is not part of CRLF
/// (lines become spool records, so the line structure must be unambiguous).
fn body_problem(b: &[u8]) -> Option<Reply> {
    if b.contains(&0) {
        return Some(Reply::new(
            554,
            "5.6.0",
            "Message contains NUL characters; not delivered",
        ));
    }
    let mut prev = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let bare_lf = c == b'\n' && prev != b'\r';
        let bare_cr = prev == b'\r' && c != b'\n';
        if bare_lf || bare_cr {
            return Some(Reply::new(
                554,
                "5.6.0",
                "Message contains a bare CR or LF; lines must end with CRLF; not delivered",
            ));
        }
        prev = c;
        if i + 1 == b.len() && c == b'\r' {
            return Some(Reply::new(
                554,
                "5.6.0",
                "Message contains a bare CR or LF; lines must end with CRLF; not delivered",
            ));
        }
    }
    None
}

impl Session {
    /// A new dialogue with `mta` for a client at `origin`.
    pub fn new(mta: Arc<dyn Mta>, origin: Origin) -> Session {
        let batch = matches!(origin, Origin::Batch { .. });
        Session {
            mta,
            origin,
            batch,
            tls: false,
            helo: None,
            txn: None,
            phase: Phase::Command,
            line: Vec::new(),
            overlong: false,
            errors: 0,
            chatter: 0,
            verbose: false,
            tick: None,
            last_sender: None,
            had_error: false,
            delivered: 0,
            transcript: Vec::new(),
        }
    }

    /// The greeting (220), written to `out`.
    pub fn greet(&mut self, out: &mut Vec<u8>) {
        let r = Reply::new(
            220,
            "",
            format!("{} ESMTP running vmimap VM SMTP", self.mta.hostname()),
        );
        self.reply(out, r);
    }

    /// Whether the dialogue ended (QUIT, or closed for errors).
    pub fn closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Whether the session is in the middle of a message body.
    pub fn in_data(&self) -> bool {
        matches!(self.phase, Phase::Data(_) | Phase::Skip)
    }

    /// TLS is now active: the client must say EHLO again (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.helo = None;
        self.txn = None;
        self.line.clear();
        self.overlong = false;
    }

    fn reply(&mut self, out: &mut Vec<u8>, r: Reply) {
        r.write(out);
        if self.batch {
            self.transcript.extend(r.wire_lines());
        }
        if r.is_error() {
            self.had_error = true;
            self.errors += 1;
            if self.errors >= MAX_ERRORS && !self.closed() {
                let bye = Reply::new(
                    421,
                    "4.7.0",
                    format!(
                        "{} Too many errors; closing connection",
                        self.mta.hostname()
                    ),
                );
                bye.write(out);
                if self.batch {
                    self.transcript.extend(bye.wire_lines());
                }
                self.phase = Phase::Closed;
            }
        }
    }

    /// Feeds input; replies are appended to `out`.
    pub fn input(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) -> Signal {
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Closed => return Signal::Close,
                Phase::Data(d) => {
                    let max = self.mta.max_bytes();
                    let mut it = bytes.iter();
                    let done = if d.too_big {
                        let mut scratch = Vec::new();
                        let done = d.recv.ingest(&mut it, &mut scratch);
                        d.dropped += scratch.len() as u64;
                        done
                    } else {
                        let done = d.recv.ingest(&mut it, &mut d.buf);
                        if d.buf.len() as u64 > max {
                            d.too_big = true;
                            d.dropped = d.buf.len() as u64;
                            d.buf = Vec::new();
                        }
                        done
                    };
                    bytes = it.as_slice();
                    if done {
                        let r = self.end_data();
                        self.reply(out, r);
                    } else if d.too_big && d.dropped > max.saturating_mul(2) + (1 << 20) {
                        // A client that goes on and on is not waited for.
                        self.phase = Phase::Command;
                        self.txn = None;
                        self.reply(out, Reply::new(552, "5.3.4", "Mail file too large"));
                        let bye = Reply::new(
                            421,
                            "4.7.0",
                            format!("{} closing connection", self.mta.hostname()),
                        );
                        self.reply(out, bye);
                        self.phase = Phase::Closed;
                        return Signal::Close;
                    }
                }
                Phase::Command | Phase::Skip => {
                    let (chunk, rest, complete) = match bytes.iter().position(|&b| b == b'\n') {
                        Some(p) => (&bytes[..=p], &bytes[p + 1..], true),
                        None => (bytes, &[][..], false),
                    };
                    bytes = rest;
                    if !self.overlong {
                        if self.line.len() + chunk.len() > MAX_LINE {
                            self.overlong = true;
                            self.line = Vec::new();
                        } else {
                            self.line.extend_from_slice(chunk);
                        }
                    }
                    if !complete {
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    if std::mem::take(&mut self.overlong) {
                        if matches!(self.phase, Phase::Command) {
                            self.reply(out, Reply::new(500, "5.5.2", "Line too long"));
                        }
                        continue;
                    }
                    if matches!(self.phase, Phase::Skip) {
                        if line == b".\r\n" || line == b".\n" {
                            self.phase = Phase::Command;
                        }
                        continue;
                    }
                    match self.command(&line, out) {
                        Signal::Continue => {}
                        s => return s,
                    }
                }
            }
        }
        if self.closed() {
            Signal::Close
        } else {
            Signal::Continue
        }
    }

    fn chatter(&mut self, out: &mut Vec<u8>) -> bool {
        self.chatter += 1;
        if self.chatter > MAX_CHATTER {
            let r = Reply::new(
                421,
                "4.7.0",
                format!(
                    "{} Too many commands without mail; closing connection",
                    self.mta.hostname()
                ),
            );
            self.reply(out, r);
            self.phase = Phase::Closed;
            return false;
        }
        true
    }

    fn command(&mut self, line: &[u8], out: &mut Vec<u8>) -> Signal {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if self.batch {
            self.transcript.push(text.to_string());
        }
        let mut words = text.split_ascii_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let args: Vec<&str> = words.collect();
        if matches!(verb.as_str(), "QUEU" | "VERB" | "TICK") {
            if !self.chatter(out) {
                return Signal::Close;
            }
            let r = self.ibm_command(&verb, &args);
            self.reply(out, r);
            return self.after();
        }
        if text.trim().is_empty() {
            self.reply(out, Reply::new(500, "5.5.2", "Empty command"));
            return self.after();
        }
        let parsed = Request::parse(&mut line.iter()).map(|r| r.into_owned());
        let r = match parsed {
            Ok(req) => {
                // smtp-proto gives `<postmaster>` (RFC 5321 §4.1.1.3) as an empty address.
                let postmaster = text.to_ascii_lowercase().contains("<postmaster>");
                return self.request(req, out, postmaster);
            }
            Err(ProtoError::UnknownCommand) => Reply::new(
                500,
                "5.5.1",
                format!(
                    "Command unrecognized: \"{}\"",
                    verb.chars().take(32).collect::<String>()
                ),
            ),
            Err(ProtoError::SyntaxError { syntax }) => {
                Reply::new(501, "5.5.4", format!("Syntax: {syntax}"))
            }
            Err(ProtoError::InvalidSenderAddress) => {
                Reply::new(501, "5.1.7", "Bad sender address syntax")
            }
            Err(ProtoError::InvalidRecipientAddress) => {
                Reply::new(501, "5.1.3", "Bad recipient address syntax")
            }
            Err(ProtoError::InvalidParameter { param }) => {
                Reply::new(501, "5.5.4", format!("Invalid parameter {param}"))
            }
            Err(ProtoError::UnsupportedParameter { param }) => Reply::new(
                555,
                "5.5.4",
                format!(
                    "Unsupported parameter {}",
                    param.chars().take(32).collect::<String>()
                ),
            ),
            Err(_) => Reply::new(500, "5.5.2", "Syntax error"),
        };
        self.reply(out, r);
        self.after()
    }

    fn after(&self) -> Signal {
        if self.closed() {
            Signal::Close
        } else {
            Signal::Continue
        }
    }

    /// QUEU [DATE], VERB ON|OFF, TICK n: IBM's batch SMTP commands (accepted on TCP too).
    fn ibm_command(&mut self, verb: &str, args: &[&str]) -> Reply {
        match (verb, args) {
            ("QUEU", []) => Reply::lines(250, "", self.mta.queue_report(false)),
            ("QUEU", [d]) if d.eq_ignore_ascii_case("DATE") => {
                Reply::lines(250, "", self.mta.queue_report(true))
            }
            ("QUEU", _) => Reply::new(501, "5.5.4", "Syntax: QUEU [DATE]"),
            ("VERB", [o]) if o.eq_ignore_ascii_case("ON") || o.eq_ignore_ascii_case("OFF") => {
                self.verbose = o.eq_ignore_ascii_case("ON");
                Reply::new(
                    250,
                    "2.0.0",
                    format!("Verbose mode {}", o.to_ascii_uppercase()),
                )
            }
            ("VERB", _) => Reply::new(501, "5.5.4", "Syntax: VERB ON|OFF"),
            ("TICK", [n])
                if (1..=9).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()) =>
            {
                self.tick = Some(n.to_string());
                Reply::new(250, "2.0.0", format!("TICK {n} OK"))
            }
            _ => Reply::new(501, "5.5.4", "Syntax: TICK number (1 to 9 digits)"),
        }
    }

    fn hello(&mut self, host: String, esmtp: bool) -> Reply {
        self.txn = None;
        let name = self.mta.hostname().to_string();
        self.helo = Some((host, esmtp));
        if !esmtp {
            return Reply::new(250, "", format!("{name} is my domain name."));
        }
        let mut e = EhloResponse::new(name.as_str());
        e.capabilities = EXT_PIPELINING
            | EXT_SIZE
            | EXT_8BIT_MIME
            | EXT_SMTP_UTF8
            | EXT_ENHANCED_STATUS_CODES
            | EXT_HELP;
        if self.mta.tls_available() && !self.tls && !self.batch {
            e.capabilities |= EXT_START_TLS;
        }
        e.size = usize::try_from(self.mta.max_bytes()).unwrap_or(usize::MAX);
        let mut buf = Vec::new();
        let _ = e.write(&mut buf);
        // smtp-proto writes the capabilities; the first line's words are ours.
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<String> = text
            .split("\r\n")
            .filter(|l| l.len() > 4)
            .map(|l| l[4..].to_string())
            .collect();
        if let Some(first) = lines.first_mut() {
            *first = format!("{name} is my domain name.");
        }
        Reply::lines(250, "", lines)
    }

    fn protocol(&self) -> &'static str {
        match (&self.helo, self.batch, self.tls) {
            (_, true, _) => "BSMTP",
            (Some((_, true)), _, true) => "ESMTPS",
            (Some((_, true)), _, false) => "ESMTP",
            _ => "SMTP",
        }
    }

    fn envelope(&self) -> Option<Envelope> {
        let t = self.txn.as_ref()?;
        Some(Envelope {
            from: t.from.clone(),
            rcpts: t.rcpts.clone(),
            helo: self.helo.as_ref().map(|h| h.0.clone()).unwrap_or_default(),
            protocol: self.protocol(),
        })
    }

    fn request(&mut self, req: Request<String>, out: &mut Vec<u8>, postmaster: bool) -> Signal {
        let is_chatter = matches!(
            req,
            Request::Ehlo { .. }
                | Request::Helo { .. }
                | Request::Noop { .. }
                | Request::Rset
                | Request::Vrfy { .. }
                | Request::Expn { .. }
                | Request::Help { .. }
        );
        if is_chatter && !self.chatter(out) {
            return Signal::Close;
        }
        let r = match req {
            Request::Ehlo { host } => self.hello(host, true),
            Request::Helo { host } => self.hello(host, false),
            Request::Lhlo { .. } => Reply::new(500, "5.5.1", "Command unrecognized: \"LHLO\""),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to.address, postmaster),
            Request::Data => return self.data(out),
            Request::Rset => {
                self.txn = None;
                Reply::new(250, "2.0.0", "OK")
            }
            Request::Noop { .. } => Reply::new(250, "2.0.0", "OK"),
            Request::Quit => {
                let r = Reply::new(
                    221,
                    "2.0.0",
                    format!("{} closing connection", self.mta.hostname()),
                );
                self.reply(out, r);
                self.phase = Phase::Closed;
                return Signal::Close;
            }
            Request::Help { .. } => Reply::lines(
                214,
                "2.0.0",
                vec![
                    "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN".into(),
                    "STARTTLS QUEU VERB TICK".into(),
                    "See docs/smtp.md of the vmimap system".into(),
                ],
            ),
            Request::Vrfy { value } => self.mta.vrfy(&value),
            Request::Expn { value } => self.mta.expn(&value),
            Request::StartTls => {
                if self.batch || !self.mta.tls_available() {
                    Reply::new(454, "4.7.0", "TLS not available")
                } else if self.tls {
                    Reply::new(503, "5.5.1", "TLS is already active")
                } else {
                    self.reply(out, Reply::new(220, "2.0.0", "Ready to start TLS"));
                    // Whatever the client pipelined after STARTTLS was sent in the clear: it
                    // is dropped, never obeyed (RFC 3207 §6).
                    self.line.clear();
                    self.overlong = false;
                    return Signal::StartTls;
                }
            }
            Request::Auth { .. } => Reply::new(502, "5.5.1", "AUTH is not supported"),
            other => Reply::new(502, "5.5.1", format!("{} is not implemented", other.name())),
        };
        self.reply(out, r);
        self.after()
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) -> Reply {
        if self.helo.is_none() {
            return Reply::new(503, "5.5.1", "Send HELO or EHLO first");
        }
        if self.txn.is_some() {
            return Reply::new(503, "5.5.1", "Nested MAIL command");
        }
        let max = self.mta.max_bytes();
        if from.size as u64 > max {
            return Reply::new(
                552,
                "5.3.4",
                format!("Message size exceeds the maximum of {max} bytes"),
            );
        }
        if !from.address.is_ascii() && from.flags & MAIL_SMTPUTF8 == 0 {
            return Reply::new(553, "5.6.7", "Non-ASCII sender address needs SMTPUTF8");
        }
        if let Err(r) = self.mta.check_mail(&from.address, &self.origin) {
            return r;
        }
        self.last_sender = Some(from.address.clone());
        self.txn = Some(Txn {
            from: from.address,
            rcpts: Vec::new(),
        });
        Reply::new(250, "2.1.0", "OK")
    }

    fn rcpt(&mut self, to: String, postmaster: bool) -> Reply {
        let Some(t) = &self.txn else {
            return Reply::new(503, "5.5.1", "Need MAIL command first");
        };
        if t.rcpts.len() >= self.mta.max_recipients() {
            return Reply::new(452, "4.5.3", "Too many recipients");
        }
        let to = match (to.is_empty(), postmaster) {
            (false, _) => to,
            (true, true) => "postmaster".to_string(),
            (true, false) => return Reply::new(501, "5.1.3", "Bad recipient address syntax"),
        };
        let from = t.from.clone();
        match self.mta.check_rcpt(&from, &to, &self.origin) {
            Ok(route) => {
                if let Some(t) = self.txn.as_mut() {
                    t.rcpts.push(Rcpt { address: to, route });
                }
                Reply::new(250, "2.1.5", "OK")
            }
            Err(r) => r,
        }
    }

    fn data(&mut self, out: &mut Vec<u8>) -> Signal {
        let refused = match self.envelope() {
            None => Some(Reply::new(503, "5.5.1", "Need MAIL command first")),
            Some(env) if env.rcpts.is_empty() => {
                Some(Reply::new(554, "5.5.1", "No valid recipients"))
            }
            Some(env) => self.mta.check_data(&env, &self.origin).err(),
        };
        match refused {
            Some(r) => {
                if self.batch {
                    self.phase = Phase::Skip;
                }
                self.reply(out, r);
            }
            None => {
                self.reply(
                    out,
                    Reply::new(354, "", "Enter mail body. End new line with just a '.'"),
                );
                self.phase = Phase::Data(Box::new(DataIn {
                    recv: data_receiver(),
                    buf: Vec::new(),
                    dropped: 0,
                    too_big: false,
                }));
            }
        }
        self.after()
    }

    fn end_data(&mut self) -> Reply {
        let phase = std::mem::replace(&mut self.phase, Phase::Command);
        let env = self.envelope();
        self.txn = None;
        let Phase::Data(d) = phase else {
            return Reply::new(451, "4.3.0", "Local error: no message");
        };
        let Some(env) = env else {
            return Reply::new(503, "5.5.1", "Need MAIL command first");
        };
        if d.too_big {
            return Reply::new(552, "5.3.4", "Mail file too large");
        }
        if self.batch {
            self.transcript
                .push(format!("({} bytes of mail)", d.buf.len()));
        }
        if let Some(r) = body_problem(&d.buf) {
            return r;
        }
        let r = self.mta.deliver(&env, &d.buf, &self.origin);
        if r.is_ok() {
            self.delivered += 1;
            self.chatter = 0;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Fake {
        delivered: Mutex<Vec<(Envelope, Vec<u8>)>>,
    }

    impl Mta for Fake {
        fn hostname(&self) -> &str {
            "vm.test"
        }
        fn max_bytes(&self) -> u64 {
            100
        }
        fn max_recipients(&self) -> usize {
            3
        }
        fn tls_available(&self) -> bool {
            true
        }
        fn check_mail(&self, from: &str, _: &Origin) -> Result<(), Reply> {
            if from == "bad@x" {
                Err(Reply::new(550, "5.7.1", "no"))
            } else {
                Ok(())
            }
        }
        fn check_rcpt(&self, _: &str, to: &str, _: &Origin) -> Result<Route, Reply> {
            if to.ends_with("@far") {
                Err(Reply::new(550, "5.7.1", "Relaying denied"))
            } else {
                Ok(Route::Imap(UserId::parse("DEMO").unwrap()))
            }
        }
        fn check_data(&self, _: &Envelope, _: &Origin) -> Result<(), Reply> {
            Ok(())
        }
        fn deliver(&self, env: &Envelope, m: &[u8], _: &Origin) -> Reply {
            self.delivered
                .lock()
                .unwrap()
                .push((env.clone(), m.to_vec()));
            Reply::new(250, "2.0.0", "Mail Delivered")
        }
        fn vrfy(&self, _: &str) -> Reply {
            Reply::new(252, "2.1.5", "no")
        }
        fn expn(&self, _: &str) -> Reply {
            Reply::new(502, "5.5.1", "no")
        }
        fn queue_report(&self, _: bool) -> Vec<String> {
            vec!["Spool Queue: empty".into()]
        }
    }

    fn tcp() -> Origin {
        Origin::Tcp {
            peer: "127.0.0.1:5000".parse().unwrap(),
        }
    }

    fn run(s: &mut Session, input: &[u8]) -> (String, Signal) {
        let mut out = Vec::new();
        let sig = s.input(input, &mut out);
        (String::from_utf8(out).unwrap(), sig)
    }

    #[test]
    fn a_pipelined_transaction_is_delivered_once() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake.clone(), tcp());
        let (out, _) = run(&mut s, b"EHLO client\r\n");
        assert!(
            out.starts_with("250-vm.test is my domain name.\r\n"),
            "{out}"
        );
        assert!(out.contains("250-PIPELINING\r\n"));
        assert!(out.contains("250-SIZE 100\r\n"));
        assert!(out.contains("STARTTLS"));
        assert!(out.ends_with("250 8BITMIME\r\n"), "{out}");
        let (out, sig) = run(
            &mut s,
            b"MAIL FROM:<a@b> SIZE=20\r\nRCPT TO:<demo@vm.test>\r\nDATA\r\n..x\r\n.\r\nQUIT\r\n",
        );
        assert_eq!(
            out,
            "250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 Enter mail body. End new line with just a '.'\r\n\
             250 2.0.0 Mail Delivered\r\n221 2.0.0 vm.test closing connection\r\n"
        );
        assert_eq!(sig, Signal::Close);
        let d = fake.delivered.lock().unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].1, b".x\r\n");
        assert_eq!(d[0].0.protocol, "ESMTP");
    }

    #[test]
    fn a_body_split_anywhere_and_an_empty_body() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake.clone(), tcp());
        let all = b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<demo@vm.test>\r\nDATA\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<demo@vm.test>\r\nDATA\r\nline one\r\n\r\n.\r\n";
        let mut out = Vec::new();
        for b in all.chunks(1) {
            s.input(b, &mut out);
        }
        let d = fake.delivered.lock().unwrap();
        assert_eq!(d.len(), 2, "{}", String::from_utf8_lossy(&out));
        assert_eq!(d[0].1, b"");
        assert_eq!(d[1].1, b"line one\r\n\r\n");
        assert_eq!(d[1].0.protocol, "SMTP");
    }

    #[test]
    fn errors_and_limits() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake.clone(), tcp());
        let (out, _) = run(&mut s, b"MAIL FROM:<a@b>\r\n");
        assert!(out.starts_with("503 5.5.1"), "{out}");
        let (out, _) = run(&mut s, b"EHLO c\r\nMAIL FROM:<a@b> SIZE=1000\r\n");
        assert!(out.ends_with("552 5.3.4 Message size exceeds the maximum of 100 bytes\r\n"));
        let (out, _) = run(
            &mut s,
            b"MAIL FROM:<a@b>\r\nRCPT TO:<x@far>\r\nRCPT TO:<a@vm.test>\r\nRCPT TO:<b@vm.test>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<d@vm.test>\r\n",
        );
        assert_eq!(
            out,
            "250 2.1.0 OK\r\n550 5.7.1 Relaying denied\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n452 4.5.3 Too many recipients\r\n"
        );
        let (out, _) = run(&mut s, b"DATA\r\n");
        assert!(out.starts_with("354"));
        let big = vec![b'x'; 300];
        let (out, _) = run(&mut s, &big);
        assert_eq!(out, "");
        let (out, _) = run(&mut s, b"\r\n.\r\n");
        assert_eq!(out, "552 5.3.4 Mail file too large\r\n");
        let (out, _) = run(&mut s, b"BOGUS\r\nMAIL FROM:nobrackets\r\n\r\n");
        assert!(
            out.starts_with("500 5.5.1 Command unrecognized: \"BOGUS\"\r\n501 "),
            "{out}"
        );
        assert!(out.ends_with("500 5.5.2 Empty command\r\n"), "{out}");
        let long = vec![b'N'; MAX_LINE + 10];
        let (out, _) = run(&mut s, &long);
        assert_eq!(out, "");
        let (out, _) = run(&mut s, b"OOP\r\nNOOP\r\n");
        assert_eq!(out, "500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n");
        assert!(fake.delivered.lock().unwrap().is_empty());
    }

    #[test]
    fn bare_line_ends_and_nul_are_refused() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake.clone(), tcp());
        let (out, _) = run(
            &mut s,
            b"HELO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<d@vm.test>\r\nDATA\r\na\nb\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<d@vm.test>\r\nDATA\r\na\0b\r\n.\r\n",
        );
        assert!(
            out.contains("554 5.6.0 Message contains a bare CR or LF"),
            "{out}"
        );
        assert!(out.contains("554 5.6.0 Message contains NUL"), "{out}");
        assert!(fake.delivered.lock().unwrap().is_empty());
    }

    #[test]
    fn starttls_drops_pipelined_plaintext() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake.clone(), tcp());
        let (out, sig) = run(&mut s, b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\n");
        assert!(out.ends_with("220 2.0.0 Ready to start TLS\r\n"), "{out}");
        assert_eq!(sig, Signal::StartTls);
        s.tls_started();
        let (out, _) = run(&mut s, b"MAIL FROM:<a@b>\r\nEHLO c\r\n");
        assert!(out.starts_with("503 5.5.1 Send HELO"), "{out}");
        assert!(!out.contains("STARTTLS"), "{out}");
        let (out, _) = run(&mut s, b"STARTTLS\r\n");
        assert_eq!(out, "503 5.5.1 TLS is already active\r\n");
    }

    #[test]
    fn batch_commands_and_a_refused_data_body_is_skipped() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(
            fake.clone(),
            Origin::Batch {
                user: UserId::parse("MAINT").unwrap(),
                spoolid: 7,
            },
        );
        let (out, _) = run(
            &mut s,
            b"VERB ON\r\nTICK 42\r\nHELO h\r\nMAIL FROM:<a@b>\r\nRCPT TO:<x@far>\r\nDATA\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<d@vm.test>\r\n.\r\nQUEU\r\n",
        );
        assert!(s.verbose);
        assert_eq!(s.tick.as_deref(), Some("42"));
        assert!(out.contains("554 5.5.1 No valid recipients"), "{out}");
        assert!(!out.contains("evil"));
        assert!(out.ends_with("250 Spool Queue: empty\r\n"), "{out}");
        assert!(s.had_error);
        assert_eq!(s.last_sender.as_deref(), Some("a@b"));
        assert!(s.transcript.iter().any(|l| l == "RCPT TO:<x@far>"));
        assert!(fake.delivered.lock().unwrap().is_empty());
    }

    #[test]
    fn too_many_errors_end_the_session() {
        let fake = Arc::new(Fake::default());
        let mut s = Session::new(fake, tcp());
        let input = b"BOGUS\r\n".repeat(MAX_ERRORS as usize + 5);
        let (out, sig) = run(&mut s, &input);
        assert_eq!(sig, Signal::Close);
        assert_eq!(out.matches("500 ").count(), MAX_ERRORS as usize);
        assert!(out.ends_with("421 4.7.0 vm.test Too many errors; closing connection\r\n"));
    }
}
