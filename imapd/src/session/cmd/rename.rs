//! RENAME: the folder and those below it; renaming INBOX moves its messages (RFC 9051 §6.3.6).

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `rename = "RENAME" SP mailbox SP mailbox`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Rename { from, to } = c else {
        return Outcome::Bad("RENAME".into());
    };
    let (from, to) = match (super::util::mailbox(from), super::util::mailbox(to)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    match super::util::user(s).rename(&from, &to) {
        Ok(()) => {
            if let Some(v) = s.view.as_mut()
                && crate::store::names::is_within(&v.name, &from)
                && from != "INBOX"
            {
                v.name = format!("{to}{}", &v.name[from.len()..]);
            }
            Outcome::done("RENAME")
        }
        Err(e) => e.into(),
    }
}
