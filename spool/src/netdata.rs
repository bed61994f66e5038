//! NETDATA: the interchange format of SENDFILE, RECEIVE and mail spooled between machines
//! (IBM's "format of transmitted data"), on 80-byte cards.
//!
//! ```text
//! deck     = 1*card                              ; the segment stream cut into 80-byte cards,
//!                                                ; the last one padded with blanks
//! stream   = *segment
//! segment  = length:u8 flags:u8 data             ; length counts itself and flags (2..255)
//! flags    = %x80 first segment of a record / %x40 last segment / %x20 control record
//! record   = control / data                      ; a record is one or more segments
//! control  = "INMR0" digit [number:u32] *text-unit   ; INMR02 carries a file number
//! text-unit = key:u16 count:u16 count*(len:u16 data)
//! file     = INMR01 INMR02 INMR03 *data-record INMR06
//! ```
//!
//! Real VM writes the control record names and text in EBCDIC; this system keeps all spool data
//! in its own byte form (ASCII/UTF-8), so the names are ASCII. Data records carry bytes as
//! they are, so any file round-trips exactly.

use crate::cards::CARD;

/// Text unit keys used here (IBM's numbers).
pub mod key {
    /// INMDSNAM: the file's name.
    pub const DSNAM: u16 = 0x0002;
    /// INMDSORG: organisation (0x4000 = sequential).
    pub const DSORG: u16 = 0x003C;
    /// INMLRECL: record length.
    pub const LRECL: u16 = 0x0042;
    /// INMRECFM: record format (0x4000 = V, 0x8000 = F).
    pub const RECFM: u16 = 0x0049;
    /// INMTNODE: destination node.
    pub const TNODE: u16 = 0x1001;
    /// INMTUID: destination userid.
    pub const TUID: u16 = 0x1002;
    /// INMFNODE: origin node.
    pub const FNODE: u16 = 0x1011;
    /// INMFUID: origin userid.
    pub const FUID: u16 = 0x1012;
    /// INMFTIME: origin time stamp (yyyymmddhhmmss).
    pub const FTIME: u16 = 0x1024;
    /// INMUTILN: the utility that wrote the file.
    pub const UTILN: u16 = 0x1028;
    /// INMSIZE: estimated size in bytes.
    pub const SIZE: u16 = 0x102C;
    /// INMNUMF: number of files.
    pub const NUMF: u16 = 0x102F;
}

const FIRST: u8 = 0x80;
const LAST: u8 = 0x40;
const CONTROL: u8 = 0x20;
const MAX_SEG_DATA: usize = 253;

/// Record format of the transmitted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recfm {
    /// Fixed.
    F,
    /// Variable.
    V,
}

/// What the header records say about a transmitted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Origin node (system name).
    pub from_node: String,
    /// Origin userid.
    pub from_user: String,
    /// Destination node.
    pub to_node: String,
    /// Destination userid.
    pub to_user: String,
    /// Time stamp, `yyyymmddhhmmss`.
    pub time: String,
    /// The file's name (`fn ft`).
    pub name: String,
    /// Record format.
    pub recfm: Recfm,
    /// Record length (longest record for V).
    pub lrecl: u32,
}

/// A file decoded from a deck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmitted {
    /// Its header.
    pub header: Header,
    /// Its records.
    pub records: Vec<Vec<u8>>,
}

/// Why a deck is not NETDATA (or is cut short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid NETDATA deck: {0}")]
pub struct NetdataError(pub String);

fn bad(s: impl Into<String>) -> NetdataError {
    NetdataError(s.into())
}

fn unit(out: &mut Vec<u8>, key: u16, values: &[&[u8]]) {
    out.extend_from_slice(&key.to_be_bytes());
    out.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        let v = &v[..v.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        out.extend_from_slice(v);
    }
}

fn num(n: u64, width: usize) -> Vec<u8> {
    n.to_be_bytes()[8 - width..].to_vec()
}

/// Appends one record as segments to the stream.
fn segments(stream: &mut Vec<u8>, data: &[u8], control: bool) {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(MAX_SEG_DATA).collect()
    };
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut f = 0u8;
        if i == 0 {
            f |= FIRST;
        }
        if i + 1 == n {
            f |= LAST;
        }
        if control {
            f |= CONTROL;
        }
        stream.push((c.len() + 2) as u8);
        stream.push(f);
        stream.extend_from_slice(c);
    }
}

/// Encodes a file as a NETDATA deck of 80-byte cards.
pub fn encode(h: &Header, records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let lrecl = match h.recfm {
        Recfm::F => h.lrecl.max(1),
        Recfm::V => records.iter().map(|r| r.len()).max().unwrap_or(0).max(1) as u32 + 4,
    };
    let size: u64 = records.iter().map(|r| r.len() as u64).sum();
    let recfm: u16 = match h.recfm {
        Recfm::F => 0x8000,
        Recfm::V => 0x4000,
    };
    let mut stream = Vec::new();
    let mut r1 = b"INMR01".to_vec();
    unit(&mut r1, key::LRECL, &[&num(80, 2)]);
    unit(&mut r1, key::FNODE, &[h.from_node.as_bytes()]);
    unit(&mut r1, key::FUID, &[h.from_user.as_bytes()]);
    unit(&mut r1, key::TNODE, &[h.to_node.as_bytes()]);
    unit(&mut r1, key::TUID, &[h.to_user.as_bytes()]);
    unit(&mut r1, key::FTIME, &[h.time.as_bytes()]);
    unit(&mut r1, key::NUMF, &[&num(1, 1)]);
    segments(&mut stream, &r1, true);
    let mut r2 = b"INMR02".to_vec();
    r2.extend_from_slice(&1u32.to_be_bytes());
    unit(&mut r2, key::UTILN, &[b"INMCOPY"]);
    unit(&mut r2, key::DSORG, &[&num(0x4000, 2)]);
    unit(&mut r2, key::LRECL, &[&num(lrecl as u64, 4)]);
    unit(&mut r2, key::RECFM, &[&num(recfm as u64, 2)]);
    unit(&mut r2, key::SIZE, &[&num(size, 8)]);
    unit(&mut r2, key::DSNAM, &[h.name.as_bytes()]);
    segments(&mut stream, &r2, true);
    let mut r3 = b"INMR03".to_vec();
    unit(&mut r3, key::DSORG, &[&num(0x4000, 2)]);
    unit(&mut r3, key::LRECL, &[&num(lrecl as u64, 4)]);
    unit(&mut r3, key::RECFM, &[&num(recfm as u64, 2)]);
    unit(&mut r3, key::SIZE, &[&num(size, 8)]);
    segments(&mut stream, &r3, true);
    for r in records {
        segments(&mut stream, r, false);
    }
    segments(&mut stream, b"INMR06", true);
    stream
        .chunks(CARD)
        .map(|c| {
            let mut c = c.to_vec();
            c.resize(CARD, b' ');
            c
        })
        .collect()
}

/// Whether a deck starts like NETDATA (its first segment is an INMR01 control record).
pub fn is_netdata(cards: &[Vec<u8>]) -> bool {
    cards.first().is_some_and(|c| {
        c.len() >= 8 && c[1] & CONTROL != 0 && c[1] & FIRST != 0 && &c[2..8] == b"INMR01"
    })
}

/// Text units of a control record after its name (and file number).
/// A text unit: its key and its values.
type TextUnit = (u16, Vec<Vec<u8>>);

fn text_units(mut b: &[u8]) -> Result<Vec<TextUnit>, NetdataError> {
    let mut out = Vec::new();
    let take = |b: &mut &[u8], n: usize| -> Result<Vec<u8>, NetdataError> {
        if b.len() < n {
            return Err(bad("a text unit is cut short"));
        }
        let (a, rest) = b.split_at(n);
        *b = rest;
        Ok(a.to_vec())
    };
    while !b.is_empty() {
        let k = take(&mut b, 2)?;
        let c = take(&mut b, 2)?;
        let key = u16::from_be_bytes([k[0], k[1]]);
        let count = u16::from_be_bytes([c[0], c[1]]) as usize;
        let mut vals = Vec::with_capacity(count.min(16));
        for _ in 0..count {
            let l = take(&mut b, 2)?;
            let len = u16::from_be_bytes([l[0], l[1]]) as usize;
            vals.push(take(&mut b, len)?);
        }
        out.push((key, vals));
    }
    Ok(out)
}

fn text(units: &[(u16, Vec<Vec<u8>>)], k: u16) -> String {
    units
        .iter()
        .find(|(key, _)| *key == k)
        .and_then(|(_, v)| v.first())
        .map(|v| String::from_utf8_lossy(v).trim_end().to_string())
        .unwrap_or_default()
}

fn number(units: &[(u16, Vec<Vec<u8>>)], k: u16) -> Option<u64> {
    let v = units.iter().find(|(key, _)| *key == k)?.1.first()?;
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |a, b| (a << 8) | *b as u64))
}

/// Decodes a deck: the first file in it.
pub fn decode(cards: &[Vec<u8>]) -> Result<Transmitted, NetdataError> {
    let stream: Vec<u8> = cards.iter().flat_map(|c| c.iter().copied()).collect();
    let mut i = 0;
    let mut rec: Vec<u8> = Vec::new();
    let mut in_rec = false;
    let mut units1 = None;
    let mut units2 = None;
    let mut records = Vec::new();
    let mut ended = false;
    while i < stream.len() {
        let len = stream[i] as usize;
        if len < 2 {
            // Padding after the last record (blanks are 0x20 = 32, a valid length, so a deck
            // must end with INMR06 before them).
            if ended {
                break;
            }
            return Err(bad(format!("segment length {len} at byte {i}")));
        }
        if i + len > stream.len() {
            return Err(bad("the deck ends inside a segment"));
        }
        let flags = stream[i + 1];
        let data = &stream[i + 2..i + len];
        i += len;
        if flags & FIRST != 0 {
            if in_rec {
                return Err(bad("a record starts before the previous one ended"));
            }
            rec.clear();
            in_rec = true;
        } else if !in_rec {
            return Err(bad("a segment continues a record that never started"));
        }
        rec.extend_from_slice(data);
        if flags & LAST == 0 {
            continue;
        }
        in_rec = false;
        if flags & CONTROL != 0 {
            if rec.len() < 6 || !rec.starts_with(b"INMR0") {
                return Err(bad("a control record without an INMR0n name"));
            }
            match &rec[..6] {
                b"INMR01" => units1 = Some(text_units(&rec[6..])?),
                b"INMR02" => {
                    if rec.len() < 10 {
                        return Err(bad("INMR02 without a file number"));
                    }
                    units2 = Some(text_units(&rec[10..])?);
                }
                b"INMR03" | b"INMR04" | b"INMR07" => {}
                b"INMR06" => {
                    ended = true;
                    break;
                }
                other => {
                    return Err(bad(format!(
                        "unknown control record {}",
                        String::from_utf8_lossy(other)
                    )));
                }
            }
        } else {
            if units1.is_none() {
                return Err(bad("data before the INMR01 header"));
            }
            records.push(std::mem::take(&mut rec));
        }
    }
    if !ended {
        return Err(bad("the deck ends without INMR06 (truncated)"));
    }
    let u1 = units1.ok_or_else(|| bad("no INMR01 header"))?;
    let u2 = units2.unwrap_or_default();
    let recfm = match number(&u2, key::RECFM) {
        Some(v) if v & 0x8000 != 0 => Recfm::F,
        _ => Recfm::V,
    };
    Ok(Transmitted {
        header: Header {
            from_node: text(&u1, key::FNODE),
            from_user: text(&u1, key::FUID),
            to_node: text(&u1, key::TNODE),
            to_user: text(&u1, key::TUID),
            time: text(&u1, key::FTIME),
            name: text(&u2, key::DSNAM),
            recfm,
            lrecl: number(&u2, key::LRECL).unwrap_or(0) as u32,
        },
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hdr() -> Header {
        Header {
            from_node: "VMIMAP".into(),
            from_user: "SMTP".into(),
            to_node: "VMIMAP".into(),
            to_user: "DEMO".into(),
            time: "20261126120000".into(),
            name: "DEMO MAIL".into(),
            recfm: Recfm::V,
            lrecl: 0,
        }
    }

    #[test]
    fn round_trip_and_shape() {
        let recs = vec![
            b"Subject: hi".to_vec(),
            Vec::new(),
            vec![b'x'; 1000],
            b"\x00\xff binary".to_vec(),
        ];
        let deck = encode(&hdr(), &recs);
        assert!(deck.iter().all(|c| c.len() == 80));
        assert!(is_netdata(&deck));
        let t = decode(&deck).unwrap();
        assert_eq!(t.records, recs);
        assert_eq!(t.header.to_user, "DEMO");
        assert_eq!(t.header.name, "DEMO MAIL");
        assert_eq!(t.header.recfm, Recfm::V);
    }

    #[test]
    fn truncated_and_garbage_decks_are_refused() {
        let deck = encode(&hdr(), &vec![b"line".to_vec(); 50]);
        for n in 0..deck.len() - 1 {
            assert!(decode(&deck[..n]).is_err(), "truncated at {n} accepted");
        }
        assert!(decode(&[b"HELO host".to_vec()]).is_err());
        assert!(!is_netdata(&[b"HELO host".to_vec()]));
        let mut broken = deck.clone();
        broken[0][1] = 0; // first segment no longer starts a record
        assert!(decode(&broken).is_err());
    }

    proptest! {
        #[test]
        fn any_records_round_trip(recs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..20)) {
            let t = decode(&encode(&hdr(), &recs)).unwrap();
            prop_assert_eq!(t.records, recs);
        }

        #[test]
        fn any_cards_never_panic(cards in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..10)) {
            let _ = decode(&cards);
        }
    }
}
