//! `QUERY userid`: whether a user is logged on, and where.

use spool::UserId;

use super::no_more;
use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
};

/// `userid   - DSC` or `userid   - L0003`; 045E when not logged on.
pub fn run(ctx: &Ctx<'_>, word: &str, c: &mut Cursor<'_>) -> CpResult {
    let u = UserId::parse(word).map_err(|_| messages::invalid_operand(word))?;
    no_more(c)?;
    let vm = ctx
        .sys
        .vm(&u)
        .ok_or_else(|| messages::not_logged_on(u.as_str()))?;
    let term = vm
        .lock()
        .terminal
        .as_ref()
        .map(|t| t.id.clone())
        .unwrap_or_else(|| "DSC".into());
    Ok(vec![format!("{} - {term}", u.padded())])
}
