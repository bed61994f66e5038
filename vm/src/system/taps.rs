//! Message taps: a host command acting as a user (the control socket's operator trust) sees
//! the messages sent to that user while it runs, whether or not the user is logged on, so that
//! `vmimap admin` can send `SMSG IMAP …` as MAINT and print the server's `MSG` replies.

use crossbeam_channel::{Receiver, Sender, unbounded};
use spool::UserId;

use super::System;

/// A message caught by a tap: (sender, text).
pub type Tapped = (UserId, String);

/// Removes its tap when dropped.
#[derive(Debug)]
pub struct Tap {
    sys: std::sync::Weak<System>,
    user: UserId,
    id: u64,
    /// Messages sent to the user.
    pub rx: Receiver<Tapped>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(sys) = self.sys.upgrade() {
            let mut g = sys.taps.lock().unwrap();
            if let Some(v) = g.get_mut(&self.user) {
                v.retain(|(i, _)| *i != self.id);
                if v.is_empty() {
                    g.remove(&self.user);
                }
            }
        }
    }
}

impl System {
    /// Starts catching messages sent to `user`.
    pub fn tap(self: &std::sync::Arc<Self>, user: &UserId) -> Tap {
        let (tx, rx) = unbounded();
        let id = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.taps
            .lock()
            .unwrap()
            .entry(user.clone())
            .or_default()
            .push((id, tx));
        Tap {
            sys: std::sync::Arc::downgrade(self),
            user: user.clone(),
            id,
            rx,
        }
    }

    /// Gives a message to the taps on `to`; true if there was one.
    pub(crate) fn tapped(&self, from: &UserId, to: &UserId, text: &str) -> bool {
        let g = self.taps.lock().unwrap();
        let Some(v) = g.get(to) else { return false };
        let mut any = false;
        for (_, tx) in v {
            any |= tx.send((from.clone(), text.to_string())).is_ok();
        }
        any
    }
}

/// The sender half, kept in the system's table.
pub(crate) type TapSender = (u64, Sender<Tapped>);
