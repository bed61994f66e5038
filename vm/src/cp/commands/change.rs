//! `CHANGE` (class G own files; class D any user's): alters attributes of spool files.
//!
//! ```text
//! change = "CHANGE" [owner] queue files 1*attr
//! attr   = "CLASS" class / "COPY" 1*3DIGIT / "HOLD" / "NOHOLD" / "KEEP" / "NOKEEP" / "MSG"
//!        / "NOMSG" / "DIST" code / "FORM" form / "DEST" dest / "NAME" fn [ft] / "NONAME"
//!                                                ; NAME is the last operand
//! ```

use spool::{Class, FileAttrs};

use crate::{
    cp::{
        CpResult, Ctx, format,
        messages::{self, CpMsg},
        select::{self, Selection},
    },
    grammar::{Cursor, decimal, whole},
};

type Edit = Box<dyn Fn(&mut FileAttrs)>;

fn attrs(c: &mut Cursor<'_>) -> Result<Vec<Edit>, CpMsg> {
    let mut edits: Vec<Edit> = Vec::new();
    while let Some(t) = c.peek() {
        if c.keyword("CLASS", 2) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            let cl = Class::new(select::single_class(v)?).unwrap();
            edits.push(Box::new(move |a| a.class = cl));
        } else if c.keyword("COPY", 2) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            let n = whole(v, decimal)
                .filter(|n| (1..=255).contains(n))
                .ok_or_else(|| messages::invalid_operand(v))? as u8;
            edits.push(Box::new(move |a| a.copies = n));
        } else if c.keyword("HOLD", 2) {
            edits.push(Box::new(|a| a.hold.user = true));
        } else if c.keyword("NOHOLD", 3) {
            edits.push(Box::new(|a| a.hold.user = false));
        } else if c.keyword("KEEP", 2) {
            edits.push(Box::new(|a| a.keep = true));
        } else if c.keyword("NOKEEP", 3) {
            edits.push(Box::new(|a| a.keep = false));
        } else if c.keyword("MSG", 3) {
            edits.push(Box::new(|a| a.msg = true));
        } else if c.keyword("NOMSG", 3) {
            edits.push(Box::new(|a| a.msg = false));
        } else if c.keyword("DIST", 2) || c.keyword("FORM", 4) || c.keyword("DEST", 4) {
            c.back();
            let kw = c.next_token().unwrap().to_ascii_uppercase();
            let v = c
                .next_token()
                .ok_or_else(messages::operand_missing)?
                .to_ascii_uppercase();
            if v.len() > 8 {
                return Err(messages::invalid_operand(&v));
            }
            edits.push(match &kw[..2] {
                "DI" => Box::new(move |a| a.dist = v.clone()),
                "FO" => Box::new(move |a| a.form = v.clone()),
                _ => Box::new(move |a| a.dest = v.clone()),
            });
        } else if c.keyword("NAME", 2) {
            let n = c
                .next_token()
                .ok_or_else(messages::operand_missing)?
                .to_string();
            // NAME is last, as on SPOOL: `NAME fn [ft]`.
            let ty = c.next_token().unwrap_or("").to_string();
            if let Some(x) = c.next_token() {
                return Err(messages::invalid_option(x));
            }
            if n.chars().count() > 24 || ty.chars().count() > 8 {
                return Err(messages::invalid_operand(&n));
            }
            edits.push(Box::new(move |a| {
                a.fname = n.clone();
                a.ftype = ty.clone();
            }));
        } else if c.keyword("NONAME", 3) {
            edits.push(Box::new(|a| {
                a.fname.clear();
                a.ftype.clear();
            }));
        } else {
            return Err(messages::invalid_option(t));
        }
    }
    if edits.is_empty() {
        return Err(messages::operand_missing());
    }
    Ok(edits)
}

/// Changes the selected files and reports the count.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let (owner, queues) = select::owner_and_queue(ctx, c)?;
    let files = select::files(
        c,
        &[
            "CLASS", "COPY", "HOLD", "NOHOLD", "KEEP", "NOKEEP", "MSG", "NOMSG", "DIST", "FORM",
            "DEST", "NAME", "NONAME",
        ],
    )?;
    let edits = attrs(c)?;
    let sel = Selection {
        owner,
        queues,
        files,
    };
    let n = ctx.sys.spool().transact(|t| {
        let targets = select::resolve(t, &sel)?;
        for f in &targets {
            t.change(f.sfid, |a| {
                for e in &edits {
                    e(a);
                }
            });
        }
        Ok::<_, CpMsg>(targets.len())
    })?;
    Ok(ctx.info(vec![format::count_line(n, "CHANGED")]))
}
