//! `LISTFILE [fn [ft [fm]]] [(LABEL]` and `FILELIST` (line mode): files on accessed disks.

use super::options;
use crate::{
    cms::{
        CmsEnv,
        disk::RecFm,
        fileid::{filemode, fn_or_ft},
    },
    grammar::Cursor,
};

struct Pattern {
    fname: String,
    ftype: String,
    letter: Option<char>,
}

fn pattern(env: &CmsEnv<'_>, c: &mut Cursor<'_>) -> Result<Pattern, i32> {
    let mut p = Pattern {
        fname: "*".into(),
        ftype: "*".into(),
        letter: Some('A'),
    };
    let bad = |m: String| {
        env.say(&format!("DMSLST062E {m}"));
        24
    };
    let mut ops = Vec::new();
    while let Some(t) = c.peek() {
        if t.starts_with('(') {
            break;
        }
        ops.push(c.next_token().unwrap());
    }
    if let Some(f) = ops.first() {
        p.fname = if *f == "*" {
            "*".into()
        } else {
            fn_or_ft(f, "file name").map_err(bad)?
        };
    }
    if let Some(t) = ops.get(1) {
        p.ftype = if *t == "*" {
            "*".into()
        } else {
            fn_or_ft(t, "file type").map_err(bad)?
        };
    }
    if let Some(m) = ops.get(2) {
        p.letter = if *m == "*" {
            None
        } else {
            Some(filemode(m).map_err(bad)?.letter)
        };
    }
    if ops.len() > 3 {
        return Err(bad(format!("invalid operand {}", ops[3])));
    }
    Ok(p)
}

fn matching(env: &CmsEnv<'_>, p: &Pattern) -> Vec<(char, crate::cms::disk::FileInfo)> {
    let mut out = Vec::new();
    for (l, d) in &env.disks {
        if p.letter.is_some_and(|x| x != *l) {
            continue;
        }
        for f in d.list().unwrap_or_default() {
            if (p.fname == "*" || p.fname == f.fname) && (p.ftype == "*" || p.ftype == f.ftype) {
                out.push((*l, f));
            }
        }
    }
    out
}

/// `LISTFILE`
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let p = match pattern(env, c) {
        Ok(p) => p,
        Err(rc) => return rc,
    };
    let label = options(c)
        .iter()
        .any(|o| o.starts_with('L') || o.starts_with("DA"));
    let files = matching(env, &p);
    if files.is_empty() {
        env.say("DMSLST002E File not found");
        return 28;
    }
    let tz = env.vm.tz();
    if label {
        env.say("FILENAME FILETYPE FM FORMAT LRECL       RECS     BLOCKS   DATE     TIME");
    }
    for (l, f) in files {
        if label {
            env.say(&format!(
                "{:<8} {:<8} {l}{} {}      {:>5} {:>10} {:>10} {} {}",
                f.fname,
                f.ftype,
                f.mode_num,
                if f.recfm == RecFm::F { 'F' } else { 'V' },
                f.lrecl,
                f.records,
                f.bytes.div_ceil(4096).max(1),
                tz.mmddyy(f.mtime),
                tz.hhmmss(f.mtime)
            ));
        } else {
            env.say(&format!("{:<8} {:<8} {l}{}", f.fname, f.ftype, f.mode_num));
        }
    }
    0
}

/// `FILELIST` in line mode: the full-screen list's columns.
pub fn filelist(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let p = match pattern(env, c) {
        Ok(p) => p,
        Err(rc) => return rc,
    };
    let files = matching(env, &p);
    if files.is_empty() {
        env.say("DMSLST002E File not found");
        return 28;
    }
    let tz = env.vm.tz();
    env.say("Cmd   Filename Filetype Fm Format Lrecl    Records     Blocks   Date     Time");
    for (l, f) in files {
        env.say(&format!(
            "      {:<8} {:<8} {l}{} {}      {:>5} {:>10} {:>10} {} {}",
            f.fname,
            f.ftype,
            f.mode_num,
            if f.recfm == RecFm::F { 'F' } else { 'V' },
            f.lrecl,
            f.records,
            f.bytes.div_ceil(4096).max(1),
            tz.mmddyy(f.mtime),
            tz.hhmmss(f.mtime)
        ));
    }
    0
}
