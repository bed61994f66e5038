//! `QUERY USERID`: `userid   AT system`.

use super::no_more;
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// The issuer's userid and the system name.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    Ok(vec![format!(
        "{} AT {}",
        ctx.vm.userid.padded(),
        ctx.sys.config().system_id
    )])
}
