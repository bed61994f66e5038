//! The path to the IMAP server's administrator interface.
//!
//! IMAPADM sends each command as `SMSG IMAP command` and collects the `MSG` lines the server
//! sends back, up to the line that begins with a `DTCIMAnnnnX` id: the IMAP server ends every
//! answer with exactly one such line and puts data lines before it. This is the interface the
//! IMAP server documents for administrators (and the one `vmimap admin` uses), so IMAPADM needs
//! nothing the server does not already offer; its IUCV service (`IMAPQRY`) answers only the
//! enrolment question SMTP asks. The MSG lines reach IMAPADM on its `*MSG` IUCV path, read by
//! the machine's main loop, which hands those from the IMAP server to this link.
//!
//! One command is outstanding at a time (the worker thread runs requests one after another), so
//! lines cannot be matched to the wrong command; lines left over from a command that timed out
//! are dropped before the next command is sent.

use std::{sync::Arc, time::Duration};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use vm::{UserId, VmHandle};

use super::messages::{self as m, Msg};

/// The IMAP server's answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapAnswer {
    /// Every line, the `DTCIMA` status line last.
    pub lines: Vec<String>,
    /// The status line is an error (`E`).
    pub failed: bool,
}

impl ImapAnswer {
    /// The status line.
    pub fn status(&self) -> &str {
        self.lines.last().map_or("", String::as_str)
    }
}

/// Whether `line` is the IMAP server's status line; `Some(true)` when it is an error.
pub fn status_of(line: &str) -> Option<bool> {
    let id = line.split_whitespace().next()?;
    let rest = id.strip_prefix("DTCIMA")?;
    let (num, sev) = rest.split_at_checked(4)?;
    if !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match sev {
        "I" | "W" => Some(false),
        "E" => Some(true),
        _ => None,
    }
}

/// The link: the IMAP server's userid and the lines the main loop forwards.
#[derive(Debug)]
pub struct ImapLink {
    vm: Arc<VmHandle>,
    server: UserId,
    timeout: Duration,
    rx: Receiver<String>,
}

impl ImapLink {
    /// A link to `server`; `rx` carries the MSG lines that come from it.
    pub fn new(
        vm: Arc<VmHandle>,
        server: UserId,
        timeout: Duration,
        rx: Receiver<String>,
    ) -> ImapLink {
        ImapLink {
            vm,
            server,
            timeout,
            rx,
        }
    }

    /// The IMAP server's userid.
    pub fn server(&self) -> &UserId {
        &self.server
    }

    /// Sends `command` and waits for the whole answer.
    pub fn ask(&self, command: &str) -> Result<ImapAnswer, Msg> {
        while self.rx.try_recv().is_ok() {}
        let r = self.vm.cp(&format!("SMSG {} {command}", self.server));
        if r.rc != 0 {
            return Err(m::unreachable(self.server.as_str(), &r.lines.join("; ")));
        }
        let deadline = std::time::Instant::now() + self.timeout;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(l) => {
                    let st = status_of(&l);
                    lines.push(l);
                    if let Some(failed) = st {
                        return Ok(ImapAnswer { lines, failed });
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(m::no_answer(self.server.as_str(), self.timeout.as_secs()));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(m::unreachable(self.server.as_str(), "IMAPADM is ending"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_recognised() {
        assert_eq!(status_of("DTCIMA0001I User DEMO enrolled"), Some(false));
        assert_eq!(
            status_of("DTCIMA0103E DEMO is already enrolled"),
            Some(true)
        );
        assert_eq!(status_of("  DEMO   25600 blocks"), None);
        assert_eq!(status_of("DTCIMA01E short"), None);
        assert_eq!(status_of("DTCIMAxxxxI x"), None);
        assert_eq!(status_of("DTCSMT0001I other"), None);
        assert_eq!(status_of(""), None);
    }
}
