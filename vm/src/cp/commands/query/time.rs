//! `QUERY TIME`: the time of day and the session's connect time.

use super::no_more;
use crate::{
    clock,
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// `TIME IS hh:mm:ss zone weekday mm/dd/yy` and `CONNECT= …`.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    let now = clock::now();
    Ok(vec![
        format!("TIME IS {}", ctx.sys.tz().stamp(now)),
        format!(
            "CONNECT= {} VIRTCPU= 000:00.00 TOTCPU= 000:00.00",
            clock::duration(now - ctx.vm.logon_time)
        ),
    ])
}
