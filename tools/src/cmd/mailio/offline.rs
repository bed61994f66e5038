//! The mailstore of a stopped system, for `vmimap import` and `vmimap export`.
//!
//! The tool IPLs the system folder in its own process with no startup machines: it logs on the
//! file pool servers (the directory users whose program is `SFS`) and then the IMAP machine, whose
//! program is replaced by a stand-in that only connects to the mailstore pool as the pool's
//! administrator and hands the connection over. Everything then goes through the IMAP server's
//! own store (`imapd::store`): the same work units, the same durability, the same index. At the
//! end the system is shut down in order (catalog snapshots, spool checkpoint).
//!
//! A running system holds the folder's lock, so this refuses to start while it runs, and an IPL
//! attempted meanwhile is refused in the same way.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use imapd::{
    config::{Config, IMAP_CONFIG, default_text},
    store::{Mailstore, StoreError, UserStore},
};
use vm::{
    Guest, Interrupt, Registry, System, UserId, VmHandle,
    directory::Directory,
    sfs::{DmsError, SfsClient},
    system::{IplOptions, LogonHow},
};

/// The IMAP server's userid: the mailstore pool's administrator.
const IMAP_USER: &str = "IMAP";

/// The stand-in for the IMAP server program: connects to the mailstore pool, sends the
/// connection to the tool, and waits for the shutdown.
struct Connector {
    pool: String,
    tx: mpsc::Sender<anyhow::Result<SfsClient>>,
}

impl Guest for Connector {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let start = Instant::now();
        let res = loop {
            match vm.sfs_connect(&self.pool) {
                Ok(c) => break Ok(c),
                Err(DmsError::PoolUnavailable(_) | DmsError::UnknownPool(_))
                    if start.elapsed() < Duration::from_secs(60) && vm.is_logged_on() =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    break Err(anyhow!(
                        "cannot connect to the mailstore pool {}: {e}",
                        self.pool
                    ));
                }
            }
        };
        let _ = self.tx.send(res);
        // The connection stands while this machine is logged on.
        while vm.is_logged_on() {
            if let Some(Interrupt::Shutdown | Interrupt::LoggedOff) =
                vm.next_interrupt(Duration::from_millis(500))
            {
                break;
            }
        }
        Ok(())
    }
}

/// Checks a system folder before anything is read from it: it exists, and no system runs in it.
pub fn check_stopped(dir: &Path) -> anyhow::Result<()> {
    if !dir.join("USER DIRECT").exists() {
        bail!(
            "{} is not a system folder (no USER DIRECT); give it with --system DIR",
            dir.display()
        );
    }
    if let Ok(lock) = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(".lock"))
        && lock.try_lock().is_err()
    {
        bail!(
            "the system in {} is running; import and export work on a stopped system: shut it down first with `vmimap shutdown --system {}` (and IPL it again afterwards)",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// IMAP CONFIG of a system folder (the defaults when the file is missing).
pub fn imap_config(dir: &Path) -> anyhow::Result<Config> {
    let path = dir.join(IMAP_CONFIG);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => default_text(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Config::parse(&text, &path).map_err(|e| anyhow!("{e}"))
}

/// Checks that `user` is a directory user and returns the userid.
pub fn directory_user(dir: &Path, user: &str) -> anyhow::Result<UserId> {
    let d = Directory::load(&dir.join("USER DIRECT")).map_err(|e| anyhow!("{e}"))?;
    let id = UserId::parse(user).map_err(|e| anyhow!("invalid userid {user:?}: {e}"))?;
    if d.get(&id).is_none() {
        bail!("{id} is not in the CP directory");
    }
    Ok(id)
}

/// The private system; shut down in order when dropped.
struct Up(Arc<System>);

impl Drop for Up {
    fn drop(&mut self) {
        self.0.request_shutdown("VMIMAP");
        self.0.wait();
    }
}

/// A stopped system brought up for the mailstore alone.
pub struct Offline {
    /// The mailstore.
    pub store: Mailstore,
    /// Set by SIGINT or SIGTERM: stop after the current step.
    pub stop: Arc<AtomicBool>,
    dir: PathBuf,
    // Last: the store's connection goes before the system shuts down.
    up: Up,
}

impl std::fmt::Debug for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Offline({})", self.dir.display())
    }
}

impl Offline {
    /// IPLs the stopped system in `dir` with only its file pool servers and a connection to the
    /// mailstore pool `pool`.
    pub fn open(dir: &Path, pool: &str, why: &str) -> anyhow::Result<Offline> {
        check_stopped(dir)?;
        let d = Directory::load(&dir.join("USER DIRECT")).map_err(|e| anyhow!("{e}"))?;
        let imap = UserId::parse(IMAP_USER)?;
        let program = d
            .get(&imap)
            .and_then(|e| e.ipl.as_ref())
            .map(|i| i.program.clone())
            .ok_or_else(|| anyhow!("the directory has no IMAP machine with an IPL statement"))?;
        let servers: Vec<UserId> = d
            .users
            .values()
            .filter(|e| {
                e.ipl
                    .as_ref()
                    .is_some_and(|i| i.program.eq_ignore_ascii_case("SFS"))
            })
            .map(|e| e.userid.clone())
            .collect();
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let mut reg = Registry::new();
        vm::sfs::server::register(&mut reg);
        let pool_name = pool.to_string();
        reg.register(&program, move |_| {
            Ok(Box::new(Connector {
                pool: pool_name.clone(),
                tx: tx.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            }) as Box<dyn Guest>)
        });
        let sys = System::ipl(
            dir,
            reg,
            IplOptions {
                echo: false,
                skip_startup: true,
            },
        )
        .with_context(|| format!("cannot IPL {} for {why}", dir.display()))?;
        let up = Up(sys.clone());
        sys.oplog(&format!(
            "vmimap {why}: system IPLed for the mailstore only (no startup machines)"
        ));
        for s in &servers {
            let e = sys
                .entry(s)
                .ok_or_else(|| anyhow!("{s} vanished from the directory"))?;
            let (vm, _) = sys
                .logon(e, LogonHow::Autolog { by: None })
                .map_err(|m| anyhow!("cannot log on the file pool server {s}: {m}"))?;
            if !vm.wait_ready(Duration::from_secs(60)) {
                bail!("the file pool server {s} did not become ready within 60 seconds");
            }
        }
        let e = sys
            .entry(&imap)
            .ok_or_else(|| anyhow!("IMAP vanished from the directory"))?;
        sys.logon(e, LogonHow::Autolog { by: None })
            .map_err(|m| anyhow!("cannot log on IMAP: {m}"))?;
        let sfs = rx.recv_timeout(Duration::from_secs(90)).map_err(|_| {
            anyhow!("no connection to the mailstore pool {pool} within 90 seconds")
        })??;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        sys.runtime().spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                flag.store(true, Ordering::SeqCst);
            }
        });
        Ok(Offline {
            store: Mailstore::new(sfs),
            stop,
            dir: dir.to_path_buf(),
            up,
        })
    }

    /// A user's mail; a clear error when the user is not enrolled.
    pub fn user(&self, user: &UserId) -> anyhow::Result<Arc<UserStore>> {
        match self.store.user(user) {
            Ok(u) => Ok(u),
            Err(StoreError::NotEnrolled(_)) => bail!(
                "{user} is not enrolled in the mailstore; enrol them first with `vmimap admin enroll {user}` while the system runs"
            ),
            Err(e) => Err(anyhow!("{e}")),
        }
    }

    /// Whether SIGINT or SIGTERM asked to stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A line in the operator's log.
    pub fn log(&self, line: &str) {
        self.up.0.oplog(line);
    }

    /// Shuts the system down in order and waits until it is down.
    pub fn close(self) {
        drop(self);
    }
}
