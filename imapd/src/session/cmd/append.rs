//! APPEND and MULTIAPPEND (RFC 3502): all the messages are stored in one SFS work unit, so they
//! are all there or none is; APPENDUID (RFC 4315) names their UIDs.

use super::super::{Outcome, Session};
use crate::{
    proto::{command::Cmd, seq::compact},
    store::{NewMsg, StoreError},
};

/// `append = "APPEND" SP mailbox 1*append-message`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Append { mailbox, messages } = c else {
        return Outcome::Bad("APPEND".into());
    };
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let folder = match super::util::user(s).folder(&name) {
        Ok(f) => f,
        Err(StoreError::NoMailbox(n)) => {
            return Outcome::No(format!("[TRYCREATE] Mailbox does not exist: {n}"));
        }
        Err(e) => return e.into(),
    };
    let now = chrono::Utc::now().timestamp();
    let mut new = Vec::with_capacity(messages.len());
    for m in messages {
        if m.data.is_empty() {
            return Outcome::No("Cannot store an empty message".into());
        }
        if !m.binary && m.data.contains(&0) {
            return Outcome::No("[UNKNOWN-CTE] NUL in a message sent without literal8".into());
        }
        if let Err(o) = super::util::check_flags(&m.flags) {
            return o;
        }
        let (flags, keywords) = super::util::flag_bits(&m.flags);
        let data = if m.binary {
            crate::mime::encode::binary_to_base64(&m.data).unwrap_or_else(|| m.data.clone())
        } else {
            m.data.clone()
        };
        new.push(NewMsg {
            data,
            flags,
            keywords,
            date: m.date.unwrap_or(now),
            source: 0,
        });
    }
    let uidvalidity = folder.lock().uidvalidity;
    let user = super::util::user(s);
    match folder.append(user.sfs(), new) {
        Ok(uids) => Outcome::Ok(format!(
            "[APPENDUID {uidvalidity} {}] APPEND completed",
            compact(&uids)
        )),
        Err(e) => e.into(),
    }
}
