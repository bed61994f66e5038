//! `AUTOLOG userid [password]` (class A, B): logs a user on, disconnected, and IPLs its program.
//!
//! The password is required unless the user has none (AUTOONLY, NOPASS): service machines are
//! autologged without one.

use spool::UserId;

use crate::{
    cp::{CpResult, Ctx, messages},
    directory::Password,
    grammar::Cursor,
};

/// Autologs `userid` after checking its password.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let t = c.next_token().ok_or_else(messages::userid_missing)?;
    let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
    let pw = c.next_token();
    if let Some(extra) = c.next_token() {
        return Err(messages::invalid_operand(extra));
    }
    let Some(entry) = ctx.sys.entry(&u) else {
        // Same refusal as a wrong password: nothing tells whether the user exists.
        crate::directory::password::dummy_verify(pw.unwrap_or(""));
        return Err(messages::logon_failed());
    };
    let needs_password = !matches!(entry.password, Password::AutoOnly | Password::NoPass);
    if needs_password {
        match pw {
            Some(p) if entry.password.verify(p) => {}
            _ => return Err(messages::logon_failed()),
        }
    }
    super::xautolog::start(ctx, entry)
}
