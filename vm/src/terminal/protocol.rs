//! The control socket protocol: JSON objects, one per line, in both directions.
//!
//! Requests (client to server), the first of which picks the kind of session:
//!
//! ```text
//! {"op":"console","user":"MAINT"}            a terminal, logged on as MAINT (or null: LOGON prompt)
//!   {"op":"line","text":"q names"}          a line typed at it
//!   {"op":"eof"}                            end of input: the machine is disconnected
//! {"op":"cp","user":"MAINT","command":"Q NAMES"}          one CP command as MAINT
//! {"op":"punch","user":"MAINT","to":"DEMO","class":"A","name":"FN","type":"FT","cards":[...]}
//! {"op":"shutdown"}                         orderly SHUTDOWN; answered when the system is down
//! {"op":"status"}                           system name, state and users
//! ```
//!
//! Replies: `{"line":…}` console output, `{"prompt":…,"hidden":true}` input wanted,
//! `{"done":n}` input line n processed, `{"rc":n,"lines":[…]}` the answer to a one-shot request,
//! `{"end":"logoff"|"disconnect"|"shutdown"}` end of session, `{"error":…}` a refused request.

use serde::{Deserialize, Serialize};

/// Largest request line accepted (a punch request carries a whole deck).
pub const MAX_REQUEST: usize = 64 << 20;

/// A request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    /// Start a terminal session.
    Console {
        /// Log on as this user (operator trust), or `None` for a LOGON prompt.
        user: Option<String>,
    },
    /// A line typed at the terminal.
    Line {
        /// The text.
        text: String,
    },
    /// End of terminal input.
    Eof,
    /// One CP command.
    Cp {
        /// As this user.
        user: String,
        /// The command line.
        command: String,
    },
    /// Punch a deck of cards.
    Punch {
        /// As this user.
        user: String,
        /// To this user's reader (default: the user's own).
        to: Option<String>,
        /// Spool class.
        class: Option<String>,
        /// Spool file name.
        name: Option<String>,
        /// Spool file type.
        #[serde(rename = "type")]
        ftype: Option<String>,
        /// The cards (at most 80 bytes each).
        cards: Vec<String>,
    },
    /// Send a special message as a user and return the messages that come back to that user
    /// from the target: until `quiet_ms` pass with none after the first, or `wait_ms` in all.
    Smsg {
        /// As this user.
        user: String,
        /// To this program.
        to: String,
        /// The text.
        text: String,
        /// Longest wait in all.
        wait_ms: u64,
        /// Quiet time that ends the reply.
        quiet_ms: u64,
    },
    /// Shut the system down.
    Shutdown,
    /// Report status.
    Status,
}

/// A reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Reply {
    /// Console output.
    Line {
        /// The line.
        line: String,
    },
    /// The server wants input.
    Prompt {
        /// Prompt text.
        prompt: String,
        /// Do not echo what is typed.
        hidden: bool,
    },
    /// Input line `done` has been processed.
    Done {
        /// Its number, from 1.
        done: u64,
    },
    /// The answer to a one-shot request.
    Answer {
        /// Return code.
        rc: i32,
        /// Response lines.
        lines: Vec<String>,
    },
    /// End of the session.
    End {
        /// Why.
        end: String,
    },
    /// Status.
    Status {
        /// System name.
        system: String,
        /// Run state.
        state: String,
        /// Users logged on.
        users: usize,
    },
    /// A refused request.
    Error {
        /// What was wrong.
        error: String,
    },
}

impl Reply {
    /// The JSON line for this reply.
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("replies always serialize");
        s.push('\n');
        s
    }
}
