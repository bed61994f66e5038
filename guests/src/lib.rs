//! Guest programs of the system's service machines: the TCP/IP stack (and, in later stages, the
//! SMTP server and the IMAP administrator exit IMAPADM).

pub mod imapadm;
pub mod smtp;
pub mod tcpip;

/// Registers every guest program of this crate.
pub fn register(reg: &mut vm::Registry) {
    tcpip::register(reg);
    smtp::register(reg);
    imapadm::register(reg);
}
