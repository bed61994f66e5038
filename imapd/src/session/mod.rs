//! One client session: greeting, the command loop, and the states of RFC 9051 §3 (not
//! authenticated, authenticated, selected, logout).
//!
//! The loop is async (a tokio task per connection, reading only when the socket is readable,
//! so idle sessions cost little). Commands that touch the mailstore run as plain functions
//! under `block_in_place`, each in its own file under [`cmd`] with one signature; STARTTLS,
//! AUTHENTICATE, LOGIN and IDLE, which wait on the network or on time, are async here.

pub mod auth;
pub mod cmd;
pub mod conn;
pub mod framer;
pub mod idle;
pub mod view;

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use vm::{UserId, tcp::TcpConnection};

use self::{
    conn::Conn,
    framer::{Frame, Input, Limits},
    view::View,
};
use crate::{
    proto::{
        command::{Cmd, Command},
        parse::{parse, tag_of},
        write::Out,
    },
    server::{Refusal, Server},
    store::{StoreError, UserStore},
};

/// A response text as the grammar allows it (`text = 1*TEXT-CHAR`, 7-bit without CR and LF):
/// other characters a client sent (a mailbox name, a bad command) become `?`, and a text never
/// ends in `}`, which line-based clients would take for a literal announcement.
pub fn resp_text(t: &str) -> String {
    let mut s: String = t
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if s.ends_with('}') {
        s.push('.');
    }
    if s.is_empty() {
        s.push_str("(no text)");
    }
    s
}

/// Output is sent when it grows past this, even in the middle of a command.
const FLUSH_AT: usize = 256 * 1024;

/// The session's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Before LOGIN/AUTHENTICATE.
    NotAuth,
    /// Logged in, no mailbox selected.
    Auth,
    /// A mailbox is selected.
    Selected,
    /// LOGOUT or BYE: the session ends.
    Logout,
}

/// How a command ended: its tagged response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `OK` with text (which may start with a response code).
    Ok(String),
    /// `NO`.
    No(String),
    /// `BAD`.
    Bad(String),
}

impl Outcome {
    /// `OK <name> completed`.
    pub fn done(name: &str) -> Outcome {
        Outcome::Ok(format!("{name} completed"))
    }
}

impl From<StoreError> for Outcome {
    fn from(e: StoreError) -> Outcome {
        Outcome::No(match &e {
            StoreError::NoMailbox(_) => format!("[NONEXISTENT] {e}"),
            StoreError::Exists(_) => format!("[ALREADYEXISTS] {e}"),
            StoreError::OverQuota(_) => format!("[OVERQUOTA] {e}"),
            StoreError::Limit(t) if t.starts_with('[') => t.clone(),
            StoreError::Limit(_) => format!("[LIMIT] {e}"),
            StoreError::Refused(_) | StoreError::Version(_) => format!("[CANNOT] {e}"),
            StoreError::Gone => format!("[NONEXISTENT] {e}"),
            StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "mailstore failure");
                format!("[SERVERBUG] {e}")
            }
            StoreError::NotEnrolled(_) | StoreError::AlreadyEnrolled(_) => format!("{e}"),
        })
    }
}

/// A session.
pub struct Session {
    /// Shared server state.
    pub server: Arc<Server>,
    /// The connection.
    pub conn: Conn,
    /// Responses not yet sent.
    pub out: Out,
    /// Input not yet used.
    pub input: Input,
    /// The state.
    pub state: State,
    /// The logged-in user.
    pub user: Option<Arc<UserStore>>,
    /// The selected mailbox.
    pub view: Option<View>,
    /// IMAP4rev2 was enabled (no RECENT; rev2 response forms).
    pub rev2: bool,
    /// Result of the last SEARCH RETURN (SAVE), as UIDs.
    pub saved: Vec<u32>,
    /// Failed login attempts.
    pub failures: u32,
    /// Session number.
    pub id: u64,
    /// The tag of the command running (for ESEARCH).
    pub tag: String,
    /// The client.
    pub peer: std::net::SocketAddr,
    _guard: vm::tcp::ConnGuard,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({} {})", self.id, self.peer)
    }
}

/// Runs a session on an accepted connection; `implicit_tls` for the TLS port.
pub async fn run(server: Arc<Server>, c: TcpConnection, implicit_tls: bool) {
    let TcpConnection {
        stream,
        remote,
        guard,
        ..
    } = c;
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::Plain(stream);
    let id = match server.admit(remote, implicit_tls) {
        Ok(id) => id,
        Err(r) => {
            let n = match r {
                Refusal::Total(n) | Refusal::User(n) => n,
            };
            let _ = conn
                .write_all(
                    format!("* BYE [LIMIT] Too many connections (at most {n})\r\n").as_bytes(),
                )
                .await;
            return;
        }
    };
    if implicit_tls {
        let Some(acc) = server.tls.clone() else {
            server.gone(id);
            return;
        };
        let hs = tokio::time::timeout(
            Duration::from_secs(server.cfg.login_timeout),
            conn.start_tls(&acc),
        )
        .await;
        if !matches!(hs, Ok(Ok(()))) {
            server.gone(id);
            return;
        }
    }
    let mut s = Session {
        server: server.clone(),
        conn,
        out: Out::new(),
        input: Input::default(),
        state: State::NotAuth,
        user: None,
        view: None,
        rev2: false,
        saved: Vec::new(),
        failures: 0,
        id,
        tag: String::new(),
        peer: remote,
        _guard: guard,
    };
    let caps = s.capabilities();
    s.out
        .text("* OK [CAPABILITY ")
        .text(&caps)
        .text("] vmimap IMAP4rev2 server ready\r\n");
    if s.flush().await.is_ok() {
        s.main_loop().await;
    }
    s.conn.shutdown().await;
    server.gone(id);
}

impl Session {
    /// The capability list for the current state.
    pub fn capabilities(&self) -> String {
        let tls = self.conn.is_tls();
        let mut c = vec![
            "IMAP4rev1",
            "IMAP4rev2",
            "LITERAL+",
            "SASL-IR",
            "ID",
            "ENABLE",
            "IDLE",
        ];
        if self.state == State::NotAuth {
            if !tls && self.server.tls.is_some() {
                c.push("STARTTLS");
            }
            if self.server.cfg.require_tls && !tls {
                c.push("LOGINDISABLED");
            } else {
                c.push("AUTH=PLAIN");
            }
        } else {
            c.extend([
                "NAMESPACE",
                "UNSELECT",
                "UIDPLUS",
                "MOVE",
                "CHILDREN",
                "LIST-EXTENDED",
                "LIST-STATUS",
                "SPECIAL-USE",
                "ESEARCH",
                "SEARCHRES",
                "MULTIAPPEND",
                "BINARY",
                "WITHIN",
                "STATUS=SIZE",
            ]);
        }
        c.join(" ")
    }

    /// The user's id.
    pub fn userid(&self) -> Option<&UserId> {
        self.user.as_ref().map(|u| &u.user)
    }

    fn limits(&self) -> Limits {
        let c = &self.server.cfg;
        Limits {
            max_line: c.max_line,
            max_literal: c.max_literal,
            // A MULTIAPPEND may carry several messages; bound the whole command at four.
            max_command: c.max_literal.saturating_mul(4),
        }
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(if self.state == State::NotAuth {
            self.server.cfg.login_timeout
        } else {
            self.server.cfg.timeout
        })
    }

    /// Sends what is in the output buffer (and frees it when large).
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.buf.is_empty() {
            return Ok(());
        }
        if self.server.trace.load(Ordering::Relaxed) {
            self.trace_out();
        }
        let r = self.conn.write_all(&self.out.buf).await;
        if self.out.buf.capacity() > 64 * 1024 || self.input.pending().is_empty() {
            self.out.buf = Vec::new();
        } else {
            self.out.buf.clear();
        }
        r
    }

    /// From synchronous command code: sends the output once it is large (a FETCH of many
    /// messages streams instead of building everything in memory).
    pub fn flush_if_large(&mut self) -> std::io::Result<()> {
        if self.out.buf.len() < FLUSH_AT {
            return Ok(());
        }
        let h = tokio::runtime::Handle::current();
        h.block_on(self.flush())
    }

    fn trace_out(&self) {
        // The last line (the tagged response, normally) and the size of the rest: message
        // data never reaches the log.
        let b = self.out.buf.strip_suffix(b"\r\n").unwrap_or(&self.out.buf);
        let start = b.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
        let last = String::from_utf8_lossy(&b[start..b.len().min(start + 200)]);
        self.server.log(&format!(
            "DTCIMA0230I Session {} S: {} ({} bytes in all)",
            self.id,
            last.trim_end(),
            self.out.buf.len()
        ));
    }

    fn trace_in(&self, msg: &[u8]) {
        let line_end = msg.iter().position(|&c| c == b'\n').unwrap_or(msg.len());
        let first = String::from_utf8_lossy(&msg[..line_end.min(200)]);
        let upper = first.to_ascii_uppercase();
        // Passwords never reach the log: before login (where a malformed LOGIN may still carry
        // one) and for anything that looks like LOGIN or AUTHENTICATE, only the first two
        // words are shown.
        let shown =
            if self.state == State::NotAuth || upper.contains("LOGIN") || upper.contains("AUTH") {
                let mut w = first.split_whitespace();
                let mut s: String = w.next().unwrap_or("").chars().take(32).collect();
                if let Some(c) = w.next() {
                    s.push(' ');
                    s.extend(c.chars().take(16));
                }
                s.push_str(" ...");
                s
            } else {
                first.trim_end().to_string()
            };
        self.server.log(&format!(
            "DTCIMA0231I Session {} C: {}",
            self.id,
            resp_text(&shown)
        ));
    }

    /// Writes a tagged response.
    pub fn tagged(&mut self, tag: &str, o: &Outcome) {
        let (kind, text) = match o {
            Outcome::Ok(t) => ("OK", t),
            Outcome::No(t) => ("NO", t),
            Outcome::Bad(t) => ("BAD", t),
        };
        let text = resp_text(text);
        self.out.text(tag).sp().text(kind).sp().text(&text).crlf();
    }

    /// Says BYE and ends the session.
    pub async fn bye(&mut self, text: &str) {
        self.out.text("* BYE ").text(text).crlf();
        let _ = self.flush().await;
        self.state = State::Logout;
    }

    async fn main_loop(&mut self) {
        loop {
            if self.state == State::Logout {
                // A BYE (LOGOUT, too many failed logins, a deleted mailbox) goes out even when
                // more commands were pipelined behind it: they are not run.
                let _ = self.flush().await;
                return;
            }
            let lim = self.limits();
            let timeout = self.idle_timeout();
            let server = self.server.clone();
            let stop = server.stop.notified();
            tokio::pin!(stop);
            stop.as_mut().enable();
            if server.stopping.load(Ordering::SeqCst) {
                self.bye("Server shutting down").await;
                return;
            }
            enum Ev {
                Frame(std::io::Result<Frame>),
                Timeout,
                Stop,
            }
            let ev = tokio::select! {
                f = self.input.command(&mut self.conn, lim) => Ev::Frame(f),
                _ = tokio::time::sleep(timeout) => Ev::Timeout,
                _ = &mut stop => Ev::Stop,
            };
            let frame = match ev {
                Ev::Frame(f) => f,
                Ev::Timeout => {
                    self.bye("Autologout; idle for too long").await;
                    return;
                }
                Ev::Stop => {
                    self.bye("Server shutting down").await;
                    return;
                }
            };
            let msg = match frame {
                Ok(Frame::Command(m)) => m,
                Ok(Frame::Eof) | Err(_) => return,
                Ok(Frame::LineTooLong(m)) => {
                    let text = format!("Line too long (limit {} bytes)", lim.max_line);
                    self.reply_bad(&m, &text);
                    if self.flush().await.is_err() {
                        return;
                    }
                    continue;
                }
                Ok(Frame::LiteralTooLarge(m)) => {
                    let tag = tag_of(&m);
                    let text = format!(
                        "[TOOBIG] Literal too large (limit {} bytes)",
                        lim.max_literal
                    );
                    match tag {
                        Some(t) => self.tagged(&t, &Outcome::No(text)),
                        None => {
                            self.out.text("* BAD ").text(&resp_text(&text)).crlf();
                        }
                    }
                    // The rest of the command line (after the refused literal) never comes;
                    // what follows is the next command.
                    if self.flush().await.is_err() {
                        return;
                    }
                    continue;
                }
                Ok(Frame::Fatal(text)) => {
                    self.bye(&text).await;
                    return;
                }
            };
            if self.server.trace.load(Ordering::Relaxed) {
                self.trace_in(&msg);
            }
            match parse(&msg, false) {
                Ok(cmd) => self.dispatch(cmd).await,
                Err(e) => match e.tag {
                    Some(t) => self.tagged(&t, &Outcome::Bad(e.text)),
                    None => {
                        self.out.text("* BAD ").text(&resp_text(&e.text)).crlf();
                    }
                },
            }
            // Pipelined commands already here are answered together.
            if (self.input.pending().is_empty() || self.out.buf.len() > FLUSH_AT)
                && self.flush().await.is_err()
            {
                return;
            }
            self.input.compact();
        }
    }

    fn reply_bad(&mut self, msg: &[u8], text: &str) {
        match tag_of(msg) {
            Some(t) => self.tagged(&t, &Outcome::Bad(text.to_string())),
            None => {
                self.out.text("* BAD ").text(&resp_text(text)).crlf();
            }
        }
    }

    fn state_allows(&self, c: &Cmd) -> Result<(), &'static str> {
        use Cmd::*;
        match c {
            Capability | Noop | Logout | Id(_) => Ok(()),
            StartTls | Authenticate { .. } | Login { .. } => match self.state {
                State::NotAuth => Ok(()),
                _ => Err("Already logged in"),
            },
            Check
            | Close
            | Unselect
            | Expunge(_)
            | Search { .. }
            | Fetch { .. }
            | Store { .. }
            | Copy { .. }
            | Move { .. } => match self.state {
                State::Selected => Ok(()),
                State::NotAuth => Err("Log in first"),
                _ => Err("No mailbox selected"),
            },
            _ => match self.state {
                State::NotAuth => Err("Log in first"),
                _ => Ok(()),
            },
        }
    }

    async fn dispatch(&mut self, c: Command) {
        if let Err(why) = self.state_allows(&c.body) {
            self.tagged(&c.tag, &Outcome::Bad(why.into()));
            return;
        }
        let o = match &c.body {
            Cmd::StartTls => auth::starttls(self, &c.tag).await,
            Cmd::Login { user, password } => auth::login(self, user, password).await,
            Cmd::Authenticate { mechanism, initial } => {
                auth::authenticate(self, mechanism, initial.clone()).await
            }
            Cmd::Idle => idle::run(self, &c.tag).await,
            Cmd::Logout => {
                self.out.text("* BYE Logging out\r\n");
                self.state = State::Logout;
                Some(Outcome::done("LOGOUT"))
            }
            _ => {
                self.tag = c.tag.clone();
                Some(tokio::task::block_in_place(|| cmd::run(self, &c.body)))
            }
        };
        if let Some(o) = o {
            if matches!(self.state, State::Auth | State::Selected) {
                self.sync_after(&c.body);
            }
            self.tagged(&c.tag, &o);
        }
    }

    /// Untagged updates at the end of a command (expunges only where allowed).
    pub fn sync_after(&mut self, c: &Cmd) {
        let expunges = !matches!(
            c,
            Cmd::Fetch { uid: false, .. }
                | Cmd::Store { uid: false, .. }
                | Cmd::Search { uid: false, .. }
                | Cmd::Copy { uid: false, .. }
                | Cmd::Move { uid: false, .. }
        );
        self.sync(expunges);
    }

    /// Brings the selected mailbox's view up to date.
    pub fn sync(&mut self, expunges: bool) {
        let rev2 = self.rev2;
        let Some(v) = self.view.as_mut() else { return };
        if !v.sync(&mut self.out, expunges, rev2) {
            // The mailbox was deleted (or its user deleted) under us.
            self.out
                .text("* BYE [UNAVAILABLE] The selected mailbox has been deleted\r\n");
            self.view = None;
            self.state = State::Logout;
        }
    }
}
