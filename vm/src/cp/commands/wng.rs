//! `WARNING` / `WNG` (class A, B): a warning message, received even with SET MSG OFF.
//!
//! ```text
//! wng = ("WARNING" / "WNG") (userid / "ALL" / "*" / "OPERATOR") text
//! ```

use super::msg::{Kind, send};
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// `WNG target text`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    send(ctx, c, Kind::Wng)
}
