//! The enrolment query service: the SMTP machine (its command exit) asks over IUCV whether a
//! recipient is enrolled in the mailstore, to route mail for IMAP users to this machine's reader.
//!
//! ```text
//! connect   = IUCV CONNECT to the IMAP machine with user data "IMAPQRY"
//! question  = "ENROLLED" SP userid           ; a two-way SEND
//! answer    = "YES" / "NO" / "ERROR" SP text ; the REPLY
//! ```
//!
//! Only the machines IMAP CONFIG's QUERYUSERS names (default SMTP) may connect: who is enrolled
//! is not for everyone to learn.

use std::collections::HashSet;

use vm::{UserId, VmHandle, iucv::IucvEvent};

use crate::server::Server;

/// The user data a querying machine connects with.
pub const USER_DATA: &str = "IMAPQRY";

/// The answer to one question.
pub fn answer(server: &Server, question: &[u8]) -> Vec<u8> {
    let q = String::from_utf8_lossy(question);
    let mut w = q.split_whitespace();
    match (
        w.next().map(str::to_ascii_uppercase).as_deref(),
        w.next(),
        w.next(),
    ) {
        (Some("ENROLLED"), Some(u), None) => match UserId::parse(u) {
            Ok(u) if server.store.is_enrolled(&u) => b"YES".to_vec(),
            Ok(_) => b"NO".to_vec(),
            Err(_) => b"ERROR not a userid".to_vec(),
        },
        _ => b"ERROR unknown question; ask ENROLLED userid".to_vec(),
    }
}

/// The paths of the query service.
#[derive(Debug, Default)]
pub struct QueryPaths {
    paths: HashSet<vm::iucv::PathId>,
}

impl QueryPaths {
    /// Handles an IUCV event; returns false if it was not for this service.
    pub fn event(&mut self, vm: &VmHandle, server: &Server, ev: &IucvEvent) -> bool {
        match ev {
            IucvEvent::ConnectionPending {
                path,
                from,
                user_data,
            } => {
                let ud = String::from_utf8_lossy(user_data).trim().to_string();
                if ud != USER_DATA {
                    return false;
                }
                if server.cfg.query_users.contains(from) {
                    if vm.iucv_accept(*path).is_ok() {
                        self.paths.insert(*path);
                    }
                } else {
                    server.log(&format!(
                        "DTCIMA0212W Enrolment query connection from {from} refused (not in QUERYUSERS)"
                    ));
                    let _ = vm.iucv_sever(*path, vm::iucv::user_data("NOT AUTHORIZED"));
                }
                true
            }
            IucvEvent::MessagePending { path, msgid, .. } if self.paths.contains(path) => {
                if let Ok(m) = vm.iucv_receive(*path, Some(*msgid))
                    && m.two_way
                {
                    let _ = vm.iucv_reply(*path, m.msgid, answer(server, &m.data));
                }
                true
            }
            IucvEvent::Severed { path, .. } => self.paths.remove(path),
            _ => false,
        }
    }
}
