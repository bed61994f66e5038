//! `ORDER` (class G own files; class D any user's): puts files first in their queue, in the order
//! given.
//!
//! ```text
//! order = "ORDER" [owner] ("READER" / "PRINTER" / "PUNCH") 1*(spoolid / "CLASS" class / "FORM" form)
//! ```

use crate::{
    cp::{
        CpResult, Ctx, format,
        messages::{self, CpMsg},
        select::{self, Files, Selection},
    },
    grammar::Cursor,
};

/// Reorders the selected files.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let (owner, queues) = select::owner_and_queue(ctx, c)?;
    if queues.len() != 1 {
        return Err(messages::invalid_operand("ALL"));
    }
    let files = select::files(c, &[])?;
    if matches!(files, Files::All) {
        return Err(messages::invalid_operand("ALL"));
    }
    if let Some(t) = c.next_token() {
        return Err(messages::invalid_operand(t));
    }
    let sel = Selection {
        owner,
        queues,
        files,
    };
    let n = ctx.sys.spool().transact(|t| {
        let targets = select::resolve(t, &sel)?;
        let ids: Vec<u64> = targets.iter().map(|f| f.sfid).collect();
        t.order_first(&ids);
        Ok::<_, CpMsg>(ids.len())
    })?;
    Ok(ctx.info(vec![format::count_line(n, "ORDERED")]))
}
