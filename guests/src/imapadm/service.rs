//! One request, whichever way it came: the authorisation check, the audit log and the IMAP
//! server's administrator interface, in that order.
//!
//! - From a user AUTHORIZE does not name: refused (DTCADM0102E), logged on the console
//!   (DTCADM0112W) and audited.
//! - A request that does not parse: its error (DTCADM0103E/0104E), audited.
//! - Otherwise the audit log must be writable before anything is done (DTCADM0107E if not);
//!   the command goes to the IMAP server; its lines are passed on, the outcome is audited
//!   (durably), and the answer ends with DTCADM0010I (done) or DTCADM0101E (failed) — or
//!   DTCADM0108E when the request was done but its audit line could not be written.

use std::sync::Arc;

use vm::{UserId, VmHandle};

use super::{
    audit::{Audit, clean},
    config::Config,
    imap::ImapLink,
    messages::{self as m, Msg},
    requests::Request,
};

/// The answer to one request: lines for the requester, the last a `DTCADM` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The lines.
    pub lines: Vec<String>,
    /// The request failed or was refused.
    pub failed: bool,
}

impl Answer {
    fn one(msg: Msg) -> Answer {
        Answer {
            failed: msg.is_error(),
            lines: vec![msg.to_string()],
        }
    }
}

/// What IMAPADM works with.
#[derive(Debug)]
pub struct Service {
    /// The machine.
    pub vm: Arc<VmHandle>,
    /// IMAPADM CONFIG.
    pub cfg: Config,
    /// The IMAP server's administrator interface.
    pub imap: ImapLink,
    /// The audit log.
    pub audit: Audit,
}

impl Service {
    /// A line on IMAPADM's console.
    pub fn log(&self, line: &str) {
        self.vm.console(line);
    }

    /// Audits, and says on the console when that failed (for refusals and errors, whose answer
    /// does not change).
    fn audit_or_log(&self, origin: &UserId, via: &str, text: &str, outcome: &str) {
        if let Err(e) = self.audit.record(origin, via, text, outcome) {
            self.log(&m::audit_failed(&e).to_string());
        }
    }

    /// Runs the request `text` from `origin`, which came by `via` (`SMSG`, `DECK nnnn`).
    pub fn run(&self, origin: &UserId, via: &str, text: &str) -> Answer {
        if !self.cfg.is_authorized(origin) {
            self.log(&m::refused(origin.as_str(), via, &clean(text)).to_string());
            let msg = m::not_authorized(origin.as_str());
            self.audit_or_log(origin, via, text, &format!("REFUSED {msg}"));
            return Answer::one(msg);
        }
        let req = match Request::parse(text) {
            Ok(r) => r,
            Err(msg) => {
                self.audit_or_log(origin, via, text, &msg.to_string());
                return Answer::one(msg);
            }
        };
        self.run_parsed(origin, via, &req)
    }

    /// Runs a parsed request (authorisation already checked).
    pub fn run_parsed(&self, origin: &UserId, via: &str, req: &Request) -> Answer {
        let text = req.to_string();
        if let Err(e) = self.audit.check() {
            return Answer::one(m::audit_unavailable(&e));
        }
        let Some(cmd) = req.imap_command() else {
            let msg = m::help();
            self.audit_or_log(origin, via, &text, &msg.to_string());
            return Answer::one(msg);
        };
        match self.imap.ask(&cmd) {
            Ok(a) => {
                let outcome = a.status().to_string();
                let mut lines = a.lines.clone();
                let end = match self.audit.record(origin, via, &text, &outcome) {
                    Err(e) => m::audit_failed(&e),
                    Ok(()) if a.failed => m::failed(&text),
                    Ok(()) => m::done(&text),
                };
                let failed = a.failed || end.is_error();
                lines.push(end.to_string());
                Answer { lines, failed }
            }
            Err(msg) => {
                self.audit_or_log(origin, via, &text, &msg.to_string());
                Answer::one(msg)
            }
        }
    }
}
