//! The IMAP protocol layer: the server's own command and response types (kept apart from the wire
//! format), the conversion from imap-codec's grammar, the productions imap-codec lacks, and the
//! response writer.

pub mod args;
pub mod command;
pub mod convert;
pub mod parse;
pub mod section;
pub mod seq;
pub mod utf7;
pub mod write;
