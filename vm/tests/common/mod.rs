//! In-process system tests: a real system IPLed from a temporary folder with its own USER DIRECT,
//! and *probe* guests — a guest program that hands its `VmHandle` to the test, so the test thread
//! can act as that virtual machine (CP commands, IUCV, interrupts).

#![allow(dead_code)]

use std::{
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use spool::UserId;
use vm::{
    Guest, Interrupt, Registry, System, VmHandle,
    system::{IplOptions, create_system_folder},
};

type Inbox = Arc<Mutex<Vec<(String, VmHandle)>>>;

struct Probe {
    out: mpsc::Sender<(String, VmHandle)>,
    stop: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Guest for Probe {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let user = vm.userid().to_string();
        let watch = vm.watch();
        let _ = self.out.send((user, vm));
        // The test drives the machine; this thread only waits to be told to end, or for the
        // machine to be logged off (FORCE).
        while watch.is_logged_on() {
            if let Ok(g) = self.stop.try_lock()
                && g.recv_timeout(Duration::from_millis(20)).is_ok()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

/// A system with probe guests.
pub struct Harness {
    pub sys: Arc<System>,
    _tmp: tempfile::TempDir,
    handles: mpsc::Receiver<(String, VmHandle)>,
    parked: Inbox,
    stop_tx: mpsc::Sender<()>,
}

/// Passwords in the test directories are plain text (accepted when read).
pub const PROFILE: &str = "PROFILE IBMDFLT\n CONSOLE 0009 3215 T\n SPOOL 000C 2540 READER *\n SPOOL 000D 2540 PUNCH A\n SPOOL 000E 1403 A\n";

impl Harness {
    /// IPLs a system whose directory is PROFILE followed by `users` (USER entries). Users with
    /// `IPL PROBE` run probe guests; `extra` registers more programs.
    pub fn ipl(users: &str, extra: impl FnOnce(&mut Registry)) -> Harness {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vmsys");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("USER DIRECT"), format!("{PROFILE}{users}")).unwrap();
        create_system_folder(&dir, &[]).unwrap();
        let (tx, rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let stop = Arc::new(Mutex::new(stop_rx));
        let mut reg = Registry::new();
        vm::cms::register(&mut reg);
        vm::sfs::server::register(&mut reg);
        reg.register("PROBE", move |_| {
            Ok(Box::new(Probe {
                out: tx.clone(),
                stop: stop.clone(),
            }) as Box<dyn Guest>)
        });
        extra(&mut reg);
        let sys = System::ipl(&dir, reg, IplOptions::default()).unwrap();
        Harness {
            sys,
            _tmp: tmp,
            handles: rx,
            parked: Arc::default(),
            stop_tx,
        }
    }

    /// The system folder.
    pub fn dir(&self) -> std::path::PathBuf {
        self.sys.dir().to_path_buf()
    }

    /// Logs `user` on (AUTOLOG by CP) and returns the handle of its probe guest.
    pub fn logon(&self, user: &str) -> VmHandle {
        let u = UserId::parse(user).unwrap();
        let e = self.sys.entry(&u).expect("user in directory");
        self.sys
            .logon(e, vm::system::LogonHow::Autolog { by: None })
            .expect("logon");
        self.take(user)
    }

    fn take(&self, user: &str) -> VmHandle {
        loop {
            {
                let mut p = self.parked.lock().unwrap();
                if let Some(i) = p.iter().position(|(u, _)| u == user) {
                    return p.remove(i).1;
                }
            }
            let got = self
                .handles
                .recv_timeout(Duration::from_secs(10))
                .expect("probe guest did not start");
            self.parked.lock().unwrap().push(got);
        }
    }

    /// Issues a CP command as a (transient) user; (rc, lines).
    pub fn cp(&self, user: &str, cmd: &str) -> (i32, Vec<String>) {
        let u = UserId::parse(user).unwrap();
        let vm = match self.sys.vm(&u) {
            Some(vm) => vm,
            None => {
                let e = self.sys.entry(&u).unwrap();
                let (vm, _rx) = vm::machine::VirtualMachine::new(e, 0, true, 0);
                Arc::new(vm)
            }
        };
        let r = vm::cp::execute(&self.sys, &vm, cmd);
        (r.rc, r.lines)
    }

    /// Shuts down and waits.
    pub fn shutdown(self) {
        for _ in 0..64 {
            let _ = self.stop_tx.send(());
        }
        self.sys.request_shutdown("TEST");
        self.sys.wait();
    }
}

/// Waits for the first interrupt matching `f` (others are skipped), up to 5 seconds.
pub fn wait_for<T>(vm: &VmHandle, mut f: impl FnMut(Interrupt) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "expected interrupt did not arrive");
        if let Some(i) = vm.next_interrupt(left)
            && let Some(t) = f(i)
        {
            return t;
        }
    }
}

/// Whether no interrupt matching `f` arrives within `ms` milliseconds.
pub fn none_within(vm: &VmHandle, ms: u64, mut f: impl FnMut(&Interrupt) -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_millis(ms);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        match vm.next_interrupt(left) {
            Some(i) if f(&i) => return false,
            _ => {}
        }
    }
}
