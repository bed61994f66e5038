//! `QUERY`: the operands are a second table, matched by minimum abbreviation like commands;
//! a token that is no operand is taken as a userid (`QUERY MAINT`).
//!
//! ```text
//! query = "QUERY" ( "NAMES" / "USERS" / "USERID" / "TIME" / "CPLEVEL" / "FILES" / "SET"
//!                 / ("READER" / "RDR" / "PRINTER" / "PRT" / "PUNCH" / "PCH") spool-query
//!                 / "VIRTUAL" [vdev / "UR" / "ALL" / "CONSOLE" / "READER" / "PUNCH" / "PRINTER"]
//!                 / userid )
//! ```

mod cplevel;
mod files;
mod names;
mod set;
mod spoolq;
mod time;
mod user;
mod userid;
mod users;
mod virt;

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
};

type Run = fn(&Ctx<'_>, &mut Cursor<'_>) -> CpResult;

static OPERANDS: &[(&str, usize, Run)] = &[
    ("NAMES", 1, names::run),
    ("USERS", 5, users::run),
    ("USERID", 6, userid::run),
    ("TIME", 1, time::run),
    ("CPLEVEL", 7, cplevel::run),
    ("FILES", 1, files::run),
    ("SET", 3, set::run),
    ("READER", 1, spoolq::rdr),
    ("RDR", 3, spoolq::rdr),
    ("PRINTER", 1, spoolq::prt),
    ("PRT", 3, spoolq::prt),
    ("PUNCH", 2, spoolq::pun),
    ("PCH", 3, spoolq::pun),
    ("PUN", 3, spoolq::pun),
    ("VIRTUAL", 1, virt::run),
];

/// Dispatches a QUERY.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let Some(word) = c.next_token() else {
        return Err(messages::operand_missing());
    };
    match OPERANDS
        .iter()
        .find(|(name, min, _)| crate::grammar::abbrev(word, name, *min))
    {
        Some((_, _, run)) => run(ctx, c),
        None => user::run(ctx, word, c),
    }
}

/// Fails with 003E if any operand is left.
pub(super) fn no_more(c: &mut Cursor<'_>) -> Result<(), messages::CpMsg> {
    match c.next_token() {
        Some(t) => Err(messages::invalid_option(t)),
        None => Ok(()),
    }
}
