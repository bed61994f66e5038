//! The spool checkpoint: a snapshot of every file's metadata and data location, plus the journal
//! position from which to replay. Written atomically (temporary file, fsync, rename, directory
//! fsync) at SHUTDOWN and whenever the journal has grown past a threshold.
//!
//! Layout: `VMSPCKPT`, version u16, replay segment u32, replay offset u64, next file number u64,
//! order keys (back, front) i64, owner count u32 and per owner (userid, last spoolid u16), file count
//! u32 and per file (metadata, data segment u32, offset u64, length u64), then a CRC-32 of all of
//! the preceding bytes.

use std::{fs, path::Path};

use crate::{
    DataRef, SpoolError, SpoolResult,
    codec::{Dec, Enc, get_meta, put_meta},
    state::{Entry, State},
    wal::{Pos, atomic_write as wal_atomic_write},
};

pub(crate) const CKPT_MAGIC: &[u8; 8] = b"VMSPCKPT";
pub(crate) const CKPT_VERSION: u16 = 1;
pub(crate) const CKPT_NAME: &str = "CHECKPOINT";

/// Encodes a snapshot of `st` that replays from `pos`.
pub(crate) fn encode(st: &State, pos: Pos) -> Vec<u8> {
    let mut e = Enc::new(Vec::with_capacity(64 + st.files.len() * 160));
    e.buf.extend_from_slice(CKPT_MAGIC);
    e.u16(CKPT_VERSION);
    e.u32(pos.segment);
    e.u64(pos.offset);
    e.u64(st.next_sfid);
    e.i64(st.order_back);
    e.i64(st.order_front);
    let mut owners: Vec<_> = st.owners.iter().collect();
    owners.sort_by(|a, b| a.0.cmp(b.0));
    e.u32(owners.len() as u32);
    for (u, o) in owners {
        e.str(u.as_str());
        e.u16(o.last);
    }
    let mut files: Vec<_> = st.files.values().collect();
    files.sort_by_key(|f| f.file.sfid);
    e.u32(files.len() as u32);
    for f in files {
        put_meta(&mut e, &f.file);
        e.u32(f.file.data.segment);
        e.u64(f.file.data.offset);
        e.u64(f.file.data.len);
    }
    let crc = crc32fast::hash(&e.buf);
    e.u32(crc);
    e.buf
}

/// Decodes a checkpoint into a state and its replay position.
pub(crate) fn decode(buf: &[u8]) -> SpoolResult<(State, Pos)> {
    let bad = |m: String| SpoolError::Corrupt(format!("spool CHECKPOINT: {m}"));
    if buf.len() < 14 || &buf[..8] != CKPT_MAGIC {
        return Err(bad("not a spool checkpoint".into()));
    }
    let (body, crc) = buf.split_at(buf.len() - 4);
    if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().unwrap()) {
        return Err(bad("checksum mismatch".into()));
    }
    let mut d = Dec::new(&body[8..]);
    let c = |e: crate::codec::CodecError| bad(e.0);
    let version = d.u16().map_err(c)?;
    if version != CKPT_VERSION {
        return Err(bad(format!(
            "format version {version}; this program reads version {CKPT_VERSION}"
        )));
    }
    let pos = Pos {
        segment: d.u32().map_err(c)?,
        offset: d.u64().map_err(c)?,
    };
    let mut st = State::new();
    st.next_sfid = d.u64().map_err(c)?;
    st.order_back = d.i64().map_err(c)?;
    st.order_front = d.i64().map_err(c)?;
    let owners = d.u32().map_err(c)?;
    for _ in 0..owners {
        let u = d.userid().map_err(c)?;
        let last = d.u16().map_err(c)?;
        st.owners.entry(u).or_default().last = last;
    }
    let files = d.u32().map_err(c)?;
    for _ in 0..files {
        let mut f = get_meta(&mut d).map_err(c)?;
        f.data = DataRef {
            segment: d.u32().map_err(c)?,
            offset: d.u64().map_err(c)?,
            len: d.u64().map_err(c)?,
        };
        let o = st.owners.entry(f.owner.clone()).or_default();
        o.ids.insert(f.spoolid, f.sfid);
        o.queues[f.queue as usize].insert((f.order, f.sfid));
        st.files.insert(f.sfid, Entry { file: f, seq: 0 });
    }
    if d.remaining() != 0 {
        return Err(bad("trailing bytes".into()));
    }
    Ok((st, pos))
}

/// Reads `dir/CHECKPOINT`, if there is one.
pub(crate) fn read(dir: &Path) -> SpoolResult<Option<(State, Pos)>> {
    let path = dir.join(CKPT_NAME);
    match fs::read(&path) {
        Ok(buf) => decode(&buf).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SpoolError::io(path, e)),
    }
}

/// Writes `bytes` to `dir/name` atomically and durably.
pub(crate) fn atomic_write(dir: &Path, name: &str, bytes: &[u8]) -> SpoolResult<()> {
    wal_atomic_write(dir, name, bytes)
}
