//! `MESSAGE` / `MSG`: a message to another user's console (or its program, with SET MSG IUCV).
//!
//! ```text
//! msg    = ("MESSAGE" / "MSG") target text
//! target = userid / "*" / "OPERATOR" / "ALL"      ; ALL needs class A or B
//! ```

use spool::UserId;

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    iucv::MsgClass,
};

/// How a message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `MSG FROM userid  : text`
    Msg,
    /// `WNG FROM userid  : text`
    Wng,
    /// The text alone (MSGNOH).
    NoHeader,
}

/// Parses the target and text and delivers.
pub(super) fn send(ctx: &Ctx<'_>, c: &mut Cursor<'_>, kind: Kind) -> CpResult {
    let target = c.next_token().ok_or_else(messages::userid_missing)?;
    let text = c.rest();
    if text.is_empty() {
        return Err(messages::operand_missing());
    }
    let from = &ctx.vm.userid;
    let (class, line) = match kind {
        Kind::Msg => (MsgClass::Msg, format!("MSG FROM {}: {text}", from.padded())),
        Kind::Wng => (MsgClass::Wng, format!("WNG FROM {}: {text}", from.padded())),
        Kind::NoHeader => (MsgClass::Msg, text.to_string()),
    };
    let up = target.to_ascii_uppercase();
    if up == "ALL" {
        if !ctx.has("AB") {
            return Err(messages::invalid_operand(target));
        }
        for vm in ctx.sys.logged_on() {
            let _ = ctx.sys.deliver_message(class, from, &vm, text, &line);
        }
        return Ok(Vec::new());
    }
    let u = if up == "*" {
        from.clone()
    } else if crate::grammar::abbrev(&up, "OPERATOR", 2) {
        ctx.sys.config().operator.clone()
    } else {
        UserId::parse(target).map_err(|_| messages::not_logged_on(target))?
    };
    // A host command acting as the user (vmimap admin) sees its messages.
    let tapped = ctx.sys.tapped(from, &u, text);
    let vm = match ctx.sys.vm(&u) {
        Some(vm) => vm,
        None if tapped => return Ok(Vec::new()),
        None => return Err(messages::not_logged_on(u.as_str())),
    };
    match ctx.sys.deliver_message(class, from, &vm, text, &line) {
        Err(_) if tapped => {}
        r => r?,
    }
    Ok(Vec::new())
}

/// `MSG target text`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    send(ctx, c, Kind::Msg)
}
