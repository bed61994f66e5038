//! Asynchronous events delivered to a guest's interrupt queue.

use crossbeam_channel::Sender;

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
}
