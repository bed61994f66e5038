//! UNSELECT (RFC 3691): leaves the mailbox without expunging.

use super::super::{Outcome, Session, State};
use crate::proto::command::Cmd;

/// `unselect = "UNSELECT"`
pub fn run(s: &mut Session, _c: &Cmd) -> Outcome {
    s.view = None;
    s.state = State::Auth;
    let id = s.id;
    s.server.update(id, |i| i.mailbox = None);
    Outcome::done("UNSELECT")
}
