//! `SENDFILE fn ft [fm] [TO] userid [AT node]`: sends a CMS file to a user's reader as NETDATA,
//! as SENDFILE does; RECEIVE gives it back with its name and records.
//!
//! ```text
//! sendfile = "SENDFILE" SP fn SP ft [SP fm] [SP "TO"] SP userid [SP "AT" SP node]
//! ```
//!
//! The third operand is the file mode only when something follows it (so `SENDFILE A B C`
//! sends `A B` to user C). Without a file mode the first accessed disk that has the file is
//! used. Only users of this system can be sent files (there is no RSCS).

use chrono::Utc;
use spool::{
    Queue,
    netdata::{self, Header, Recfm},
};

use crate::{
    UserId,
    cms::{
        CmsEnv,
        disk::{CmsFile, RecFm},
        fileid::{filemode, fn_or_ft},
    },
    grammar::Cursor,
    machine::{DevRef, OutKind},
    system::spoolops::CloseOpts,
};

/// Punches `records` as a NETDATA file named `name` (`fn ft`) from this user to `to`'s reader
/// and closes the punch; the spool file is named `spool_name`. CP's response lines, or the
/// message of the failure (the punch is then purged).
pub(crate) fn send_netdata(
    env: &CmsEnv<'_>,
    to: &UserId,
    name: &str,
    spool_name: (&str, &str),
    recfm: Recfm,
    lrecl: u32,
    records: &[Vec<u8>],
) -> Result<Vec<String>, crate::CpMsg> {
    let node = env.vm.system_name().to_string();
    let deck = netdata::encode(
        &Header {
            from_node: node.clone(),
            from_user: env.vm.userid().to_string(),
            to_node: node,
            to_user: to.to_string(),
            time: Utc::now().format("%Y%m%d%H%M%S").to_string(),
            name: name.to_string(),
            recfm,
            lrecl,
        },
        records,
    );
    let dev = DevRef::Kind(OutKind::Punch);
    let purge = CloseOpts {
        purge: true,
        ..Default::default()
    };
    for card in deck {
        if let Err(m) = env.vm.punch(card) {
            let _ = env.vm.close_device(dev, &purge);
            return Err(m);
        }
    }
    env.vm
        .close_device(
            dev,
            &CloseOpts {
                to: Some((to.clone(), Queue::Rdr)),
                name: Some((spool_name.0.to_string(), spool_name.1.to_string())),
                ..Default::default()
            },
        )
        .inspect_err(|_| {
            let _ = env.vm.close_device(dev, &purge);
        })
}

/// Reads `fn ft [fm]` for a command whose message prefix is `DMS{cmd}`: the file, and its mode
/// letter. Errors are said and give the return code.
pub(crate) fn read_file(
    env: &CmsEnv<'_>,
    cmd: &str,
    fname: &str,
    ftype: &str,
    mode: Option<char>,
) -> Result<(CmsFile, char), i32> {
    let letter = match mode {
        Some(l) => l,
        None => env.find(fname, ftype).unwrap_or('A'),
    };
    let Some(disk) = env.disk(letter) else {
        env.say(&format!("DMS{cmd}069E Filemode {letter} not accessed"));
        return Err(36);
    };
    match disk.read(fname, ftype) {
        Ok(Some(f)) => Ok((f, letter)),
        Ok(None) => {
            env.say(&format!(
                "DMS{cmd}002E File {fname} {ftype} {letter} not found"
            ));
            Err(28)
        }
        Err(e) => {
            env.say(&format!("DMS{cmd}104S Error reading file: {e}"));
            Err(100)
        }
    }
}

/// A userid operand that must be in the directory (`DMS{cmd}045E` otherwise).
pub(crate) fn directory_user(env: &CmsEnv<'_>, cmd: &str, t: &str) -> Result<UserId, i32> {
    match UserId::parse(t) {
        Ok(u) if env.vm.in_directory(&u) => Ok(u),
        _ => {
            env.say(&format!(
                "DMS{cmd}045E Userid {} not in CP directory",
                t.to_ascii_uppercase()
            ));
            Err(45)
        }
    }
}

/// Sends a file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let ops: Vec<&str> = c
        .remaining()
        .into_iter()
        .take_while(|t| !t.starts_with('('))
        .collect();
    let incomplete = |env: &CmsEnv<'_>| {
        env.say("DMSSND054E Incomplete fileid or userid specified");
        24
    };
    let (Some(f), Some(t)) = (ops.first(), ops.get(1)) else {
        return incomplete(env);
    };
    let (fname, ftype) = match (fn_or_ft(f, "file name"), fn_or_ft(t, "file type")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => {
            env.say(&format!("DMSSND062E {m}"));
            return 24;
        }
    };
    let mut rest = &ops[2..];
    let mut mode = None;
    if rest.len() >= 2
        && let Ok(m) = filemode(rest[0])
    {
        mode = Some(m.letter);
        rest = &rest[1..];
    }
    if rest.first().is_some_and(|w| w.eq_ignore_ascii_case("TO")) {
        rest = &rest[1..];
    }
    let Some(user) = rest.first() else {
        return incomplete(env);
    };
    rest = &rest[1..];
    let node = env.vm.system_name().to_string();
    match rest {
        [] => {}
        [at, n] if at.eq_ignore_ascii_case("AT") && n.eq_ignore_ascii_case(&node) => {}
        [at, n] if at.eq_ignore_ascii_case("AT") => {
            env.say(&format!(
                "DMSSND046E Node {} is not this system ({node}); files go only to its users",
                n.to_ascii_uppercase()
            ));
            return 24;
        }
        [other, ..] => {
            env.say(&format!("DMSSND003E Invalid operand: {other}"));
            return 24;
        }
    }
    let to = match directory_user(env, "SND", user) {
        Ok(u) => u,
        Err(rc) => return rc,
    };
    let (file, letter) = match read_file(env, "SND", &fname, &ftype, mode) {
        Ok(x) => x,
        Err(rc) => return rc,
    };
    let (recfm, lrecl) = match file.recfm {
        RecFm::F => (Recfm::F, file.lrecl),
        RecFm::V => (Recfm::V, file.lrecl),
    };
    match send_netdata(
        env,
        &to,
        &format!("{fname} {ftype}"),
        (&fname, &ftype),
        recfm,
        lrecl,
        &file.records,
    ) {
        Ok(_) => {
            let now = crate::clock::now();
            let tz = env.vm.tz();
            env.say(&format!(
                "File {fname} {ftype} {letter}{} sent to {to} at {node} on {} {}",
                file.mode_num,
                tz.mmddyy(now),
                tz.hhmmss(now)
            ));
            0
        }
        Err(m) => {
            env.say(&m.to_string());
            m.rc()
        }
    }
}
