//! The spool store: recovery at IPL, transactions, reading records, checkpoints, offline checks.

use std::{
    collections::{BTreeSet, HashMap},
    fs::{self, File, OpenOptions},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::{
    Queue, SpoolError, SpoolFile, SpoolResult, UserId, checkpoint,
    codec::get_records,
    state::{State, Txn},
    wal::{self as journal, Journal, Pos, SEG_HEADER_LEN},
};

/// Magic of the spool's journal segments.
const SPOOL_MAGIC: &[u8; 8] = b"VMSPJRNL";

/// Tunables of the spool store.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// A journal segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// A checkpoint is taken once the journal has grown this much since the last one.
    pub checkpoint_bytes: u64,
    /// The largest spool file accepted, in bytes of record data.
    pub max_file_bytes: u64,
}

impl Default for SpoolOptions {
    fn default() -> Self {
        SpoolOptions {
            segment_bytes: 64 << 20,
            checkpoint_bytes: 64 << 20,
            max_file_bytes: 256 << 20,
        }
    }
}

/// What warm start found.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    /// Whether a checkpoint was read.
    pub checkpoint: bool,
    /// Journal entries replayed after the checkpoint.
    pub replayed: usize,
    /// Closed files restored.
    pub files: usize,
    /// Journal segments in use.
    pub segments: usize,
}

/// The result of an offline consistency check.
#[derive(Debug, Clone, Default)]
pub struct SpoolCheck {
    /// Files found.
    pub files: usize,
    /// Records in all files.
    pub records: u64,
    /// Problems found; empty means consistent.
    pub problems: Vec<String>,
}

/// The spool of one system. Cheap to share: wrap it in an `Arc`.
pub struct Spool {
    dir: PathBuf,
    journal_dir: PathBuf,
    state: Mutex<State>,
    journal: Arc<Journal>,
    opts: SpoolOptions,
    checkpoint_lock: Mutex<Pos>,
    segment_files: Mutex<HashMap<u32, Arc<File>>>,
    _lock: File,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spool({})", self.dir.display())
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn lock_dir(dir: &Path) -> SpoolResult<File> {
    let path = dir.join("spool.lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SpoolError::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(_) => Err(SpoolError::Locked(format!(
            "the spool in {} is in use by a running system",
            dir.display()
        ))),
    }
}

/// Rebuilds the state from the checkpoint and the journal.
fn recover(
    dir: &Path,
    journal_dir: &Path,
    opts: &SpoolOptions,
    repair: bool,
) -> SpoolResult<(State, Pos, RecoveryReport)> {
    let mut report = RecoveryReport::default();
    let (mut st, start) = match checkpoint::read(dir)? {
        Some((st, pos)) => {
            report.checkpoint = true;
            (st, pos)
        }
        None => (
            State::new(),
            Pos {
                segment: journal::list_segments(journal_dir)?
                    .first()
                    .copied()
                    .unwrap_or(1),
                offset: SEG_HEADER_LEN,
            },
        ),
    };
    let max_entry = opts.max_file_bytes + (1 << 20);
    let (entries, end) = journal::scan(journal_dir, SPOOL_MAGIC, start, max_entry, repair)?;
    for e in &entries {
        st.replay(&e.payload, e.segment, e.payload_offset)
            .map_err(|err| {
                SpoolError::Corrupt(format!(
                    "journal segment {:08} offset {}: {}",
                    e.segment, e.payload_offset, err.0
                ))
            })?;
    }
    report.replayed = entries.len();
    report.files = st.files.len();
    report.segments = journal::list_segments(journal_dir)?.len();
    Ok((st, end, report))
}

impl Spool {
    /// Opens (warm-starts) the spool in `dir`, creating it if needed. Takes an exclusive lock:
    /// one system per spool.
    pub fn open(dir: &Path, opts: SpoolOptions) -> SpoolResult<(Spool, RecoveryReport)> {
        let journal_dir = dir.join("journal");
        fs::create_dir_all(&journal_dir).map_err(|e| SpoolError::io(&journal_dir, e))?;
        let lock = lock_dir(dir)?;
        let (st, end, report) = recover(dir, &journal_dir, &opts, true)?;
        let journal = Arc::new(Journal::open(
            &journal_dir,
            SPOOL_MAGIC,
            end,
            opts.segment_bytes,
        )?);
        // Growth is measured from the last checkpoint, or from where this IPL found the journal.
        let start = checkpoint::read(dir)?.map_or(end, |(_, p)| p);
        Ok((
            Spool {
                dir: dir.to_path_buf(),
                journal_dir,
                state: Mutex::new(st),
                journal,
                opts,
                checkpoint_lock: Mutex::new(start),
                segment_files: Mutex::new(HashMap::new()),
                _lock: lock,
            },
            report,
        ))
    }

    /// The folder the spool lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` as one atomic change of the spool and returns only after every change it made is
    /// on disk. Changes apply as `f` makes them (validate before changing); whatever `f` changed
    /// is committed even if it then returns an error.
    pub fn transact<R, E: From<SpoolError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let (res, wait) = self.transact_nowait(f)?;
        wait.wait()?;
        self.maybe_checkpoint();
        res
    }

    /// Like [`Spool::transact`], but returns a [`crate::DurableWait`] instead of waiting.
    pub fn transact_nowait<R, E: From<SpoolError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, E>,
    ) -> Result<(Result<R, E>, crate::DurableWait), SpoolError> {
        let mut st = self.lock();
        let mut txn = Txn {
            st: &mut st,
            entries: Vec::new(),
            created: Vec::new(),
            touched: Vec::new(),
            now: now_secs(),
            durable_seq: self.journal.durable_seq(),
            max_file_bytes: self.opts.max_file_bytes,
        };
        let res = f(&mut txn);
        let Txn {
            entries,
            created,
            touched,
            ..
        } = txn;
        if entries.is_empty() {
            return Ok((res, crate::DurableWait::none()));
        }
        let (seq, positions) = self.journal.append(&entries)?;
        for (sfid, idx, at) in created {
            if let Some(e) = st.files.get_mut(&sfid) {
                e.file.data.segment = positions[idx].segment;
                e.file.data.offset = positions[idx].offset + at;
            }
        }
        for sfid in touched {
            if let Some(e) = st.files.get_mut(&sfid) {
                e.seq = seq;
            }
        }
        drop(st);
        Ok((
            res,
            crate::DurableWait::from_parts(self.journal.clone(), seq),
        ))
    }

    /// Reserves a spoolid in `owner`'s space for a file a device starts writing (see
    /// [`Txn::reserve_spoolid`]); does not wait for the disk.
    pub fn reserve(&self, owner: &UserId, limit: u16) -> SpoolResult<u16> {
        let (res, _wait) = self.transact_nowait(|t| t.reserve_spoolid(owner, limit))?;
        res
    }

    /// Read-only access to the state (for queries).
    pub fn view<R>(&self, f: impl FnOnce(&Txn<'_>) -> R) -> R {
        let mut st = self.lock();
        let txn = Txn {
            st: &mut st,
            entries: Vec::new(),
            created: Vec::new(),
            touched: Vec::new(),
            now: now_secs(),
            durable_seq: self.journal.durable_seq(),
            max_file_bytes: self.opts.max_file_bytes,
        };
        f(&txn)
    }

    /// Files of `owner` on `queue`, in processing order (a copy).
    pub fn queue(&self, owner: &UserId, queue: Queue) -> Vec<SpoolFile> {
        self.lock()
            .queue(owner, queue)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Reads all records of a file.
    pub fn read_records(&self, f: &SpoolFile) -> SpoolResult<Vec<Vec<u8>>> {
        let file = self.segment(f.data.segment)?;
        let mut buf = vec![0u8; f.data.len as usize];
        let path = journal::segment_path(&self.journal_dir, f.data.segment);
        file.read_exact_at(&mut buf, f.data.offset)
            .map_err(|e| SpoolError::io(&path, e))?;
        get_records(&buf, f.records)
            .map_err(|e| SpoolError::Corrupt(format!("spool file {:04}: {}", f.spoolid, e.0)))
    }

    fn segment(&self, seg: u32) -> SpoolResult<Arc<File>> {
        let mut map = self.segment_files.lock().unwrap();
        if let Some(f) = map.get(&seg) {
            return Ok(f.clone());
        }
        let path = journal::segment_path(&self.journal_dir, seg);
        let f = Arc::new(File::open(&path).map_err(|e| SpoolError::io(&path, e))?);
        map.insert(seg, f.clone());
        Ok(f)
    }

    fn maybe_checkpoint(&self) {
        let end = self.journal.end();
        let Ok(last) = self.checkpoint_lock.try_lock() else {
            return;
        };
        let grown = if end.segment == last.segment {
            end.offset.saturating_sub(last.offset)
        } else {
            (end.segment - last.segment) as u64 * self.opts.segment_bytes
        };
        if grown < self.opts.checkpoint_bytes {
            return;
        }
        drop(last);
        if let Err(e) = self.checkpoint() {
            tracing::error!(error = %e, "spool checkpoint failed");
        }
    }

    /// Writes a checkpoint and removes journal segments that are no longer needed.
    pub fn checkpoint(&self) -> SpoolResult<()> {
        let mut last = self.checkpoint_lock.lock().unwrap();
        let (bytes, pos, live) = {
            let st = self.lock();
            let pos = self.journal.end();
            let live: BTreeSet<u32> = st.files.values().map(|e| e.file.data.segment).collect();
            (checkpoint::encode(&st, pos), pos, live)
        };
        // Everything the snapshot reflects must be on disk before the snapshot may replace it.
        self.journal.flush()?;
        checkpoint::atomic_write(&self.dir, checkpoint::CKPT_NAME, &bytes)?;
        *last = pos;
        for seg in journal::list_segments(&self.journal_dir)? {
            if seg < pos.segment && !live.contains(&seg) {
                let path = journal::segment_path(&self.journal_dir, seg);
                self.segment_files.lock().unwrap().remove(&seg);
                if let Err(e) = fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove journal segment");
                }
            }
        }
        Ok(())
    }

    /// Verifies a spool folder offline without changing it: the checkpoint and journal parse, and
    /// every file's records are readable and complete.
    pub fn check(dir: &Path) -> SpoolResult<SpoolCheck> {
        let journal_dir = dir.join("journal");
        let _lock = lock_dir(dir)?;
        let mut out = SpoolCheck::default();
        let (st, _end, _report) = match recover(dir, &journal_dir, &SpoolOptions::default(), false)
        {
            Ok(r) => r,
            Err(e) => {
                out.problems.push(e.to_string());
                return Ok(out);
            }
        };
        for e in st.files.values() {
            let f = &e.file;
            out.files += 1;
            out.records += f.records as u64;
            let path = journal::segment_path(&journal_dir, f.data.segment);
            let res = File::open(&path).and_then(|file| {
                let mut buf = vec![0u8; f.data.len as usize];
                file.read_exact_at(&mut buf, f.data.offset).map(|_| buf)
            });
            match res {
                Ok(buf) => {
                    if let Err(err) = get_records(&buf, f.records) {
                        out.problems.push(format!(
                            "{} {} {:04}: {}",
                            f.owner, f.queue, f.spoolid, err.0
                        ));
                    }
                }
                Err(err) => out.problems.push(format!(
                    "{} {} {:04}: data unreadable: {err}",
                    f.owner, f.queue, f.spoolid
                )),
            }
            let o = &st.owners[&f.owner];
            if o.ids.get(&f.spoolid) != Some(&f.sfid) {
                out.problems.push(format!(
                    "{} {:04}: spoolid index mismatch",
                    f.owner, f.spoolid
                ));
            }
        }
        Ok(out)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = self.journal.flush();
    }
}
