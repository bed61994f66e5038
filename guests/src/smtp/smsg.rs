//! `SMSG SMTP command` from the users of SMSGAUTHLIST; the answer goes back by MSG.
//!
//! ```text
//! command = "QUEUES" [SP "DATE"] / "STATS" / "TRACE" / "NOTRACE" / "SHUTDOWN" / "HELP"
//! ```
//!
//! Commands are matched without regard to case. Anyone else is refused (DTCSMT101E) and the
//! attempt is logged on SMTP's console.

use std::sync::atomic::Ordering;

use vm::UserId;

use super::server::Server;

/// The answer to one SMSG: lines for the sender, and whether to shut down.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Lines sent back by MSG.
    pub lines: Vec<String>,
    /// SHUTDOWN was asked for.
    pub shutdown: bool,
}

fn lines(v: Vec<String>) -> Answer {
    Answer {
        lines: v,
        shutdown: false,
    }
}

/// Handles `text` from `from`.
pub fn handle(server: &Server, from: &UserId, text: &str) -> Answer {
    let text = text.trim();
    if !server.cfg.smsg_auth.contains(from) {
        server.log(&format!(
            "DTCSMT101E SMSG from {from} refused (not in SMSGAUTHLIST): {}",
            text.chars().take(80).collect::<String>()
        ));
        return lines(vec![format!(
            "DTCSMT101E You are not authorized to issue SMTP commands"
        )]);
    }
    server.log(&format!(
        "DTCSMT100I SMSG from {from}: {}",
        text.chars().take(80).collect::<String>()
    ));
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["QUEUES"] | ["QUEUE"] => lines(
            server
                .queue_report(false)
                .into_iter()
                .map(|l| format!("DTCSMT120I {l}"))
                .collect(),
        ),
        ["QUEUES", "DATE"] | ["QUEUE", "DATE"] => lines(
            server
                .queue_report(true)
                .into_iter()
                .map(|l| format!("DTCSMT120I {l}"))
                .collect(),
        ),
        ["STATS"] => lines(server.stats.lines()),
        ["TRACE"] => {
            server.trace.store(true, Ordering::Relaxed);
            lines(vec!["DTCSMT140I Tracing of deliveries is on".into()])
        }
        ["NOTRACE"] => {
            server.trace.store(false, Ordering::Relaxed);
            lines(vec!["DTCSMT141I Tracing of deliveries is off".into()])
        }
        ["SHUTDOWN"] => Answer {
            lines: vec![format!(
                "DTCSMT150I SMTP shutting down at the request of {from}"
            )],
            shutdown: true,
        },
        ["HELP"] => lines(vec![
            "DTCSMT110I SMSG SMTP commands:".into(),
            "DTCSMT110I   QUEUES [DATE]  the spool, batch and relay queues".into(),
            "DTCSMT110I   STATS          counts since SMTP started".into(),
            "DTCSMT110I   TRACE|NOTRACE  a console line per delivery, or not".into(),
            "DTCSMT110I   SHUTDOWN       end the SMTP server".into(),
            "DTCSMT110I   HELP           this list".into(),
        ]),
        _ => lines(vec![format!(
            "DTCSMT102E Unknown SMTP command: {}; SMSG SMTP HELP lists them",
            text.chars().take(40).collect::<String>()
        )]),
    }
}
