//! The running system: one per IPL. It owns the directory, the spool, the table of logged-on
//! virtual machines, the guest program registry, the async runtime and the operator's log.

mod handle;
mod handle_iucv;
mod ipl;
mod iucv;
mod logon;
mod oplog;
mod sfs;
mod shutdown;
mod spl;
pub mod spoolops;
pub mod taps;
mod tcp;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, RwLock,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

pub use handle::{LogonWatch, VmHandle};
pub use ipl::{
    CONTROL_SOCKET, FirstIpl, IplOptions, PID_FILE, SYSTEM_CONFIG, USER_DIRECT,
    create_system_folder,
};
pub use logon::{LogoffWhy, LogonHow};
pub use spl::SplClient;
use spool::{Spool, UserId};

use crate::{
    clock::{Epoch, TimeZone},
    config::SystemConfig,
    directory::{Directory, UserEntry},
    machine::{Registry, VirtualMachine},
};

/// Where the system is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Running.
    Up,
    /// SHUTDOWN has started.
    ShuttingDown,
    /// Everything is logged off and the spool checkpointed.
    Down,
}

/// The system of one IPL.
pub struct System {
    dir: PathBuf,
    config: SystemConfig,
    directory: RwLock<Arc<Directory>>,
    spool: Spool,
    vms: RwLock<BTreeMap<UserId, Arc<VirtualMachine>>>,
    programs: Registry,
    runtime: tokio::runtime::Runtime,
    ipl_time: Epoch,
    generation: AtomicU64,
    term_seq: AtomicU32,
    threads: Mutex<HashMap<UserId, (u64, JoinHandle<()>)>>,
    state: Mutex<RunState>,
    state_cv: Condvar,
    oplog: oplog::OpLog,
    lock: Mutex<Option<std::fs::File>>,
    pub(crate) iucv: crate::iucv::IucvTable,
    spl_reported: Mutex<HashMap<UserId, std::collections::HashSet<u64>>>,
    pools: RwLock<BTreeMap<crate::sfs::PoolName, sfs::PoolReg>>,
    tcp: RwLock<Option<tcp::StackReg>>,
    taps: Mutex<HashMap<UserId, Vec<taps::TapSender>>>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "System({})", self.config.system_id)
    }
}

impl System {
    /// The system folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SYSTEM CONFIG as read at IPL.
    pub fn config(&self) -> &SystemConfig {
        &self.config
    }

    /// The time zone of displayed times.
    pub fn tz(&self) -> &TimeZone {
        &self.config.timezone
    }

    /// When the system was IPLed.
    pub fn ipl_time(&self) -> Epoch {
        self.ipl_time
    }

    /// The current directory.
    pub fn directory(&self) -> Arc<Directory> {
        self.directory.read().unwrap().clone()
    }

    /// The directory entry of `userid`.
    pub fn entry(&self, userid: &UserId) -> Option<Arc<UserEntry>> {
        self.directory().get(userid).cloned()
    }

    /// The spool.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The guest program registry.
    pub fn programs(&self) -> &Registry {
        &self.programs
    }

    /// A handle on the async runtime that network guests use.
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    /// The logged-on virtual machine `userid`, if any.
    pub fn vm(&self, userid: &UserId) -> Option<Arc<VirtualMachine>> {
        self.vms.read().unwrap().get(userid).cloned()
    }

    /// All logged-on virtual machines, by userid.
    pub fn logged_on(&self) -> Vec<Arc<VirtualMachine>> {
        self.vms.read().unwrap().values().cloned().collect()
    }

    /// Number of logged-on users.
    pub fn users(&self) -> usize {
        self.vms.read().unwrap().len()
    }

    /// The run state.
    pub fn run_state(&self) -> RunState {
        *self.state.lock().unwrap()
    }

    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A new terminal id (`L0001`, `L0002`, …).
    pub fn next_terminal_id(&self) -> String {
        format!("L{:04X}", self.term_seq.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Writes a line to the operator's log (and the OPERATOR console, if connected).
    pub fn oplog(&self, line: &str) {
        self.oplog.line(line);
        if let Some(op) = self.vm(&self.config.operator) {
            op.console(line);
        }
    }

    /// The path of a configuration file in the system folder (e.g. `VMSERVS DMSPARMS`).
    pub fn config_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A host folder private to `userid` for its virtual DASD (minidisks, file pool storage).
    pub fn dasd_dir(&self, userid: &UserId) -> PathBuf {
        self.dir.join("dasd").join(userid.as_str())
    }
}
