//! `SMSG` (class G): a special message to a program. It is never displayed: the target must have
//! SET SMSG IUCV (or ON) and a path to `*MSG` or `*MSGALL`, which delivers the origin userid and
//! the text exactly as typed.
//!
//! ```text
//! smsg = "SMSG" (userid / "*") text
//! ```

use spool::UserId;

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    iucv::MsgClass,
};

/// Sends a special message.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let target = c.next_token().ok_or_else(messages::userid_missing)?;
    let text = c.rest();
    if text.is_empty() {
        return Err(messages::operand_missing());
    }
    let u = if target == "*" {
        ctx.vm.userid.clone()
    } else {
        UserId::parse(target).map_err(|_| messages::not_logged_on(target))?
    };
    let vm = ctx
        .sys
        .vm(&u)
        .ok_or_else(|| messages::not_logged_on(u.as_str()))?;
    ctx.sys
        .deliver_message(MsgClass::Smsg, &ctx.vm.userid, &vm, text, text)?;
    Ok(Vec::new())
}
