//! SEARCH evaluation (RFC 9051 §6.4.4, WITHIN RFC 5032): every key, over a message's index
//! entry and, for the keys that need it, its parsed content.
//!
//! String keys match case-insensitively as substrings of the decoded text (CHARSET UTF-8).
//! Internal dates are compared as UTC dates; SENT* keys use the Date header's own date as
//! written in its own zone (falling back to the internal date when it has none).

use chrono::{DateTime, NaiveDate};

use crate::{
    mime::{Message, SearchFields},
    proto::{
        command::{AddrField, Flag, SearchKey},
        seq::SeqSet,
    },
    store::{Msg, index::flag},
};

/// One message as SEARCH sees it.
#[derive(Debug)]
pub struct Item<'a> {
    /// Message number.
    pub seq: u32,
    /// Index entry.
    pub m: &'a Msg,
    /// `\Recent` for this session.
    pub recent: bool,
    /// Parsed content, when a key needs it.
    pub content: Option<&'a Message<'a>>,
    /// The decoded address and subject fields, when the keys need only those (see
    /// [`fields_only`]); then `content` may be `None`.
    pub fields: Option<&'a SearchFields>,
}

/// What every message's evaluation shares.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The folder's keyword names by number.
    pub keywords: &'a [String],
    /// The largest message number (`*`).
    pub max_seq: u32,
    /// The largest UID (`*` in UID sets).
    pub max_uid: u32,
    /// The saved result (`$`), as sorted UIDs.
    pub saved: &'a [u32],
    /// Now, for WITHIN.
    pub now: i64,
}

/// Whether a key needs the message's body (not only its header).
pub fn needs_body(k: &SearchKey) -> bool {
    match k {
        SearchKey::And(v) => v.iter().any(needs_body),
        SearchKey::Or(a, b) => needs_body(a) || needs_body(b),
        SearchKey::Not(a) => needs_body(a),
        SearchKey::Body(_) | SearchKey::Text(_) => true,
        _ => false,
    }
}

/// Whether a key needs the message's content (its header at least).
pub fn needs_content(k: &SearchKey) -> bool {
    match k {
        SearchKey::And(v) => v.iter().any(needs_content),
        SearchKey::Or(a, b) => needs_content(a) || needs_content(b),
        SearchKey::Not(a) => needs_content(a),
        SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_)
        | SearchKey::Addr(..)
        | SearchKey::Subject(_)
        | SearchKey::Header(..)
        | SearchKey::Body(_)
        | SearchKey::Text(_) => true,
        _ => false,
    }
}

/// Whether the content keys of `k` are only FROM, TO, CC, BCC and SUBJECT, which the cached
/// [`SearchFields`] answer without parsing the message.
pub fn fields_only(k: &SearchKey) -> bool {
    match k {
        SearchKey::And(v) => v.iter().all(fields_only),
        SearchKey::Or(a, b) => fields_only(a) && fields_only(b),
        SearchKey::Not(a) => fields_only(a),
        SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_)
        | SearchKey::Header(..)
        | SearchKey::Body(_)
        | SearchKey::Text(_) => false,
        _ => true,
    }
}

fn contains(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn utc_date(secs: i64) -> NaiveDate {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The Date header's date as written (its own zone).
fn sent_date(c: Option<&Message<'_>>, m: &Msg) -> NaiveDate {
    c.and_then(|c| c.header_values("date").into_iter().next())
        .and_then(|d| mail_parser::DateTime::parse_rfc822(&d))
        .and_then(|d| NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32))
        .unwrap_or_else(|| utc_date(m.date))
}

fn has_flag(cx: &Ctx<'_>, it: &Item<'_>, f: &Flag) -> bool {
    let bit = |b: u8| it.m.flags & b != 0;
    match f {
        Flag::Seen => bit(flag::SEEN),
        Flag::Answered => bit(flag::ANSWERED),
        Flag::Flagged => bit(flag::FLAGGED),
        Flag::Deleted => bit(flag::DELETED),
        Flag::Draft => bit(flag::DRAFT),
        Flag::Recent => it.recent,
        Flag::Keyword(k) => cx
            .keywords
            .iter()
            .position(|x| !x.is_empty() && x.eq_ignore_ascii_case(k))
            .is_some_and(|i| it.m.keywords & (1u64 << i) != 0),
    }
}

fn in_set(set: &SeqSet, n: u32, max: u32, saved_uid: Option<u32>, saved: &[u32]) -> bool {
    match set {
        SeqSet::Saved => saved_uid.is_some_and(|u| saved.binary_search(&u).is_ok()),
        s => s.contains(n, max),
    }
}

/// Whether the message matches the key.
pub fn eval(k: &SearchKey, it: &Item<'_>, cx: &Ctx<'_>) -> bool {
    let c = it.content;
    match k {
        SearchKey::And(v) => v.iter().all(|k| eval(k, it, cx)),
        SearchKey::Or(a, b) => eval(a, it, cx) || eval(b, it, cx),
        SearchKey::Not(a) => !eval(a, it, cx),
        SearchKey::All => true,
        SearchKey::Seq(s) => in_set(s, it.seq, cx.max_seq, Some(it.m.uid), cx.saved),
        SearchKey::Uid(s) => in_set(s, it.m.uid, cx.max_uid, Some(it.m.uid), cx.saved),
        SearchKey::Flag(f, on) => has_flag(cx, it, f) == *on,
        SearchKey::New => it.recent && it.m.flags & flag::SEEN == 0,
        SearchKey::Old => !it.recent,
        SearchKey::Before(d) => utc_date(it.m.date) < *d,
        SearchKey::On(d) => utc_date(it.m.date) == *d,
        SearchKey::Since(d) => utc_date(it.m.date) >= *d,
        SearchKey::SentBefore(d) => sent_date(c, it.m) < *d,
        SearchKey::SentOn(d) => sent_date(c, it.m) == *d,
        SearchKey::SentSince(d) => sent_date(c, it.m) >= *d,
        SearchKey::Larger(n) => it.m.size > *n as u64,
        SearchKey::Smaller(n) => it.m.size < *n as u64,
        SearchKey::Younger(n) => cx.now - it.m.date <= *n as i64,
        SearchKey::Older(n) => cx.now - it.m.date > *n as i64,
        SearchKey::ModSeq(n) => it.m.modseq >= *n,
        SearchKey::Addr(field, s) => {
            let i = match field {
                AddrField::From => 0,
                AddrField::To => 1,
                AddrField::Cc => 2,
                AddrField::Bcc => 3,
            };
            if let Some(f) = it.fields {
                return f.addr[i].iter().any(|v| contains(v, s));
            }
            let name = SearchFields::ADDR_FIELDS[i];
            c.is_some_and(|c| {
                c.address_text(name).iter().any(|v| contains(v, s))
                    || c.header_values(name).iter().any(|v| contains(v, s))
            })
        }
        SearchKey::Subject(s) => {
            if let Some(f) = it.fields {
                return f.subject.iter().any(|v| contains(v, s));
            }
            c.is_some_and(|c| c.header_values("subject").iter().any(|v| contains(v, s)))
        }
        SearchKey::Header(name, s) => c.is_some_and(|c| {
            let vals = c.header_values(name);
            if s.is_empty() {
                !vals.is_empty()
            } else {
                vals.iter().any(|v| contains(v, s))
            }
        }),
        SearchKey::Body(s) => c.is_some_and(|c| contains(&c.text_body_decoded(), s)),
        SearchKey::Text(s) => c.is_some_and(|c| {
            contains(&c.headers_decoded(), s) || contains(&c.text_body_decoded(), s)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_rules() {
        assert!(contains("Hello World", "world"));
        assert!(contains("Grüße", "GRÜSSE") || contains("Grüße", "grüße"));
        assert!(contains("x", ""));
        assert!(!contains("abc", "abcd"));
    }
}
