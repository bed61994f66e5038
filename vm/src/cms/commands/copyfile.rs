//! `COPYFILE fn ft fm fn ft fm [(REPLACE]`: copies a file, between minidisks and SFS directories
//! alike; `=` keeps the corresponding part of the source file id.

use super::{file_arg, options};
use crate::{
    cms::{
        CmsEnv,
        fileid::{filemode, fn_or_ft},
    },
    grammar::Cursor,
};

/// Copies a file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let from = match file_arg(env, c, "CPY", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let from_l = from.mode.map_or('A', |m| m.letter);
    let mut parts = Vec::new();
    while let Some(t) = c.peek() {
        if t.starts_with('(') || parts.len() == 3 {
            break;
        }
        parts.push(c.next_token().unwrap());
    }
    let replace = options(c).iter().any(|o| o.starts_with("REP"));
    let pick = |i: usize, old: &str, what: &str| -> Result<String, String> {
        match parts.get(i) {
            None | Some(&"=") => Ok(old.to_string()),
            Some(t) => fn_or_ft(t, what),
        }
    };
    let (nf, nt) = match (
        pick(0, &from.fname, "file name"),
        pick(1, &from.ftype, "file type"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            env.say(&format!("DMSCPY062E {e}"));
            return 24;
        }
    };
    let to_l = match parts.get(2) {
        None | Some(&"=") => from_l,
        Some(t) => match filemode(t) {
            Ok(m) => m.letter,
            Err(e) => {
                env.say(&format!("DMSCPY048E {e}"));
                return 24;
            }
        },
    };
    let Some(src) = env.disk(from_l) else {
        env.say(&format!("DMSCPY069E Filemode {from_l} not accessed"));
        return 36;
    };
    let file = match src.read(&from.fname, &from.ftype) {
        Ok(Some(f)) => f,
        Ok(None) => {
            env.say(&format!(
                "DMSCPY002E File {} {} {from_l} not found",
                from.fname, from.ftype
            ));
            return 28;
        }
        Err(e) => {
            env.say(&e);
            return 100;
        }
    };
    let Some(dst) = env.disk(to_l) else {
        env.say(&format!("DMSCPY069E Filemode {to_l} not accessed"));
        return 36;
    };
    if !replace && matches!(dst.read(&nf, &nt), Ok(Some(_))) {
        env.say(&format!(
            "DMSCPY024E File {nf} {nt} {to_l} already exists; specify REPLACE"
        ));
        return 28;
    }
    let mut copy = file;
    copy.fname = nf;
    copy.ftype = nt;
    match dst.write(&copy) {
        Ok(()) => 0,
        Err(e) => {
            env.say(&format!("DMSCPY105S Error writing file: {e}"));
            if e.contains("limit exceeded") {
                101
            } else {
                100
            }
        }
    }
}
