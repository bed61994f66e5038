//! `PURGE` (class G own files; class D any user's): deletes spool files.
//!
//! ```text
//! purge = "PURGE" [owner] queue files            ; see cp::select
//! ```

use crate::{
    cp::{
        CpResult, Ctx, format, messages,
        select::{self, Selection},
    },
    grammar::Cursor,
};

/// Purges the selected files and reports the count.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let (owner, queues) = select::owner_and_queue(ctx, c)?;
    let files = select::files(c, &[])?;
    if let Some(t) = c.next_token() {
        return Err(messages::invalid_operand(t));
    }
    let sel = Selection {
        owner,
        queues,
        files,
    };
    let n = ctx.sys.spool().transact(|t| {
        let victims = select::resolve(t, &sel)?;
        for f in &victims {
            t.purge(f.sfid);
        }
        Ok::<_, messages::CpMsg>(victims.len())
    })?;
    Ok(ctx.info(vec![format::count_line(n, "PURGED")]))
}
