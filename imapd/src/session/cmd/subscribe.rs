//! SUBSCRIBE and UNSUBSCRIBE: names in the user's subscription list (they need not exist).

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `subscribe = "SUBSCRIBE" SP mailbox` / `unsubscribe = "UNSUBSCRIBE" SP mailbox`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let (name, on) = match c {
        Cmd::Subscribe(m) => (m, true),
        Cmd::Unsubscribe(m) => (m, false),
        _ => return Outcome::Bad("SUBSCRIBE".into()),
    };
    let name = match super::util::mailbox(name) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let user = super::util::user(s);
    if !on && !user.list().subscribed.contains(&name) {
        return Outcome::No(format!("[NONEXISTENT] Not subscribed to {name}"));
    }
    match user.subscribe(&name, on) {
        Ok(()) => Outcome::done(c.name()),
        Err(e) => e.into(),
    }
}
