//! CREATE: a new folder (a new SFS directory and an empty index), with a new UIDVALIDITY.

use super::super::{Outcome, Session};
use crate::{proto::command::Cmd, store::StoreError};

/// `create = "CREATE" SP mailbox`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Create { mailbox } = c else {
        return Outcome::Bad("CREATE".into());
    };
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    if name == "INBOX" {
        return StoreError::Exists(name).into();
    }
    match super::util::user(s).create(&name, 0) {
        Ok(()) => Outcome::done("CREATE"),
        Err(e) => e.into(),
    }
}
