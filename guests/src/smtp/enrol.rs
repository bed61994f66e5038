//! Asking the IMAP machine whether a user is enrolled, over an IUCV path (the query service of
//! imapd/src/query.rs):
//!
//! ```text
//! connect  = IUCV CONNECT to the IMAP machine, user data "IMAPQRY"
//! question = "ENROLLED" SP userid          ; a two-way SEND, waited for
//! answer   = "YES" / "NO" / "ERROR" SP text
//! ```
//!
//! The path is made at start and made again when it is severed (IMAP restarted) — at the next
//! question, at most once a second. CONNECT's completion arrives on SMTP's interrupt queue, which
//! the main loop reads and passes to [`Enrolment::event`]; a question asked meanwhile waits for
//! it (2 seconds at most). When IMAP cannot be asked (not logged on, no answer in time, path
//! severed) the answer is [`Answer::Unknown`] and the mail is routed to IMAP anyway: IMAP's
//! intake transfers the file of a user who is not enrolled to the user's own reader.

use std::{
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use vm::{
    UserId, VmHandle,
    iucv::{IucvError, IucvEvent, PathId, user_data},
};

/// The user data of the query path.
pub const USER_DATA: &str = "IMAPQRY";

/// How long a question waits for IMAP's reply.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a question waits for a CONNECT to complete.
const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// The least time between two CONNECTs.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// IMAP's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Enrolled.
    Yes,
    /// Not enrolled.
    No,
    /// IMAP could not be asked, or did not say; why.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathState {
    /// No path; when the last CONNECT was tried.
    Down(Option<Instant>),
    /// CONNECT issued, not yet accepted.
    Pending(PathId),
    /// Connected.
    Up(PathId),
}

/// A console log line writer.
pub type LogFn = Box<dyn Fn(&str) + Send + Sync>;

/// The query client.
pub struct Enrolment {
    vm: Arc<VmHandle>,
    imap: UserId,
    state: Mutex<(PathState, String)>,
    changed: Condvar,
    log: LogFn,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Enrolment({})", self.imap)
    }
}

impl Enrolment {
    /// A client for the IMAP machine `imap`; `log` writes a console line.
    pub fn new(
        vm: Arc<VmHandle>,
        imap: UserId,
        log: impl Fn(&str) + Send + Sync + 'static,
    ) -> Enrolment {
        Enrolment {
            vm,
            imap,
            state: Mutex::new((PathState::Down(None), String::new())),
            changed: Condvar::new(),
            log: Box::new(log),
        }
    }

    /// Issues a CONNECT if there is no path and none was tried in the last second.
    pub fn connect(&self) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.connect_locked(&mut g);
    }

    fn connect_locked(&self, g: &mut (PathState, String)) {
        if let PathState::Down(last) = g.0
            && last.is_none_or(|t| t.elapsed() >= RECONNECT_EVERY)
        {
            match self
                .vm
                .iucv_connect(self.imap.as_str(), None, user_data(USER_DATA))
            {
                Ok(p) => g.0 = PathState::Pending(p),
                Err(e) => {
                    g.0 = PathState::Down(Some(Instant::now()));
                    self.down(g, &e.to_string());
                }
            }
        }
    }

    /// Records why IMAP cannot be asked; logs it once per reason.
    fn down(&self, g: &mut (PathState, String), why: &str) {
        if g.1 != why {
            g.1 = why.to_string();
            (self.log)(&format!(
                "DTCSMT020W Cannot ask {} about enrolment ({why}); mail for local users is routed to {} meanwhile",
                self.imap, self.imap
            ));
        }
    }

    /// Handles an IUCV event of the query path; false if it was not about it.
    pub fn event(&self, ev: &IucvEvent) -> bool {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let ours = |p: &PathId| matches!(g.0, PathState::Pending(q) | PathState::Up(q) if q == *p);
        match ev {
            IucvEvent::ConnectionComplete { path } if ours(path) => {
                g.0 = PathState::Up(*path);
                if !g.1.is_empty() {
                    g.1.clear();
                    (self.log)(&format!(
                        "DTCSMT021I Enrolment queries to {} resumed",
                        self.imap
                    ));
                }
                self.changed.notify_all();
                true
            }
            IucvEvent::Severed { path, user_data } if ours(path) => {
                g.0 = PathState::Down(Some(Instant::now()));
                let why = String::from_utf8_lossy(user_data).trim().to_string();
                self.down(&mut g, &format!("path severed: {why}"));
                self.changed.notify_all();
                true
            }
            _ => false,
        }
    }

    /// Whether `user` is enrolled in the IMAP mailstore.
    pub fn ask(&self, user: &UserId) -> Answer {
        let question = format!("ENROLLED {user}").into_bytes();
        for _attempt in 0..2 {
            let path = {
                let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
                self.connect_locked(&mut g);
                let deadline = Instant::now() + CONNECT_WAIT;
                while matches!(g.0, PathState::Pending(_)) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    g = self
                        .changed
                        .wait_timeout(g, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                match g.0 {
                    PathState::Up(p) => p,
                    PathState::Pending(_) => {
                        return Answer::Unknown(format!("{} has not accepted the path", self.imap));
                    }
                    PathState::Down(_) => {
                        return Answer::Unknown(if g.1.is_empty() {
                            "no path".into()
                        } else {
                            g.1.clone()
                        });
                    }
                }
            };
            match self.send(path, &question) {
                Ok(a) if a == b"YES" => return Answer::Yes,
                Ok(a) if a == b"NO" => return Answer::No,
                Ok(a) => return Answer::Unknown(String::from_utf8_lossy(&a).into_owned()),
                Err(e) => {
                    // The path is no good (severed, or IMAP did not answer): give it up and make
                    // a new one once.
                    let _ = self.vm.iucv_sever(path, user_data("NO ANSWER"));
                    let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
                    if g.0 == PathState::Up(path) {
                        g.0 = PathState::Down(None);
                        self.down(&mut g, &e.to_string());
                    }
                }
            }
        }
        Answer::Unknown("no answer".into())
    }

    /// Sends a question; retries while the path's message limit is reached (other sessions'
    /// questions are outstanding).
    fn send(&self, path: PathId, q: &[u8]) -> Result<Vec<u8>, IucvError> {
        let mut waits = 0;
        loop {
            match self.vm.iucv_send_wait(path, 0, q.to_vec(), ASK_TIMEOUT) {
                Err(IucvError::MsgLimit(_)) if waits < 100 => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => return r,
            }
        }
    }
}
