//! `PUNCH fn ft [fm] [(HEADER|NOHEADER]`: punches a file, with a `:READ` header card first
//! unless NOHEADER, and closes the punch (the file goes wherever SPOOL PUNCH sends it).

use spool::cards::{ReadCard, fold_line};

use super::{file_arg, options};
use crate::{
    cms::CmsEnv,
    grammar::Cursor,
    machine::{DevRef, OutKind},
    system::spoolops::CloseOpts,
};

/// Punches a file.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let arg = match file_arg(env, c, "PUN", false) {
        Ok(a) => a,
        Err(rc) => return rc,
    };
    let mut header = true;
    for o in options(c) {
        match o.as_str() {
            "HEADER" | "HEA" | "HEAD" | "HEADE" => header = true,
            "NOHEADER" | "NOH" | "NOHE" | "NOHEA" | "NOHEAD" | "NOHEADE" => header = false,
            _ => {
                env.say(&format!("DMSPUN003E Invalid option: {o}"));
                return 24;
            }
        }
    }
    let letter = arg.mode.map_or('A', |m| m.letter);
    let Some(disk) = env.disk(letter) else {
        env.say(&format!("DMSPUN069E Filemode {letter} not accessed"));
        return 36;
    };
    let file = match disk.read(&arg.fname, &arg.ftype) {
        Ok(Some(f)) => f,
        Ok(None) => {
            env.say(&format!(
                "DMSPUN002E File {} {} {letter} not found",
                arg.fname, arg.ftype
            ));
            return 28;
        }
        Err(e) => {
            env.say(&format!("DMSPUN104S Error reading file: {e}"));
            return 100;
        }
    };
    let mut cards = Vec::with_capacity(file.records.len() + 1);
    if header {
        let tz = env.vm.tz();
        cards.push(
            ReadCard {
                fname: file.fname.clone(),
                ftype: file.ftype.clone(),
                fmode: format!("{letter}{}", file.mode_num),
                volid: disk.volid(),
                date: tz.mmddyy(file.mtime),
                time: tz.hhmm(file.mtime),
            }
            .to_card(),
        );
    }
    for r in &file.records {
        cards.extend(fold_line(&String::from_utf8_lossy(r)));
    }
    for card in cards {
        if let Err(m) = env.vm.punch(card) {
            env.say(&m.to_string());
            let _ = env.vm.close_device(
                DevRef::Kind(OutKind::Punch),
                &CloseOpts {
                    purge: true,
                    ..Default::default()
                },
            );
            return m.rc();
        }
    }
    match env.vm.close_device(
        DevRef::Kind(OutKind::Punch),
        &CloseOpts {
            name: Some((file.fname.clone(), file.ftype.clone())),
            ..Default::default()
        },
    ) {
        Ok(lines) => {
            for l in lines {
                env.say(&l);
            }
            0
        }
        Err(m) => {
            env.say(&m.to_string());
            m.rc()
        }
    }
}
