//! Version 1 of the folder index, as the first IMAP server wrote it. Only the converter
//! (`vmimap index migrate`) and `vmimap index check|dump` read it; the server refuses a folder
//! whose index is still version 1.
//!
//! ```text
//! index    = header *change
//! header   = "IMAPIDX" %x00 version:u16 uidvalidity:u32 uidnext:u32      ; version = 1
//! change   = "A" uid:u32 flags:u8 keywords:u64 size:u64 internaldate:i64 source:u64
//!          / "F" 1*(uid:u32 flags:u8 keywords:u64)    ; flags replaced
//!          / "X" 1*uid:u32                            ; messages expunged
//!          / "K" index:u8 name:str                    ; keyword number `index` is `name`
//!          / "N" uidnext:u32                          ; UIDNEXT raised
//! ```
//!
//! Version 1 keeps no MODSEQ: the converter gives every message MODSEQ 1 and the folder
//! HIGHESTMODSEQ 1, which is what the version-1 server reported after opening the folder.

use super::{Loaded, MAGIC, MsgRec, describe_date, describe_flags};
use crate::store::records::{Bad, Fields, Rec};

/// This version.
pub const VERSION: u16 = 1;

/// A version-1 message record (no MODSEQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgRec1 {
    /// UID.
    pub uid: u32,
    /// Flag bits.
    pub flags: u8,
    /// Keyword bits.
    pub keywords: u64,
    /// RFC822.SIZE.
    pub size: u64,
    /// INTERNALDATE.
    pub date: i64,
    /// The spool file it came from (0: none).
    pub source: u64,
}

/// One version-1 record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdxRec1 {
    /// A message.
    Add(MsgRec1),
    /// New flags: (uid, flags, keywords).
    Flags(Vec<(u32, u8, u64)>),
    /// Expunged UIDs.
    Expunge(Vec<u32>),
    /// A keyword's number.
    Keyword(u8, String),
    /// UIDNEXT raised.
    UidNext(u32),
}

/// A version-1 header record.
pub fn header(uidvalidity: u32, uidnext: u32) -> Vec<u8> {
    Rec(MAGIC.to_vec())
        .u16(VERSION)
        .u32(uidvalidity)
        .u32(uidnext)
        .done()
}

/// (UIDVALIDITY, UIDNEXT) of a version-1 header.
pub fn read_header(h: &[u8]) -> Result<(u32, u32), Bad> {
    let mut f = Fields::new(h);
    if f.bytes(8).ok() != Some(&MAGIC[..]) {
        return Err(Bad("the index has no IMAPIDX header".into()));
    }
    let v = f.u16()?;
    if v != VERSION {
        return Err(Bad(format!("index version {v} is not version 1")));
    }
    let r = (f.u32()?, f.u32()?);
    if !f.at_end() {
        return Err(Bad("index header has trailing bytes".into()));
    }
    Ok(r)
}

impl IdxRec1 {
    /// Encodes the record (tests make version-1 indexes with it).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            IdxRec1::Add(m) => Rec::kind(b'A')
                .u32(m.uid)
                .u8(m.flags)
                .u64(m.keywords)
                .u64(m.size)
                .i64(m.date)
                .u64(m.source)
                .done(),
            IdxRec1::Flags(v) => {
                let mut r = Rec::kind(b'F');
                for (u, f, k) in v {
                    r = r.u32(*u).u8(*f).u64(*k);
                }
                r.done()
            }
            IdxRec1::Expunge(v) => {
                let mut r = Rec::kind(b'X');
                for u in v {
                    r = r.u32(*u);
                }
                r.done()
            }
            IdxRec1::Keyword(i, n) => Rec::kind(b'K').u8(*i).str(n).done(),
            IdxRec1::UidNext(n) => Rec::kind(b'N').u32(*n).done(),
        }
    }

    /// Decodes one record.
    pub fn decode(r: &[u8]) -> Result<IdxRec1, Bad> {
        let mut f = Fields::new(r);
        let rec = match f.u8()? {
            b'A' => IdxRec1::Add(MsgRec1 {
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
                IdxRec1::Flags(v)
            }
            b'X' => {
                let mut v = Vec::with_capacity(f.left() / 4);
                while !f.at_end() {
                    v.push(f.u32()?);
                }
                IdxRec1::Expunge(v)
            }
            b'K' => IdxRec1::Keyword(f.u8()?, f.str()?),
            b'N' => IdxRec1::UidNext(f.u32()?),
            k => return Err(Bad(format!("unknown index record kind {k:#04x}"))),
        };
        if !f.at_end() {
            return Err(Bad("index record has trailing bytes".into()));
        }
        Ok(rec)
    }

    /// The record as `vmimap index dump` shows it.
    pub fn describe(&self) -> String {
        match self {
            IdxRec1::Add(m) => format!(
                "A uid {} flags ({}) keywords {:#x} size {} date {} source {}",
                m.uid,
                describe_flags(m.flags),
                m.keywords,
                m.size,
                describe_date(m.date),
                m.source
            ),
            IdxRec1::Flags(v) => format!(
                "F{}",
                v.iter()
                    .map(|(u, f, k)| format!(
                        "\n  uid {u} flags ({}) keywords {k:#x}",
                        describe_flags(*f)
                    ))
                    .collect::<Vec<_>>()
                    .join("")
            ),
            IdxRec1::Expunge(v) => format!(
                "X uids {}",
                v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
            ),
            IdxRec1::Keyword(i, n) => format!("K keyword {i} is {n}"),
            IdxRec1::UidNext(n) => format!("N uidnext {n}"),
        }
    }
}

/// Replays a version-1 index into what version 2 keeps: every message gets MODSEQ 1 and the
/// folder HIGHESTMODSEQ 1.
pub fn replay(records: &[Vec<u8>]) -> Result<Loaded, Bad> {
    let (h, rest) = records
        .split_first()
        .ok_or_else(|| Bad("the index is empty".into()))?;
    let (uidvalidity, uidnext) = read_header(h)?;
    let mut l = Loaded {
        uidvalidity,
        uidnext,
        highest_modseq: 1,
        ..Default::default()
    };
    l.msgs.reserve(rest.len());
    let mut sorted = true;
    for r in rest {
        match IdxRec1::decode(r)? {
            IdxRec1::Add(m) => {
                if l.msgs.last().is_some_and(|p| p.uid >= m.uid) {
                    sorted = false;
                }
                l.uidnext = l.uidnext.max(m.uid.saturating_add(1));
                l.msgs.push(MsgRec {
                    uid: m.uid,
                    flags: m.flags,
                    keywords: m.keywords,
                    size: m.size,
                    date: m.date,
                    source: m.source,
                    modseq: 1,
                });
            }
            IdxRec1::Flags(v) => {
                if !sorted {
                    super::sort_dedup(&mut l.msgs);
                    sorted = true;
                }
                for (u, fl, k) in v {
                    if let Ok(i) = l.msgs.binary_search_by_key(&u, |m| m.uid) {
                        l.msgs[i].flags = fl;
                        l.msgs[i].keywords = k;
                    }
                }
            }
            IdxRec1::Expunge(v) => {
                if !sorted {
                    super::sort_dedup(&mut l.msgs);
                    sorted = true;
                }
                let mut gone = v;
                gone.sort_unstable();
                l.msgs.retain(|m| gone.binary_search(&m.uid).is_err());
            }
            IdxRec1::Keyword(i, n) => super::set_keyword(&mut l.keywords, i, n)?,
            IdxRec1::UidNext(n) => l.uidnext = l.uidnext.max(n),
        }
    }
    if !sorted {
        super::sort_dedup(&mut l.msgs);
    }
    l.records = records.len() as u64;
    Ok(l)
}

/// The version-2 index holding what a version-1 index holds (see [`replay`]).
pub fn convert(records: &[Vec<u8>]) -> Result<(Loaded, Vec<Vec<u8>>), Bad> {
    let l = replay(records)?;
    let out = super::snapshot(
        l.uidvalidity,
        l.uidnext,
        l.highest_modseq,
        &l.keywords,
        l.msgs.iter().copied(),
    );
    Ok((l, out))
}

/// Every record of a version-1 index as `vmimap index dump` shows it.
pub fn describe(records: &[Vec<u8>]) -> Vec<String> {
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        out.push(if i == 0 {
            match read_header(r) {
                Ok((uv, un)) => format!("header version 1 uidvalidity {uv} uidnext {un}"),
                Err(b) => format!("bad header: {}", b.0),
            }
        } else {
            match IdxRec1::decode(r) {
                Ok(x) => x.describe(),
                Err(b) => format!("bad record: {}", b.0),
            }
        });
    }
    out
}
