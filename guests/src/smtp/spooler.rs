//! Punching decks: SMTP has one virtual punch, so one deck at a time goes through it (records,
//! then CLOSE with the deck's destination, name, class and tag). CLOSE returns when the spool
//! file is durable, which is what lets SMTP answer 250 only after delivery.

use std::sync::{Arc, Mutex};

use vm::{
    VmHandle,
    machine::{DevRef, OutKind},
    system::spoolops::CloseOpts,
};

/// The punch and its lock.
#[derive(Debug)]
pub struct Spooler {
    vm: Arc<VmHandle>,
    lock: Mutex<()>,
}

impl Spooler {
    /// A spooler over the machine's punch.
    pub fn new(vm: Arc<VmHandle>) -> Spooler {
        Spooler {
            vm,
            lock: Mutex::new(()),
        }
    }

    /// Punches `cards` and closes the file with `opts`; CP's response lines, or why it failed
    /// (then nothing was sent: the partial file is purged).
    pub fn send(&self, cards: Vec<Vec<u8>>, opts: &CloseOpts) -> Result<Vec<String>, String> {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let dev = DevRef::Kind(OutKind::Punch);
        let purge = CloseOpts {
            purge: true,
            ..Default::default()
        };
        for c in cards {
            if let Err(m) = self.vm.punch(c) {
                let _ = self.vm.close_device(dev, &purge);
                return Err(m.to_string());
            }
        }
        match self.vm.close_device(dev, opts) {
            Ok(lines) => Ok(lines),
            Err(m) => {
                // CLOSE keeps the cards on the device when it fails; they must not go out with
                // the next deck.
                let _ = self.vm.close_device(dev, &purge);
                Err(m.to_string())
            }
        }
    }
}
