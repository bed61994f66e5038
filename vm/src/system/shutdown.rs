//! SHUTDOWN: guests are signalled and logged off, the spool is checkpointed.

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use super::{RunState, System, logon::LogoffWhy};
use crate::machine::Interrupt;

impl System {
    /// Starts an orderly shutdown on its own thread (so that a CP command or a guest can request
    /// it). Returns false if a shutdown was already under way.
    pub fn request_shutdown(self: &Arc<Self>, by: &str) -> bool {
        {
            let mut s = self.state.lock().unwrap();
            if *s != RunState::Up {
                return false;
            }
            *s = RunState::ShuttingDown;
        }
        self.oplog(&format!("HCPSHU9001I System shutdown started by {by}"));
        let sys = self.clone();
        thread::Builder::new()
            .name("shutdown".into())
            .spawn(move || sys.shutdown_now())
            .expect("cannot start the shutdown thread");
        true
    }

    fn shutdown_now(self: &Arc<Self>) {
        // Guests first get the chance to finish cleanly; file pool servers go last, so that the
        // others can still reach their files while they stop.
        let (servers, others): (Vec<_>, Vec<_>) = self
            .logged_on()
            .into_iter()
            .partition(|vm| self.serves_pools(vm));
        for group in [others, servers] {
            for vm in &group {
                vm.interrupt(Interrupt::Shutdown);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while group.iter().any(|vm| self.guest_running(vm)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(2));
            }
            for vm in &group {
                self.logoff(vm, LogoffWhy::Shutdown);
            }
        }
        // Anyone who logged on meanwhile.
        for vm in self.logged_on() {
            self.logoff(&vm, LogoffWhy::Shutdown);
        }
        if let Err(e) = self.spool.checkpoint() {
            self.oplog(&format!("HCPWRS1040E Spool checkpoint failed: {e}"));
        } else {
            self.oplog("HCPWRS2511I Spool checkpoint written");
        }
        let _ = std::fs::remove_file(self.dir.join(super::ipl::PID_FILE));
        let _ = std::fs::remove_file(self.control_socket());
        self.oplog("HCPWRP9277I SYSTEM TERMINATION COMPLETE");
        self.lock.lock().unwrap().take();
        *self.state.lock().unwrap() = RunState::Down;
        self.state_cv.notify_all();
    }
}

impl System {
    /// Whether the guest program of `vm` is still running.
    fn guest_running(&self, vm: &crate::machine::VirtualMachine) -> bool {
        self.threads
            .lock()
            .unwrap()
            .get(&vm.userid)
            .is_some_and(|(g, h)| *g == vm.generation && !h.is_finished())
    }
}
