//! One module per `vmimap` subcommand.

pub mod admin;
pub mod bench;
pub mod bench_imap;
pub mod bench_sfs;
pub mod bench_smtp;
pub mod console;
pub mod cp;
pub mod index;
pub mod ipl;
pub mod mailio;
pub mod punch;
pub mod sfs;
pub mod shutdown;
pub mod spool;
