//! `ERASE fn ft [fm]`: deletes a file.

use super::file_arg;
use crate::{cms::CmsEnv, grammar::Cursor};

/// Erases a file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let arg = match file_arg(env, c, "ERS", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let letter = arg.mode.map_or('A', |m| m.letter);
    let Some(d) = env.disk(letter) else {
        env.say(&format!("DMSERS069E Filemode {letter} not accessed"));
        return 36;
    };
    if !d.writable() {
        env.say(&format!(
            "DMSERS037E Filemode {letter} is accessed as read/only"
        ));
        return 36;
    }
    match d.erase(&arg.fname, &arg.ftype) {
        Ok(true) => 0,
        Ok(false) => {
            env.say(&format!(
                "DMSERS002E File {} {} {letter} not found",
                arg.fname, arg.ftype
            ));
            28
        }
        Err(e) => {
            env.say(&format!("DMSERS104S Error erasing file: {e}"));
            100
        }
    }
}
