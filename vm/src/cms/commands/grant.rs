//! `GRANT AUTHORITY` and `REVOKE AUTHORITY` on SFS directories and files.
//!
//! ```text
//! grant  = "GRANT" "AUTHORITY" target "TO" (userid / "PUBLIC") "(" 1*auth
//! revoke = "REVOKE" "AUTHORITY" target "FROM" (userid / "PUBLIC") ["(" 1*auth]
//! target = dirid / fn ft (dirid / fm)
//! auth   = "READ" / "WRITE" / "NEWREAD" / "NEWWRITE"
//! ```

use super::options;
use crate::{
    cms::{
        CmsEnv,
        fileid::{filemode, fn_or_ft},
    },
    grammar::{Cursor, abbrev},
    sfs::{Auth, DirId, DmsError, Grantee},
};

/// Resolves `dirid` or `fn ft dirid|fm` (an accessed SFS directory).
pub(super) fn target(
    env: &CmsEnv<'_>,
    words: &[&str],
) -> Result<(DirId, Option<(String, String)>), DmsError> {
    let dir_of = |t: &str| -> Result<DirId, DmsError> {
        if t.len() <= 2 && !t.contains('.') {
            let m = filemode(t).map_err(DmsError::InvalidDirId)?;
            let d = env
                .disks
                .get(&m.letter)
                .and_then(|d| d.sfs_dirid())
                .ok_or_else(|| {
                    DmsError::InvalidDirId(format!("{t} is not an accessed SFS directory"))
                })?;
            Ok(d)
        } else {
            env.dirid(t)
        }
    };
    match words {
        [d] => Ok((dir_of(d)?, None)),
        [f, t, d] => Ok((
            dir_of(d)?,
            Some((
                fn_or_ft(f, "file name").map_err(DmsError::InvalidFileId)?,
                fn_or_ft(t, "file type").map_err(DmsError::InvalidFileId)?,
            )),
        )),
        _ => Err(DmsError::InvalidDirId(words.join(" "))),
    }
}

fn run_common(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>, grant: bool) -> i32 {
    let cmd = if grant { "GRANT" } else { "REVOKE" };
    if !c.keyword("AUTHORITY", 4) {
        env.say(&format!(
            "DMS{cmd}003E Invalid operand: {}",
            c.peek().unwrap_or("(none)")
        ));
        return 24;
    }
    let sep = if grant { "TO" } else { "FROM" };
    let mut words = Vec::new();
    while let Some(t) = c.peek() {
        if t.eq_ignore_ascii_case(sep) {
            break;
        }
        words.push(c.next_token().unwrap());
    }
    if !c.keyword(sep, sep.len()) {
        env.say(&format!("DMS{cmd}054E {sep} missing"));
        return 24;
    }
    let Some(who) = c.next_token() else {
        env.say(&format!("DMS{cmd}054E Userid missing"));
        return 24;
    };
    let grantee = if who.eq_ignore_ascii_case("PUBLIC") {
        Grantee::Public
    } else {
        match spool::UserId::parse(who) {
            Ok(u) => Grantee::User(u),
            Err(e) => {
                env.say(&format!("DMS{cmd}062E {e}"));
                return 24;
            }
        }
    };
    let mut auth = Auth::default();
    for o in options(c) {
        auth = auth.with(if abbrev(&o, "READ", 1) {
            Auth::READ
        } else if abbrev(&o, "WRITE", 1) {
            Auth::WRITE
        } else if abbrev(&o, "NEWREAD", 4) {
            Auth::NEWREAD
        } else if abbrev(&o, "NEWWRITE", 4) {
            Auth::NEWWRITE
        } else {
            env.say(&format!("DMS{cmd}003E Invalid option: {o}"));
            return 24;
        });
    }
    if auth.is_empty() {
        if grant {
            env.say("DMSGRANT054E Authority (READ, WRITE, NEWREAD, NEWWRITE) missing");
            return 24;
        }
        auth = Auth(0xF);
    }
    let r = (|| {
        let (d, file) = target(env, &words)?;
        let client = env.sfs(&d.pool)?;
        client.grant(
            &d.path,
            file.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            &grantee,
            auth,
            grant,
        )
    })();
    match r {
        Ok(()) => 0,
        Err(e) => {
            env.say(&e.to_string());
            e.rc()
        }
    }
}

/// `GRANT AUTHORITY`
pub fn grant(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    run_common(env, c, true)
}

/// `REVOKE AUTHORITY`
pub fn revoke(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    run_common(env, c, false)
}
