//! NOOP: nothing, but the untagged updates every command ends with.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `noop = "NOOP"`
pub fn run(_s: &mut Session, _c: &Cmd) -> Outcome {
    Outcome::done("NOOP")
}
