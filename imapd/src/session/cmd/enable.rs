//! ENABLE (RFC 5161): IMAP4rev2 is the one extension here that changes responses (no RECENT).

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `enable = "ENABLE" 1*(SP capability)`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Enable(caps) = c else {
        return Outcome::Bad("ENABLE".into());
    };
    let mut on = Vec::new();
    for cap in caps {
        if cap.eq_ignore_ascii_case("IMAP4rev2") && !s.rev2 {
            s.rev2 = true;
            on.push("IMAP4rev2");
        }
    }
    s.out.text("* ENABLED");
    for c in on {
        s.out.sp().text(c);
    }
    s.out.crlf();
    Outcome::done("ENABLE")
}
