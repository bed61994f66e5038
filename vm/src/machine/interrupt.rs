//! Asynchronous events delivered to a guest's interrupt queue.

use crossbeam_channel::Sender;
use spool::UserId;

use crate::iucv::{IucvEvent, MsgClass, SplFile};

/// An event for a guest program, delivered on its interrupt queue in arrival order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Interrupt {
    /// A line entered at the virtual machine's terminal. `done` is signalled when the guest has
    /// finished with it (so a non-interactive terminal can enter the next line).
    Console {
        /// The line as typed.
        line: String,
        /// Completion signal.
        done: Option<Sender<()>>,
    },
    /// A file arrived in the reader (the device became ready).
    ReaderReady,
    /// The system is shutting down: finish promptly and return from `run`.
    Shutdown,
    /// The virtual machine was logged off (LOGOFF or FORCE): return from `run` at once.
    LoggedOff,
    /// An IUCV event on one of the machine's paths.
    Iucv(IucvEvent),
    /// A message delivered through `*MSG` or `*MSGALL`: its class, origin userid and text.
    Message {
        /// Message class.
        class: MsgClass,
        /// Who sent it.
        from: UserId,
        /// The text, exactly as sent.
        text: String,
    },
    /// `*SPL`: a file is in the reader (reported once per connection, including files that were
    /// already there when the machine connected).
    SplArrival(SplFile),
}
