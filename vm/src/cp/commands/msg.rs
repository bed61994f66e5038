//! `MESSAGE` / `MSG`: a message to another user's console.
//!
//! ```text
//! msg    = ("MESSAGE" / "MSG") target text
//! target = userid / "*" / "OPERATOR" / "ALL"      ; ALL needs class A or B
//! ```

use spool::UserId;

use crate::{
    cp::{Ctx, CpResult, messages::{self, CpMsg}},
    grammar::Cursor,
    machine::{MsgMode, VirtualMachine},
};

/// Which message class: MSG or WNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Msg,
    Wng,
}

/// Delivers one message to `to`, or says why it cannot be delivered.
pub(super) fn deliver(kind: Kind, from: &UserId, to: &VirtualMachine, text: &str) -> Result<(), CpMsg> {
    let (mode, label, what) = {
        let g = to.lock();
        match kind {
            Kind::Msg => (g.settings.msg, "MSG", "MSG off"),
            Kind::Wng => (g.settings.wng, "WNG", "WNG off"),
        }
    };
    if mode == MsgMode::Off {
        return Err(messages::not_receiving(to.userid.as_str(), what));
    }
    if !to.is_connected() {
        return Err(messages::not_receiving(to.userid.as_str(), "disconnected"));
    }
    to.console(&format!("{label} FROM {}: {text}", from.padded()));
    Ok(())
}

/// Parses the target and text and delivers.
pub(super) fn send(ctx: &Ctx<'_>, c: &mut Cursor<'_>, kind: Kind) -> CpResult {
    let target = c.next_token().ok_or_else(messages::userid_missing)?;
    let text = c.rest();
    if text.is_empty() {
        return Err(messages::operand_missing());
    }
    let up = target.to_ascii_uppercase();
    if up == "ALL" {
        if !ctx.has("AB") {
            return Err(messages::invalid_operand(target));
        }
        for vm in ctx.sys.logged_on() {
            let _ = deliver(kind, &ctx.vm.userid, &vm, text);
        }
        return Ok(Vec::new());
    }
    let u = if up == "*" {
        ctx.vm.userid.clone()
    } else if crate::grammar::abbrev(&up, "OPERATOR", 2) {
        ctx.sys.config().operator.clone()
    } else {
        UserId::parse(target).map_err(|_| messages::not_logged_on(target))?
    };
    let vm = ctx
        .sys
        .vm(&u)
        .ok_or_else(|| messages::not_logged_on(u.as_str()))?;
    deliver(kind, &ctx.vm.userid, &vm, text)?;
    Ok(Vec::new())
}

/// `MSG target text`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    send(ctx, c, Kind::Msg)
}
