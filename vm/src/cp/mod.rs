//! CP commands: one table matched by minimum abbreviation, one file per command.
//!
//! A command line is split into blank-delimited tokens ([`crate::grammar`]); the first token is
//! looked up in [`commands::TABLE`] in table order among the commands the issuer's privilege
//! classes allow, so a command outside the user's classes behaves exactly like an unknown one.
//! Each command's `run` parses its own operands and returns its response lines or a CP message,
//! whose number is the return code.

pub mod commands;
pub mod format;
pub mod messages;
pub mod select;

use std::sync::Arc;

use messages::CpMsg;

use crate::{
    grammar::Cursor,
    machine::{MsgMode, VirtualMachine},
    system::System,
};

/// Commands whose operands keep the case they were typed in: message texts, and AUTOLOG's
/// password (directory passwords are case-sensitive here).
const MESSAGE_COMMANDS: &[&str] = &[
    "MESSAGE", "MSG", "MSGNOH", "WARNING", "WNG", "SMSG", "AUTOLOG",
];

/// Longest CP command line accepted (as DIAGNOSE X'08' on z/VM).
pub const MAX_LINE: usize = 240;

/// A CP response: the lines shown and the return code a program gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpResponse {
    /// Response lines.
    pub lines: Vec<String>,
    /// Return code: 0, or the number of the error message.
    pub rc: i32,
}

/// What a command returns: its response lines, or an error message.
pub type CpResult = Result<Vec<String>, CpMsg>;

/// The context a command runs in: the system and the issuing virtual machine.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The system.
    pub sys: &'a Arc<System>,
    /// The issuer.
    pub vm: &'a Arc<VirtualMachine>,
}

impl Ctx<'_> {
    /// Whether the issuer has any of the classes in `classes`.
    pub fn has(&self, classes: &str) -> bool {
        self.vm.classes.any_of(classes)
    }

    /// Informational response lines, unless the issuer has SET IMSG OFF.
    pub fn info(&self, lines: Vec<String>) -> Vec<String> {
        if self.vm.lock().settings.imsg == MsgMode::Off {
            Vec::new()
        } else {
            lines
        }
    }
}

/// Executes one CP command line for `vm`.
pub fn execute(sys: &Arc<System>, vm: &Arc<VirtualMachine>, line: &str) -> CpResponse {
    let emsg = vm.lock().settings.emsg;
    let fail = |m: CpMsg| CpResponse {
        lines: m.render(emsg).into_iter().collect(),
        rc: m.rc(),
    };
    if line.chars().count() > MAX_LINE {
        return fail(messages::line_too_long(MAX_LINE));
    }
    if vm.is_logged_off() && !vm.transient {
        return fail(messages::not_logged_on(vm.userid.as_str()));
    }
    // CP folds input to upper case, except the text of messages, which goes as typed.
    let upper = line.to_ascii_uppercase();
    let mut c = Cursor::new(&upper);
    let Some(word) = c.next_token() else {
        return CpResponse::default();
    };
    if word.starts_with('*') {
        // A comment.
        return CpResponse::default();
    }
    let Some(cmd) = commands::lookup(word, vm.classes) else {
        return fail(messages::unknown_command(word));
    };
    let mut c = if MESSAGE_COMMANDS.contains(&cmd.name) {
        let mut c = Cursor::new(line);
        c.next_token();
        c
    } else {
        c
    };
    let ctx = Ctx { sys, vm };
    tracing::debug!(user = %vm.userid, command = cmd.name, "CP command");
    match (cmd.run)(&ctx, &mut c) {
        Ok(lines) => CpResponse { lines, rc: 0 },
        Err(m) => fail(m),
    }
}
