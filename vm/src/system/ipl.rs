//! IPL: creating a system folder on first use, and bringing a system up from it.

use std::{
    collections::{BTreeMap, HashMap},
    fs::{self, OpenOptions},
    io::Write,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, RwLock,
        atomic::{AtomicU32, AtomicU64},
    },
};

use anyhow::{Context, bail};
use spool::{Spool, SpoolOptions};

use super::{LogonHow, RunState, System, oplog::OpLog};
use crate::{
    clock,
    config::{self, SystemConfig},
    directory::{DefaultUser, Directory, default_directory},
    machine::Registry,
};

/// Name of the user directory file in the system folder.
pub const USER_DIRECT: &str = "USER DIRECT";
/// Name of the system configuration file.
pub const SYSTEM_CONFIG: &str = "SYSTEM CONFIG";
/// Name of the control socket.
pub const CONTROL_SOCKET: &str = "control.sock";
/// Name of the pid file written when the system is ready.
pub const PID_FILE: &str = "vmimap.pid";

/// What first IPL created: the generated passwords, to be shown once.
#[derive(Debug, Clone)]
pub struct FirstIpl {
    /// Userids and their new passwords.
    pub passwords: Vec<DefaultUser>,
}

/// Options of an IPL.
#[derive(Debug, Clone, Default)]
pub struct IplOptions {
    /// Echo the operator's log to standard output.
    pub echo: bool,
    /// Users to autolog at startup in addition to SYSTEM CONFIG's list is never needed; this lists
    /// startup users to *skip* (tests IPL a bare system this way).
    pub skip_startup: bool,
}

fn write_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Creates a system folder with working defaults: SYSTEM CONFIG if missing, and USER DIRECT with
/// generated passwords unless the folder already has one. Returns the passwords when it created
/// them. The folder is private to its owner (mode 0700).
pub fn create_system_folder(dir: &Path, startup: &[&str]) -> anyhow::Result<Option<FirstIpl>> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create system folder {}", dir.display()))?;
    // A folder prepared with its own USER DIRECT still gets the default SYSTEM CONFIG.
    if !dir.join(SYSTEM_CONFIG).exists() {
        write_new(
            &dir.join(SYSTEM_CONFIG),
            &config::default_text(startup),
            0o644,
        )?;
    }
    if dir.join(USER_DIRECT).exists() {
        return Ok(None);
    }
    let created = clock::TimeZone::default().isodate(clock::now());
    let (text, passwords) = default_directory("VMIMAP", &created);
    // Written last: its presence marks a complete folder.
    let tmp = dir.join("USER DIRECT.new");
    let _ = fs::remove_file(&tmp);
    write_new(&tmp, &text, 0o600)?;
    fs::rename(&tmp, dir.join(USER_DIRECT))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(Some(FirstIpl { passwords }))
}

impl System {
    /// IPLs the system in `dir`: reads SYSTEM CONFIG and USER DIRECT, warm-starts the spool,
    /// starts the control socket, logs on the operator and autologs the startup users.
    pub fn ipl(dir: &Path, programs: Registry, opts: IplOptions) -> anyhow::Result<Arc<System>> {
        let dir = dir.to_path_buf();
        if !dir.join(USER_DIRECT).exists() {
            bail!("{} is not a system folder (no USER DIRECT)", dir.display());
        }
        let lock = lock_system(&dir)?;
        let config =
            SystemConfig::load(&dir.join(SYSTEM_CONFIG)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let oplog = OpLog::open(&dir, opts.echo, config.timezone.clone());
        let now = clock::now();
        oplog.line(&format!(
            "vmimap {} IPL of system {} from {}",
            env!("CARGO_PKG_VERSION"),
            config.system_id,
            dir.display()
        ));
        let directory = match Directory::load(&dir.join(USER_DIRECT)) {
            Ok(d) => d,
            Err(e) => {
                oplog.line(&format!("HCPDIR1020E {e}"));
                bail!("{e}");
            }
        };
        oplog.line(&format!(
            "HCPDIR1021I USER DIRECT loaded: {} entries",
            directory.users.len()
        ));
        let spool_dir = dir.join("spool");
        fs::create_dir_all(&spool_dir)?;
        let (spool, report) = Spool::open(
            &spool_dir,
            SpoolOptions {
                max_file_bytes: config.spool.max_file_bytes,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("spool warm start failed: {e}"))?;
        oplog.line(&format!(
            "HCPWRS2513I Spool files available {:>8}",
            report.files
        ));
        oplog.line("HCPWRS2512I Spooling initialization is complete");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            // Guests run blocking work (file pool reads and commits, password hashes) off the
            // async threads; a bounded pool keeps a burst of clients from making hundreds of
            // threads.
            .max_blocking_threads(64)
            .thread_name("vmimap-io")
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let sys = Arc::new(System {
            dir: dir.clone(),
            config,
            directory: RwLock::new(Arc::new(directory)),
            spool,
            vms: RwLock::new(BTreeMap::new()),
            programs,
            runtime,
            ipl_time: now,
            generation: AtomicU64::new(0),
            term_seq: AtomicU32::new(0),
            threads: Mutex::new(HashMap::new()),
            state: Mutex::new(RunState::Up),
            state_cv: Condvar::new(),
            oplog,
            lock: Mutex::new(Some(lock)),
            iucv: Default::default(),
            spl_reported: Mutex::new(HashMap::new()),
            pools: RwLock::new(BTreeMap::new()),
            tcp: RwLock::new(None),
            taps: Mutex::new(HashMap::new()),
        });
        crate::terminal::serve(&sys, &dir.join(CONTROL_SOCKET))?;
        sys.oplog("z/VM Version 7 Release 3.0, Service Level 2401 (64-bit),");
        sys.oplog(&format!(
            "built on vmimap {} (service-level emulation)",
            env!("CARGO_PKG_VERSION")
        ));
        let op = sys.config.operator.clone();
        match sys.entry(&op) {
            Some(e) => {
                if let Err(m) = sys.logon(e, LogonHow::Autolog { by: None }) {
                    sys.oplog(&m.to_string());
                }
            }
            None => sys.oplog(&format!(
                "HCPDIR1022W Operator {op} is not in the directory"
            )),
        }
        if !opts.skip_startup {
            for u in sys.config.startup.clone() {
                match sys.entry(&u) {
                    Some(e) => match sys.logon(e, LogonHow::Autolog { by: None }) {
                        // Each startup machine is ready before the next starts (the file pool
                        // server before the machines that use it).
                        Ok((vm, _)) => {
                            if !vm.wait_ready(std::time::Duration::from_secs(60)) {
                                sys.oplog(&format!(
                                    "HCPIPL9002W {u} did not become ready within 60 seconds"
                                ));
                            }
                        }
                        Err(m) => sys.oplog(&m.to_string()),
                    },
                    None => sys.oplog(&format!(
                        "HCPDIR1022W Startup user {u} is not in the directory"
                    )),
                }
            }
        }
        let pid = std::process::id();
        let pid_path = dir.join(PID_FILE);
        let tmp = dir.join("vmimap.pid.new");
        fs::write(&tmp, format!("{pid}\n"))?;
        fs::rename(&tmp, &pid_path)?;
        sys.oplog(&format!(
            "HCPIPL9000I System {} ready: {} users logged on; console socket {}",
            sys.config.system_id,
            sys.users(),
            dir.join(CONTROL_SOCKET).display()
        ));
        Ok(sys)
    }

    /// Blocks until the system has shut down.
    pub fn wait(&self) {
        let mut s = self.state.lock().unwrap();
        while *s != RunState::Down {
            s = self.state_cv.wait(s).unwrap();
        }
    }

    /// The path of the control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.dir.join(CONTROL_SOCKET)
    }
}

/// Takes the system folder's lock: one running system per folder.
fn lock_system(dir: &Path) -> anyhow::Result<fs::File> {
    let path = dir.join(".lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    if f.try_lock().is_err() {
        let pid = fs::read_to_string(dir.join(PID_FILE)).unwrap_or_default();
        bail!(
            "the system in {} is already IPLed{}",
            dir.display(),
            match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            }
        );
    }
    Ok(f)
}
