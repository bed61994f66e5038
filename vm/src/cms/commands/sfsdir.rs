//! SFS directories from CMS: `CREATE DIRECTORY`, `ERASE DIRECTORY` (also `DELETE DIRECTORY`),
//! `RENAME DIRECTORY`, and `RENAME` of files.
//!
//! ```text
//! create = "CREATE" "DIRECTORY" dirid ["(" ("FILECONTROL" / "DIRCONTROL")]
//! erase  = ("ERASE" / "DELETE") "DIRECTORY" dirid
//! rename = "RENAME" "DIRECTORY" dirid name
//!        / "RENAME" fn ft fm fn ft fm                  ; "=" keeps the old part
//! ```

use super::{file_arg, options};
use crate::{
    cms::{CmsEnv, fileid::fn_or_ft},
    grammar::{Cursor, abbrev},
    sfs::{Control, DmsError},
};

fn report(env: &CmsEnv<'_>, r: Result<(), DmsError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            env.say(&e.to_string());
            e.rc()
        }
    }
}

/// `CREATE DIRECTORY`
pub fn create(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if !c.keyword("DIRECTORY", 3) {
        env.say(&format!(
            "DMSCRE003E Invalid operand: {}",
            c.peek().unwrap_or("(none)")
        ));
        return 24;
    }
    let Some(d) = c.next_token() else {
        env.say("DMSCRE054E Directory id missing");
        return 24;
    };
    let mut control = Control::File;
    for o in options(c) {
        if abbrev(&o, "FILECONTROL", 4) {
            control = Control::File;
        } else if abbrev(&o, "DIRCONTROL", 3) {
            control = Control::Dir;
        } else {
            env.say(&format!("DMSCRE003E Invalid option: {o}"));
            return 24;
        }
    }
    let r = (|| {
        let id = env.dirid(d)?;
        if id.path.comps.is_empty() {
            return Err(DmsError::DirExists(id.to_string()));
        }
        env.sfs(&id.pool)?.create_dir(&id.path, control)
    })();
    report(env, r)
}

/// `ERASE DIRECTORY dirid`
pub fn erase(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let Some(d) = c.next_token() else {
        env.say("DMSERS054E Directory id missing");
        return 24;
    };
    let r = (|| {
        let id = env.dirid(d)?;
        env.sfs(&id.pool)?.erase_dir(&id.path)
    })();
    report(env, r)
}

/// `ERASE`: a directory (ERASE DIRECTORY) or a file.
pub fn erase_any(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if c.keyword("DIRECTORY", 3) {
        return erase(env, c);
    }
    super::erase::run(env, c)
}

/// `DELETE DIRECTORY dirid` (`DELETE USER` is an administrator command).
pub fn delete(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if c.keyword("DIRECTORY", 3) {
        return erase(env, c);
    }
    if c.keyword("USER", 4) {
        return super::enroll::delete(env, c);
    }
    env.say(&format!(
        "DMSDLE003E Invalid operand: {}",
        c.peek().unwrap_or("(none)")
    ));
    24
}

/// `RENAME`
pub fn rename(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if c.keyword("DIRECTORY", 3) {
        let (Some(d), Some(n)) = (c.next_token(), c.next_token()) else {
            env.say("DMSRNM054E Incomplete RENAME DIRECTORY command");
            return 24;
        };
        let r = (|| {
            let id = env.dirid(d)?;
            let name = crate::sfs::DirId::parse(&format!("X.{n}"), &id.pool)?
                .path
                .comps
                .pop()
                .unwrap_or_default();
            env.sfs(&id.pool)?.rename_dir(&id.path, &name)
        })();
        return report(env, r);
    }
    let from = match file_arg(env, c, "RNM", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let (Some(nf), Some(nt)) = (c.next_token(), c.next_token()) else {
        env.say("DMSRNM054E Incomplete fileid specified");
        return 24;
    };
    let letter = from.mode.map_or('A', |m| m.letter);
    let nf = if nf == "=" {
        Ok(from.fname.clone())
    } else {
        fn_or_ft(nf, "file name")
    };
    let nt = if nt == "=" {
        Ok(from.ftype.clone())
    } else {
        fn_or_ft(nt, "file type")
    };
    let (Ok(nf), Ok(nt)) = (nf, nt) else {
        env.say("DMSRNM062E Invalid file id");
        return 24;
    };
    let Some(d) = env.disk(letter) else {
        env.say(&format!("DMSRNM069E Filemode {letter} not accessed"));
        return 36;
    };
    let file = match d.read(&from.fname, &from.ftype) {
        Ok(Some(f)) => f,
        Ok(None) => {
            env.say(&format!(
                "DMSRNM002E File {} {} {letter} not found",
                from.fname, from.ftype
            ));
            return 28;
        }
        Err(e) => {
            env.say(&e);
            return 100;
        }
    };
    if matches!(d.read(&nf, &nt), Ok(Some(_))) {
        env.say(&format!(
            "DMSRNM024E File {nf} {nt} {letter} already exists"
        ));
        return 28;
    }
    let mut new = file.clone();
    new.fname = nf;
    new.ftype = nt;
    if let Err(e) = d
        .write(&new)
        .and_then(|_| d.erase(&from.fname, &from.ftype).map(|_| ()))
    {
        env.say(&e);
        return 100;
    }
    0
}
