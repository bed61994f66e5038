//! The IMAP server guest: sessions, the mail store kept in SFS, MIME structure, SEARCH, the
//! administrator interface, and intake of mail from the reader.

pub mod config;
pub mod mime;
pub mod proto;
pub mod store;
