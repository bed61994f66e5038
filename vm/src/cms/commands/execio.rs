//! `EXECIO`: records to and from disk files, one command line at a time.
//!
//! ```text
//! execio = "EXECIO" (count / "*") ( "DISKW" fn ft [fm] "(" ["FINIS"] "STRING" text
//!                                 / "DISKR" fn ft [fm] [recno] ["(" "FINIS"] )
//! ```
//!
//! DISKW with STRING appends one record durably (the file is created if missing; FINIS is
//! accepted and has nothing left to do, every write being complete). DISKR shows records on the
//! console, as there is no program stack here to put them on.

use crate::{
    cms::CmsEnv,
    grammar::{Cursor, decimal, whole},
};

/// `EXECIO`
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let count = match c.next_token() {
        Some("*") => u64::MAX,
        Some(t) => match whole(t, decimal) {
            Some(n) => n,
            None => {
                env.say(&format!("DMSEIO599E Invalid record count {t}"));
                return 24;
            }
        },
        None => {
            env.say("DMSEIO599E Record count missing");
            return 24;
        }
    };
    let op = c.next_token().unwrap_or("").to_ascii_uppercase();
    let arg = match super::file_arg(env, c, "EIO", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let letter = arg.mode.map_or('A', |m| m.letter);
    match op.as_str() {
        "DISKW" => {
            let rest = c.rest();
            let Some(pos) = rest.to_ascii_uppercase().find("STRING") else {
                env.say("DMSEIO599E DISKW needs (STRING text here");
                return 24;
            };
            let text = rest[pos + 6..]
                .strip_prefix(' ')
                .unwrap_or(&rest[pos + 6..]);
            if count != 1 && count != u64::MAX {
                env.say("DMSEIO599E With STRING the count must be 1");
                return 24;
            }
            let Some(d) = env.disk(letter) else {
                env.say(&format!("DMSEIO069E Filemode {letter} not accessed"));
                return 36;
            };
            match d.read(&arg.fname, &arg.ftype) {
                Ok(existing) => {
                    let mut f = existing.unwrap_or(crate::cms::disk::CmsFile {
                        fname: arg.fname.clone(),
                        ftype: arg.ftype.clone(),
                        mode_num: 1,
                        recfm: crate::cms::disk::RecFm::V,
                        lrecl: 0,
                        records: Vec::new(),
                        mtime: crate::clock::now(),
                    });
                    if let Some(sfs) = d.sfs_dirid() {
                        // In SFS the record is appended as one durable change.
                        let r = env.sfs(&sfs.pool).and_then(|cl| {
                            cl.append_file(
                                &sfs.path,
                                &arg.fname,
                                &arg.ftype,
                                &crate::sfs::Content::Records {
                                    format: crate::sfs::Format::V,
                                    records: vec![text.as_bytes().to_vec()],
                                },
                            )
                        });
                        return match r {
                            Ok(_) => 0,
                            Err(e) => {
                                env.say(&e.to_string());
                                e.rc()
                            }
                        };
                    }
                    f.recfm = crate::cms::disk::RecFm::V;
                    f.lrecl = f.lrecl.max(text.len() as u32);
                    f.records.push(text.as_bytes().to_vec());
                    f.mtime = crate::clock::now();
                    match d.write(&f) {
                        Ok(()) => 0,
                        Err(e) => {
                            env.say(&format!("DMSEIO105S Error writing file: {e}"));
                            100
                        }
                    }
                }
                Err(e) => {
                    env.say(&e);
                    100
                }
            }
        }
        "DISKR" => {
            let start = c
                .peek()
                .filter(|t| !t.starts_with('('))
                .and_then(|t| whole(t, decimal))
                .unwrap_or(1)
                .max(1);
            let Some(d) = env.disk(letter) else {
                env.say(&format!("DMSEIO069E Filemode {letter} not accessed"));
                return 36;
            };
            match d.read(&arg.fname, &arg.ftype) {
                Ok(Some(f)) => {
                    let recs: Vec<String> = f
                        .records
                        .iter()
                        .skip(start as usize - 1)
                        .take(count.min(usize::MAX as u64) as usize)
                        .map(|r| String::from_utf8_lossy(r).into_owned())
                        .collect();
                    for r in &recs {
                        env.say(r);
                    }
                    if recs.is_empty() { 2 } else { 0 }
                }
                Ok(None) => {
                    env.say(&format!(
                        "DMSEIO002E File {} {} {letter} not found",
                        arg.fname, arg.ftype
                    ));
                    28
                }
                Err(e) => {
                    env.say(&e);
                    100
                }
            }
        }
        other => {
            env.say(&format!("DMSEIO599E Invalid operation {other}"));
            24
        }
    }
}
