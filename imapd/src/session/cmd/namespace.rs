//! NAMESPACE (RFC 2342): one personal namespace, no prefix, "/" as the delimiter.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `namespace = "NAMESPACE"`
pub fn run(s: &mut Session, _c: &Cmd) -> Outcome {
    s.out.text("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    Outcome::done("NAMESPACE")
}
