//! ID (RFC 2971): the server's name and version; the client's are logged.

use super::super::{Outcome, Session};
use crate::proto::command::Cmd;

/// `id = "ID" SP id-params-list`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    if let Cmd::Id(Some(params)) = c {
        let shown: Vec<String> = params
            .iter()
            .take(30)
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("NIL")))
            .collect();
        tracing::info!(session = s.id, "client ID {}", shown.join(" "));
    }
    s.out.text(
        "* ID (\"name\" \"vmimap\" \"vendor\" \"vmimap\" \"support-url\" \"https://github.com/vmimap/vmimap\" \"version\" \"",
    );
    s.out.text(env!("CARGO_PKG_VERSION")).text("\")\r\n");
    Outcome::done("ID")
}
