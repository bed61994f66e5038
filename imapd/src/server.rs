//! What every session shares: the configuration, the mailstore, TLS, the password check, the
//! table of sessions (for limits, QUERY CONNECTIONS and shutdown) and the trace switch.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use ring::hmac;
use vm::UserId;

use crate::{config::Config, store::Mailstore};

/// Checks a userid and password against the directory (DIAGNOSE X'88'); slow by design.
pub type PasswordCheck = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Writes a line on the IMAP machine's console (its log while it runs disconnected).
pub type ConsoleLog = Arc<dyn Fn(&str) + Send + Sync>;

/// How long a verified password is remembered (so a client that logs in again and again does
/// not pay for a password hash each time).
const AUTH_CACHE_TTL: Duration = Duration::from_secs(300);

/// One session as QUERY CONNECTIONS shows it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Session number.
    pub id: u64,
    /// The client.
    pub peer: SocketAddr,
    /// Logged-in user.
    pub user: Option<UserId>,
    /// Encrypted.
    pub tls: bool,
    /// Started.
    pub since: SystemTime,
    /// Selected mailbox.
    pub mailbox: Option<String>,
}

/// The shared server state.
pub struct Server {
    /// IMAP CONFIG.
    pub cfg: Config,
    /// The mailstore.
    pub store: Mailstore,
    /// TLS for STARTTLS and the TLS port.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    console: ConsoleLog,
    sessions: Mutex<HashMap<u64, SessionInfo>>,
    next_id: AtomicU64,
    /// TRACE ON: commands and responses are logged (never passwords or message data).
    pub trace: AtomicBool,
    /// Set when the server is shutting down.
    pub stopping: AtomicBool,
    /// Wakes sessions to say BYE at shutdown.
    pub stop: tokio::sync::Notify,
    auth_key: hmac::Key,
    auth_cache: Mutex<HashMap<UserId, (hmac::Tag, Instant)>>,
    /// Failed logins since start.
    pub failed_logins: AtomicU64,
    /// Logins since start.
    pub logins: AtomicU64,
    hasher: crossbeam_channel::Sender<HashJob>,
}

/// A password to check on one of the hashing threads.
type HashJob = (UserId, String, tokio::sync::oneshot::Sender<bool>);

/// Threads that check password hashes. Each argon2 check takes about 19 MiB and a core for tens
/// of milliseconds; a fixed pair of threads bounds both the CPU and the memory a flood of bad
/// logins can take (memory freed by a thread stays with that thread's allocator arena, so
/// checks on arbitrary threads would keep one arena's worth per thread).
const HASH_THREADS: usize = 2;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({:?})", self.store)
    }
}

/// Why a session could not be admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Too many sessions in all.
    Total(usize),
    /// Too many sessions for the user.
    User(usize),
}

impl Server {
    /// A server.
    pub fn new(
        cfg: Config,
        store: Mailstore,
        tls: Option<Arc<rustls::ServerConfig>>,
        check: PasswordCheck,
        console: ConsoleLog,
    ) -> Server {
        let rng = ring::rand::SystemRandom::new();
        let auth_key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("system random source");
        Server {
            cfg,
            store,
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            console,
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            trace: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            stop: tokio::sync::Notify::new(),
            auth_key,
            auth_cache: Mutex::new(HashMap::new()),
            failed_logins: AtomicU64::new(0),
            logins: AtomicU64::new(0),
            hasher: start_hashers(check.clone()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SessionInfo>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs a line on the server's console (and to the host log).
    pub fn log(&self, line: &str) {
        tracing::info!("{line}");
        (self.console)(line);
    }

    /// Admits a new connection (or refuses it when the server is full).
    pub fn admit(&self, peer: SocketAddr, tls: bool) -> Result<u64, Refusal> {
        let mut t = self.table();
        if t.len() >= self.cfg.max_connections {
            return Err(Refusal::Total(self.cfg.max_connections));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        t.insert(
            id,
            SessionInfo {
                id,
                peer,
                user: None,
                tls,
                since: SystemTime::now(),
                mailbox: None,
            },
        );
        Ok(id)
    }

    /// Records a session's login (or refuses it: too many sessions for the user).
    pub fn logged_in(&self, id: u64, user: &UserId) -> Result<(), Refusal> {
        let mut t = self.table();
        let n = t.values().filter(|s| s.user.as_ref() == Some(user)).count();
        if n >= self.cfg.max_user_connections {
            return Err(Refusal::User(self.cfg.max_user_connections));
        }
        if let Some(s) = t.get_mut(&id) {
            s.user = Some(user.clone());
        }
        Ok(())
    }

    /// Updates what a session shows (TLS, selected mailbox).
    pub fn update(&self, id: u64, f: impl FnOnce(&mut SessionInfo)) {
        if let Some(s) = self.table().get_mut(&id) {
            f(s);
        }
    }

    /// A session ended.
    pub fn gone(&self, id: u64) {
        self.table().remove(&id);
    }

    /// The sessions now open.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let mut v: Vec<SessionInfo> = self.table().values().cloned().collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// Whether the directory password is right: answered from the cache, or by one of the
    /// hashing threads.
    pub async fn verify_password(&self, user: &UserId, password: &str) -> bool {
        if self.cached(user, password) {
            return true;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self
            .hasher
            .send((user.clone(), password.to_string(), tx))
            .is_err()
        {
            return false;
        }
        let ok = rx.await.unwrap_or(false);
        self.remember(user, password, ok);
        ok
    }

    fn cached(&self, user: &UserId, password: &str) -> bool {
        let tag = hmac::sign(&self.auth_key, password.as_bytes());
        self.auth_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user)
            .is_some_and(|(t, at)| {
                at.elapsed() < AUTH_CACHE_TTL && constant_eq(t.as_ref(), tag.as_ref())
            })
    }

    fn remember(&self, user: &UserId, password: &str, ok: bool) {
        let mut c = self.auth_cache.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            c.insert(
                user.clone(),
                (
                    hmac::sign(&self.auth_key, password.as_bytes()),
                    Instant::now(),
                ),
            );
        } else {
            c.remove(user);
        }
    }

    /// Forgets a user's remembered password (after DELETE, or a failed login).
    pub fn forget(&self, user: &UserId) {
        self.auth_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }

    /// Starts shutdown: every session says BYE.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_waiters();
    }
}

/// Compares two byte strings in time that depends only on their length.
fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn start_hashers(check: PasswordCheck) -> crossbeam_channel::Sender<HashJob> {
    let (tx, rx) = crossbeam_channel::unbounded::<HashJob>();
    for i in 0..HASH_THREADS {
        let (rx, check) = (rx.clone(), check.clone());
        let _ = std::thread::Builder::new()
            .name(format!("imap-hash-{i}"))
            .spawn(move || {
                while let Ok((user, pw, reply)) = rx.recv() {
                    let _ = reply.send(check(user.as_str(), &pw));
                }
            });
    }
    tx
}
