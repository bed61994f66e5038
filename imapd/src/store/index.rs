//! A folder's index: one SFS file (`INDEX IMAPIDX` in the folder's directory) of variable-length
//! records, replayed in order. Version 1.
//!
//! ```text
//! index    = header *change
//! header   = "IMAPIDX" %x00 version:u16 uidvalidity:u32 uidnext:u32
//! change   = "A" uid:u32 flags:u8 keywords:u64 size:u64 internaldate:i64 source:u64
//!                                        ; a message is added; source = the spool file it came
//!                                        ; from (0 for APPEND, COPY and MOVE)
//!          / "F" 1*(uid:u32 flags:u8 keywords:u64)    ; flags replaced
//!          / "X" 1*uid:u32                            ; messages expunged
//!          / "K" index:u8 name:str                    ; keyword number `index` is `name`
//!          / "N" uidnext:u32                          ; UIDNEXT raised
//! flags    = bits: \Seen 1, \Answered 2, \Flagged 4, \Deleted 8, \Draft 16
//! keywords = bit n set: keyword number n
//! ```
//!
//! The message file and its `A` record are written in one SFS work unit, as are an expunge's
//! file erasures and its `X` record, so the index and the files never disagree after a crash.
//! When the file has grown well past its content it is rewritten as a header and one `A` record
//! per message.

use super::records::{Bad, Fields, Rec};

/// File name and type of a folder's index.
pub const INDEX_FILE: (&str, &str) = ("INDEX", "IMAPIDX");

/// The file type of message files (the name is the UID in 8 hex digits).
pub const MSG_TYPE: &str = "MAIL";

/// The index magic.
pub const MAGIC: &[u8; 8] = b"IMAPIDX\0";

/// The version this code writes.
pub const VERSION: u16 = 1;

/// Entries per `F`/`X` record, keeping records well under the 64 KiB record limit.
pub const PER_RECORD: usize = 4000;

/// The file name of message `uid`.
pub fn msg_name(uid: u32) -> String {
    format!("{uid:08X}")
}

/// Flag bits.
pub mod flag {
    /// `\Seen`
    pub const SEEN: u8 = 1;
    /// `\Answered`
    pub const ANSWERED: u8 = 2;
    /// `\Flagged`
    pub const FLAGGED: u8 = 4;
    /// `\Deleted`
    pub const DELETED: u8 = 8;
    /// `\Draft`
    pub const DRAFT: u8 = 16;
}

/// A message as the index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgRec {
    /// UID.
    pub uid: u32,
    /// Flag bits.
    pub flags: u8,
    /// Keyword bits.
    pub keywords: u64,
    /// RFC822.SIZE.
    pub size: u64,
    /// INTERNALDATE, seconds since the epoch (UTC).
    pub date: i64,
    /// The spool file it came from (0: none).
    pub source: u64,
}

/// One index record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdxRec {
    /// A message.
    Add(MsgRec),
    /// New flags: (uid, flags, keywords).
    Flags(Vec<(u32, u8, u64)>),
    /// Expunged UIDs.
    Expunge(Vec<u32>),
    /// A keyword's number.
    Keyword(u8, String),
    /// UIDNEXT raised.
    UidNext(u32),
}

/// What an index holds once replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// UIDNEXT.
    pub uidnext: u32,
    /// Messages in UID order.
    pub msgs: Vec<MsgRec>,
    /// Keyword names by number.
    pub keywords: Vec<String>,
    /// Records read.
    pub records: u64,
}

/// The header record.
pub fn header(uidvalidity: u32, uidnext: u32) -> Vec<u8> {
    Rec(MAGIC.to_vec())
        .u16(VERSION)
        .u32(uidvalidity)
        .u32(uidnext)
        .done()
}

/// The version of an index, from its header record.
pub fn version_of(h: &[u8]) -> Result<u16, Bad> {
    let mut f = Fields::new(h);
    if f.bytes(8).ok() != Some(&MAGIC[..]) {
        return Err(Bad("the index has no IMAPIDX header".into()));
    }
    f.u16()
}

impl IdxRec {
    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            IdxRec::Add(m) => Rec::kind(b'A')
                .u32(m.uid)
                .u8(m.flags)
                .u64(m.keywords)
                .u64(m.size)
                .i64(m.date)
                .u64(m.source)
                .done(),
            IdxRec::Flags(v) => {
                let mut r = Rec::kind(b'F');
                for (u, f, k) in v {
                    r = r.u32(*u).u8(*f).u64(*k);
                }
                r.done()
            }
            IdxRec::Expunge(v) => {
                let mut r = Rec::kind(b'X');
                for u in v {
                    r = r.u32(*u);
                }
                r.done()
            }
            IdxRec::Keyword(i, n) => Rec::kind(b'K').u8(*i).str(n).done(),
            IdxRec::UidNext(n) => Rec::kind(b'N').u32(*n).done(),
        }
    }

    /// Decodes one record.
    pub fn decode(r: &[u8]) -> Result<IdxRec, Bad> {
        let mut f = Fields::new(r);
        let rec = match f.u8()? {
            b'A' => IdxRec::Add(MsgRec {
                uid: f.u32()?,
                flags: f.u8()?,
                keywords: f.u64()?,
                size: f.u64()?,
                date: f.i64()?,
                source: f.u64()?,
            }),
            b'F' => {
                let mut v = Vec::with_capacity(f.left() / 13);
                while !f.at_end() {
                    v.push((f.u32()?, f.u8()?, f.u64()?));
                }
                IdxRec::Flags(v)
            }
            b'X' => {
                let mut v = Vec::with_capacity(f.left() / 4);
                while !f.at_end() {
                    v.push(f.u32()?);
                }
                IdxRec::Expunge(v)
            }
            b'K' => IdxRec::Keyword(f.u8()?, f.str()?),
            b'N' => IdxRec::UidNext(f.u32()?),
            k => return Err(Bad(format!("unknown index record kind {k:#04x}"))),
        };
        if !f.at_end() {
            return Err(Bad("index record has trailing bytes".into()));
        }
        Ok(rec)
    }
}

/// Replays an index of this version.
pub fn replay(records: &[Vec<u8>]) -> Result<Loaded, Bad> {
    let (h, rest) = records
        .split_first()
        .ok_or_else(|| Bad("the index is empty".into()))?;
    let v = version_of(h)?;
    if v != VERSION {
        return Err(Bad(format!(
            "index version {v} is not supported by this server"
        )));
    }
    let mut f = Fields::new(h);
    f.bytes(10)?;
    let mut l = Loaded {
        uidvalidity: f.u32()?,
        uidnext: f.u32()?,
        ..Default::default()
    };
    l.msgs.reserve(rest.len());
    let mut sorted = true;
    for r in rest {
        match IdxRec::decode(r)? {
            IdxRec::Add(m) => {
                if l.msgs.last().is_some_and(|p| p.uid >= m.uid) {
                    sorted = false;
                }
                l.uidnext = l.uidnext.max(m.uid.saturating_add(1));
                l.msgs.push(m);
            }
            IdxRec::Flags(v) => {
                if !sorted {
                    sort_dedup(&mut l.msgs);
                    sorted = true;
                }
                for (u, fl, k) in v {
                    if let Ok(i) = l.msgs.binary_search_by_key(&u, |m| m.uid) {
                        l.msgs[i].flags = fl;
                        l.msgs[i].keywords = k;
                    }
                }
            }
            IdxRec::Expunge(v) => {
                if !sorted {
                    sort_dedup(&mut l.msgs);
                    sorted = true;
                }
                let mut gone = v;
                gone.sort_unstable();
                l.msgs.retain(|m| gone.binary_search(&m.uid).is_err());
            }
            IdxRec::Keyword(i, n) => {
                let i = i as usize;
                if i >= 64 {
                    return Err(Bad(format!("keyword number {i} out of range")));
                }
                if l.keywords.len() <= i {
                    l.keywords.resize(i + 1, String::new());
                }
                l.keywords[i] = n;
            }
            IdxRec::UidNext(n) => l.uidnext = l.uidnext.max(n),
        }
    }
    if !sorted {
        sort_dedup(&mut l.msgs);
    }
    l.records = records.len() as u64;
    Ok(l)
}

fn sort_dedup(v: &mut Vec<MsgRec>) {
    v.sort_by_key(|m| m.uid);
    v.dedup_by_key(|m| m.uid);
}

/// The whole index as fresh records, for a rewrite.
pub fn snapshot(
    uidvalidity: u32,
    uidnext: u32,
    keywords: &[String],
    msgs: impl Iterator<Item = MsgRec>,
) -> Vec<Vec<u8>> {
    let mut v = vec![header(uidvalidity, uidnext)];
    for (i, k) in keywords.iter().enumerate() {
        if !k.is_empty() {
            v.push(IdxRec::Keyword(i as u8, k.clone()).encode());
        }
    }
    v.extend(msgs.map(|m| IdxRec::Add(m).encode()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(uid: u32) -> MsgRec {
        MsgRec {
            uid,
            flags: 0,
            keywords: 0,
            size: 10 * uid as u64,
            date: 1_700_000_000,
            source: 0,
        }
    }

    #[test]
    fn replay_changes() {
        let recs = vec![
            header(77, 1),
            IdxRec::Add(m(1)).encode(),
            IdxRec::Add(m(2)).encode(),
            IdxRec::Keyword(0, "$Forwarded".into()).encode(),
            IdxRec::Flags(vec![(2, flag::SEEN, 1)]).encode(),
            IdxRec::Add(m(3)).encode(),
            IdxRec::Expunge(vec![1]).encode(),
            IdxRec::UidNext(10).encode(),
        ];
        let l = replay(&recs).unwrap();
        assert_eq!(l.uidvalidity, 77);
        assert_eq!(l.uidnext, 10);
        assert_eq!(l.msgs.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(l.msgs[0].flags, flag::SEEN);
        assert_eq!(l.msgs[0].keywords, 1);
        assert_eq!(l.keywords, vec!["$Forwarded".to_string()]);
        let snap = snapshot(77, 10, &l.keywords, l.msgs.iter().copied());
        assert_eq!(replay(&snap).unwrap().msgs, l.msgs);
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let mut h = header(1, 1);
        h[9] = 2;
        assert!(replay(&[h]).unwrap_err().0.contains("version 2"));
        assert!(replay(&[b"garbage".to_vec()]).is_err());
        assert!(IdxRec::decode(b"A\x00").is_err());
        assert!(IdxRec::decode(b"Z").is_err());
    }
}
