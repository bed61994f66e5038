//! SEARCH and UID SEARCH, with ESEARCH's RETURN options (RFC 4731) and SEARCHRES's SAVE and
//! `$` (RFC 5182).

use super::super::{Outcome, Session};
use crate::{
    mime::Message,
    proto::{
        command::{Cmd, SearchReturn},
        seq::compact,
    },
    search::{Ctx, Item, eval, fields_only, needs_body, needs_content},
    store::Msg,
};

/// `search = ["UID" SP] "SEARCH" [search-return-opts] [SP "CHARSET" SP charset] 1*(SP search-key)`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Search {
        uid,
        ret,
        charset,
        key,
    } = c
    else {
        return Outcome::Bad("SEARCH".into());
    };
    let save = ret
        .as_ref()
        .is_some_and(|r| r.contains(&SearchReturn::Save));
    if let Some(cs) = charset
        && !cs.eq_ignore_ascii_case("UTF-8")
        && !cs.eq_ignore_ascii_case("US-ASCII")
    {
        if save {
            s.saved.clear();
        }
        return Outcome::No("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset".into());
    }
    let Some(v) = s.view.as_ref() else {
        return Outcome::Bad("No mailbox selected".into());
    };
    let folder = v.folder.clone();
    let (items, keywords): (Vec<(u32, Msg, bool)>, Vec<String>) = {
        let st = folder.lock();
        let items = v
            .uids
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                st.pos(*u)
                    .map(|p| (i as u32 + 1, st.msgs[p], v.is_recent(*u)))
            })
            .collect();
        (items, st.keywords.clone())
    };
    let mut saved = s.saved.clone();
    saved.sort_unstable();
    let cx = Ctx {
        keywords: &keywords,
        max_seq: v.exists(),
        max_uid: v.max_uid(),
        saved: &saved,
        now: chrono::Utc::now().timestamp(),
    };
    let content = needs_content(key);
    let body = needs_body(key);
    let fields = content && fields_only(key);
    let user = super::util::user(s);
    let mut hits: Vec<(u32, u32)> = Vec::new();
    for (seq, m, recent) in &items {
        let matched = if fields {
            // FROM/TO/CC/BCC/SUBJECT: the folder's cached decoded fields.
            let f = match folder.search_fields(user.sfs(), m.uid) {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(e) => return e.into(),
            };
            eval(
                key,
                &Item {
                    seq: *seq,
                    m,
                    recent: *recent,
                    content: None,
                    fields: Some(&f),
                },
                &cx,
            )
        } else if content {
            // Header keys need only the (cached) header block.
            let data: std::sync::Arc<[u8]> = if body {
                match folder.read(user.sfs(), m.uid) {
                    Ok(Some(d)) => d.into(),
                    Ok(None) => continue,
                    Err(e) => return e.into(),
                }
            } else {
                match folder.header(user.sfs(), m.uid) {
                    Ok(Some(h)) => h,
                    Ok(None) => continue,
                    Err(e) => return e.into(),
                }
            };
            let parsed = Message::parse(&data);
            eval(
                key,
                &Item {
                    seq: *seq,
                    m,
                    recent: *recent,
                    content: Some(&parsed),
                    fields: None,
                },
                &cx,
            )
        } else {
            eval(
                key,
                &Item {
                    seq: *seq,
                    m,
                    recent: *recent,
                    content: None,
                    fields: None,
                },
                &cx,
            )
        };
        if matched {
            hits.push((*seq, m.uid));
        }
    }
    let nums: Vec<u32> = hits.iter().map(|h| if *uid { h.1 } else { h.0 }).collect();
    match ret {
        None => {
            s.out.text("* SEARCH");
            for n in &nums {
                s.out.sp().num(*n as u64);
            }
            s.out.crlf();
        }
        Some(opts) => {
            let all = opts.is_empty() || opts.contains(&SearchReturn::All);
            let min = opts.contains(&SearchReturn::Min);
            let max = opts.contains(&SearchReturn::Max);
            let count = opts.contains(&SearchReturn::Count);
            if save {
                // SAVE with only MIN and/or MAX keeps just those (RFC 5182 §2.4).
                s.saved = if (min || max) && !all && !count {
                    let mut v = Vec::new();
                    if min && let Some(h) = hits.first() {
                        v.push(h.1);
                    }
                    if max && let Some(h) = hits.last() {
                        v.push(h.1);
                    }
                    v.dedup();
                    v
                } else {
                    hits.iter().map(|h| h.1).collect()
                };
            }
            let only_save = save && !all && !min && !max && !count && !opts.is_empty();
            if !only_save {
                let tag = s.tag.clone();
                s.out
                    .text("* ESEARCH (TAG ")
                    .string(tag.as_bytes())
                    .text(")");
                if *uid {
                    s.out.text(" UID");
                }
                if min && let Some(n) = nums.first() {
                    s.out.text(" MIN ").num(*n as u64);
                }
                if max && let Some(n) = nums.last() {
                    s.out.text(" MAX ").num(*n as u64);
                }
                if count {
                    s.out.text(" COUNT ").num(nums.len() as u64);
                }
                if all && !nums.is_empty() {
                    s.out.text(" ALL ").text(&compact(&nums));
                }
                s.out.crlf();
            }
        }
    }
    Outcome::done("SEARCH")
}
