//! `LOGOFF` / `LOGOUT`: ends the virtual machine.
//!
//! ```text
//! logoff = ("LOGOFF" / "LOGOUT") ["HOLD" / "QUICK"]
//! ```

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    system::LogoffWhy,
};

/// Logs the issuer off; the CONNECT= and LOGOFF AT lines are the response.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    while let Some(t) = c.next_token() {
        if !(crate::grammar::abbrev(t, "HOLD", 2) || crate::grammar::abbrev(t, "QUICK", 1)) {
            return Err(messages::invalid_option(t));
        }
    }
    if ctx.vm.transient {
        return Err(messages::not_logged_on(ctx.vm.userid.as_str()));
    }
    Ok(ctx.sys.logoff(ctx.vm, LogoffWhy::Own))
}
