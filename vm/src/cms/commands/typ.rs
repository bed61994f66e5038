//! `TYPE fn ft [fm]`: shows a file's records on the console.

use super::file_arg;
use crate::{cms::CmsEnv, grammar::Cursor};

/// Types a file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let arg = match file_arg(env, c, "TYP", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let letter = match arg.mode {
        Some(m) => m.letter,
        None => env.find(&arg.fname, &arg.ftype).unwrap_or('A'),
    };
    let file = env.disk(letter).map(|d| d.read(&arg.fname, &arg.ftype));
    match file {
        Some(Ok(Some(f))) => {
            for r in &f.records {
                env.say(spool::cards::card_text(r).as_str());
            }
            0
        }
        Some(Err(e)) => {
            env.say(&format!("DMSTYP104S Error reading file: {e}"));
            100
        }
        _ => {
            env.say(&format!(
                "DMSTYP002E File {} {} {letter} not found",
                arg.fname, arg.ftype
            ));
            28
        }
    }
}
