//! `FORCE userid [IMMED]` (class A): logs another user off.

use spool::UserId;

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    system::LogoffWhy,
};

/// Forces `userid` off the system.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let t = c.next_token().ok_or_else(messages::userid_missing)?;
    let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
    if let Some(o) = c.next_token()
        && !crate::grammar::abbrev(o, "IMMEDIATE", 3)
    {
        return Err(messages::invalid_option(o));
    }
    if let Some(o) = c.next_token() {
        return Err(messages::invalid_option(o));
    }
    let vm = ctx
        .sys
        .vm(&u)
        .ok_or_else(|| messages::not_logged_on(u.as_str()))?;
    ctx.sys
        .logoff(&vm, LogoffWhy::Forced(ctx.vm.userid.to_string()));
    Ok(vec![format!(
        "USER DSC LOGOFF AS  {} USERS = {} FORCED BY {}",
        u.padded(),
        ctx.sys.users(),
        ctx.vm.userid
    )])
}
