//! CMS commands. A command that is not a CMS command is passed to CP; if CP does not know it
//! either, CMS says so (rc -3).

mod access;
mod copyfile;
mod enroll;
mod erase;
mod execio;
mod grant;
mod listfile;
mod netstat;
mod note;
mod punch;
mod query;
mod readcard;
mod receive;
mod sendfile;
mod sfsdir;
mod typ;

use super::{
    CmsEnv,
    fileid::{FileMode, filemode, fn_or_ft},
};
use crate::grammar::{Cursor, abbrev};

type Run = fn(&mut CmsEnv<'_>, &mut Cursor<'_>) -> i32;

/// CMS commands and their minimum abbreviations.
static TABLE: &[(&str, usize, Run)] = &[
    ("ACCESS", 3, access::run),
    ("COPYFILE", 4, copyfile::run),
    ("CREATE", 6, sfsdir::create),
    ("DELETE", 6, sfsdir::delete),
    ("ENROLL", 6, enroll::enroll),
    ("ERASE", 5, sfsdir::erase_any),
    ("EXECIO", 6, execio::run),
    ("FILELIST", 5, listfile::filelist),
    ("GRANT", 5, grant::grant),
    ("LISTFILE", 5, listfile::run),
    ("MODIFY", 6, enroll::modify),
    ("NETSTAT", 7, netstat::run),
    ("NOTE", 4, note::run),
    ("PUNCH", 2, punch::run),
    ("READCARD", 4, readcard::run),
    ("RECEIVE", 7, receive::run),
    ("RELEASE", 3, access::release),
    ("RENAME", 6, sfsdir::rename),
    ("REVOKE", 6, grant::revoke),
    ("SENDFILE", 5, sendfile::run),
    ("TYPE", 1, typ::run),
];

/// Runs one command line; returns its return code.
pub fn execute(env: &mut CmsEnv<'_>, line: &str) -> i32 {
    if line.chars().count() > 1024 {
        env.say("DMSCMS1001E Command line longer than 1024 characters");
        return 24;
    }
    let mut c = Cursor::new(line);
    let Some(word) = c.next_token() else {
        return 0;
    };
    if word.eq_ignore_ascii_case("CP") {
        return cp(env, c.rest());
    }
    if crate::grammar::abbrev(word, "QUERY", 1) {
        return query::run(env, &mut c, line);
    }
    if let Some((_, _, run)) = TABLE.iter().find(|(n, m, _)| abbrev(word, n, *m)) {
        return run(env, &mut c);
    }
    // IMPCP: not a CMS command, so try CP.
    let r = env.vm.cp(line);
    if r.rc == 1 {
        env.say(&format!(
            "Unknown CP/CMS command: {}",
            crate::cp::messages::echo(&word.to_ascii_uppercase())
        ));
        return -3;
    }
    for l in &r.lines {
        env.say(l);
    }
    r.rc
}

fn cp(env: &CmsEnv<'_>, line: &str) -> i32 {
    let r = env.vm.cp(line);
    for l in &r.lines {
        env.say(l);
    }
    r.rc
}

/// A parsed `fn ft [fm]` operand list; `*` is allowed where `wild`.
#[derive(Debug)]
pub(crate) struct FileArg {
    pub fname: String,
    pub ftype: String,
    pub mode: Option<FileMode>,
}

/// Parses `fn ft [fm]`; reports errors as CMS does (DMS…E, rc 24).
pub(crate) fn file_arg(
    env: &CmsEnv<'_>,
    c: &mut Cursor<'_>,
    cmd: &str,
    wild: bool,
) -> Result<FileArg, i32> {
    let bad = |m: String| {
        env.say(&format!("DMS{cmd}062E {m}"));
        24
    };
    let fname = c.next_token().ok_or_else(|| {
        env.say(&format!("DMS{cmd}054E Incomplete fileid specified"));
        24
    })?;
    let ftype = c.next_token().ok_or_else(|| {
        env.say(&format!("DMS{cmd}054E Incomplete fileid specified"));
        24
    })?;
    let fname = if wild && fname == "*" {
        "*".into()
    } else {
        fn_or_ft(fname, "file name").map_err(bad)?
    };
    let ftype = if wild && ftype == "*" {
        "*".into()
    } else {
        fn_or_ft(ftype, "file type").map_err(bad)?
    };
    let mode = match c.peek() {
        Some(t) if !t.starts_with('(') => {
            c.next_token();
            if t == "*" {
                None
            } else {
                Some(filemode(t).map_err(bad)?)
            }
        }
        _ => None,
    };
    Ok(FileArg { fname, ftype, mode })
}

/// Options after `(`: returns them upper-cased.
pub(crate) fn options(c: &mut Cursor<'_>) -> Vec<String> {
    let rest: Vec<String> = c
        .remaining()
        .into_iter()
        .map(|s| {
            s.trim_start_matches('(')
                .trim_end_matches(')')
                .to_ascii_uppercase()
        })
        .filter(|s| !s.is_empty())
        .collect();
    rest
}

/// Writes records as a file on disk `letter`: fixed 80 when every record is 80 bytes, else
/// variable. Fails (with the message said) if the disk is missing or read-only, or the file exists
/// and `replace` is false.
pub(crate) fn store(
    env: &CmsEnv<'_>,
    letter: char,
    fname: &str,
    ftype: &str,
    records: Vec<Vec<u8>>,
    replace: bool,
) -> Result<(), i32> {
    let Some(d) = env.disk(letter) else {
        env.say(&format!("DMSRDC069E Filemode {letter} not accessed"));
        return Err(36);
    };
    if !d.writable() {
        env.say(&format!(
            "DMSRDC037E Filemode {letter} is accessed as read/only"
        ));
        return Err(36);
    }
    if !replace && matches!(d.read(fname, ftype), Ok(Some(_))) {
        env.say(&format!(
            "DMSRCV169S File {fname} {ftype} {letter}1 already exists; specify REPLACE"
        ));
        return Err(28);
    }
    let fixed = !records.is_empty() && records.iter().all(|r| r.len() == 80);
    let lrecl = records.iter().map(|r| r.len()).max().unwrap_or(80) as u32;
    let f = super::disk::CmsFile {
        fname: fname.to_string(),
        ftype: ftype.to_string(),
        mode_num: 1,
        recfm: if fixed {
            super::disk::RecFm::F
        } else {
            super::disk::RecFm::V
        },
        lrecl,
        records,
        mtime: crate::clock::now(),
    };
    d.write(&f).map_err(|e| {
        env.say(&format!(
            "DMSRDC105S Error writing file {fname} {ftype} {letter}: {e}"
        ));
        100
    })
}
