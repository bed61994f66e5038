//! A small CMS for interactive users: it reads the console, runs CMS commands against the user's
//! accessed disks and the virtual reader and punch, and passes anything else to CP (as CMS's
//! IMPCP does). Output ends with CMS's `Ready;` line.

mod commands;
pub mod disk;
pub mod fileid;
pub mod sfsdisk;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use disk::{CmsDisk, Minidisk};

use crate::{
    clock,
    directory::Ipl,
    machine::{Guest, Interrupt, Registry},
    system::VmHandle,
};

/// Registers CMS as the guest program `CMS`.
pub fn register(reg: &mut Registry) {
    reg.register("CMS", |_ipl: &Ipl| Ok(Box::new(Cms) as Box<dyn Guest>));
}

/// The CMS guest program.
#[derive(Debug)]
pub struct Cms;

/// The state of one CMS session.
#[derive(Debug)]
pub struct CmsEnv<'a> {
    /// The virtual machine.
    pub vm: &'a VmHandle,
    /// Accessed disks by mode letter.
    pub disks: BTreeMap<char, Box<dyn CmsDisk>>,
    /// Connections to file pools, made when first needed.
    pub sfs: BTreeMap<crate::sfs::PoolName, Arc<crate::sfs::SfsClient>>,
    /// The file pool a directory id without a pool refers to (`IPL CMS PARM FILEPOOL x`, else
    /// VMSYSU).
    pub default_pool: crate::sfs::PoolName,
}

impl CmsEnv<'_> {
    /// Writes a line to the console.
    pub fn say(&self, line: &str) {
        self.vm.console(line);
    }

    /// The disk at `letter`, if accessed.
    pub fn disk(&self, letter: char) -> Option<&dyn CmsDisk> {
        self.disks.get(&letter).map(|d| d.as_ref())
    }

    /// The connection to `pool`, made on first use.
    pub fn sfs(
        &mut self,
        pool: &crate::sfs::PoolName,
    ) -> Result<Arc<crate::sfs::SfsClient>, crate::sfs::DmsError> {
        // A connection the server severed (it was restarted) is made again.
        if let Some(c) = self.sfs.get(pool)
            && c.connected()
        {
            return Ok(c.clone());
        }
        let c = Arc::new(self.vm.sfs_connect(pool.as_str())?);
        self.sfs.insert(pool.clone(), c.clone());
        Ok(c)
    }

    /// Parses a directory id with this session's default pool.
    pub fn dirid(&self, text: &str) -> Result<crate::sfs::DirId, crate::sfs::DmsError> {
        crate::sfs::DirId::parse(text, &self.default_pool)
    }

    /// The first accessed disk (in A–Z order) that holds `fname ftype`, for fm `*`.
    pub fn find(&self, fname: &str, ftype: &str) -> Option<char> {
        self.disks
            .iter()
            .find(|(_, d)| matches!(d.read(fname, ftype), Ok(Some(_))))
            .map(|(l, _)| *l)
    }
}

impl Guest for Cms {
    fn reads_console(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let default_pool = vm
            .entry()
            .ipl
            .as_ref()
            .and_then(|i| i.parm.as_deref())
            .and_then(|p| {
                let mut w = p.split_whitespace();
                while let Some(t) = w.next() {
                    if t.eq_ignore_ascii_case("FILEPOOL") {
                        return w.next().map(str::to_string);
                    }
                }
                None
            })
            .and_then(|p| crate::sfs::PoolName::parse(&p).ok())
            .unwrap_or_else(|| crate::sfs::PoolName::parse("VMSYSU").unwrap());
        let mut env = CmsEnv {
            vm: &vm,
            disks: BTreeMap::new(),
            sfs: BTreeMap::new(),
            default_pool,
        };
        vm.console(&format!(
            "z/VM V7.3.0    vmimap CMS {}",
            env!("CARGO_PKG_VERSION")
        ));
        if let Some(md) = vm.entry().mdisks.iter().min_by_key(|m| m.vdev).cloned() {
            let dir = vm.dasd_dir().join(format!("{:04X}", md.vdev));
            let rw = md.mode.starts_with('M') || md.mode.starts_with('W');
            match Minidisk::open(&dir, md.vdev, &md.volser, rw) {
                Ok(d) => {
                    env.say(&format!(
                        "DMSACP723I A ({:03X}) {}",
                        md.vdev,
                        if rw { "R/W" } else { "R/O" }
                    ));
                    env.disks.insert('A', Box::new(d));
                }
                Err(e) => env.say(&format!("DMSACC113S A (191) not attached: {e}")),
            }
        }
        ready(&env, 0);
        loop {
            match vm.next_interrupt(Duration::from_secs(3600)) {
                Some(Interrupt::Console { line, done }) => {
                    let rc = commands::execute(&mut env, &line);
                    if vm.is_logged_on() {
                        ready(&env, rc);
                    }
                    if let Some(d) = done {
                        let _ = d.send(());
                    }
                    if !vm.is_logged_on() {
                        return Ok(());
                    }
                }
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => return Ok(()),
                Some(_) | None => {
                    if !vm.is_logged_on() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// CMS's ready line: `Ready;` or `Ready(rc);` with the virtual and total CPU time and the time.
fn ready(env: &CmsEnv<'_>, rc: i32) {
    let t = env.vm.tz().hhmmss(clock::now());
    if rc == 0 {
        env.say(&format!("Ready; T=0.01/0.01 {t}"));
    } else {
        env.say(&format!("Ready({rc:05}); T=0.01/0.01 {t}"));
    }
}
