//! The commands that run synchronously against the mailstore: one file per command, each with
//! the same signature, `run(&mut Session, &Cmd) -> Outcome`, called under `block_in_place`.

pub mod append;
pub mod capability;
pub mod check;
pub mod close;
pub mod copy;
pub mod create;
pub mod delete;
pub mod enable;
pub mod expunge;
pub mod fetch;
pub mod id;
pub mod list;
pub mod namespace;
pub mod noop;
pub mod rename;
pub mod search;
pub mod select;
pub mod status;
pub mod store;
pub mod subscribe;
pub mod unselect;
pub mod util;

use super::{Outcome, Session};
use crate::proto::command::Cmd;

/// Runs one command.
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    match c {
        Cmd::Capability => capability::run(s, c),
        Cmd::Noop => noop::run(s, c),
        Cmd::Id(_) => id::run(s, c),
        Cmd::Enable(_) => enable::run(s, c),
        Cmd::Select { .. } => select::run(s, c),
        Cmd::Create { .. } => create::run(s, c),
        Cmd::Delete(_) => delete::run(s, c),
        Cmd::Rename { .. } => rename::run(s, c),
        Cmd::Subscribe(_) | Cmd::Unsubscribe(_) => subscribe::run(s, c),
        Cmd::List { .. } => list::run(s, c),
        Cmd::Namespace => namespace::run(s, c),
        Cmd::Status { .. } => status::run(s, c),
        Cmd::Append { .. } => append::run(s, c),
        Cmd::Check => check::run(s, c),
        Cmd::Close => close::run(s, c),
        Cmd::Unselect => unselect::run(s, c),
        Cmd::Expunge(_) => expunge::run(s, c),
        Cmd::Search { .. } => search::run(s, c),
        Cmd::Fetch { .. } => fetch::run(s, c),
        Cmd::Store { .. } => store::run(s, c),
        Cmd::Copy { .. } | Cmd::Move { .. } => copy::run(s, c),
        Cmd::GetQuota(_) | Cmd::GetQuotaRoot(_) => Outcome::Bad(format!(
            "{} is not supported (QUOTA is not advertised)",
            c.name()
        )),
        // The async commands never reach here.
        Cmd::StartTls | Cmd::Login { .. } | Cmd::Authenticate { .. } | Cmd::Idle | Cmd::Logout => {
            Outcome::Bad("Command out of place".into())
        }
    }
}
