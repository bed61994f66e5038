//! `vmimap punch [--system DIR] --user USERID [--to TARGET] [--class C] [--noheader] FILE`

use std::{path::Path, process::ExitCode};

use anyhow::{Context, bail};
use spool::cards::{ReadCard, card_text, fold_line};
use vm::terminal::protocol::Request;

use crate::client::{Client, exit_code};

/// A CMS-style name part from a host name: upper case, invalid characters as `_`, 8 at most.
fn cms_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "$#@+-:_".contains(c) {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .take(8)
        .collect();
    if n.is_empty() { "FILE".into() } else { n }
}

/// Punches a host text file.
pub fn run(
    dir: &Path,
    user: &str,
    to: Option<String>,
    class: Option<String>,
    noheader: bool,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => bail!(
            "{} is not a text file (invalid UTF-8 at byte {}); punch text files only",
            file.display(),
            e.utf8_error().valid_up_to()
        ),
    };
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = file.extension().map(|s| s.to_string_lossy().into_owned());
    let fname = cms_name(&stem);
    let ftype = ext.map_or_else(|| "FILE".to_string(), |e| cms_name(&e));
    let mut cards = Vec::new();
    if !noheader {
        let mtime = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let tz = vm::clock::TimeZone::default();
        cards.push(card_text(
            &ReadCard {
                fname: fname.clone(),
                ftype: ftype.clone(),
                fmode: "A1".into(),
                volid: "HOST".into(),
                date: tz.mmddyy(mtime),
                time: tz.hhmm(mtime),
            }
            .to_card(),
        ));
    }
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        for c in fold_line(line) {
            // Trailing blanks are padding the system restores; sending them is wasted bytes.
            let s = String::from_utf8(c).expect("folded at character boundaries");
            cards.push(s.trim_end_matches(' ').to_string());
        }
    }
    let (rc, lines) = Client::ask(
        dir,
        &Request::Punch {
            user: user.to_string(),
            to,
            class,
            name: Some(fname),
            ftype: Some(ftype),
            cards,
        },
    )?;
    for l in lines {
        println!("{l}");
    }
    Ok(exit_code(rc))
}
