//! CP for vmimap: the system directory, virtual machines and the [`machine::Guest`] contract,
//! privilege classes, CP commands, unit-record devices over the spool, the control socket with its
//! terminals, and a small CMS for interactive users.

pub mod clock;
pub mod cms;
pub mod config;
pub mod cp;
pub mod directory;
pub mod grammar;
pub mod iucv;
pub mod machine;
pub mod privilege;
pub mod sfs;
pub mod system;
pub mod tcp;
pub mod terminal;
pub mod tls;

pub use cp::{CpResponse, messages::CpMsg};
pub use machine::{Guest, Interrupt, Registry};
pub use spool::UserId;
pub use system::{System, VmHandle};
