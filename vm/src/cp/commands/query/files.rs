//! `QUERY FILES`: the issuer's spool file counts.

use super::no_more;
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// `FILES: nnnn RDR, nnnn PRT, nnnn PUN`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    Ok(vec![ctx.sys.files_line(&ctx.vm.userid)])
}
