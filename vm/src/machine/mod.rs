//! Virtual machines: the CP-side state of a logged-on user and the contract guest programs run
//! under.

pub mod devices;
mod guest;
mod interrupt;

use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicBool, Ordering},
};

use crossbeam_channel::{Receiver, Sender};
pub use devices::{DevRef, Devices, OutKind, OutputDev, ReaderDev};
pub use guest::{Guest, GuestFactory, Registry};
pub use interrupt::Interrupt;
use spool::UserId;

use crate::{clock::Epoch, directory::UserEntry, privilege::PrivClasses};

/// How a class of messages is received (SET MSG/WNG/SMSG/IMSG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgMode {
    /// Displayed on the console.
    On,
    /// Not received.
    Off,
    /// Delivered to a program through the `*MSG` service.
    Iucv,
}

/// How error messages are displayed (SET EMSG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmsgMode {
    /// Message id and text.
    On,
    /// Nothing.
    Off,
    /// Message id only.
    Code,
    /// Text only.
    Text,
    /// Delivered through `*MSG`.
    Iucv,
}

/// The SET options of a virtual machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// SET MSG.
    pub msg: MsgMode,
    /// SET WNG.
    pub wng: MsgMode,
    /// SET SMSG (default OFF).
    pub smsg: MsgMode,
    /// SET IMSG: informational messages such as file arrivals.
    pub imsg: MsgMode,
    /// SET EMSG.
    pub emsg: EmsgMode,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            msg: MsgMode::On,
            wng: MsgMode::On,
            smsg: MsgMode::Off,
            imsg: MsgMode::On,
            emsg: EmsgMode::On,
        }
    }
}

/// Output for an attached terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermEvent {
    /// A console line.
    Line(String),
    /// The terminal was detached from the virtual machine (DISCONNECT, or another terminal took
    /// it over).
    Detached(String),
    /// The virtual machine was logged off.
    LoggedOff,
    /// Input line `n` of the terminal has been dealt with. It travels behind the line's output
    /// on the same channel, so a client never sees "done" before the output it belongs to.
    Done(u64),
}

/// A terminal attached to a virtual machine.
#[derive(Debug, Clone)]
pub struct Terminal {
    /// Terminal id shown by QUERY NAMES, e.g. `L0003`.
    pub id: String,
    /// Where console output goes.
    pub tx: Sender<TermEvent>,
}

/// Mutable state of a virtual machine.
#[derive(Debug)]
pub struct VmInner {
    /// Unit-record devices.
    pub devices: Devices,
    /// SET options.
    pub settings: Settings,
    /// The attached terminal; `None` when disconnected.
    pub terminal: Option<Terminal>,
    /// Whether the guest reads console input (CMS does); otherwise input goes to CP.
    pub reads_console: bool,
    /// Async tasks owned by this virtual machine, aborted at logoff.
    pub tasks: Vec<tokio::task::AbortHandle>,
    /// The guest program's thread, if one runs.
    pub guest_thread: Option<std::thread::ThreadId>,
}

/// A logged-on virtual machine (or a transient one, for a host command issued as a user who is not
/// logged on).
#[derive(Debug)]
pub struct VirtualMachine {
    /// Userid.
    pub userid: UserId,
    /// Its directory entry at logon.
    pub entry: Arc<UserEntry>,
    /// Privilege classes.
    pub classes: PrivClasses,
    /// When it logged on.
    pub logon_time: Epoch,
    /// A transient machine exists only for one host command; it is never in the logged-on table.
    pub transient: bool,
    /// Distinguishes successive logons of the same userid.
    pub generation: u64,
    inner: Mutex<VmInner>,
    interrupts: Sender<Interrupt>,
    logged_off: AtomicBool,
    ready: (Mutex<bool>, std::sync::Condvar),
    console_log: Mutex<Option<(std::fs::File, crate::clock::TimeZone)>>,
}

impl VirtualMachine {
    /// A new virtual machine for `entry`; returns it and the receiving end of its interrupt queue.
    pub fn new(
        entry: Arc<UserEntry>,
        logon_time: Epoch,
        transient: bool,
        generation: u64,
    ) -> (VirtualMachine, Receiver<Interrupt>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (
            VirtualMachine {
                userid: entry.userid.clone(),
                classes: entry.classes,
                inner: Mutex::new(VmInner {
                    devices: Devices::from_directory(&entry),
                    settings: Settings::default(),
                    terminal: None,
                    reads_console: false,
                    tasks: Vec::new(),
                    guest_thread: None,
                }),
                entry,
                logon_time,
                transient,
                generation,
                interrupts: tx,
                logged_off: AtomicBool::new(false),
                ready: (Mutex::new(false), std::sync::Condvar::new()),
                console_log: Mutex::new(None),
            },
            rx,
        )
    }

    /// Locks the mutable state.
    pub fn lock(&self) -> MutexGuard<'_, VmInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an interrupt for the guest.
    pub fn interrupt(&self, i: Interrupt) {
        let _ = self.interrupts.send(i);
    }

    /// Whether the machine has been logged off.
    pub fn is_logged_off(&self) -> bool {
        self.logged_off.load(Ordering::Acquire)
    }

    /// Marks the machine logged off; returns false if it already was.
    pub(crate) fn mark_logged_off(&self) -> bool {
        !self.logged_off.swap(true, Ordering::AcqRel)
    }

    /// Sets the file that receives console output while no terminal is attached (the system's
    /// `logs/USERID.console`), so a disconnected service machine's messages are kept.
    pub fn set_console_log(&self, file: std::fs::File, tz: crate::clock::TimeZone) {
        *self.console_log.lock().unwrap() = Some((file, tz));
    }

    /// Marks the guest ready for work (or ended).
    pub fn set_ready(&self) {
        *self.ready.0.lock().unwrap() = true;
        self.ready.1.notify_all();
    }

    /// Waits up to `timeout` for the guest to be ready; returns whether it is.
    pub fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        let g = self.ready.0.lock().unwrap();
        let (g, _) = self
            .ready
            .1
            .wait_timeout_while(g, timeout, |r| !*r && !self.is_logged_off())
            .unwrap();
        *g
    }

    /// Whether console spooling is started (SPOOL CONSOLE START).
    pub fn console_spooled(&self) -> bool {
        self.lock().devices.console().is_some_and(|c| c.started)
    }

    /// Whether a terminal is attached.
    pub fn is_connected(&self) -> bool {
        self.lock().terminal.is_some()
    }

    /// Writes a line to the virtual console: to the attached terminal and, if console spooling is
    /// started, into the console spool file.
    pub fn console(&self, line: &str) {
        let mut g = self.lock();
        if let Some(con) = g.devices.console()
            && con.started
            && let Some(open) = con.open.as_mut()
        {
            open.bytes += line.len() as u64;
            open.records.push(line.as_bytes().to_vec());
        }
        let term_on = g.devices.console().is_none_or(|c| !c.started || c.term);
        match &g.terminal {
            Some(t) if term_on => {
                let _ = t.tx.send(TermEvent::Line(line.to_string()));
            }
            Some(_) => {}
            None => {
                drop(g);
                if let Some((f, tz)) = self.console_log.lock().unwrap().as_mut() {
                    use std::io::Write;
                    let _ = writeln!(f, "{} {line}", tz.hhmmss(crate::clock::now()));
                }
            }
        }
    }
}
