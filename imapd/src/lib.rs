//! The IMAP server guest: sessions, the mail store kept in SFS, MIME structure, SEARCH, the
//! administrator interface, and intake of mail from the reader.

pub mod admin;
pub mod config;
pub mod guest;
pub mod intake;
pub mod mime;
pub mod proto;
pub mod query;
pub mod search;
pub mod server;
pub mod session;
pub mod store;

pub use guest::register;
