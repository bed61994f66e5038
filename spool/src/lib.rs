//! The CP spool of a vmimap system.
//!
//! Spool files (records plus attributes) live in per-owner reader, printer and punch queues and are
//! named by spoolids that are unique per owner (0001–9999, wrapping, skipping ids in use). Every
//! change is written to an append-only journal and made durable before the caller may report it; a
//! checkpoint taken at shutdown (and whenever the journal grows) lets the next IPL warm-start quickly
//! with the same spoolids, order and attributes.
//!
//! The crate knows nothing of CP commands or virtual machines: `vm` decides *what* to do and calls
//! [`Spool::transact`] to do it atomically and durably.

pub mod cards;
mod checkpoint;
pub mod codec;
mod error;
pub mod netdata;
mod state;
mod store;
mod types;
mod userid;
pub mod wal;

pub use error::{SpoolError, SpoolResult};
pub use state::{MAX_SPOOLID, NewFile, Txn};
pub use store::{RecoveryReport, Spool, SpoolCheck, SpoolOptions};
pub use types::{Class, DataRef, DevType, FileAttrs, Hold, Queue, SpoolFile};
pub use userid::{UserId, UserIdError};
pub use wal::DurableWait;
