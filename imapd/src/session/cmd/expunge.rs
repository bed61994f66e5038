//! EXPUNGE and UID EXPUNGE (RFC 4315): removes `\Deleted` messages; the EXPUNGE responses come
//! with the updates that end the command.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `expunge = "EXPUNGE"` / `uid-expunge = "UID" SP "EXPUNGE" SP sequence-set`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Expunge(set) = c else {
        return Outcome::Bad("EXPUNGE".into());
    };
    let Some(v) = s.view.as_ref() else {
        return Outcome::Bad("No mailbox selected".into());
    };
    if v.read_only {
        return Outcome::No("[READ-ONLY] The mailbox is open read-only".into());
    }
    let only = match set {
        Some(set) => match super::util::resolve(s, set, true, true) {
            Ok(u) => Some(u),
            Err(o) => return o,
        },
        None => None,
    };
    let folder = s.view.as_ref().unwrap().folder.clone();
    let user = super::util::user(s);
    match folder.expunge(user.sfs(), only.as_deref()) {
        Ok(_) => Outcome::done("EXPUNGE"),
        Err(e) => e.into(),
    }
}
