//! STORE and UID STORE: flag changes, durable before the tagged OK; the new flags are reported
//! unless `.SILENT` (RFC 9051 §6.4.6).

use super::super::{Outcome, Session, view::write_flags};
use crate::{
    proto::command::{Cmd, StoreMode},
    store::FlagMode,
};

/// `store = ["UID" SP] "STORE" SP sequence-set SP ["+" / "-"] "FLAGS" [".SILENT"] SP flag-list`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Store {
        uid,
        set,
        mode,
        silent,
        flags,
        unchanged_since,
    } = c
    else {
        return Outcome::Bad("STORE".into());
    };
    if s.view.as_ref().is_some_and(|v| v.read_only) {
        return Outcome::No("[READ-ONLY] The mailbox is open read-only".into());
    }
    if let Err(o) = super::util::check_flags(flags) {
        return o;
    }
    let uids = match super::util::resolve(s, set, *uid, false) {
        Ok(u) => u,
        Err(o) => return o,
    };
    // Catch up first, so that what this STORE reports is all that changed after it.
    s.sync(false);
    let (bits, kws) = super::util::flag_bits(flags);
    let fm = match mode {
        StoreMode::Replace => FlagMode::Set,
        StoreMode::Add => FlagMode::Add,
        StoreMode::Remove => FlagMode::Remove,
    };
    let user = super::util::user(s);
    let folder = s.view.as_ref().unwrap().folder.clone();
    let stored = match folder.store(user.sfs(), &uids, fm, bits, &kws, *unchanged_since) {
        Ok(x) => x,
        Err(e) => return e.into(),
    };
    let v = s.view.as_mut().unwrap();
    if !silent {
        let st = folder.lock();
        for u in &uids {
            let (Some(seq), Some(i)) = (v.seq_of(*u), st.pos(*u)) else {
                continue;
            };
            let m = st.msgs[i];
            s.out.text("* ").num(seq as u64).text(" FETCH (");
            if *uid {
                s.out.text("UID ").num(*u as u64).sp();
            }
            s.out.text("FLAGS ");
            write_flags(&mut s.out, &st, &m, v.is_recent(*u));
            s.out.text(")\r\n");
        }
    }
    // When nothing else changed the folder meanwhile, the responses above were the news.
    if stored.after == stored.before + 1 && v.modseq == stored.before {
        v.modseq = stored.after;
    }
    Outcome::done("STORE")
}
