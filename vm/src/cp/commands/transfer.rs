//! `TRANSFER` (class G own files; class D any user's): moves spool files to another user's queue.
//! The file gets a new spoolid in the receiver's space; both parties see the §2.7 lines.
//!
//! ```text
//! transfer = "TRANSFER" [owner] queue files "TO" userid [queue]
//!          / "TRANSFER" [owner] queue files "FROM" userid [queue]   ; reclaim files you created
//! ```

use spool::{Queue, UserId};

use crate::{
    cp::{
        CpResult, Ctx, format, messages,
        select::{self, Selection},
    },
    grammar::Cursor,
    system::spoolops,
};

fn queue(c: &mut Cursor<'_>) -> Queue {
    if c.keyword("PRINTER", 1) || c.keyword("PRT", 3) {
        Queue::Prt
    } else if c.keyword("PUNCH", 2) || c.keyword("PCH", 3) || c.keyword("PUN", 3) {
        Queue::Pun
    } else {
        let _ = c.keyword("READER", 1) || c.keyword("RDR", 3);
        Queue::Rdr
    }
}

/// Transfers the selected files.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let (owner, queues) = select::owner_and_queue(ctx, c)?;
    let files = select::files(c, &["TO", "FROM"])?;
    let (from_form, to, dest_q) = if c.keyword("TO", 2) {
        let u = super::spool::target_user(ctx, c.next_token())?;
        (false, u, queue(c))
    } else if c.keyword("FROM", 4) {
        // Reclaim: files in `userid`'s queues that the issuer created come back to the issuer.
        let t = c.next_token().ok_or_else(messages::userid_missing)?;
        let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
        if ctx.sys.entry(&u).is_none() {
            return Err(messages::not_in_directory(u.as_str()));
        }
        (true, u, queue(c))
    } else {
        return Err(match c.peek() {
            Some(t) => messages::invalid_operand(t),
            None => messages::operand_missing(),
        });
    };
    if let Some(t) = c.next_token() {
        return Err(messages::invalid_operand(t));
    }
    let sel = if from_form {
        Selection {
            owner: to.clone(),
            queues,
            files,
        }
    } else {
        Selection {
            owner,
            queues,
            files,
        }
    };
    let mut targets = ctx.sys.spool().view(|t| select::resolve(t, &sel))?;
    if from_form && !ctx.has("D") {
        // A general user reclaims only files it created; another user's other files are not
        // its business, so a spoolid naming one is as good as missing.
        if let select::Files::Ids(ids) = &sel.files
            && let Some(f) = targets.iter().find(|f| f.origin != ctx.vm.userid)
        {
            let id = ids
                .iter()
                .copied()
                .find(|id| *id == f.spoolid)
                .unwrap_or(f.spoolid);
            return Err(messages::no_spoolid(id));
        }
        targets.retain(|f| f.origin == ctx.vm.userid);
    }
    let mut lines = Vec::new();
    let mut n = 0;
    for f in targets {
        let (dest_user, q) = if from_form {
            (ctx.vm.userid.clone(), dest_q)
        } else {
            (to.clone(), dest_q)
        };
        match spoolops::transfer(ctx.sys, ctx.vm, f.sfid, &dest_user, q) {
            Ok(l) => {
                lines.extend(l);
                n += 1;
            }
            Err(e) if n == 0 => return Err(e),
            Err(e) => {
                lines.extend(e.render(ctx.vm.lock().settings.emsg));
                break;
            }
        }
    }
    lines.extend(ctx.info(vec![format::count_line(n, "TRANSFERRED")]));
    Ok(lines)
}
