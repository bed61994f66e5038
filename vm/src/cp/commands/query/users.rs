//! `QUERY USERS`: how many users are logged on.

use super::no_more;
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// `   nn USERS,    0 DIALED,    0 NET`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    Ok(vec![format!(
        "{:5} USERS, {:4} DIALED, {:4} NET",
        ctx.sys.users(),
        0,
        0
    )])
}
