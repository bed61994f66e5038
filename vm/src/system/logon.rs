//! LOGON, AUTOLOG, LOGOFF, FORCE, DISCONNECT and reconnect.

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use super::{RunState, System, VmHandle, spoolops};
use crate::{
    clock,
    cp::{
        format,
        messages::{self, CpMsg},
    },
    directory::UserEntry,
    machine::{DevRef, Interrupt, TermEvent, Terminal, VirtualMachine},
};

/// How a virtual machine is being logged on.
#[derive(Debug, Clone)]
pub enum LogonHow {
    /// From a terminal (the password has been checked, or the terminal is trusted).
    Terminal(Terminal),
    /// AUTOLOG/XAUTOLOG (by a user) or by CP itself at IPL (`by: None`); runs disconnected.
    Autolog {
        /// The issuer.
        by: Option<spool::UserId>,
    },
}

/// Why a virtual machine is logged off.
#[derive(Debug, Clone)]
pub enum LogoffWhy {
    /// The user's own LOGOFF (or its guest program ended).
    Own,
    /// FORCE by another user.
    Forced(String),
    /// System shutdown.
    Shutdown,
}

impl System {
    /// Logs on a virtual machine for `entry` and IPLs its guest program. Returns the machine and
    /// the logon lines (a terminal logon has already been sent them, before the guest started).
    pub fn logon(
        self: &Arc<Self>,
        entry: Arc<UserEntry>,
        how: LogonHow,
    ) -> Result<(Arc<VirtualMachine>, Vec<String>), CpMsg> {
        if self.run_state() != RunState::Up {
            return Err(messages::shutting_down());
        }
        if !entry.password.allows_logon() {
            return Err(messages::logon_failed());
        }
        let now = clock::now();
        let (vm, rx) = VirtualMachine::new(entry.clone(), now, false, self.next_generation());
        let vm = Arc::new(vm);
        if let Ok(f) = std::fs::OpenOptions::new().create(true).append(true).open(
            self.dir
                .join("logs")
                .join(format!("{}.console", entry.userid)),
        ) {
            vm.set_console_log(f, self.tz().clone());
        }
        {
            let mut vms = self.vms.write().unwrap();
            if vms.contains_key(&entry.userid) {
                return Err(messages::already_logged_on(entry.userid.as_str()));
            }
            vms.insert(entry.userid.clone(), vm.clone());
        }
        let users = self.users();
        let mut lines = Vec::new();
        match &how {
            LogonHow::Terminal(t) => {
                vm.lock().terminal = Some(t.clone());
                lines.push("z/VM Version 7 Release 3.0, Service Level 2401 (64-bit),".into());
                lines.push(format!(
                    "built on vmimap {} (service-level emulation)",
                    env!("CARGO_PKG_VERSION")
                ));
                lines.push("There is no logmsg data".into());
                lines.push(self.files_line(&entry.userid));
                lines.push(format!("LOGON AT {}", self.tz().stamp(now)));
                self.oplog(&format!(
                    "GRAF {} LOGON  AS  {} USERS = {users}",
                    t.id,
                    entry.userid.padded()
                ));
            }
            LogonHow::Autolog { by } => {
                let by = by.as_ref().map(|b| format!("  BY {b}")).unwrap_or_default();
                self.oplog(&format!(
                    "AUTO LOGON  ***       {} USERS = {users}{by}",
                    entry.userid.padded()
                ));
            }
        }
        // The terminal gets the logon lines before the guest can write anything.
        let term_tx = match &how {
            LogonHow::Terminal(t) => Some(t.tx.clone()),
            LogonHow::Autolog { .. } => None,
        };
        let say = |lines: &[String]| {
            if let Some(tx) = &term_tx {
                for l in lines {
                    let _ = tx.send(crate::machine::TermEvent::Line(l.clone()));
                }
            }
        };
        say(&lines);
        let shown = lines.len();
        if let Some(ipl) = entry.ipl.clone() {
            match self.programs.get(&ipl.program) {
                Some(factory) => match factory(&ipl) {
                    Ok(guest) => self.start_guest(&vm, rx, guest),
                    Err(e) => {
                        let m = messages::ipl_failed(&format!("{} ({e})", ipl.program));
                        self.oplog(&format!("{} for {}", m, entry.userid));
                        lines.push(m.to_string());
                    }
                },
                None => {
                    let m = messages::ipl_failed(&ipl.program);
                    self.oplog(&format!("{} for {}", m, entry.userid));
                    lines.push(m.to_string());
                }
            }
        }
        // No program runs (none named, none registered, or it failed to load): ready at once.
        if vm.lock().guest_thread.is_none() {
            vm.set_ready();
        }
        say(&lines[shown..]);
        Ok((vm, lines))
    }

    fn start_guest(
        self: &Arc<Self>,
        vm: &Arc<VirtualMachine>,
        rx: crossbeam_channel::Receiver<Interrupt>,
        guest: Box<dyn crate::machine::Guest>,
    ) {
        vm.lock().reads_console = guest.reads_console();
        if !guest.signals_ready() {
            vm.set_ready();
        }
        let sys = self.clone();
        let vm2 = vm.clone();
        let name = vm.userid.to_string();
        let handle = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                let h = VmHandle::new(sys.clone(), vm2.clone(), rx);
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guest.run(h)));
                match res {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => sys.oplog(&format!(
                        "HCPGIR1030E Guest program of {} ended with an error: {e:#}",
                        vm2.userid
                    )),
                    Err(_) => sys.oplog(&format!(
                        "HCPGIR1031E Guest program of {} failed (program check)",
                        vm2.userid
                    )),
                }
                vm2.set_ready();
                if !vm2.is_logged_off() {
                    sys.logoff(&vm2, LogoffWhy::Own);
                }
            })
            .expect("cannot start a guest thread");
        vm.lock().guest_thread = Some(handle.thread().id());
        self.threads
            .lock()
            .unwrap()
            .insert(vm.userid.clone(), (vm.generation, handle));
    }

    /// The `FILES:` line for `userid`.
    pub fn files_line(&self, userid: &spool::UserId) -> String {
        let n = |q| self.spool.view(|t| t.queue(userid, q).len());
        format::files_line(
            n(spool::Queue::Rdr),
            n(spool::Queue::Prt),
            n(spool::Queue::Pun),
        )
    }

    /// Logs a virtual machine off: closes its open spool files, tells its guest, its terminal and
    /// the operator. Returns the lines the user sees (already sent to its terminal).
    pub fn logoff(self: &Arc<Self>, vm: &Arc<VirtualMachine>, why: LogoffWhy) -> Vec<String> {
        if !vm.mark_logged_off() {
            return Vec::new();
        }
        let now = clock::now();
        // Close every open output file, as LOGOFF does on CP.
        let mut lines = Vec::new();
        let vdevs: Vec<u16> = vm
            .lock()
            .devices
            .outputs
            .iter()
            .filter(|o| o.open.is_some())
            .map(|o| o.vdev)
            .collect();
        for v in vdevs {
            match spoolops::close_output(self, vm, DevRef::Vdev(v), &spoolops::CloseOpts::default())
            {
                Ok(l) => lines.extend(l),
                Err(m) => lines.push(m.to_string()),
            }
        }
        {
            let mut vms = self.vms.write().unwrap();
            if vms
                .get(&vm.userid)
                .is_some_and(|v| v.generation == vm.generation)
            {
                vms.remove(&vm.userid);
            }
        }
        self.iucv_logoff(vm);
        self.sfs_server_gone(vm);
        self.tcp_server_gone(vm);
        let tasks = std::mem::take(&mut vm.lock().tasks);
        for t in tasks {
            t.abort();
        }
        vm.interrupt(Interrupt::LoggedOff);
        lines.push(format!(
            "CONNECT= {} VIRTCPU= 000:00.00 TOTCPU= 000:00.00",
            clock::duration(now - vm.logon_time)
        ));
        let by = match &why {
            LogoffWhy::Forced(_) => " BY SYSTEM",
            _ => "",
        };
        lines.push(format!("LOGOFF AT {}{by}", self.tz().stamp(now)));
        let term = vm.lock().terminal.take();
        if let Some(t) = &term {
            for l in &lines {
                let _ = t.tx.send(TermEvent::Line(l.clone()));
            }
            let _ = t.tx.send(TermEvent::LoggedOff);
        }
        let users = self.users();
        let kind = match &term {
            Some(t) => format!("GRAF {}", t.id),
            None => "USER DSC".to_string(),
        };
        let forced = match &why {
            LogoffWhy::Forced(by) => format!(" FORCED BY {by}"),
            _ => String::new(),
        };
        self.oplog(&format!(
            "{kind} LOGOFF AS  {} USERS = {users}{forced}",
            vm.userid.padded()
        ));
        self.join_guest(vm);
        lines
    }

    /// Waits (briefly) for the guest thread of `vm` to end, unless called from that thread.
    fn join_guest(&self, vm: &Arc<VirtualMachine>) {
        let me = thread::current().id();
        if vm.lock().guest_thread == Some(me) {
            return;
        }
        let handle = {
            let mut t = self.threads.lock().unwrap();
            match t.get(&vm.userid) {
                Some((g, _)) if *g == vm.generation => t.remove(&vm.userid).map(|(_, h)| h),
                _ => None,
            }
        };
        if let Some(h) = handle {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !h.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                self.oplog(&format!(
                    "HCPGIR1032W Guest program of {} did not stop within 10 seconds",
                    vm.userid
                ));
            }
        }
    }

    /// Detaches the terminal of `vm`; the machine keeps running.
    pub fn disconnect(&self, vm: &Arc<VirtualMachine>) -> String {
        let line = format!("DISCONNECT AT {}", self.tz().stamp(clock::now()));
        let term = vm.lock().terminal.take();
        if let Some(t) = term {
            // The terminal shows the detach text as its last line.
            let _ = t.tx.send(TermEvent::Detached(line.clone()));
            self.oplog(&format!(
                "GRAF {} DISCONNECT {} USERS = {}",
                t.id,
                vm.userid.padded(),
                self.users()
            ));
        }
        line
    }

    /// Attaches a terminal to a logged-on machine, taking it over from any other terminal.
    pub fn reconnect(&self, vm: &Arc<VirtualMachine>, term: Terminal) -> Vec<String> {
        let old = vm.lock().terminal.replace(term.clone());
        if let Some(o) = old {
            let _ = o.tx.send(TermEvent::Detached(format!(
                "Terminal taken over by {}",
                term.id
            )));
        }
        self.oplog(&format!(
            "GRAF {} RECONNECT {} USERS = {}",
            term.id,
            vm.userid.padded(),
            self.users()
        ));
        vec![format!("RECONNECTED AT {}", self.tz().stamp(clock::now()))]
    }
}
