//! The administrator interface: `SMSG IMAP command` from the userids IMAP CONFIG's ADMIN
//! statement lists, answered by `MSG` (see [`messages`] for the ids). Requests from anyone else
//! are refused and logged.
//!
//! ```text
//! request = "ENROLL" SP userid [SP blocks] / "DELETE" SP userid / "QUOTA" SP userid SP blocks
//!         / "QUERY" SP ("USERS" / "CONNECTIONS" / userid) / "TRACE" SP ("ON" / "OFF")
//!         / "SHUTDOWN" / "HELP"
//! ```
//! Command words may be abbreviated to their first three letters (`ENR`, `DEL`, `QUE`…).

pub mod messages;

use std::sync::{Arc, atomic::Ordering};

use vm::{UserId, grammar::abbrev};

use self::messages as m;
use crate::{server::Server, store::StoreError};

/// What an administrator request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Reply lines (the last one is the `DTCIMA` status line).
    pub lines: Vec<String>,
    /// The server is to shut down.
    pub shutdown: bool,
}

fn one(msg: m::AdminMsg) -> Answer {
    Answer {
        lines: vec![msg.to_string()],
        shutdown: false,
    }
}

fn store_err(user: &str, e: StoreError) -> m::AdminMsg {
    match e {
        StoreError::AlreadyEnrolled(_) => m::already_enrolled(user),
        StoreError::NotEnrolled(_) => m::not_enrolled(user),
        other => m::mailstore_error(&other.to_string()),
    }
}

/// Handles one request. `in_directory` tells whether a userid is in the CP directory.
pub fn handle(
    server: &Arc<Server>,
    from: &UserId,
    text: &str,
    in_directory: &dyn Fn(&UserId) -> bool,
) -> Answer {
    if !server.cfg.admins.contains(from) {
        server.log(&format!(
            "DTCIMA0210W Administrator request from {from} refused: {}",
            text.chars().take(80).collect::<String>()
        ));
        return one(m::not_authorized(from.as_str()));
    }
    server.log(&format!(
        "DTCIMA0211I Administrator request from {from}: {}",
        text.chars().take(80).collect::<String>()
    ));
    let toks: Vec<&str> = text.split_whitespace().collect();
    let Some((verb, ops)) = toks.split_first() else {
        return one(m::help());
    };
    let verb = verb.to_ascii_uppercase();
    let user_op = |i: usize| -> Result<UserId, m::AdminMsg> {
        let t = ops
            .get(i)
            .ok_or_else(|| m::invalid_operand("userid missing"))?;
        let u = UserId::parse(t).map_err(|_| m::invalid_operand(t))?;
        if !in_directory(&u) {
            return Err(m::not_in_directory(u.as_str()));
        }
        Ok(u)
    };
    let blocks_op = |i: usize| -> Result<Option<u64>, m::AdminMsg> {
        match ops.get(i) {
            None => Ok(None),
            Some(t) => t
                .parse::<u64>()
                .ok()
                .filter(|b| *b > 0 && *b < 1 << 40)
                .map(Some)
                .ok_or_else(|| m::invalid_operand(t)),
        }
    };
    let store = &server.store;
    if abbrev(&verb, "ENROLL", 3) {
        let (u, b) = match (user_op(0), blocks_op(1)) {
            (Ok(u), Ok(b)) => (u, b.unwrap_or(server.cfg.enroll_blocks)),
            (Err(e), _) | (_, Err(e)) => return one(e),
        };
        if ops.len() > 2 {
            return one(m::invalid_operand(ops[2]));
        }
        match store.enroll(&u, Some(b)) {
            Ok(()) => one(m::enrolled(u.as_str(), b)),
            Err(e) => one(store_err(u.as_str(), e)),
        }
    } else if abbrev(&verb, "DELETE", 3) {
        let u = match user_op(0) {
            Ok(u) => u,
            // A user removed from the directory can still be deleted from the mailstore.
            Err(_) if ops.first().is_some_and(|t| UserId::parse(t).is_ok()) => {
                UserId::parse(ops[0]).unwrap()
            }
            Err(e) => return one(e),
        };
        if !store.is_enrolled(&u) {
            return one(m::not_enrolled(u.as_str()));
        }
        server.forget(&u);
        match store.delete(&u) {
            Ok(()) => one(m::deleted(u.as_str())),
            Err(e) => one(store_err(u.as_str(), e)),
        }
    } else if abbrev(&verb, "QUOTA", 3) {
        let (u, b) = match (user_op(0), blocks_op(1)) {
            (Ok(u), Ok(Some(b))) => (u, b),
            (Ok(_), Ok(None)) => return one(m::invalid_operand("blocks missing")),
            (Err(e), _) | (_, Err(e)) => return one(e),
        };
        if !store.is_enrolled(&u) {
            return one(m::not_enrolled(u.as_str()));
        }
        match store.sfs().modify(&u, b) {
            Ok(()) => one(m::modified(u.as_str(), b)),
            Err(e) => one(store_err(u.as_str(), e.into())),
        }
    } else if abbrev(&verb, "QUERY", 1) {
        let what = ops
            .first()
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        if what.is_empty() {
            return one(m::invalid_operand(
                "QUERY needs USERS, CONNECTIONS or a userid",
            ));
        }
        if abbrev(&what, "USERS", 4) {
            match store.enrolled() {
                Ok(list) => {
                    let mut lines: Vec<String> = list
                        .iter()
                        .map(|l| {
                            format!(
                                "  {:<8} {:>10} blocks {:>10} used",
                                l.user.as_str(),
                                l.limit,
                                l.used
                            )
                        })
                        .collect();
                    lines.push(m::users(list.len()).to_string());
                    Answer {
                        lines,
                        shutdown: false,
                    }
                }
                Err(e) => one(store_err("", e)),
            }
        } else if abbrev(&what, "CONNECTIONS", 4) {
            let sessions = server.sessions();
            let mut lines: Vec<String> = sessions
                .iter()
                .map(|s| {
                    format!(
                        "  {:>6} {:<8} {:<21} {:<3} {}",
                        s.id,
                        s.user.as_ref().map_or("-", |u| u.as_str()),
                        s.peer.to_string(),
                        if s.tls { "TLS" } else { "" },
                        s.mailbox.as_deref().unwrap_or("")
                    )
                })
                .collect();
            lines.push(m::connections(sessions.len()).to_string());
            Answer {
                lines,
                shutdown: false,
            }
        } else {
            let u = match UserId::parse(&what) {
                Ok(u) => u,
                Err(_) => return one(m::invalid_operand(&what)),
            };
            if !store.is_enrolled(&u) {
                return one(m::not_enrolled(u.as_str()));
            }
            let n = server
                .sessions()
                .iter()
                .filter(|s| s.user.as_ref() == Some(&u))
                .count();
            match store.limits(&u) {
                Ok(l) => one(m::user_status(u.as_str(), l.limit, l.used, n)),
                Err(e) => one(store_err(u.as_str(), e)),
            }
        }
    } else if abbrev(&verb, "TRACE", 3) {
        match ops.first().map(|s| s.to_ascii_uppercase()).as_deref() {
            Some("ON") => {
                server.trace.store(true, Ordering::Relaxed);
                one(m::trace(true))
            }
            Some("OFF") => {
                server.trace.store(false, Ordering::Relaxed);
                one(m::trace(false))
            }
            other => one(m::invalid_operand(other.unwrap_or("ON or OFF missing"))),
        }
    } else if abbrev(&verb, "SHUTDOWN", 8) {
        Answer {
            lines: vec![m::shutting_down(from.as_str()).to_string()],
            shutdown: true,
        }
    } else if abbrev(&verb, "HELP", 1) {
        one(m::help())
    } else {
        one(m::unknown_command(&verb))
    }
}
