//! The handle a guest program holds on its virtual machine.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use spool::{SpoolFile, UserId};

use super::{System, spoolops};
use crate::{
    cp::{self, CpResponse, messages::CpMsg},
    directory::UserEntry,
    machine::{DevRef, Interrupt, OutKind, VirtualMachine},
};

/// A reader file with its records.
pub type ReaderFile = (SpoolFile, Vec<Vec<u8>>);

/// Tells whether a virtual machine is still logged on.
#[derive(Debug, Clone)]
pub struct LogonWatch(Arc<VirtualMachine>);

impl LogonWatch {
    /// Whether the machine is still logged on.
    pub fn is_logged_on(&self) -> bool {
        !self.0.is_logged_off()
    }

    /// Makes an async task belong to the machine: it is aborted when the machine logs off.
    pub fn track(&self, task: tokio::task::AbortHandle) {
        if self.0.is_logged_off() {
            task.abort();
            return;
        }
        let mut g = self.0.lock();
        g.tasks.retain(|t| !t.is_finished());
        g.tasks.push(task);
    }
}

/// What a guest program sees of its virtual machine: CP commands with its own privileges, its
/// unit-record devices, its interrupt queue and the system's async runtime.
pub struct VmHandle {
    pub(crate) sys: Arc<System>,
    pub(crate) vm: Arc<VirtualMachine>,
    rx: Receiver<Interrupt>,
}

impl std::fmt::Debug for VmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VmHandle({})", self.vm.userid)
    }
}

impl VmHandle {
    pub(crate) fn new(sys: Arc<System>, vm: Arc<VirtualMachine>, rx: Receiver<Interrupt>) -> Self {
        VmHandle { sys, vm, rx }
    }

    /// This machine's userid.
    pub fn userid(&self) -> &UserId {
        &self.vm.userid
    }

    /// This machine's directory entry.
    pub fn entry(&self) -> &UserEntry {
        &self.vm.entry
    }

    /// The system name (as in `QUERY USERID`).
    pub fn system_name(&self) -> &str {
        &self.sys.config().system_id
    }

    /// The system's time zone.
    pub fn tz(&self) -> &crate::clock::TimeZone {
        self.sys.tz()
    }

    /// Issues a CP command with this machine's privileges; CP's response lines and return code.
    pub fn cp(&self, command: &str) -> CpResponse {
        cp::execute(&self.sys, &self.vm, command)
    }

    /// The interrupt queue.
    pub fn interrupts(&self) -> &Receiver<Interrupt> {
        &self.rx
    }

    /// Waits up to `timeout` for the next interrupt. `None` on timeout; a logged-off machine
    /// yields [`Interrupt::LoggedOff`].
    pub fn next_interrupt(&self, timeout: Duration) -> Option<Interrupt> {
        match self.rx.recv_timeout(timeout) {
            Ok(i) => Some(i),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Interrupt::LoggedOff),
        }
    }

    /// Whether the machine is still logged on.
    pub fn is_logged_on(&self) -> bool {
        !self.vm.is_logged_off()
    }

    /// Tells CP the program is ready for work (see [`crate::machine::Guest::signals_ready`]).
    pub fn ready(&self) {
        self.vm.set_ready();
    }

    /// A cheap, cloneable observer of whether the machine is still logged on (for a guest's
    /// helper threads).
    pub fn watch(&self) -> LogonWatch {
        LogonWatch(self.vm.clone())
    }

    /// Writes a line to the virtual console.
    pub fn console(&self, line: &str) {
        self.vm.console(line);
    }

    /// Declares whether the guest reads console input (lines typed at a terminal are then queued
    /// as [`Interrupt::Console`]; otherwise CP executes them).
    pub fn set_reads_console(&self, on: bool) {
        self.vm.lock().reads_console = on;
    }

    /// Writes a record (a card image) to the first punch.
    pub fn punch(&self, record: Vec<u8>) -> Result<(), CpMsg> {
        spoolops::write_record(&self.sys, &self.vm, DevRef::Kind(OutKind::Punch), record)
    }

    /// Writes a line to the first printer.
    pub fn print(&self, record: Vec<u8>) -> Result<(), CpMsg> {
        spoolops::write_record(&self.sys, &self.vm, DevRef::Kind(OutKind::Printer), record)
    }

    /// Ends the file being written on a device, as a guest's end-of-file would: ignored while the
    /// device has CONT set (unless the file is purged). Returns CP's response lines.
    pub fn close_device(
        &self,
        dev: DevRef,
        opts: &spoolops::CloseOpts,
    ) -> Result<Vec<String>, CpMsg> {
        let cont = {
            let g = self.vm.lock();
            g.devices
                .output_index(dev)
                .is_some_and(|i| g.devices.outputs[i].cont)
        };
        if cont && !opts.purge {
            return Ok(Vec::new());
        }
        spoolops::close_output(&self.sys, &self.vm, dev, opts)
    }

    /// Opens the next eligible reader file (first in queue order that matches the reader class
    /// and is not held) and returns it with its records; `None` when the reader is empty.
    pub fn read_next(&self) -> Result<Option<ReaderFile>, CpMsg> {
        spoolops::reader_open(&self.sys, &self.vm)
    }

    /// Ends the reader file: it is purged unless `hold` (or SPOOL RDR HOLD/KEEP, or the file's
    /// KEEP) keeps it.
    pub fn close_reader(&self, hold: bool) -> Result<(), CpMsg> {
        spoolops::reader_close(&self.sys, &self.vm, hold).map(|_| ())
    }

    /// Runs a future on the system's runtime as a task of this machine: it is aborted when the
    /// machine logs off.
    pub fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = self.sys.runtime().spawn(fut);
        let mut g = self.vm.lock();
        g.tasks.retain(|t| !t.is_finished());
        g.tasks.push(h.abort_handle());
        h
    }

    /// The system's async runtime.
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.sys.runtime()
    }

    /// The path of a configuration file in the system folder (`VMSERVS DMSPARMS`, `IMAP CONFIG`…).
    pub fn config_path(&self, name: &str) -> PathBuf {
        self.sys.config_path(name)
    }

    /// The text of a configuration file; if it does not exist it is created with `default`.
    pub fn config_or_default(&self, name: &str, default: &str) -> anyhow::Result<String> {
        let p = self.config_path(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let tmp = p.with_extension("new");
                std::fs::write(&tmp, default)?;
                std::fs::rename(&tmp, &p)?;
                Ok(default.to_string())
            }
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", p.display())),
        }
    }

    /// Offers a file pool to the system (file pool servers).
    pub fn sfs_register(&self, pool: Arc<crate::sfs::Pool>) {
        self.sys.sfs_register(&self.vm, pool);
    }

    /// Connects to a file pool (over IUCV to its server; checked against the directory and the
    /// pool's connection rule).
    pub fn sfs_connect(&self, pool: &str) -> Result<crate::sfs::SfsClient, crate::sfs::DmsError> {
        self.sys.sfs_connect(&self.vm, pool)
    }

    /// Offers this machine's TCP/IP stack to the system (the TCPIP guest).
    pub fn tcp_register(&self, stack: Arc<dyn crate::tcp::TcpStack>) {
        self.sys.tcp_register(&self.vm, stack);
    }

    /// Listens on a TCP port through the TCP/IP stack.
    pub fn tcp_listen(&self, port: u16) -> Result<crate::tcp::TcpListener, crate::tcp::TcpError> {
        self.sys.tcp_listen(&self.vm, port)
    }

    /// NETSTAT: open connections and listeners of the TCP/IP stack.
    #[allow(clippy::type_complexity)]
    pub fn tcp_netstat(
        &self,
    ) -> Result<
        (
            Vec<crate::tcp::ConnInfo>,
            Vec<(u16, UserId, std::net::SocketAddr)>,
        ),
        crate::tcp::TcpError,
    > {
        self.sys.tcp_netstat()
    }

    /// Waits up to `timeout` for another machine's program to be ready (a stack waits for the
    /// servers it autologs). False if it is not logged on or not ready in time.
    pub fn wait_ready_of(&self, user: &UserId, timeout: Duration) -> bool {
        self.sys.vm(user).is_some_and(|v| v.wait_ready(timeout))
    }

    /// The system's file pools: (pool, server, available).
    pub fn sfs_pools(&self) -> Vec<(crate::sfs::PoolName, UserId, bool)> {
        self.sys.sfs_pools()
    }

    /// A host folder private to this machine for its virtual DASD.
    pub fn dasd_dir(&self) -> PathBuf {
        self.sys.dasd_dir(&self.vm.userid)
    }

    /// DIAGNOSE X'88' (validate a userid and password): whether `password` is the logon password
    /// of `user` in the directory. Only a machine whose directory entry has `OPTION DIAG88` may
    /// ask (`Err` otherwise). An unknown user, a user without a password (AUTOONLY, NOLOG…) and a
    /// wrong password all answer `Ok(false)` after the same amount of work, so neither the
    /// answer nor its timing tells which. This is a password hash check: it takes tens of
    /// milliseconds of CPU, so async callers run it on a blocking thread.
    pub fn diag88(&self, user: &str, password: &str) -> Result<bool, String> {
        if !self.vm.entry.options.iter().any(|o| o == "DIAG88") {
            return Err(format!(
                "DIAGNOSE X'88' is not authorized for {} (its directory entry needs OPTION DIAG88)",
                self.vm.userid
            ));
        }
        let entry = UserId::parse(user).ok().and_then(|u| self.sys.entry(&u));
        match entry {
            Some(e) if e.password.allows_password_logon() => Ok(e.password.verify(password)),
            _ => {
                crate::directory::password::dummy_verify(password);
                Ok(false)
            }
        }
    }

    /// Whether `user` has an entry in the CP directory.
    pub fn in_directory(&self, user: &UserId) -> bool {
        self.sys.entry(user).is_some()
    }

    /// Every userid in the CP directory.
    pub fn directory_users(&self) -> Vec<UserId> {
        self.sys.directory().users.keys().cloned().collect()
    }

    /// Another user's directory entry (a service machine's policy may depend on its classes).
    pub fn directory_entry(&self, user: &UserId) -> Option<Arc<UserEntry>> {
        self.sys.entry(user)
    }
}
