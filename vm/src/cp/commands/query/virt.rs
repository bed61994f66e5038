//! `QUERY VIRTUAL`: the unit-record devices and their spooling options (cp-cms.md §2.10).
//!
//! ```text
//! q-virtual = "VIRTUAL" [vdev / "UR" / "ALL" / "CONSOLE" / "READER" / "PUNCH" / "PRINTER"]
//! ```

use super::no_more;
use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::{Cursor, vdev, whole},
    machine::{OutKind, OutputDev, ReaderDev},
};

fn reader_lines(r: &ReaderDev, sub: usize) -> Vec<String> {
    let class = r.class.map_or('*', |c| c.as_char());
    vec![
        format!(
            "RDR  {:04X} CL {class} {} {} {} READY",
            r.vdev,
            if r.cont { "  CONT" } else { "NOCONT" },
            if r.hold { "  HOLD" } else { "NOHOLD" },
            if r.eof { "EOF" } else { "NOEOF" }
        ),
        format!(
            "{:04X} {} {} {} NORESCAN SUBCHANNEL = {sub:04X}",
            r.vdev,
            r.devtype,
            match r.open {
                Some((_, id)) => format!("OPEN {id:04}"),
                None => "CLOSED".into(),
            },
            if r.keep { "KEEP" } else { "NOKEEP" }
        ),
    ]
}

fn output_lines(o: &OutputDev, sub: usize, dist: &str, term: &str) -> Vec<String> {
    let mut v = Vec::new();
    let first = format!(
        "CL {} {} {} COPY {:03} READY FORM {}",
        o.class,
        if o.cont { "  CONT" } else { "NOCONT" },
        if o.hold { "  HOLD" } else { "NOHOLD" },
        o.copies,
        o.form
    );
    if o.kind == OutKind::Console {
        v.push(format!(
            "CONS {:04X} ON LDEV {term:<5}   {} {}",
            o.vdev,
            if o.term { "TERM" } else { "NOTERM" },
            if o.started { "START" } else { "STOP" }
        ));
        v.push(format!("{:04X} {first}", o.vdev));
    } else {
        v.push(format!("{:<4} {:04X} {first}", o.kind.name(), o.vdev));
    }
    // `TO userid dev`, `FOR userid` or `TO OFF`, 15 columns wide so DIST stays in its column.
    let to = match (&o.to, &o.for_user) {
        (Some((u, q)), _) => format!("TO {} {}", u.padded(), q.name()),
        (None, Some(u)) => format!("{:<15}", format!("FOR {}", u.padded())),
        (None, None) => format!("{:<15}", "TO OFF"),
    };
    v.push(format!(
        "{:04X} {to} DIST {:<8} DEST {}",
        o.vdev,
        o.dist.as_deref().unwrap_or(dist),
        o.dest
    ));
    v.push(format!(
        "{:04X} {} {} {} {} {}",
        o.vdev,
        o.devtype,
        match &o.open {
            Some(f) => format!("OPEN {:04}", f.spoolid),
            None => "CLOSED".into(),
        },
        if o.keep { "KEEP" } else { "NOKEEP" },
        if o.msg { "MSG" } else { "NOMSG" },
        match &o.name {
            Some((n, t)) => format!("NAME {n} {t}").trim_end().to_string(),
            None => "NONAME".into(),
        }
    ));
    v.push(format!("{:04X} SUBCHANNEL = {sub:04X}", o.vdev));
    v
}

/// Describes one device or all of them.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    #[derive(PartialEq)]
    enum Which {
        All,
        Reader,
        Kind(OutKind),
        Vdev(u16),
    }
    let which = match c.peek() {
        None => Which::All,
        Some(_) if c.keyword("ALL", 3) || c.keyword("UR", 2) => Which::All,
        Some(_) if c.keyword("READER", 1) || c.keyword("RDR", 3) => Which::Reader,
        Some(_) if c.keyword("PUNCH", 2) || c.keyword("PCH", 3) || c.keyword("PUN", 3) => {
            Which::Kind(OutKind::Punch)
        }
        Some(_) if c.keyword("PRINTER", 1) || c.keyword("PRT", 3) => Which::Kind(OutKind::Printer),
        Some(_) if c.keyword("CONSOLE", 3) => Which::Kind(OutKind::Console),
        Some(t) => {
            c.next_token();
            Which::Vdev(whole(t, vdev).ok_or_else(messages::vdev_missing)?)
        }
    };
    no_more(c)?;
    let g = ctx.vm.lock();
    let term = g
        .terminal
        .as_ref()
        .map(|t| t.id.clone())
        .unwrap_or_else(|| "DSC".into());
    let dist = ctx.vm.entry.dist.clone();
    let mut out = Vec::new();
    let mut sub = 0;
    let mut devs: Vec<(u16, Vec<String>)> = Vec::new();
    if let Some(r) = &g.devices.reader {
        sub += 1;
        if matches!(which, Which::All | Which::Reader) || which == Which::Vdev(r.vdev) {
            devs.push((r.vdev, reader_lines(r, sub)));
        }
    }
    for o in &g.devices.outputs {
        sub += 1;
        let take = match &which {
            Which::All => true,
            Which::Reader => false,
            Which::Kind(k) => *k == o.kind,
            Which::Vdev(v) => *v == o.vdev,
        };
        if take {
            devs.push((o.vdev, output_lines(o, sub, &dist, &term)));
        }
    }
    if devs.is_empty() {
        return Err(match which {
            Which::Vdev(v) => messages::no_device(&format!("{v:04X}")),
            _ => messages::no_device("UR"),
        });
    }
    devs.sort_by_key(|(v, _)| *v);
    for (_, lines) in devs {
        out.extend(lines);
    }
    Ok(out)
}
