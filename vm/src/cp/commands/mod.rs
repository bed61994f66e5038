//! The CP command table. Order matters: an abbreviation goes to the first command in this order
//! that it abbreviates and that the issuer's classes allow (CP's rule).

mod autolog;
mod change;
mod close;
mod disconnect;
mod force;
mod logoff;
mod msg;
mod msgnoh;
mod order;
mod purge;
mod query;
mod set;
mod shutdown;
mod smsg;
mod spool;
mod transfer;
mod wng;
mod xautolog;

use super::{CpResult, Ctx};
use crate::{grammar::Cursor, privilege::PrivClasses};

/// One CP command: its name, minimum abbreviation, privilege classes (`*` = any) and handler.
#[derive(Debug)]
pub struct Command {
    /// Full name.
    pub name: &'static str,
    /// Minimum abbreviation length.
    pub min: usize,
    /// Classes allowed to issue it.
    pub classes: &'static str,
    /// The handler.
    pub run: fn(&Ctx<'_>, &mut Cursor<'_>) -> CpResult,
}

const fn cmd(
    name: &'static str,
    min: usize,
    classes: &'static str,
    run: fn(&Ctx<'_>, &mut Cursor<'_>) -> CpResult,
) -> Command {
    Command {
        name,
        min,
        classes,
        run,
    }
}

/// Every CP command, in lookup order.
pub static TABLE: &[Command] = &[
    cmd("AUTOLOG", 6, "AB", autolog::run),
    cmd("CHANGE", 2, "DG", change::run),
    cmd("CLOSE", 1, "G", close::run),
    cmd("DISCONNECT", 4, "*", disconnect::run),
    cmd("FORCE", 5, "A", force::run),
    cmd("LOGOFF", 3, "*", logoff::run),
    cmd("LOGOUT", 4, "*", logoff::run),
    cmd("MESSAGE", 1, "ABCDEFG", msg::run),
    cmd("MSG", 3, "ABCDEFG", msg::run),
    cmd("MSGNOH", 6, "B", msgnoh::run),
    cmd("ORDER", 3, "DG", order::run),
    cmd("PURGE", 3, "DG", purge::run),
    cmd("QUERY", 1, "ABCDEFGH", query::run),
    cmd("SET", 3, "ABCDEFG", set::run),
    cmd("SHUTDOWN", 8, "A", shutdown::run),
    cmd("SMSG", 2, "G", smsg::run),
    cmd("SPOOL", 2, "G", spool::run),
    cmd("TRANSFER", 4, "DG", transfer::run),
    cmd("WARNING", 1, "AB", wng::run),
    cmd("WNG", 3, "AB", wng::run),
    cmd("XAUTOLOG", 6, "ABG", xautolog::run),
];

/// Finds the command `word` abbreviates among those `classes` allow.
pub fn lookup(word: &str, classes: PrivClasses) -> Option<&'static Command> {
    TABLE
        .iter()
        .find(|c| crate::grammar::abbrev(word, c.name, c.min) && classes.any_of(c.classes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_resolve_in_table_order() {
        let all = PrivClasses::parse("ABCDEFG").unwrap();
        let g = PrivClasses::parse("G").unwrap();
        assert_eq!(lookup("q", all).unwrap().name, "QUERY");
        assert_eq!(lookup("m", all).unwrap().name, "MESSAGE");
        assert_eq!(lookup("c", all).unwrap().name, "CLOSE");
        assert_eq!(lookup("ch", all).unwrap().name, "CHANGE");
        assert_eq!(lookup("sp", all).unwrap().name, "SPOOL");
        assert_eq!(lookup("log", all).unwrap().name, "LOGOFF");
        assert!(lookup("s", all).is_none());
        assert!(lookup("force", g).is_none());
        assert!(lookup("shut", all).is_none());
        assert_eq!(lookup("shutdown", all).unwrap().name, "SHUTDOWN");
    }
}
