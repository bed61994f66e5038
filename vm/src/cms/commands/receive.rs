//! `RECEIVE [spoolid|*] [fn ft [fm]] [(REPLACE]`: takes a reader file onto a disk.
//!
//! A NETDATA file (SENDFILE, NOTE, mail spooled by SMTP) is decoded: its records are the file's
//! records, its name (`fn ft`, from INMDSNAM) names the file and its origin user and node are
//! shown. Any other file is taken card by card: a PUNCH deck's `:READ` header card names the
//! file; otherwise the spool file's name and type do, or failing those the origin userid and the
//! spoolid. A file named on the command line takes that name in every case.

use spool::{cards::ReadCard, netdata};

use super::{file_arg, options, store};
use crate::{
    cms::CmsEnv,
    grammar::{Cursor, decimal, whole},
};

/// Receives a reader file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let mut spoolid = None;
    if let Some(t) = c.peek()
        && !t.starts_with('(')
    {
        if t == "*" {
            c.next_token();
        } else if let Some(n) = whole(t, decimal) {
            c.next_token();
            if n == 0 || n > 9999 {
                env.say(&format!("DMSRCV070E Invalid spoolid {t}"));
                return 24;
            }
            spoolid = Some(n as u16);
        }
    }
    let explicit = match c.peek() {
        Some(t) if !t.starts_with('(') => match file_arg(env, c, "RCV", false) {
            Ok(a) => Some(a),
            Err(rc) => return rc,
        },
        _ => None,
    };
    let mut replace = false;
    for o in options(c) {
        match o.as_str() {
            "REPLACE" | "REP" | "REPL" | "REPLA" | "REPLAC" => replace = true,
            "NOREPLACE" => replace = false,
            _ => {
                env.say(&format!("DMSRCV003E Invalid option: {o}"));
                return 24;
            }
        }
    }
    if let Some(id) = spoolid {
        let r = env.vm.cp(&format!("ORDER RDR {id}"));
        if r.rc != 0 {
            for l in r.lines {
                env.say(&l);
            }
            return r.rc;
        }
    }
    let (file, mut records) = match env.vm.read_next() {
        Ok(Some(x)) => x,
        Ok(None) if spoolid.is_some() => {
            // ORDER found it, so it exists: it is held (or of a class the reader does not read).
            env.say(&format!(
                "DMSRCV201E File {:04} is held or not in your reader",
                spoolid.unwrap()
            ));
            return 28;
        }
        Ok(None) => {
            env.say("DMSRCV102S Reader empty or not ready");
            return 8;
        }
        Err(m) => {
            env.say(&m.to_string());
            return m.rc();
        }
    };
    if let Some(id) = spoolid
        && file.spoolid != id
    {
        let _ = env.vm.close_reader(true);
        env.say(&format!(
            "DMSRCV201E File {id:04} is held or not in your reader"
        ));
        return 28;
    }
    // NETDATA: the records, the name and the origin are the transmitted file's.
    let mut sender = (file.origin.to_string(), env.vm.system_name().to_string());
    let mut sent_name = None;
    if netdata::is_netdata(&records) {
        match netdata::decode(&records) {
            Ok(t) => {
                records = t.records;
                sent_name = netdata_name(&t.header.name);
                if !t.header.from_user.is_empty() {
                    sender.0 = t.header.from_user.clone();
                }
                if !t.header.from_node.is_empty() {
                    sender.1 = t.header.from_node.clone();
                }
            }
            Err(e) => {
                let _ = env.vm.close_reader(true);
                env.say(&format!(
                    "DMSRCV135E File {:04} is not a valid NETDATA file: {e}",
                    file.spoolid
                ));
                return 32;
            }
        }
    }
    let header = if sent_name.is_none() {
        records.first().and_then(|r| ReadCard::parse(r))
    } else {
        None
    };
    if header.is_some() {
        records.remove(0);
    }
    let header = header.map(|h| (h.fname, h.ftype)).or(sent_name);
    let (fname, ftype, letter) = match (&explicit, &header) {
        (Some(a), _) => (
            a.fname.clone(),
            a.ftype.clone(),
            a.mode.map_or('A', |m| m.letter),
        ),
        (None, Some((f, t))) => (f.to_ascii_uppercase(), t.to_ascii_uppercase(), 'A'),
        (None, None) if !file.attrs.fname.is_empty() && !file.attrs.ftype.is_empty() => (
            file.attrs.fname.to_ascii_uppercase(),
            file.attrs.ftype.to_ascii_uppercase(),
            'A',
        ),
        (None, None) => (file.origin.to_string(), format!("{:04}", file.spoolid), 'A'),
    };
    let lrecl = records.iter().map(|r| r.len()).max().unwrap_or(80);
    if let Err(rc) = store(env, letter, &fname, &ftype, records, replace) {
        let _ = env.vm.close_reader(true);
        return rc;
    }
    env.say(&format!("DMSRDC738I Record length is {lrecl} bytes"));
    env.say(&format!(
        "File {fname} {ftype} {letter}1 received from {} at {}",
        sender.0, sender.1
    ));
    match env.vm.close_reader(false) {
        Ok(()) => 0,
        Err(m) => {
            env.say(&m.to_string());
            m.rc()
        }
    }
}

/// The CMS file id in a NETDATA file's name (`fn ft`), if it is a valid one.
fn netdata_name(name: &str) -> Option<(String, String)> {
    let mut w = name.split_whitespace();
    let (f, t) = (w.next()?, w.next()?);
    let f = crate::cms::fileid::fn_or_ft(f, "file name").ok()?;
    let t = crate::cms::fileid::fn_or_ft(t, "file type").ok()?;
    Some((f, t))
}
