//! What several commands share: mailbox names, message sets, flags.

use std::sync::Arc;

use super::super::{Outcome, Session};
use crate::{
    proto::{
        command::Flag,
        seq::{SeqNum, SeqSet},
    },
    store::{UserStore, index::flag, names},
};

/// The logged-in user's store (commands run only after login).
pub fn user(s: &Session) -> Arc<UserStore> {
    s.user.clone().expect("command allowed only after login")
}

/// A mailbox name from the client, checked and normalised; NO with the reason if it is not
/// acceptable.
pub fn mailbox(name: &str) -> Result<String, Outcome> {
    names::normalise(name).map_err(|why| Outcome::No(format!("[CANNOT] {why}")))
}

/// The flag bits and keywords of a flag list; `\Recent` cannot be set and is ignored.
pub fn flag_bits(flags: &[Flag]) -> (u8, Vec<String>) {
    let mut bits = 0u8;
    let mut kws: Vec<String> = Vec::new();
    for f in flags {
        match f {
            Flag::Seen => bits |= flag::SEEN,
            Flag::Answered => bits |= flag::ANSWERED,
            Flag::Flagged => bits |= flag::FLAGGED,
            Flag::Deleted => bits |= flag::DELETED,
            Flag::Draft => bits |= flag::DRAFT,
            Flag::Recent => {}
            Flag::Keyword(k) => {
                if !kws.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    kws.push(k.clone());
                }
            }
        }
    }
    (bits, kws)
}

/// Whether a keyword can be stored: system flags other than the five are refused.
pub fn check_flags(flags: &[Flag]) -> Result<(), Outcome> {
    for f in flags {
        if let Flag::Keyword(k) = f
            && k.starts_with('\\')
        {
            return Err(Outcome::Bad(format!("Unknown system flag {k}")));
        }
    }
    Ok(())
}

/// The UIDs (ascending, present in the view) a set names. `uid`: the numbers are UIDs;
/// otherwise message numbers, which must exist unless `lenient` (SEARCH).
pub fn resolve(s: &Session, set: &SeqSet, uid: bool, lenient: bool) -> Result<Vec<u32>, Outcome> {
    let Some(v) = s.view.as_ref() else {
        return Err(Outcome::Bad("No mailbox selected".into()));
    };
    let ranges = match set {
        SeqSet::Saved => {
            let mut out: Vec<u32> = s
                .saved
                .iter()
                .copied()
                .filter(|u| v.seq_of(*u).is_some())
                .collect();
            out.sort_unstable();
            return Ok(out);
        }
        SeqSet::Ranges(r) => r,
    };
    let mut out = Vec::new();
    if uid {
        let max = v.max_uid();
        for (lo, hi) in set.resolved(max) {
            let a = v.uids.partition_point(|u| *u < lo);
            let b = v.uids.partition_point(|u| *u <= hi);
            out.extend_from_slice(&v.uids[a..b]);
        }
        let _ = ranges;
    } else {
        let n = v.exists();
        if !lenient {
            for (a, b) in ranges {
                for x in [a, b] {
                    if let SeqNum::Num(k) = x
                        && (*k == 0 || *k > n)
                    {
                        return Err(Outcome::Bad(format!(
                            "Message number {k} does not exist (the mailbox has {n})"
                        )));
                    }
                }
            }
        }
        for (lo, hi) in set.resolved(n) {
            let lo = lo.max(1);
            let hi = hi.min(n);
            if lo <= hi {
                out.extend_from_slice(&v.uids[lo as usize - 1..hi as usize]);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
