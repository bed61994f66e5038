//! The Shared File System: file pools served by a file pool server machine (VMSERVS).
//!
//! A pool holds users' file spaces (`pool:userid.`), directories below them, files (records of
//! format F or V with an LRECL, or byte streams for mail bodies) and authorities. The server
//! guest opens its pools at logon and registers them with CP; a virtual machine reaches a pool
//! through an IUCV path to the server, checked against the directory and the pool's connection
//! rule, and gets a typed [`client::SfsClient`] whose calls run under the caller's authority.

pub mod catalog;
pub mod client;
pub mod errors;
pub mod ids;
pub mod ops;
pub mod parms;
pub mod pool;
pub mod server;
pub mod work;

pub use catalog::{Auth, Control, Format, Grantee};
pub use client::SfsClient;
pub use errors::DmsError;
pub use ids::{DirId, DirPath, PoolName};
pub use pool::{Content, FileInfo, Limits, Listing, Pool, PoolConfig, Txn};
pub use work::Staged;
