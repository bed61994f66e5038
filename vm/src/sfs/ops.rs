//! The entries of a file pool's log.
//!
//! ```text
//! entry  = %x01 count:u32 *op            ; a work unit: all of its operations, or none
//!        / %x02 data                     ; a chunk of a large file's data (no catalog change)
//! op     = kind:u8 fields                ; see `put_op`
//! data-in-op = %x00 / %x01 len:u64 crc:u32 bytes   ; data stored inline after the op's fields
//! ```
//!
//! Data written with an operation is stored inline in the same entry, so one checksum covers the
//! data and the catalog change that references it: a crash can never leave one without the other.
//! Large files are written as chunk entries first and then referenced by extents.

use spool::{
    UserId,
    codec::{CodecError, Dec, Enc},
};

use super::catalog::{Auth, Control, Extent, Format, Grantee, Op, Target};

pub(crate) const E_BATCH: u8 = 1;
pub(crate) const E_CHUNK: u8 = 2;

/// A decoded log entry.
#[derive(Debug)]
pub enum Entry {
    /// A work unit's operations (inline data already turned into extents).
    Batch(Vec<Op>),
    /// File data.
    Chunk,
}

/// An encoded work unit and where each operation's inline data landed in it.
#[derive(Debug)]
pub struct Encoded {
    /// The entry payload.
    pub payload: Vec<u8>,
    /// (index of the op, offset of its inline data in the payload, length, CRC).
    pub inline_at: Vec<(usize, u64, u64, u32)>,
}

fn put_extents(e: &mut Enc, xs: &[Extent]) {
    e.u32(xs.len() as u32);
    for x in xs {
        e.u32(x.seg);
        e.u64(x.off);
        e.u64(x.len);
        e.u32(x.crc);
    }
}

fn get_extents(d: &mut Dec<'_>) -> Result<Vec<Extent>, CodecError> {
    let n = d.u32()? as usize;
    if n > d.remaining() / 24 {
        return Err(CodecError("extent count exceeds entry".into()));
    }
    (0..n)
        .map(|_| {
            Ok(Extent {
                seg: d.u32()?,
                off: d.u64()?,
                len: d.u64()?,
                crc: d.u32()?,
            })
        })
        .collect()
}

fn put_grantee(e: &mut Enc, g: &Grantee) {
    match g {
        Grantee::Public => e.u8(0),
        Grantee::User(u) => {
            e.u8(1);
            e.str(u.as_str());
        }
    }
}

fn get_grantee(d: &mut Dec<'_>) -> Result<Grantee, CodecError> {
    Ok(match d.u8()? {
        0 => Grantee::Public,
        _ => Grantee::User(d.userid()?),
    })
}

fn put_target(e: &mut Enc, t: &Target) {
    match t {
        Target::Dir(d) => {
            e.u8(0);
            e.u64(*d);
        }
        Target::File(f) => {
            e.u8(1);
            e.u64(*f);
        }
    }
}

fn get_target(d: &mut Dec<'_>) -> Result<Target, CodecError> {
    Ok(match d.u8()? {
        0 => Target::Dir(d.u64()?),
        _ => Target::File(d.u64()?),
    })
}

fn format_byte(f: Format) -> u8 {
    match f {
        Format::F => b'F',
        Format::V => b'V',
        Format::Stream => b'S',
    }
}

fn format_of(b: u8) -> Result<Format, CodecError> {
    match b {
        b'F' => Ok(Format::F),
        b'V' => Ok(Format::V),
        b'S' => Ok(Format::Stream),
        x => Err(CodecError(format!("bad file format {x}"))),
    }
}

/// Encodes one operation's fields (without inline data).
fn put_op(e: &mut Enc, op: &Op) {
    match op {
        Op::Enroll { user, blocks, top } => {
            e.u8(1);
            e.str(user.as_str());
            e.u64(*blocks);
            e.u64(*top);
        }
        Op::Modify { user, blocks } => {
            e.u8(2);
            e.str(user.as_str());
            e.u64(*blocks);
        }
        Op::DeleteUser { user } => {
            e.u8(3);
            e.str(user.as_str());
        }
        Op::CreateDir {
            dirno,
            parent,
            name,
            control,
        } => {
            e.u8(4);
            e.u64(*dirno);
            e.u64(*parent);
            e.str(name);
            e.u8(matches!(control, Control::Dir) as u8);
        }
        Op::EraseDir { dirno } => {
            e.u8(5);
            e.u64(*dirno);
        }
        Op::RenameDir { dirno, name } => {
            e.u8(6);
            e.u64(*dirno);
            e.str(name);
        }
        Op::PutFile {
            fileno,
            dirno,
            fname,
            ftype,
            format,
            lrecl,
            records,
            bytes,
            extents,
            mtime,
            create_only,
        } => {
            e.u8(7);
            e.u64(*fileno);
            e.u64(*dirno);
            e.str(fname);
            e.str(ftype);
            e.u8(format_byte(*format));
            e.u32(*lrecl);
            e.u64(*records);
            e.u64(*bytes);
            put_extents(e, extents);
            e.i64(*mtime);
            e.u8(*create_only as u8);
        }
        Op::AppendFile {
            fileno,
            records,
            bytes,
            lrecl,
            extents,
            mtime,
        } => {
            e.u8(8);
            e.u64(*fileno);
            e.u64(*records);
            e.u64(*bytes);
            e.u32(*lrecl);
            put_extents(e, extents);
            e.i64(*mtime);
        }
        Op::EraseFile { fileno } => {
            e.u8(9);
            e.u64(*fileno);
        }
        Op::RenameFile {
            fileno,
            dirno,
            fname,
            ftype,
        } => {
            e.u8(10);
            e.u64(*fileno);
            e.u64(*dirno);
            e.str(fname);
            e.str(ftype);
        }
        Op::Grant {
            target,
            grantee,
            auth,
        } => {
            e.u8(11);
            put_target(e, target);
            put_grantee(e, grantee);
            e.u8(auth.0);
        }
        Op::Revoke {
            target,
            grantee,
            auth,
        } => {
            e.u8(12);
            put_target(e, target);
            put_grantee(e, grantee);
            e.u8(auth.0);
        }
        Op::Relocate { fileno, extents } => {
            e.u8(13);
            e.u64(*fileno);
            put_extents(e, extents);
        }
    }
}

fn get_op(d: &mut Dec<'_>) -> Result<Op, CodecError> {
    let user = |d: &mut Dec<'_>| -> Result<UserId, CodecError> { d.userid() };
    Ok(match d.u8()? {
        1 => Op::Enroll {
            user: user(d)?,
            blocks: d.u64()?,
            top: d.u64()?,
        },
        2 => Op::Modify {
            user: user(d)?,
            blocks: d.u64()?,
        },
        3 => Op::DeleteUser { user: user(d)? },
        4 => Op::CreateDir {
            dirno: d.u64()?,
            parent: d.u64()?,
            name: d.str()?,
            control: if d.u8()? == 1 {
                Control::Dir
            } else {
                Control::File
            },
        },
        5 => Op::EraseDir { dirno: d.u64()? },
        6 => Op::RenameDir {
            dirno: d.u64()?,
            name: d.str()?,
        },
        7 => Op::PutFile {
            fileno: d.u64()?,
            dirno: d.u64()?,
            fname: d.str()?,
            ftype: d.str()?,
            format: format_of(d.u8()?)?,
            lrecl: d.u32()?,
            records: d.u64()?,
            bytes: d.u64()?,
            extents: get_extents(d)?,
            mtime: d.i64()?,
            create_only: d.u8()? == 1,
        },
        8 => Op::AppendFile {
            fileno: d.u64()?,
            records: d.u64()?,
            bytes: d.u64()?,
            lrecl: d.u32()?,
            extents: get_extents(d)?,
            mtime: d.i64()?,
        },
        9 => Op::EraseFile { fileno: d.u64()? },
        10 => Op::RenameFile {
            fileno: d.u64()?,
            dirno: d.u64()?,
            fname: d.str()?,
            ftype: d.str()?,
        },
        11 => Op::Grant {
            target: get_target(d)?,
            grantee: get_grantee(d)?,
            auth: Auth(d.u8()?),
        },
        12 => Op::Revoke {
            target: get_target(d)?,
            grantee: get_grantee(d)?,
            auth: Auth(d.u8()?),
        },
        13 => Op::Relocate {
            fileno: d.u64()?,
            extents: get_extents(d)?,
        },
        k => return Err(CodecError(format!("unknown operation {k}"))),
    })
}

/// Encodes a work unit. `inline[i]` is data to store with op `i` (PutFile/AppendFile).
pub fn encode_batch(ops: &[Op], inline: &[Option<Vec<u8>>]) -> Encoded {
    let mut e = Enc::default();
    e.u8(E_BATCH);
    e.u32(ops.len() as u32);
    let mut inline_at = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        put_op(&mut e, op);
        match inline.get(i).and_then(|x| x.as_ref()) {
            Some(data) => {
                e.u8(1);
                e.u64(data.len() as u64);
                let crc = crc32fast::hash(data);
                e.u32(crc);
                let at = e.buf.len() as u64;
                e.buf.extend_from_slice(data);
                inline_at.push((i, at, data.len() as u64, crc));
            }
            None => e.u8(0),
        }
    }
    Encoded {
        payload: e.buf,
        inline_at,
    }
}

/// Encodes a data chunk entry; the data starts at offset 1 of the payload.
pub fn encode_chunk(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(E_CHUNK);
    v.extend_from_slice(data);
    v
}

/// Decodes an entry found at `payload_offset` in segment `seg`; inline data becomes an extent
/// appended to its operation's extents.
pub fn decode(payload: &[u8], seg: u32, payload_offset: u64) -> Result<Entry, CodecError> {
    let mut d = Dec::new(payload);
    match d.u8()? {
        E_CHUNK => Ok(Entry::Chunk),
        E_BATCH => {
            let n = d.u32()? as usize;
            if n > payload.len() {
                return Err(CodecError("operation count exceeds entry".into()));
            }
            let mut ops = Vec::with_capacity(n);
            for _ in 0..n {
                let mut op = get_op(&mut d)?;
                if d.u8()? == 1 {
                    let len = d.u64()?;
                    let crc = d.u32()?;
                    let at = d.pos() as u64;
                    d.take(len as usize)?;
                    let x = Extent {
                        seg,
                        off: payload_offset + at,
                        len,
                        crc,
                    };
                    match &mut op {
                        Op::PutFile { extents, .. } | Op::AppendFile { extents, .. } => {
                            extents.push(x)
                        }
                        _ => {
                            return Err(CodecError(
                                "inline data on an operation without data".into(),
                            ));
                        }
                    }
                }
                ops.push(op);
            }
            if d.remaining() != 0 {
                return Err(CodecError("trailing bytes in a work unit".into()));
            }
            Ok(Entry::Batch(ops))
        }
        k => Err(CodecError(format!("unknown log entry kind {k}"))),
    }
}

/// Encodes records as stored in a record file's data: each a u32 length and its bytes.
pub fn encode_records(records: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(records.iter().map(|r| r.len() + 4).sum());
    for r in records {
        v.extend_from_slice(&(r.len() as u32).to_be_bytes());
        v.extend_from_slice(r);
    }
    v
}

/// Decodes record data.
pub fn decode_records(data: &[u8], count: u64) -> Result<Vec<Vec<u8>>, CodecError> {
    if count as usize > data.len() / 4 + 1 {
        return Err(CodecError("record count exceeds data".into()));
    }
    let mut d = Dec::new(data);
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let n = d.u32()? as usize;
        out.push(d.take(n)?.to_vec());
    }
    if d.remaining() != 0 {
        return Err(CodecError("trailing bytes after records".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_inline_data() {
        let u = UserId::parse("BOB").unwrap();
        let ops = vec![
            Op::Enroll {
                user: u.clone(),
                blocks: 100,
                top: 1,
            },
            Op::PutFile {
                fileno: 1,
                dirno: 1,
                fname: "A".into(),
                ftype: "B".into(),
                format: Format::V,
                lrecl: 5,
                records: 1,
                bytes: 5,
                extents: vec![],
                mtime: 7,
                create_only: false,
            },
            Op::Grant {
                target: Target::File(1),
                grantee: Grantee::Public,
                auth: Auth::READ,
            },
        ];
        let data = encode_records(&[b"hello".to_vec()]);
        let enc = encode_batch(&ops, &[None, Some(data.clone()), None]);
        assert_eq!(enc.inline_at.len(), 1);
        let Entry::Batch(back) = decode(&enc.payload, 3, 100).unwrap() else {
            panic!()
        };
        assert_eq!(back.len(), 3);
        let Op::PutFile { extents, .. } = &back[1] else {
            panic!()
        };
        assert_eq!(extents.len(), 1);
        assert_eq!(extents[0].seg, 3);
        assert_eq!(extents[0].off, 100 + enc.inline_at[0].1);
        let at = enc.inline_at[0].1 as usize;
        assert_eq!(&enc.payload[at..at + data.len()], &data[..]);
        assert_eq!(decode_records(&data, 1).unwrap(), vec![b"hello".to_vec()]);
        assert!(decode(&enc.payload[..enc.payload.len() - 1], 0, 0).is_err());
    }
}
