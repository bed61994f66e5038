//! CHECK: every change is durable when it is acknowledged, so there is nothing to write; CHECK
//! is a NOOP with the selected mailbox's updates.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `check = "CHECK"`
pub fn run(_s: &mut Session, _c: &Cmd) -> Outcome {
    Outcome::done("CHECK")
}
