//! Helpers for the whole-system tests live in tests/tests/common.
//!
//! [`imaptest`] is a conformance runner for IMAP test scripts in Dovecot's imaptest format.

pub mod imaptest;
