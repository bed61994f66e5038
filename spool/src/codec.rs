//! A small big-endian binary codec for the spool's on-disk records.
//!
//! Hand-written because the format is the product: every field is explicit, lengths are checked
//! against the remaining input before anything is allocated, and a version number in each file
//! header says how to read the rest.

use crate::{Class, DataRef, DevType, FileAttrs, Hold, Queue, SpoolFile, UserId};

/// A decoding failure: the input is truncated or holds an impossible value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad record: {0}")]
pub struct CodecError(pub String);

/// Appends big-endian fields to a buffer.
#[derive(Debug, Default)]
pub struct Enc {
    /// The encoded bytes.
    pub buf: Vec<u8>,
}

impl Enc {
    /// An encoder writing into `buf`.
    pub fn new(buf: Vec<u8>) -> Enc {
        Enc { buf }
    }
    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Appends a big-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Appends a big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Appends a big-endian i64.
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Appends a string of at most 65,535 bytes (longer strings are cut at a character boundary).
    pub fn str(&mut self, s: &str) {
        let mut end = s.len().min(u16::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.u16(end as u16);
        self.buf.extend_from_slice(&s.as_bytes()[..end]);
    }
    /// Appends a byte string with a u32 length.
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }
}

/// Reads big-endian fields from a slice, checking every length.
#[derive(Debug)]
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    /// A decoder over `buf`.
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }
    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.remaining() < n {
            return Err(CodecError(format!(
                "truncated: need {n} bytes at {}, have {}",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    /// Reads a big-endian i64.
    pub fn i64(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    /// Reads a string written by [`Enc::str`].
    pub fn str(&mut self) -> Result<String, CodecError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| CodecError("string is not UTF-8".into()))
    }
    /// Reads a byte string written by [`Enc::bytes`].
    pub fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// Reads a userid.
    pub fn userid(&mut self) -> Result<UserId, CodecError> {
        let s = self.str()?;
        UserId::parse(&s).map_err(|e| CodecError(e.to_string()))
    }
}

/// Encodes a file's metadata (everything but the data reference, which is positional).
pub(crate) fn put_meta(e: &mut Enc, f: &SpoolFile) {
    e.u64(f.sfid);
    e.str(f.owner.as_str());
    e.u8(f.queue as u8);
    e.u16(f.spoolid);
    e.str(f.origin.as_str());
    e.u8(f.origin_dev as u8);
    match &f.prev {
        Some((u, id)) => {
            e.u8(1);
            e.str(u.as_str());
            e.u16(*id);
        }
        None => e.u8(0),
    }
    let a = &f.attrs;
    e.u8(a.class.as_char() as u8);
    e.u8(a.copies);
    e.u8(a.hold.user as u8 | (a.hold.system as u8) << 1 | (a.keep as u8) << 2 | (a.msg as u8) << 3);
    e.str(&a.form);
    e.str(&a.dest);
    e.str(&a.dist);
    e.str(&a.fname);
    e.str(&a.ftype);
    e.str(&a.tag);
    e.i64(f.created);
    e.u32(f.records);
    e.i64(f.order);
}

/// Decodes metadata written by [`put_meta`]; the data reference is left empty.
pub(crate) fn get_meta(d: &mut Dec<'_>) -> Result<SpoolFile, CodecError> {
    let sfid = d.u64()?;
    let owner = d.userid()?;
    let queue = Queue::from_u8(d.u8()?).ok_or_else(|| CodecError("bad queue".into()))?;
    let spoolid = d.u16()?;
    if spoolid == 0 || spoolid > crate::MAX_SPOOLID {
        return Err(CodecError(format!("bad spoolid {spoolid}")));
    }
    let origin = d.userid()?;
    let origin_dev = DevType::from_u8(d.u8()?).ok_or_else(|| CodecError("bad device".into()))?;
    let prev = match d.u8()? {
        0 => None,
        _ => Some((d.userid()?, d.u16()?)),
    };
    let class = Class::new(d.u8()? as char).ok_or_else(|| CodecError("bad class".into()))?;
    let copies = d.u8()?;
    let flags = d.u8()?;
    let attrs = FileAttrs {
        class,
        copies,
        hold: Hold {
            user: flags & 1 != 0,
            system: flags & 2 != 0,
        },
        keep: flags & 4 != 0,
        msg: flags & 8 != 0,
        form: d.str()?,
        dest: d.str()?,
        dist: d.str()?,
        fname: d.str()?,
        ftype: d.str()?,
        tag: d.str()?,
    };
    Ok(SpoolFile {
        sfid,
        owner,
        queue,
        spoolid,
        origin,
        origin_dev,
        prev,
        attrs,
        created: d.i64()?,
        records: d.u32()?,
        order: d.i64()?,
        data: DataRef::default(),
    })
}

/// Encodes a file's records: each is a u32 length and its bytes.
pub fn put_records(e: &mut Enc, records: &[Vec<u8>]) {
    for r in records {
        e.bytes(r);
    }
}

/// Decodes `count` records written by [`put_records`].
pub fn get_records(buf: &[u8], count: u32) -> Result<Vec<Vec<u8>>, CodecError> {
    let mut d = Dec::new(buf);
    // Each record needs at least its 4-byte length, so `count` is bounded by the input size.
    if count as usize > buf.len() / 4 {
        return Err(CodecError(format!(
            "{count} records cannot fit in {} bytes",
            buf.len()
        )));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        out.push(d.bytes()?.to_vec());
    }
    if d.remaining() != 0 {
        return Err(CodecError("trailing bytes after records".into()));
    }
    Ok(out)
}
