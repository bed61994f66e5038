//! CLOSE: expunges silently (unless read-only) and leaves the mailbox.

use super::super::{Outcome, Session, State};
use crate::proto::command::Cmd;

/// `close = "CLOSE"`
pub fn run(s: &mut Session, _c: &Cmd) -> Outcome {
    if let Some(v) = s.view.take()
        && !v.read_only
    {
        let u = super::util::user(s);
        if let Err(e) = v.folder.expunge(u.sfs(), None) {
            s.view = Some(v);
            return e.into();
        }
    }
    s.state = State::Auth;
    let id = s.id;
    s.server.update(id, |i| i.mailbox = None);
    Outcome::done("CLOSE")
}
