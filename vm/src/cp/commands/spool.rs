//! `SPOOL` (class G): sets the options of a unit-record device.
//!
//! ```text
//! spool   = "SPOOL" device *option ["NAME" fn [ft] / "NONAME"]        ; NAME last
//! device  = "READER" / "RDR" / "PRINTER" / "PRT" / "PUNCH" / "PCH" / "PUN" / "CONSOLE" / vdev
//! option  = "HOLD" / "NOHOLD" / "KEEP" / "NOKEEP" / "CONT" / "NOCONT" / "EOF" / "NOEOF"
//!         / "CLASS" (class / "*") / "MSG" / "NOMSG" / "COPY" 1*3DIGIT / "DIST" (code / "OFF")
//!         / "TO" (userid / "*" / "OFF") [queue] / "FOR" (userid / "*") / "OFF"
//!         / "FORM" (form / "OFF") / "DEST" (dest / "OFF" / "ANY") / "CLOSE" / "PURGE"
//!         / "START" / "STOP" / "TERM" / "NOTERM"                   ; START..NOTERM: console only
//! ```
//!
//! All options are checked before any is applied: a bad option changes nothing.

use spool::{Class, Queue, UserId};

use crate::{
    cp::{
        CpResult, Ctx,
        messages::{self, CpMsg},
        select,
    },
    grammar::{Cursor, decimal, vdev, whole},
    machine::{DevRef, OutKind, devices::OpenFile},
    system::spoolops::{self, CloseOpts},
};

/// Parses a device operand of SPOOL, CLOSE and QUERY VIRTUAL.
pub(crate) fn device(c: &mut Cursor<'_>) -> Result<DevRef, CpMsg> {
    if c.keyword("READER", 1) || c.keyword("RDR", 3) {
        Ok(DevRef::Reader)
    } else if c.keyword("PRINTER", 1) || c.keyword("PRT", 3) {
        Ok(DevRef::Kind(OutKind::Printer))
    } else if c.keyword("PUNCH", 2) || c.keyword("PCH", 3) || c.keyword("PUN", 3) {
        Ok(DevRef::Kind(OutKind::Punch))
    } else if c.keyword("CONSOLE", 3) {
        Ok(DevRef::Kind(OutKind::Console))
    } else {
        let t = c.next_token().ok_or_else(messages::vdev_missing)?;
        whole(t, vdev)
            .map(DevRef::Vdev)
            .ok_or_else(messages::vdev_missing)
    }
}

/// Parses a queue after `TO userid`.
fn target_queue(c: &mut Cursor<'_>) -> Option<Queue> {
    if c.keyword("READER", 1) || c.keyword("RDR", 3) {
        Some(Queue::Rdr)
    } else if c.keyword("PRINTER", 1) || c.keyword("PRT", 3) {
        Some(Queue::Prt)
    } else if c.keyword("PUNCH", 2) || c.keyword("PCH", 3) || c.keyword("PUN", 3) {
        Some(Queue::Pun)
    } else {
        None
    }
}

/// A userid operand that must be in the directory (`*` is the issuer).
pub(crate) fn target_user(ctx: &Ctx<'_>, t: Option<&str>) -> Result<UserId, CpMsg> {
    let t = t.ok_or_else(messages::userid_missing)?;
    if t == "*" {
        return Ok(ctx.vm.userid.clone());
    }
    let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
    if ctx.sys.entry(&u).is_none() {
        return Err(messages::not_in_directory(u.as_str()));
    }
    Ok(u)
}

/// A name or type operand: 1-8 characters.
pub(crate) fn name_token(t: Option<&str>) -> Result<String, CpMsg> {
    let t = t.ok_or_else(messages::operand_missing)?;
    if t.chars().count() > 24 {
        return Err(messages::invalid_operand(t));
    }
    Ok(t.to_string())
}

#[derive(Default)]
struct Opts {
    hold: Option<bool>,
    keep: Option<bool>,
    cont: Option<bool>,
    eof: Option<bool>,
    class: Option<Option<Class>>,
    msg: Option<bool>,
    copies: Option<u8>,
    dist: Option<Option<String>>,
    to: Option<Option<(UserId, Queue)>>,
    for_user: Option<UserId>,
    form: Option<String>,
    dest: Option<String>,
    close: bool,
    purge: bool,
    start: Option<bool>,
    term: Option<bool>,
    name: Option<Option<(String, String)>>,
}

fn parse(ctx: &Ctx<'_>, c: &mut Cursor<'_>, reader: bool, console: bool) -> Result<Opts, CpMsg> {
    let mut o = Opts::default();
    while let Some(t) = c.peek() {
        let bad = || messages::invalid_option(t);
        if c.keyword("HOLD", 2) {
            o.hold = Some(true);
        } else if c.keyword("NOHOLD", 3) {
            o.hold = Some(false);
        } else if c.keyword("KEEP", 2) {
            o.keep = Some(true);
        } else if c.keyword("NOKEEP", 3) {
            o.keep = Some(false);
        } else if c.keyword("CONT", 3) {
            o.cont = Some(true);
        } else if c.keyword("NOCONT", 3) {
            o.cont = Some(false);
        } else if reader && c.keyword("EOF", 3) {
            o.eof = Some(true);
        } else if reader && c.keyword("NOEOF", 3) {
            o.eof = Some(false);
        } else if c.keyword("CLASS", 2) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            if v == "*" && reader {
                o.class = Some(None);
            } else {
                let ch = select::single_class(v)?;
                o.class = Some(Class::new(ch));
            }
        } else if !reader && c.keyword("MSG", 3) {
            o.msg = Some(true);
        } else if !reader && c.keyword("NOMSG", 3) {
            o.msg = Some(false);
        } else if !reader && c.keyword("COPY", 2) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            let n = whole(v, decimal)
                .filter(|n| (1..=255).contains(n))
                .ok_or_else(|| messages::invalid_operand(v))?;
            o.copies = Some(n as u8);
        } else if !reader && c.keyword("DIST", 1) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            o.dist = Some(if v.eq_ignore_ascii_case("OFF") {
                None
            } else if v.len() <= 8 {
                Some(v.to_ascii_uppercase())
            } else {
                return Err(messages::invalid_operand(v));
            });
        } else if !reader && c.keyword("TO", 2) {
            let v = c.peek();
            if v.is_some_and(|v| v.eq_ignore_ascii_case("OFF")) {
                c.next_token();
                o.to = Some(None);
            } else {
                let u = target_user(ctx, c.next_token())?;
                let q = target_queue(c).unwrap_or(Queue::Rdr);
                o.to = Some(Some((u, q)));
            }
        } else if !reader && c.keyword("FOR", 3) {
            o.for_user = Some(target_user(ctx, c.next_token())?);
        } else if !reader && c.keyword("OFF", 3) {
            o.to = Some(None);
        } else if !reader && c.keyword("FORM", 4) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            if v.len() > 8 {
                return Err(messages::invalid_operand(v));
            }
            o.form = Some(if v.eq_ignore_ascii_case("OFF") {
                "STANDARD".into()
            } else {
                v.to_ascii_uppercase()
            });
        } else if !reader && c.keyword("DEST", 4) {
            let v = c.next_token().ok_or_else(messages::operand_missing)?;
            if v.len() > 8 {
                return Err(messages::invalid_operand(v));
            }
            o.dest = Some(v.to_ascii_uppercase());
        } else if c.keyword("CLOSE", 3) {
            o.close = true;
        } else if !reader && c.keyword("PURGE", 2) {
            o.purge = true;
        } else if console && c.keyword("START", 3) {
            o.start = Some(true);
        } else if console && c.keyword("STOP", 3) {
            o.start = Some(false);
        } else if console && c.keyword("TERM", 2) {
            o.term = Some(true);
        } else if console && c.keyword("NOTERM", 3) {
            o.term = Some(false);
        } else if !reader && c.keyword("NAME", 2) {
            let n = name_token(c.next_token())?;
            let ty = c.next_token().map(|s| s.to_string()).unwrap_or_default();
            o.name = Some(Some((n, ty)));
            if let Some(x) = c.next_token() {
                return Err(messages::invalid_option(x));
            }
        } else if !reader && c.keyword("NONAME", 3) {
            o.name = Some(None);
        } else {
            return Err(bad());
        }
    }
    if o.for_user.is_some() && matches!(o.to, Some(Some(_))) {
        return Err(messages::conflicting_option("FOR"));
    }
    Ok(o)
}

/// Applies SPOOL options to a device.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    let dev = device(c)?;
    let (is_reader, console, idx) = {
        let g = ctx.vm.lock();
        if g.devices.is_reader(dev) {
            (true, false, None)
        } else {
            let i = g
                .devices
                .output_index(dev)
                .ok_or_else(|| messages::no_device(&dev_label(dev)))?;
            (
                false,
                g.devices.outputs[i].kind == OutKind::Console,
                Some(i),
            )
        }
    };
    if c.at_end() {
        return Err(messages::operand_missing());
    }
    let o = parse(ctx, c, is_reader, console)?;
    if is_reader {
        let mut g = ctx.vm.lock();
        let r = g.devices.reader.as_mut().unwrap();
        if let Some(v) = o.hold {
            r.hold = v;
        }
        if let Some(v) = o.keep {
            r.keep = v;
        }
        if let Some(v) = o.cont {
            r.cont = v;
        }
        if let Some(v) = o.eof {
            r.eof = v;
        }
        if let Some(v) = o.class {
            r.class = v;
        }
        drop(g);
        if o.close {
            return spoolops::reader_close(ctx.sys, ctx.vm, false);
        }
        return Ok(Vec::new());
    }
    let idx = idx.unwrap();
    let mut start_needs_id = false;
    {
        let mut g = ctx.vm.lock();
        let d = &mut g.devices.outputs[idx];
        if let Some(v) = o.hold {
            d.hold = v;
        }
        if let Some(v) = o.keep {
            d.keep = v;
        }
        if let Some(v) = o.cont {
            d.cont = v;
        }
        if let Some(Some(cl)) = o.class {
            d.class = cl;
        }
        if let Some(v) = o.msg {
            d.msg = v;
        }
        if let Some(v) = o.copies {
            d.copies = v;
        }
        if let Some(v) = o.dist.clone() {
            d.dist = v;
        }
        if let Some(v) = o.to.clone() {
            d.to = v;
            d.for_user = None;
        }
        if let Some(v) = o.for_user.clone() {
            d.for_user = Some(v);
            d.to = None;
        }
        if let Some(v) = o.form.clone() {
            d.form = v;
        }
        if let Some(v) = o.dest.clone() {
            d.dest = v;
        }
        if let Some(v) = o.name.clone() {
            d.name = v;
        }
        if let Some(v) = o.term {
            d.term = v;
        }
        if let Some(v) = o.start {
            d.started = v;
            start_needs_id = v && d.open.is_none();
        }
    }
    if start_needs_id {
        let id = ctx
            .sys
            .spool()
            .reserve(&ctx.vm.userid, ctx.vm.entry.maxspool)?;
        let mut g = ctx.vm.lock();
        let d = &mut g.devices.outputs[idx];
        if d.open.is_none() {
            d.open = Some(OpenFile {
                spoolid: id,
                ..Default::default()
            });
        }
    }
    if o.close || o.purge {
        let vdev = ctx.vm.lock().devices.outputs[idx].vdev;
        let lines = spoolops::close_output(
            ctx.sys,
            ctx.vm,
            DevRef::Vdev(vdev),
            &CloseOpts {
                purge: o.purge,
                ..Default::default()
            },
        )?;
        // A started console goes on into a new file (close_output opens it).
        return Ok(lines);
    }
    Ok(Vec::new())
}

pub(crate) fn dev_label(dev: DevRef) -> String {
    match dev {
        DevRef::Vdev(v) => format!("{v:04X}"),
        DevRef::Reader => "RDR".into(),
        DevRef::Kind(k) => k.name().into(),
    }
}
