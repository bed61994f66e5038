//! CAPABILITY.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `capability = "CAPABILITY"`
pub fn run(s: &mut Session, _c: &Cmd) -> Outcome {
    let caps = s.capabilities();
    s.out.text("* CAPABILITY ").text(&caps).crlf();
    Outcome::done("CAPABILITY")
}
