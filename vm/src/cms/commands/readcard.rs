//! `READCARD fn ft [fm]` / `READCARD * [* [fm]]`: reads the first reader file onto a disk.
//!
//! With an explicit file id every card is data. With `*`, `:READ` control cards name the files
//! (a deck may hold several); cards before the first `:READ` go to `READCARD CMSUT1`.

use spool::cards::ReadCard;

use super::{FileArg, file_arg, store};
use crate::cms::fileid::filemode;
use crate::{cms::CmsEnv, grammar::Cursor};

/// Reads a reader file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    // `READCARD * [* [fm]]`: the file ids come from the deck; otherwise `fn ft [fm]`.
    let arg = if c.peek() == Some("*") {
        c.next_token();
        if c.peek() == Some("*") {
            c.next_token();
        }
        let mode = match c.next_token() {
            None => None,
            Some(t) => match filemode(t) {
                Ok(m) => Some(m),
                Err(m) => {
                    env.say(&format!("DMSRDC062E {m}"));
                    return 24;
                }
            },
        };
        if let Some(t) = c.next_token() {
            env.say(&format!("DMSRDC062E invalid operand {t}"));
            return 24;
        }
        FileArg {
            fname: "*".into(),
            ftype: "*".into(),
            mode,
        }
    } else {
        match file_arg(env, c, "RDC", false) {
            Ok(a) => a,
            Err(rc) => return rc,
        }
    };
    let letter = arg.mode.map_or('A', |m| m.letter);
    let (_file, records) = match env.vm.read_next() {
        Ok(Some(x)) => x,
        Ok(None) => {
            env.say("DMSRDC102S Reader empty or not ready");
            return 8;
        }
        Err(m) => {
            env.say(&m.to_string());
            return m.rc();
        }
    };
    let lrecl = records.iter().map(|r| r.len()).max().unwrap_or(80);
    env.say(&format!("DMSRDC738I Record length is {lrecl} bytes"));
    let mut outputs: Vec<(String, String, Vec<Vec<u8>>)> = Vec::new();
    if arg.fname == "*" {
        let mut cur: Option<(String, String, Vec<Vec<u8>>)> = None;
        for r in records {
            if let Some(h) = ReadCard::parse(&r) {
                if let Some(done) = cur.take() {
                    outputs.push(done);
                }
                cur = Some((
                    h.fname.to_ascii_uppercase(),
                    h.ftype.to_ascii_uppercase(),
                    Vec::new(),
                ));
                continue;
            }
            cur.get_or_insert_with(|| ("READCARD".into(), "CMSUT1".into(), Vec::new()))
                .2
                .push(r);
        }
        outputs.extend(cur);
    } else {
        outputs.push((arg.fname.clone(), arg.ftype.clone(), records));
    }
    for (f, t, recs) in outputs {
        if let Err(rc) = store(env, letter, &f, &t, recs, true) {
            let _ = env.vm.close_reader(true);
            return rc;
        }
        env.say(&format!("{f} {t} {letter}1 created"));
    }
    match env.vm.close_reader(false) {
        Ok(()) => 0,
        Err(m) => {
            env.say(&m.to_string());
            m.rc()
        }
    }
}
