//! `QUERY READER / PRINTER / PUNCH`: spool files, column-exact (cp-cms.md §2.8).
//!
//! ```text
//! spool-query = [owner] [spoolid] *filter ["ALL"] [date]
//! owner       = "*" / userid / "SYSTEM" / "USERID" (userid / "*")   ; others need class D
//! filter      = "CLASS" class / "FORM" form / "DEST" dest / "HOLD" / "NOHOLD" / "USERHOLD"
//!             / "SYSHOLD" / "AVAIL"
//! date        = "SHORTDATE" / "FULLDATE" / "ISODATE"
//! ```
//!
//! Class G users see their own files (`*` is the default); class D users see every user's files
//! by default (`SYSTEM`), with the owner in the first column.

use spool::{Queue, SpoolFile, UserId};

use crate::{
    cp::{
        CpResult, Ctx,
        format::{self, DateStyle},
        messages::{self, CpMsg},
        select,
    },
    grammar::{Cursor, decimal, whole},
};

/// `QUERY READER`
pub fn rdr(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    query(ctx, c, Queue::Rdr)
}
/// `QUERY PRINTER`
pub fn prt(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    query(ctx, c, Queue::Prt)
}
/// `QUERY PUNCH`
pub fn pun(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    query(ctx, c, Queue::Pun)
}

enum Hold {
    Any,
    Held,
    NotHeld,
    User,
    Sys,
}

fn owner_op(ctx: &Ctx<'_>, t: &str) -> Result<Option<UserId>, CpMsg> {
    if t == "*" {
        return Ok(Some(ctx.vm.userid.clone()));
    }
    let u = UserId::parse(t).map_err(|_| messages::invalid_operand(t))?;
    if u != ctx.vm.userid && !ctx.has("D") {
        return Err(messages::invalid_operand(t));
    }
    if ctx.sys.entry(&u).is_none() {
        return Err(messages::not_in_directory(u.as_str()));
    }
    Ok(Some(u))
}

fn query(ctx: &Ctx<'_>, c: &mut Cursor<'_>, queue: Queue) -> CpResult {
    // None = the whole system (class D).
    let mut owner: Option<UserId> = if ctx.has("D") {
        None
    } else {
        Some(ctx.vm.userid.clone())
    };
    let mut owner_given = false;
    let mut spoolid: Option<u16> = None;
    let mut class = None;
    let mut form = None;
    let mut dest = None;
    let mut hold = Hold::Any;
    let mut all = false;
    let mut style = DateStyle::Short;
    while let Some(t) = c.peek() {
        if c.keyword("ALL", 3) {
            all = true;
        } else if c.keyword("SHORTDATE", 3) {
            style = DateStyle::Short;
        } else if c.keyword("FULLDATE", 3) {
            style = DateStyle::Full;
        } else if c.keyword("ISODATE", 3) {
            style = DateStyle::Iso;
        } else if c.keyword("CLASS", 2) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            class = Some(select::single_class(v)?);
        } else if c.keyword("FORM", 4) {
            form = Some(
                c.next_token()
                    .ok_or_else(messages::operand_missing)?
                    .to_ascii_uppercase(),
            );
        } else if c.keyword("DEST", 4) {
            dest = Some(
                c.next_token()
                    .ok_or_else(messages::operand_missing)?
                    .to_ascii_uppercase(),
            );
        } else if c.keyword("HOLD", 3) {
            hold = Hold::Held;
        } else if c.keyword("NOHOLD", 3) {
            hold = Hold::NotHeld;
        } else if c.keyword("USERHOLD", 4) {
            hold = Hold::User;
        } else if c.keyword("SYSHOLD", 3) {
            hold = Hold::Sys;
        } else if c.keyword("AVAIL", 2) {
            hold = Hold::NotHeld;
        } else if !owner_given && c.keyword("SYSTEM", 6) {
            if !ctx.has("D") {
                return Err(messages::invalid_operand(t));
            }
            owner = None;
            owner_given = true;
        } else if !owner_given && c.keyword("USERID", 6) {
            let u = c.next_token().ok_or_else(messages::userid_missing)?;
            owner = owner_op(ctx, u)?;
            owner_given = true;
        } else if let Some(n) = whole(t, decimal) {
            c.next_token();
            if n == 0 || n > spool::MAX_SPOOLID as u64 || spoolid.is_some() {
                return Err(messages::invalid_operand(t));
            }
            spoolid = Some(n as u16);
        } else if !owner_given && spoolid.is_none() {
            c.next_token();
            owner = owner_op(ctx, t)?;
            owner_given = true;
        } else {
            return Err(messages::invalid_option(t));
        }
    }
    let system_wide = owner.is_none();
    let files: Vec<SpoolFile> = ctx.sys.spool().view(|tx| {
        let owners = match &owner {
            Some(u) => vec![u.clone()],
            None => tx.owners(),
        };
        owners
            .iter()
            .flat_map(|u| tx.queue(u, queue))
            .filter(|f| spoolid.is_none_or(|id| f.spoolid == id))
            .filter(|f| class.is_none_or(|cl| f.attrs.class.as_char() == cl))
            .filter(|f| form.as_deref().is_none_or(|x| f.attrs.form == x))
            .filter(|f| dest.as_deref().is_none_or(|x| f.attrs.dest == x))
            .filter(|f| match hold {
                Hold::Any => true,
                Hold::Held => f.attrs.hold.any(),
                Hold::NotHeld => !f.attrs.hold.any(),
                Hold::User => f.attrs.hold.user,
                Hold::Sys => f.attrs.hold.system,
            })
            .cloned()
            .collect()
    });
    if files.is_empty() {
        if let (Some(id), false) = (spoolid, system_wide) {
            return Err(messages::no_spoolid(id));
        }
        return Ok(vec![format::no_files(queue)]);
    }
    let mut out = Vec::with_capacity(files.len() + 1);
    let fix = |h: &str| {
        if system_wide {
            h.replacen("ORIGINID", "OWNERID ", 1)
        } else {
            h.to_string()
        }
    };
    if all {
        out.push(fix(match style {
            DateStyle::Short => format::QUERY_ALL_HEADER,
            _ => format::QUERY_ALL_HEADER_LONG,
        }));
        let tz = ctx.sys.tz();
        out.extend(
            files
                .iter()
                .map(|f| format::query_all_row(f, system_wide, tz, style)),
        );
    } else {
        out.push(fix(format::QUERY_HEADER));
        out.extend(files.iter().map(|f| format::query_row(f, system_wide)));
    }
    Ok(out)
}
