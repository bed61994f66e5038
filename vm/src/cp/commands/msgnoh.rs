//! `MSGNOH` (class B): a message without the `MSG FROM` header, as service machines (RSCS, VTAM)
//! send on behalf of others.
//!
//! ```text
//! msgnoh = "MSGNOH" (userid / "*" / "OPERATOR" / "ALL") text
//! ```

use super::msg::{Kind, send};
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// `MSGNOH target text`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    send(ctx, c, Kind::NoHeader)
}
