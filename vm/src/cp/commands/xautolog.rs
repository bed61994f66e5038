//! `XAUTOLOG userid` (class A, B, or G when the target's directory entry names the issuer in an
//! `XAUTOLOG` statement): logs a user on disconnected and IPLs its program.
//!
//! ```text
//! xautolog = "XAUTOLOG" userid ["SYNCH"]
//! ```

use std::sync::Arc;

use spool::UserId;

use crate::{
    cp::{CpResult, Ctx, messages},
    directory::UserEntry,
    grammar::Cursor,
    system::LogonHow,
};

/// Logs `entry` on and reports as CP does: `Command accepted` and the AUTO LOGON line.
pub(super) fn start(ctx: &Ctx<'_>, entry: Arc<UserEntry>) -> CpResult {
    if ctx.sys.vm(&entry.userid).is_some() {
        return Err(messages::already_logged_on(entry.userid.as_str()));
    }
    let userid = entry.userid.clone();
    let (_, lines) = ctx.sys.logon(
        entry,
        LogonHow::Autolog {
            by: Some(ctx.vm.userid.clone()),
        },
    )?;
    let mut out = vec!["Command accepted".to_string()];
    out.push(format!(
        "AUTO LOGON  ***       {} USERS = {}  BY {}",
        userid.padded(),
        ctx.sys.users(),
        ctx.vm.userid
    ));
    out.extend(lines);
    Ok(out)
}

/// XAUTOLOGs `userid` if the issuer may.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let t = c.next_token().ok_or_else(messages::userid_missing)?;
    let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
    while let Some(o) = c.next_token() {
        if !crate::grammar::abbrev(o, "SYNCH", 5) {
            return Err(messages::invalid_option(o));
        }
    }
    let entry = ctx
        .sys
        .entry(&u)
        .ok_or_else(|| messages::not_in_directory(u.as_str()))?;
    if !ctx.has("AB") && !entry.xautolog.contains(&ctx.vm.userid) {
        return Err(messages::not_authorized(&format!(
            "{} may not XAUTOLOG {}",
            ctx.vm.userid, u
        )));
    }
    if !entry.password.allows_logon() {
        return Err(messages::not_authorized(&format!("{u} is NOLOG")));
    }
    start(ctx, entry)
}
