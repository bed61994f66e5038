//! A write-ahead log: append-only segment files with group commit. The spool's journal and the SFS
//! file pools' logs are both one of these, each with its own magic.
//!
//! Layout of a segment `NNNNNNNN.jnl`: a 16-byte header (an 8-byte magic, version u16, segment
//! number u32, two reserved bytes) followed by entries `[len u32][crc32 u32][payload]`. An entry is
//! valid only if it is complete and its checksum matches; a torn tail left by a crash is cut off at
//! recovery. Segments before the newest are always complete: the writer syncs a segment before it
//! starts the next one.
//!
//! Group commit follows the leader/follower pattern: every writer appends its framed entries to an
//! in-memory buffer under a short lock and gets a sequence number; whoever then finds no flush in
//! progress becomes the leader, writes everything buffered so far with one `write` and one
//! `fdatasync`, and wakes all writers whose entries that flush covered. Concurrent writers thus share
//! fsyncs and nobody waits for a disk flush alone while others are flushing.

use std::{
    fs::{self, File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{SpoolError, SpoolResult};

/// Version of the segment format.
pub const SEG_VERSION: u16 = 1;
/// Length of a segment header; the first entry starts here.
pub const SEG_HEADER_LEN: u64 = 16;
const ENTRY_HEADER_LEN: u64 = 8;

/// A position in the journal: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Segment number.
    pub segment: u32,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// The path of segment `seg` in `dir`.
pub fn segment_path(dir: &Path, seg: u32) -> PathBuf {
    dir.join(format!("{seg:08}.jnl"))
}

fn segment_header(magic: &[u8; 8], seg: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(SEG_HEADER_LEN as usize);
    h.extend_from_slice(magic);
    h.extend_from_slice(&SEG_VERSION.to_be_bytes());
    h.extend_from_slice(&seg.to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h
}

/// Lists the segment numbers present in `dir`, ascending.
pub fn list_segments(dir: &Path) -> SpoolResult<Vec<u32>> {
    let mut segs = Vec::new();
    let rd = fs::read_dir(dir).map_err(|e| SpoolError::io(dir, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| SpoolError::io(dir, e))?;
        let name = ent.file_name();
        let name = name.to_string_lossy();
        if let Some(num) = name.strip_suffix(".jnl")
            && num.len() == 8
            && let Ok(n) = num.parse::<u32>()
        {
            segs.push(n);
        }
    }
    segs.sort_unstable();
    Ok(segs)
}

/// Makes a directory's entries durable.
pub fn fsync_dir(dir: &Path) -> SpoolResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SpoolError::io(dir, e))
}

/// One entry found while scanning the journal.
#[derive(Debug)]
pub struct ScannedEntry {
    /// Segment it is in.
    pub segment: u32,
    /// Offset of the payload (after the 8-byte entry header) in the segment.
    pub payload_offset: u64,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Reads every valid entry of the log in `dir` (segments with `magic`) from `start` onwards. A torn or damaged tail of the *last* segment is
/// truncated (it can only be a write the crash interrupted, never an acknowledged one); damage
/// anywhere else is reported as corruption. Returns the entries and the end position.
pub fn scan(
    dir: &Path,
    magic: &[u8; 8],
    start: Pos,
    max_entry: u64,
    repair: bool,
) -> SpoolResult<(Vec<ScannedEntry>, Pos)> {
    let segs: Vec<u32> = list_segments(dir)?
        .into_iter()
        .filter(|s| *s >= start.segment)
        .collect();
    let mut out = Vec::new();
    let mut end = start;
    if segs.first() != Some(&start.segment) && start.offset > SEG_HEADER_LEN {
        return Err(SpoolError::Corrupt(format!(
            "journal segment {:08} named by the checkpoint is missing",
            start.segment
        )));
    }
    if segs.is_empty() {
        return Ok((
            out,
            Pos {
                segment: start.segment,
                offset: 0,
            },
        ));
    }
    for (i, &seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if i > 0 && seg != segs[i - 1] + 1 {
            return Err(SpoolError::Corrupt(format!(
                "journal segment {:08} is missing",
                segs[i - 1] + 1
            )));
        }
        let path = segment_path(dir, seg);
        let mut f = File::open(&path).map_err(|e| SpoolError::io(&path, e))?;
        let len = f.metadata().map_err(|e| SpoolError::io(&path, e))?.len();
        let mut header = [0u8; SEG_HEADER_LEN as usize];
        if len < SEG_HEADER_LEN || f.read_exact(&mut header).is_err() {
            if last {
                // Created but the header never reached the disk: an empty segment.
                end = Pos {
                    segment: seg,
                    offset: 0,
                };
                break;
            }
            return Err(SpoolError::Corrupt(format!(
                "{} is too short",
                path.display()
            )));
        }
        if &header[..8] != magic {
            return Err(SpoolError::Corrupt(format!(
                "{} is not a log segment of this kind",
                path.display()
            )));
        }
        let version = u16::from_be_bytes([header[8], header[9]]);
        if version != SEG_VERSION {
            return Err(SpoolError::Corrupt(format!(
                "{} has journal format version {version}; this program reads version {SEG_VERSION}",
                path.display()
            )));
        }
        let mut off = if seg == start.segment {
            start.offset.max(SEG_HEADER_LEN)
        } else {
            SEG_HEADER_LEN
        };
        f.seek(SeekFrom::Start(off))
            .map_err(|e| SpoolError::io(&path, e))?;
        let mut rd = std::io::BufReader::with_capacity(1 << 16, f);
        loop {
            if off == len {
                break;
            }
            let mut eh = [0u8; ENTRY_HEADER_LEN as usize];
            let bad = |what: &str| -> SpoolResult<()> {
                if last {
                    Ok(())
                } else {
                    Err(SpoolError::Corrupt(format!(
                        "{} damaged at offset {off}: {what}",
                        path.display()
                    )))
                }
            };
            if len - off < ENTRY_HEADER_LEN || rd.read_exact(&mut eh).is_err() {
                bad("torn entry header")?;
                break;
            }
            let plen = u32::from_be_bytes(eh[..4].try_into().unwrap()) as u64;
            let crc = u32::from_be_bytes(eh[4..].try_into().unwrap());
            if plen > max_entry || len - off - ENTRY_HEADER_LEN < plen {
                bad("torn or oversized entry")?;
                break;
            }
            let mut payload = vec![0u8; plen as usize];
            if rd.read_exact(&mut payload).is_err() || crc32fast::hash(&payload) != crc {
                bad("checksum mismatch")?;
                break;
            }
            out.push(ScannedEntry {
                segment: seg,
                payload_offset: off + ENTRY_HEADER_LEN,
                payload,
            });
            off += ENTRY_HEADER_LEN + plen;
        }
        end = Pos {
            segment: seg,
            offset: off,
        };
        if last && off < len && repair {
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| SpoolError::io(&path, e))?;
            f.set_len(off).map_err(|e| SpoolError::io(&path, e))?;
            f.sync_all().map_err(|e| SpoolError::io(&path, e))?;
            tracing::warn!(
                segment = seg,
                offset = off,
                cut = len - off,
                "spool journal: cut off a torn tail left by a crash"
            );
        }
    }
    Ok((out, end))
}

struct Inner {
    /// Framed entries not yet written, with the segment each belongs to.
    pending: Vec<(u32, Vec<u8>)>,
    /// Logical end of the journal, including pending entries.
    end: Pos,
    /// Sequence number of the newest appended entry.
    appended_seq: u64,
    flushing: bool,
    /// The open segment being appended to, owned by the leader while it flushes.
    file: Option<(u32, File)>,
    failed: Option<String>,
}

/// The log writer. See the module documentation.
pub struct Journal {
    dir: PathBuf,
    magic: [u8; 8],
    inner: Mutex<Inner>,
    cv: Condvar,
    durable: AtomicU64,
    seg_limit: u64,
}

/// A promise that entries become durable; [`DurableWait::wait`] blocks until they are.
#[derive(Clone)]
pub struct DurableWait {
    journal: Option<Arc<Journal>>,
    seq: u64,
}

impl std::fmt::Debug for DurableWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DurableWait({})", self.seq)
    }
}

impl DurableWait {
    /// Waits until the entries are on disk. Returns an error if the write failed.
    pub fn wait(self) -> SpoolResult<()> {
        match self.journal {
            Some(j) => j.wait_durable(self.seq),
            None => Ok(()),
        }
    }

    /// A wait for nothing (no entries were written).
    pub fn none() -> DurableWait {
        DurableWait {
            journal: None,
            seq: 0,
        }
    }

    /// A wait for sequence `seq` of `journal`.
    pub fn from_parts(journal: Arc<Journal>, seq: u64) -> DurableWait {
        DurableWait {
            journal: Some(journal),
            seq,
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.dir.display())
    }
}

impl Journal {
    /// Opens the journal for appending at `end` (as found by [`scan`]).
    pub fn open(dir: &Path, magic: &[u8; 8], end: Pos, seg_limit: u64) -> SpoolResult<Journal> {
        let mut pending = Vec::new();
        let (file, end) = if end.offset < SEG_HEADER_LEN {
            // No usable segment yet (or a header-less one): (re)create it through the pending path.
            let path = segment_path(dir, end.segment.max(1));
            let _ = fs::remove_file(&path);
            pending.push((
                end.segment.max(1),
                segment_header(magic, end.segment.max(1)),
            ));
            (
                None,
                Pos {
                    segment: end.segment.max(1),
                    offset: SEG_HEADER_LEN,
                },
            )
        } else {
            let path = segment_path(dir, end.segment);
            let mut f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| SpoolError::io(&path, e))?;
            f.seek(SeekFrom::Start(end.offset))
                .map_err(|e| SpoolError::io(&path, e))?;
            (Some((end.segment, f)), end)
        };
        Ok(Journal {
            dir: dir.to_path_buf(),
            magic: *magic,
            inner: Mutex::new(Inner {
                pending,
                end,
                appended_seq: 0,
                flushing: false,
                file,
                failed: None,
            }),
            cv: Condvar::new(),
            durable: AtomicU64::new(0),
            seg_limit,
        })
    }

    /// The newest sequence number known to be on disk.
    pub fn durable_seq(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// The logical end of the journal (including entries not yet flushed).
    pub fn end(&self) -> Pos {
        self.inner.lock().unwrap().end
    }

    /// Appends framed entries; returns the sequence number that covers them and, for each payload,
    /// its position (segment, payload offset).
    pub fn append(&self, payloads: &[Vec<u8>]) -> SpoolResult<(u64, Vec<Pos>)> {
        let mut g = self.inner.lock().unwrap();
        if let Some(f) = &g.failed {
            return Err(SpoolError::Failed(f.clone()));
        }
        let mut positions = Vec::with_capacity(payloads.len());
        for p in payloads {
            let need = ENTRY_HEADER_LEN + p.len() as u64;
            if g.end.offset > SEG_HEADER_LEN && g.end.offset + need > self.seg_limit {
                let seg = g.end.segment + 1;
                g.pending.push((seg, segment_header(&self.magic, seg)));
                g.end = Pos {
                    segment: seg,
                    offset: SEG_HEADER_LEN,
                };
            }
            let seg = g.end.segment;
            let mut framed = Vec::with_capacity(need as usize);
            framed.extend_from_slice(&(p.len() as u32).to_be_bytes());
            framed.extend_from_slice(&crc32fast::hash(p).to_be_bytes());
            framed.extend_from_slice(p);
            positions.push(Pos {
                segment: seg,
                offset: g.end.offset + ENTRY_HEADER_LEN,
            });
            g.end.offset += need;
            match g.pending.last_mut() {
                Some((s, buf)) if *s == seg => buf.extend_from_slice(&framed),
                _ => g.pending.push((seg, framed)),
            }
        }
        g.appended_seq += 1;
        Ok((g.appended_seq, positions))
    }

    /// Blocks until sequence `seq` is durable, flushing as the leader when nobody else is.
    pub fn wait_durable(&self, seq: u64) -> SpoolResult<()> {
        let mut g = self.inner.lock().unwrap();
        loop {
            if self.durable.load(Ordering::Acquire) >= seq {
                return Ok(());
            }
            if let Some(f) = &g.failed {
                return Err(SpoolError::Failed(f.clone()));
            }
            if g.flushing {
                g = self.cv.wait(g).unwrap();
                continue;
            }
            g.flushing = true;
            let chunks = std::mem::take(&mut g.pending);
            let target = g.appended_seq;
            let file = g.file.take();
            drop(g);
            let res = self.write_chunks(file, chunks);
            g = self.inner.lock().unwrap();
            g.flushing = false;
            match res {
                Ok(file) => {
                    g.file = file;
                    self.durable.store(target, Ordering::Release);
                }
                Err(e) => {
                    tracing::error!(error = %e, "spool journal write failed; spool changes refused until re-IPL");
                    g.failed = Some(e.to_string());
                }
            }
            self.cv.notify_all();
        }
    }

    fn write_chunks(
        &self,
        mut file: Option<(u32, File)>,
        chunks: Vec<(u32, Vec<u8>)>,
    ) -> SpoolResult<Option<(u32, File)>> {
        let mut created = false;
        for (seg, bytes) in chunks {
            if file.as_ref().map(|(s, _)| *s) != Some(seg) {
                if let Some((old, f)) = file.take() {
                    f.sync_data()
                        .map_err(|e| SpoolError::io(segment_path(&self.dir, old), e))?;
                }
                let path = segment_path(&self.dir, seg);
                let f = OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .write(true)
                    .open(&path)
                    .map_err(|e| SpoolError::io(&path, e))?;
                created = true;
                file = Some((seg, f));
            }
            let (seg, f) = file.as_mut().unwrap();
            f.write_all(&bytes)
                .map_err(|e| SpoolError::io(segment_path(&self.dir, *seg), e))?;
        }
        if let Some((seg, f)) = &file {
            f.sync_data()
                .map_err(|e| SpoolError::io(segment_path(&self.dir, *seg), e))?;
        }
        if created {
            fsync_dir(&self.dir)?;
        }
        Ok(file)
    }

    /// Waits for everything appended so far.
    pub fn flush(&self) -> SpoolResult<()> {
        let seq = self.inner.lock().unwrap().appended_seq;
        self.wait_durable(seq)
    }
}

/// Writes `bytes` to `dir/name` atomically and durably.
pub fn atomic_write(dir: &Path, name: &str, bytes: &[u8]) -> SpoolResult<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let mut f = File::create(&tmp).map_err(|e| SpoolError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| SpoolError::io(&tmp, e))?;
    f.sync_all().map_err(|e| SpoolError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| SpoolError::io(&path, e))?;
    fsync_dir(dir)
}
