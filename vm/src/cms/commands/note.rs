//! `NOTE recipient [text]` / `NOTE recipient (FILE fn ft [fm]`: sends a note by mail. The note
//! is a batch SMTP deck (HELO, MAIL FROM, RCPT TO, DATA, the message, `.`, QUIT) sent as
//! NETDATA to the SMTP machine's reader, which delivers it like any mail: into an IMAP user's
//! INBOX, another user's reader, or through the smart host.
//!
//! ```text
//! note      = "NOTE" SP recipient [SP text] / "NOTE" SP recipient SP "(" "FILE" SP fn SP ft [SP fm]
//! recipient = userid / local-part "@" domain       ; a bare userid is userid@system
//! ```
//!
//! A one-line note has the headers Date, From, To, Subject (`Note from USERID`) and
//! Message-ID. A note from a file whose first line is a header field (`Name: value`) keeps the
//! file's headers (up to its first empty line), adding those of Date, From, To, Subject and
//! Message-ID it lacks; any other file is the body under generated headers. Body lines that
//! begin with `.` are doubled as SMTP requires.

use chrono::Utc;
use spool::netdata::Recfm;

use super::sendfile::{directory_user, read_file, send_netdata};
use crate::{
    cms::{
        CmsEnv,
        fileid::{filemode, fn_or_ft},
    },
    grammar::Cursor,
};

/// The SMTP machine NOTE sends to.
pub const SMTP_USER: &str = "SMTP";

/// Whether a line is a header field: `1*(printable except ":") ":"`.
fn is_field(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(p) if p > 0 => line[..p].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

fn field_name(line: &[u8]) -> String {
    let p = line.iter().position(|&b| b == b':').unwrap_or(0);
    String::from_utf8_lossy(&line[..p]).to_ascii_lowercase()
}

/// The message: headers, an empty line, the body.
fn message(env: &CmsEnv<'_>, from: &str, to: &str, records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let me = env.vm.userid().to_string();
    let now = Utc::now();
    let host = env.vm.system_name().to_ascii_lowercase();
    let (mut head, body): (Vec<Vec<u8>>, &[Vec<u8>]) =
        if records.first().is_some_and(|r| is_field(r)) {
            let end = records
                .iter()
                .position(|r| r.is_empty())
                .unwrap_or(records.len());
            (
                records[..end].to_vec(),
                &records[(end + 1).min(records.len())..],
            )
        } else {
            (Vec::new(), records)
        };
    let has = |head: &[Vec<u8>], n: &str| head.iter().any(|l| field_name(l) == n);
    let mut add = Vec::new();
    for (name, value) in [
        ("date", format!("Date: {}", now.to_rfc2822())),
        ("from", format!("From: {from}")),
        ("to", format!("To: {to}")),
        ("subject", format!("Subject: Note from {me}")),
        (
            "message-id",
            format!(
                "Message-ID: <{}.{}.{}@{host}>",
                now.timestamp(),
                now.timestamp_subsec_micros(),
                me.to_ascii_lowercase()
            ),
        ),
    ] {
        if !has(&head, name) {
            add.push(value.into_bytes());
        }
    }
    add.append(&mut head);
    add.push(Vec::new());
    add.extend(body.iter().cloned());
    add
}

/// Sends a note.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let Some(rcpt) = c.next_token() else {
        env.say("DMSNOT054E No recipient specified");
        return 24;
    };
    let host = env.vm.system_name().to_ascii_lowercase();
    let to = if rcpt.contains('@') {
        let (l, d) = rcpt.rsplit_once('@').unwrap_or((rcpt, ""));
        if l.is_empty() || d.is_empty() || rcpt.contains(['<', '>', '"']) {
            env.say(&format!("DMSNOT062E Invalid address {rcpt}"));
            return 24;
        }
        rcpt.to_string()
    } else {
        match directory_user(env, "NOT", rcpt) {
            Ok(u) => format!("{}@{host}", u.as_str().to_ascii_lowercase()),
            Err(rc) => return rc,
        }
    };
    let rest = c.rest().trim();
    let (text, opts) = match rest.find('(') {
        Some(p) => (
            rest[..p].trim(),
            Some(rest[p + 1..].trim().trim_end_matches(')')),
        ),
        None => (rest, None),
    };
    let body: Vec<Vec<u8>> = match opts {
        Some(o) => {
            let w: Vec<&str> = o.split_whitespace().collect();
            let Some((kw, args)) = w.split_first() else {
                env.say("DMSNOT003E Invalid option: (");
                return 24;
            };
            if !crate::grammar::abbrev(kw, "FILE", 4) || !text.is_empty() {
                env.say(&format!(
                    "DMSNOT003E Invalid option: {}; use NOTE recipient text, or NOTE recipient (FILE fn ft [fm]",
                    kw.to_ascii_uppercase()
                ));
                return 24;
            }
            let (fname, ftype, mode) = match args {
                [f, t] => (f, t, None),
                [f, t, m] => (f, t, Some(m)),
                _ => {
                    env.say("DMSNOT054E Incomplete fileid specified");
                    return 24;
                }
            };
            let (fname, ftype) = match (fn_or_ft(fname, "file name"), fn_or_ft(ftype, "file type"))
            {
                (Ok(a), Ok(b)) => (a, b),
                (Err(m), _) | (_, Err(m)) => {
                    env.say(&format!("DMSNOT062E {m}"));
                    return 24;
                }
            };
            let mode = match mode.map(|m| filemode(m)) {
                None => None,
                Some(Ok(m)) => Some(m.letter),
                Some(Err(m)) => {
                    env.say(&format!("DMSNOT062E {m}"));
                    return 24;
                }
            };
            match read_file(env, "NOT", &fname, &ftype, mode) {
                Ok((f, _)) => f.records,
                Err(rc) => return rc,
            }
        }
        None if text.is_empty() => {
            env.say("DMSNOT054E No note text; give the text, or (FILE fn ft [fm]");
            return 24;
        }
        None => vec![text.as_bytes().to_vec()],
    };
    let smtp = match directory_user(env, "NOT", SMTP_USER) {
        Ok(u) => u,
        Err(rc) => return rc,
    };
    let me = env.vm.userid().to_string();
    let from = format!("{}@{host}", me.to_ascii_lowercase());
    let mut deck: Vec<Vec<u8>> = vec![
        format!("HELO {host}").into_bytes(),
        format!("MAIL FROM:<{from}>").into_bytes(),
        format!("RCPT TO:<{to}>").into_bytes(),
        b"DATA".to_vec(),
    ];
    for l in message(env, &from, &to, &body) {
        let mut l = l;
        if l.first() == Some(&b'.') {
            l.insert(0, b'.');
        }
        deck.push(l);
    }
    deck.push(b".".to_vec());
    deck.push(b"QUIT".to_vec());
    match send_netdata(
        env,
        &smtp,
        &format!("{me} NOTE"),
        (&me, "NOTE"),
        Recfm::V,
        0,
        &deck,
    ) {
        Ok(_) => {
            let now = crate::clock::now();
            let tz = env.vm.tz();
            env.say(&format!(
                "Note sent to {to} by {SMTP_USER} on {} {}",
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
