//! `SHUTDOWN` (class A): an orderly shutdown of the whole system.
//!
//! ```text
//! shutdown = "SHUTDOWN"                       ; no abbreviation
//! ```

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
};

/// Starts system shutdown.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    if let Some(t) = c.next_token() {
        return Err(messages::invalid_option(t));
    }
    if !ctx.sys.request_shutdown(ctx.vm.userid.as_str()) {
        return Err(messages::shutting_down());
    }
    Ok(vec!["HCPSHU9001I System shutdown started".into()])
}
