//! `ACCESS {vdev | dirid} fm` and `RELEASE fm`: what a file mode letter refers to.
//!
//! ```text
//! access  = "ACCESS" (vdev / dirid) fm
//! release = "RELEASE" fm
//! ```
//!
//! An SFS directory is accessed read/write when the user may write in it (its owner, or WRITE
//! authority), else read-only; it must exist and the user must be able to read it.

use std::sync::Arc;

use crate::{
    cms::{CmsEnv, disk::Minidisk, fileid::filemode, sfsdisk::SfsDisk},
    grammar::{Cursor, vdev, whole},
};

/// `ACCESS`
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let (Some(what), Some(fm)) = (c.next_token(), c.next_token()) else {
        env.say("DMSACC054E Incomplete ACCESS command");
        return 24;
    };
    let mode = match filemode(fm) {
        Ok(m) => m.letter,
        Err(e) => {
            env.say(&format!("DMSACC048E {e}"));
            return 24;
        }
    };
    if let Some(t) = c.next_token() {
        env.say(&format!("DMSACC003E Invalid option: {t}"));
        return 24;
    }
    // A minidisk of the directory entry?
    if !what.contains('.')
        && !what.contains(':')
        && let Some(v) = whole(what, vdev)
    {
        let Some(md) = env.vm.entry().mdisks.iter().find(|m| m.vdev == v).cloned() else {
            env.say(&format!("DMSACC113S {mode} ({v:03X}) not attached"));
            return 100;
        };
        let rw = md.mode.starts_with('M') || md.mode.starts_with('W');
        let dir = env.vm.dasd_dir().join(format!("{:04X}", md.vdev));
        match Minidisk::open(&dir, md.vdev, &md.volser, rw) {
            Ok(d) => {
                env.disks.insert(mode, Box::new(d));
                env.say(&format!(
                    "DMSACP723I {mode} ({v:03X}) {}",
                    if rw { "R/W" } else { "R/O" }
                ));
                return 0;
            }
            Err(e) => {
                env.say(&format!("DMSACC113S {mode} ({v:03X}) not attached: {e}"));
                return 100;
            }
        }
    }
    let dirid = match env.dirid(what) {
        Ok(d) => d,
        Err(e) => {
            env.say(&e.to_string());
            return e.rc();
        }
    };
    let client = match env.sfs(&dirid.pool) {
        Ok(c) => c,
        Err(e) => {
            env.say(&e.to_string());
            return e.rc();
        }
    };
    if let Err(e) = client.list(&dirid.path) {
        env.say(&e.to_string());
        return e.rc();
    }
    let me = env.vm.userid().clone();
    let writable = dirid.path.owner == me
        || client.is_admin()
        || client.query_auth(&dirid.path, None).is_ok_and(|g| {
            g.iter().any(|(who, a)| {
                (*who == crate::sfs::Grantee::User(me.clone())
                    || *who == crate::sfs::Grantee::Public)
                    && a.has(crate::sfs::Auth::WRITE)
            })
        });
    env.say(&format!(
        "DMSACP723I {mode} ({dirid}) {}",
        if writable { "R/W" } else { "R/O" }
    ));
    env.disks.insert(
        mode,
        Box::new(SfsDisk::new(Arc::clone(&client), dirid, writable)),
    );
    0
}

/// `RELEASE fm`
pub fn release(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let Some(fm) = c.next_token() else {
        env.say("DMSARE017E Invalid device address or file mode");
        return 24;
    };
    match filemode(fm) {
        Ok(m) if env.disks.remove(&m.letter).is_some() => 0,
        Ok(m) => {
            env.say(&format!("DMSARE069E Filemode {} not accessed", m.letter));
            36
        }
        Err(e) => {
            env.say(&format!("DMSARE017E {e}"));
            24
        }
    }
}
