//! `DISCONNECT`: detaches the terminal; the virtual machine keeps running.
//!
//! ```text
//! disconnect = "DISCONNECT" ["HOLD"]          ; minimum abbreviation DISC
//! ```

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
};

/// Disconnects the issuer's terminal.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    if let Some(t) = c.next_token()
        && !crate::grammar::abbrev(t, "HOLD", 2)
    {
        return Err(messages::invalid_option(t));
    }
    if ctx.vm.transient {
        return Err(messages::not_logged_on(ctx.vm.userid.as_str()));
    }
    Ok(vec![ctx.sys.disconnect(ctx.vm)])
}
