//! DELETE: the folder and its messages; folders below it stay (RFC 9051 §6.3.5).

use super::super::{Outcome, Session, State};
use crate::{proto::command::Cmd, store::StoreError};

/// `delete = "DELETE" SP mailbox`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Delete(mailbox) = c else {
        return Outcome::Bad("DELETE".into());
    };
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let user = super::util::user(s);
    if user.entry(&name).is_none() {
        return StoreError::NoMailbox(name).into();
    }
    // Deleting the mailbox this session has selected closes it here first.
    if s.view.as_ref().is_some_and(|v| v.name == name) {
        s.view = None;
        s.state = State::Auth;
        s.out.text("* OK [CLOSED] Mailbox closed\r\n");
    }
    match user.delete(&name) {
        Ok(()) => Outcome::done("DELETE"),
        Err(e) => e.into(),
    }
}
