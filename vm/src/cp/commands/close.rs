//! `CLOSE` (class G): ends the file on a unit-record device.
//!
//! ```text
//! close = "CLOSE" device *option ["NAME" fn [ft]]                   ; NAME last
//! option = "HOLD" / "NOHOLD" / "KEEP" / "NOKEEP" / "PURGE" / "DIST" code
//!        / "TO" userid ["RDR" / "PRT" / "PUN"]
//! ```
//!
//! On an output device the data written so far becomes a closed spool file (durable before CP
//! answers); on the reader, the file being read is purged unless held or kept.

use spool::Queue;

use super::spool::{dev_label, device, name_token, target_user};
use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    system::spoolops::{self, CloseOpts},
};

/// Closes a device.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let dev = device(c)?;
    let mut o = CloseOpts::default();
    while let Some(t) = c.peek() {
        if c.keyword("HOLD", 2) {
            o.hold = Some(true);
        } else if c.keyword("NOHOLD", 3) {
            o.hold = Some(false);
        } else if c.keyword("KEEP", 2) {
            o.keep = Some(true);
        } else if c.keyword("NOKEEP", 3) {
            o.keep = Some(false);
        } else if c.keyword("PURGE", 2) {
            o.purge = true;
        } else if c.keyword("DIST", 2) {
            let d = c.next_token().ok_or_else(messages::operand_missing)?;
            if d.len() > 8 {
                return Err(messages::invalid_operand(d));
            }
            o.dist = Some(d.to_ascii_uppercase());
        } else if c.keyword("TO", 2) {
            let u = target_user(ctx, c.next_token())?;
            let q = if c.keyword("RDR", 3) || c.keyword("READER", 1) {
                Queue::Rdr
            } else if c.keyword("PRT", 3) || c.keyword("PRINTER", 1) {
                Queue::Prt
            } else if c.keyword("PUN", 3) || c.keyword("PUNCH", 2) || c.keyword("PCH", 3) {
                Queue::Pun
            } else {
                Queue::Rdr
            };
            o.to = Some((u, q));
        } else if c.keyword("NAME", 2) {
            let n = name_token(c.next_token())?;
            let ty = c.next_token().map(|s| s.to_string()).unwrap_or_default();
            o.name = Some((n, ty));
            if let Some(x) = c.next_token() {
                return Err(messages::invalid_option(x));
            }
        } else {
            return Err(messages::invalid_option(t));
        }
    }
    let is_reader = ctx.vm.lock().devices.is_reader(dev);
    if is_reader {
        return spoolops::reader_close(ctx.sys, ctx.vm, o.hold == Some(true));
    }
    if ctx.vm.lock().devices.output_index(dev).is_none() {
        return Err(messages::no_device(&dev_label(dev)));
    }
    spoolops::close_output(ctx.sys, ctx.vm, dev, &o)
}
