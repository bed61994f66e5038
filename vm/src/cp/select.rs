//! The file selection operands shared by PURGE, CHANGE, ORDER and TRANSFER:
//!
//! ```text
//! selection = [owner] queue files
//! owner     = "*" / userid                 ; another user's files need class D
//! queue     = "READER" / "RDR" / "PRINTER" / "PRT" / "PUNCH" / "PCH" / "PUN" / "ALL"
//! files     = 1*spoolid / "CLASS" class / "FORM" form / "DEST" dest / "ALL"
//! ```

use spool::{Queue, SpoolFile, Txn, UserId};

use super::{
    Ctx,
    messages::{self, CpMsg},
};
use crate::grammar::{Cursor, decimal, whole};

/// Which files a command applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Files {
    /// These spoolids, in the order given.
    Ids(Vec<u16>),
    /// Every file of this class.
    Class(char),
    /// Every file with this form.
    Form(String),
    /// Every file with this destination.
    Dest(String),
    /// Every file.
    All,
}

/// A parsed selection.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Whose files.
    pub owner: UserId,
    /// Which queues.
    pub queues: Vec<Queue>,
    /// Which files.
    pub files: Files,
}

/// Parses a queue keyword.
pub fn queue_keyword(c: &mut Cursor<'_>) -> Option<Vec<Queue>> {
    if c.keyword("READER", 1) || c.keyword("RDR", 3) {
        Some(vec![Queue::Rdr])
    } else if c.keyword("PRINTER", 1) || c.keyword("PRT", 3) {
        Some(vec![Queue::Prt])
    } else if c.keyword("PUNCH", 2) || c.keyword("PCH", 3) || c.keyword("PUN", 3) {
        Some(vec![Queue::Pun])
    } else if c.keyword("ALL", 3) {
        Some(Queue::ALL.to_vec())
    } else {
        None
    }
}

/// Parses `[owner] queue`, checking that another owner needs class D.
pub fn owner_and_queue(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> Result<(UserId, Vec<Queue>), CpMsg> {
    let mut owner = ctx.vm.userid.clone();
    if let Some(q) = queue_keyword(c) {
        return Ok((owner, q));
    }
    match c.next_token() {
        Some("*") => {}
        Some(t) => {
            let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
            if u != ctx.vm.userid && !ctx.has("D") {
                return Err(messages::invalid_operand(t));
            }
            if ctx.sys.entry(&u).is_none() {
                return Err(messages::not_in_directory(u.as_str()));
            }
            owner = u;
        }
        None => return Err(messages::operand_missing()),
    }
    let q = queue_keyword(c).ok_or_else(|| match c.peek() {
        Some(t) => messages::invalid_operand(t),
        None => messages::operand_missing(),
    })?;
    Ok((owner, q))
}

/// Parses the `files` part. Stops at a keyword in `stop` (e.g. `TO`, `CLASS` for CHANGE's new
/// attributes are parsed by the caller).
pub fn files(c: &mut Cursor<'_>, stop: &[&str]) -> Result<Files, CpMsg> {
    let mut ids = Vec::new();
    while let Some(t) = c.peek() {
        if stop
            .iter()
            .any(|s| crate::grammar::abbrev(t, s, s.len().min(2)))
            && !ids.is_empty()
        {
            break;
        }
        if let Some(n) = whole(t, decimal) {
            if n == 0 || n > spool::MAX_SPOOLID as u64 {
                return Err(messages::invalid_operand(t));
            }
            c.next_token();
            ids.push(n as u16);
            continue;
        }
        if !ids.is_empty() {
            break;
        }
        if c.keyword("ALL", 3) {
            return Ok(Files::All);
        }
        if c.keyword("CLASS", 2) {
            let cl = c.next_token().ok_or_else(messages::operand_missing)?;
            let ch = single_class(cl)?;
            return Ok(Files::Class(ch));
        }
        if c.keyword("FORM", 4) {
            let f = c.next_token().ok_or_else(messages::operand_missing)?;
            return Ok(Files::Form(f.to_ascii_uppercase()));
        }
        if c.keyword("DEST", 4) {
            let d = c.next_token().ok_or_else(messages::operand_missing)?;
            return Ok(Files::Dest(d.to_ascii_uppercase()));
        }
        return Err(messages::invalid_operand(t));
    }
    if ids.is_empty() {
        return Err(messages::operand_missing());
    }
    Ok(Files::Ids(ids))
}

/// A one-character class operand.
pub fn single_class(t: &str) -> Result<char, CpMsg> {
    let mut ch = t.chars();
    match (ch.next(), ch.next()) {
        (Some(c), None) if c.is_ascii_alphanumeric() => Ok(c.to_ascii_uppercase()),
        _ => Err(messages::invalid_operand(t)),
    }
}

/// The files a selection names, in the order given (spoolids) or queue order; a spoolid named
/// twice is one file. A spoolid that does not exist is an error (042E).
pub fn resolve(t: &Txn<'_>, s: &Selection) -> Result<Vec<SpoolFile>, CpMsg> {
    let mut out: Vec<SpoolFile> = Vec::new();
    match &s.files {
        Files::Ids(ids) => {
            for id in ids {
                match t.file(&s.owner, *id) {
                    Some(f) if s.queues.contains(&f.queue) => {
                        if !out.iter().any(|o| o.sfid == f.sfid) {
                            out.push(f.clone());
                        }
                    }
                    _ => return Err(messages::no_spoolid(*id)),
                }
            }
        }
        other => {
            for q in &s.queues {
                for f in t.queue(&s.owner, *q) {
                    let take = match other {
                        Files::Class(c) => f.attrs.class.as_char() == *c,
                        Files::Form(x) => f.attrs.form.eq_ignore_ascii_case(x),
                        Files::Dest(x) => f.attrs.dest.eq_ignore_ascii_case(x),
                        _ => true,
                    };
                    if take {
                        out.push(f.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}
