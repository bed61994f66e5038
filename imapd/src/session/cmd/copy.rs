//! COPY and MOVE (RFC 6851), with COPYUID (RFC 4315). Message files are copied without copying
//! their data, or moved, in one SFS work unit with both indexes.

use super::super::{Outcome, Session};
use crate::{
    proto::{command::Cmd, seq::compact},
    store::StoreError,
};

/// `copy = ["UID" SP] "COPY" SP sequence-set SP mailbox` / `move = ["UID" SP] "MOVE" …`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let (uid, set, mailbox, mv) = match c {
        Cmd::Copy { uid, set, mailbox } => (*uid, set, mailbox, false),
        Cmd::Move { uid, set, mailbox } => (*uid, set, mailbox, true),
        _ => return Outcome::Bad("COPY".into()),
    };
    let what = if mv { "MOVE" } else { "COPY" };
    if mv && s.view.as_ref().is_some_and(|v| v.read_only) {
        return Outcome::No("[READ-ONLY] The mailbox is open read-only".into());
    }
    let uids = match super::util::resolve(s, set, uid, false) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let user = super::util::user(s);
    let target = match user.folder(&name) {
        Ok(f) => f,
        Err(StoreError::NoMailbox(n)) => {
            return Outcome::No(format!("[TRYCREATE] Mailbox does not exist: {n}"));
        }
        Err(e) => return e.into(),
    };
    let src = s.view.as_ref().unwrap().folder.clone();
    let pairs = match src.copy_to(&target, user.sfs(), &uids, mv) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    if pairs.is_empty() {
        return Outcome::Ok(format!("{what} completed (no messages)"));
    }
    let uv = target.lock().uidvalidity;
    let code = format!(
        "[COPYUID {uv} {} {}]",
        compact(&pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
        compact(&pairs.iter().map(|p| p.1).collect::<Vec<_>>())
    );
    if mv {
        // MOVE reports its expunges itself (RFC 6851 §3.3), COPYUID first.
        s.out.text("* OK ").text(&code).text(" Moved\r\n");
        s.sync(true);
        Outcome::done("MOVE")
    } else {
        Outcome::Ok(format!("{code} COPY completed"))
    }
}
