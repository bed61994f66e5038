//! A file pool: its catalog, its log, and the requests users make of it.
//!
//! Storage (`dasd/<server>/<POOL>/`): `log/NNNNNNNN.jnl` segments (magic `VMSFSLOG`) holding
//! work units and data chunks, `CATALOG` (magic `VMSFSCAT`), a snapshot of the catalog with the log
//! position to replay from, and `pool.lock`.
//!
//! A request is a work unit: its operations are checked and applied to the catalog one by one
//! (any failure takes back the ones already applied), the unit is appended to the log as one
//! entry — data first within it, so one checksum covers data and the catalog change that points at
//! it — and the request returns only when the entry is on disk. Concurrent requests share fsyncs
//! (the log's group commit). A read that touches an object changed by a request not yet durable
//! waits for that request's flush, so nobody sees what a crash could take back.

use std::{
    collections::{BTreeMap, HashMap},
    fs::{self, File, OpenOptions},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

use spool::{
    UserId,
    codec::{Dec, Enc},
    wal::{self, Journal, Pos, SEG_HEADER_LEN},
};

use super::{
    catalog::{Auth, Catalog, Control, Dir, Extent, FileMeta, Format, Grantee, Op, Target, User},
    errors::DmsError,
    ids::{DirPath, PoolName},
    ops::{self, Entry},
};

const LOG_MAGIC: &[u8; 8] = b"VMSFSLOG";
const CAT_MAGIC: &[u8; 8] = b"VMSFSCAT";
const CAT_VERSION: u16 = 1;
const CAT_NAME: &str = "CATALOG";
/// Data up to this size is stored inline with its operation; larger data goes in chunks first.
const INLINE_MAX: usize = 1 << 20;

/// Who may connect to a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectRule {
    /// Administrators, enrolled users and holders of any authority in the pool.
    Enrolled,
    /// Administrators only (the mailstore pool).
    Admin,
}

/// A pool's definition (from DMSPARMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Name.
    pub name: PoolName,
    /// Administrators.
    pub admins: Vec<UserId>,
    /// Connection rule.
    pub connect: ConnectRule,
    /// Block limit of ENROLL without BLOCKS.
    pub default_blocks: u64,
    /// Users the server enrols when it starts, unless they are enrolled already (service
    /// machines that keep files of their own, such as IMAPADM's audit log), with their blocks.
    pub enroll: Vec<(UserId, Option<u64>)>,
}

/// Tunables.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Segment size.
    pub segment_bytes: u64,
    /// Checkpoint after this much log growth.
    pub checkpoint_bytes: u64,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            segment_bytes: 64 << 20,
            checkpoint_bytes: 256 << 20,
        }
    }
}

/// A file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Records: fixed (every record `lrecl` long) or variable.
    Records {
        /// F or V.
        format: Format,
        /// The records.
        records: Vec<Vec<u8>>,
    },
    /// A byte stream.
    Stream(Vec<u8>),
}

impl Content {
    pub(super) fn stats(&self) -> Result<(Format, u32, u64, u64), DmsError> {
        match self {
            Content::Stream(b) => Ok((Format::Stream, 1, b.len() as u64, b.len() as u64)),
            Content::Records { format, records } => {
                let lrecl = records.iter().map(|r| r.len()).max().unwrap_or(0);
                if lrecl > 65535 {
                    return Err(DmsError::BadRecord(format!(
                        "record of {lrecl} bytes exceeds LRECL 65535"
                    )));
                }
                if *format == Format::F
                    && let Some(r) = records.iter().find(|r| r.len() != lrecl)
                {
                    return Err(DmsError::BadRecord(format!(
                        "record of {} bytes in a fixed file of LRECL {lrecl}",
                        r.len()
                    )));
                }
                let bytes = records.iter().map(|r| r.len() as u64).sum();
                Ok((*format, lrecl.max(1) as u32, records.len() as u64, bytes))
            }
        }
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        match self {
            Content::Stream(b) => b.clone(),
            Content::Records { records, .. } => ops::encode_records(records),
        }
    }
}

/// A file's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// File number.
    pub fileno: u64,
    /// Name.
    pub fname: String,
    /// Type.
    pub ftype: String,
    /// Format.
    pub format: Format,
    /// LRECL.
    pub lrecl: u32,
    /// Records (stream: bytes).
    pub records: u64,
    /// Logical bytes.
    pub bytes: u64,
    /// Blocks.
    pub blocks: u64,
    /// Last written.
    pub mtime: i64,
    /// How many pieces of log hold the data (appends add pieces; a rewrite makes one).
    pub extents: usize,
}

impl From<&FileMeta> for FileInfo {
    fn from(f: &FileMeta) -> FileInfo {
        FileInfo {
            fileno: f.fileno,
            fname: f.fname.clone(),
            ftype: f.ftype.clone(),
            format: f.format,
            lrecl: f.lrecl,
            records: f.records,
            bytes: f.bytes,
            blocks: f.blocks(),
            mtime: f.mtime,
            extents: f.extents.len(),
        }
    }
}

/// What a directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Files the caller may see.
    pub files: Vec<FileInfo>,
    /// Subdirectory names.
    pub subdirs: Vec<String>,
}

/// A user's space: QUERY LIMITS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// User.
    pub user: UserId,
    /// Block limit.
    pub limit: u64,
    /// Blocks in use.
    pub used: u64,
}

/// A file pool.
pub struct Pool {
    cfg: PoolConfig,
    dir: PathBuf,
    log_dir: PathBuf,
    cat: RwLock<Catalog>,
    wal: Arc<Journal>,
    opts: PoolOptions,
    last_checkpoint: Mutex<Pos>,
    segs: Mutex<HashMap<u32, Arc<File>>>,
    _lock: File,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({})", self.cfg.name)
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn storage(e: impl std::fmt::Display) -> DmsError {
    DmsError::Storage(e.to_string())
}

/// A work unit in progress: operations applied to the catalog, with their undo records.
pub struct Txn<'a> {
    cat: &'a mut Catalog,
    ops: Vec<Op>,
    inline: Vec<Option<Vec<u8>>>,
    undos: Vec<super::catalog::Undo>,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Txn({} ops)", self.ops.len())
    }
}

impl Txn<'_> {
    /// The catalog as changed so far.
    pub fn cat(&self) -> &Catalog {
        self.cat
    }

    /// Applies one operation (with data to store inline, if any).
    pub fn op(&mut self, op: Op, inline: Option<Vec<u8>>) -> Result<(), DmsError> {
        let u = self.cat.apply(&op)?;
        self.undos.push(u);
        self.ops.push(op);
        self.inline.push(inline);
        Ok(())
    }

    /// A fresh directory number.
    pub fn dirno(&mut self) -> u64 {
        self.cat.alloc_dirno()
    }

    /// A fresh file number.
    pub fn fileno(&mut self) -> u64 {
        self.cat.alloc_fileno()
    }
}

impl Pool {
    /// Opens (recovers) the pool stored in `dir`, creating it if needed.
    pub fn open(dir: &Path, cfg: PoolConfig, opts: PoolOptions) -> Result<Pool, DmsError> {
        let log_dir = dir.join("log");
        fs::create_dir_all(&log_dir).map_err(storage)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("pool.lock"))
            .map_err(storage)?;
        lock.try_lock()
            .map_err(|_| DmsError::Storage(format!("pool {} is in use", cfg.name)))?;
        let (cat, end, cp) = recover(dir, &log_dir, true)?;
        let wal =
            Arc::new(Journal::open(&log_dir, LOG_MAGIC, end, opts.segment_bytes).map_err(storage)?);
        Ok(Pool {
            cfg,
            dir: dir.to_path_buf(),
            log_dir,
            cat: RwLock::new(cat),
            wal,
            opts,
            last_checkpoint: Mutex::new(cp.unwrap_or(end)),
            segs: Mutex::new(HashMap::new()),
            _lock: lock,
        })
    }

    /// The pool's name.
    pub fn name(&self) -> &PoolName {
        &self.cfg.name
    }

    /// The pool's definition.
    pub fn config(&self) -> &PoolConfig {
        &self.cfg
    }

    /// Whether `who` administers the pool.
    pub fn is_admin(&self, who: &UserId) -> bool {
        self.cfg.admins.contains(who)
    }

    /// Whether `who` may connect.
    pub fn connect_check(&self, who: &UserId) -> Result<(), DmsError> {
        if self.is_admin(who) {
            return Ok(());
        }
        let refused = || DmsError::ConnectRefused {
            user: who.to_string(),
            pool: self.cfg.name.to_string(),
        };
        if self.cfg.connect == ConnectRule::Admin {
            return Err(refused());
        }
        let cat = self.cat.read().unwrap();
        if cat.users.contains_key(who) || cat.holds_any_grant(who) {
            Ok(())
        } else {
            Err(refused())
        }
    }

    pub(super) fn dir_auth(&self, cat: &Catalog, who: &UserId, dirno: u64) -> Auth {
        let Some(d) = cat.dirs.get(&dirno) else {
            return Auth::default();
        };
        if &d.owner == who || self.is_admin(who) {
            return Auth(0xF);
        }
        let mine = d
            .grants
            .get(&Grantee::User(who.clone()))
            .copied()
            .unwrap_or_default();
        let public = d.grants.get(&Grantee::Public).copied().unwrap_or_default();
        mine.with(public)
    }

    pub(super) fn file_auth(&self, cat: &Catalog, who: &UserId, f: &FileMeta) -> Auth {
        let da = self.dir_auth(cat, who, f.dirno);
        if da.0 == 0xF {
            return da;
        }
        if cat
            .dirs
            .get(&f.dirno)
            .is_some_and(|d| d.control == Control::Dir)
        {
            return Auth(da.0 & 3);
        }
        let mine = f
            .grants
            .get(&Grantee::User(who.clone()))
            .copied()
            .unwrap_or_default();
        let public = f.grants.get(&Grantee::Public).copied().unwrap_or_default();
        // WRITE implies READ.
        let a = mine.with(public);
        if a.has(Auth::WRITE) {
            a.with(Auth::READ)
        } else {
            a
        }
    }

    pub(super) fn dir_of(&self, cat: &Catalog, path: &DirPath) -> Result<u64, DmsError> {
        cat.resolve(path).ok_or_else(|| {
            if cat.users.contains_key(&path.owner) {
                DmsError::DirNotFound(format!("{}:{}", self.cfg.name, path.display()))
            } else {
                DmsError::NotEnrolled {
                    user: path.owner.to_string(),
                    pool: self.cfg.name.to_string(),
                }
            }
        })
    }

    pub(super) fn file_of<'c>(
        &self,
        cat: &'c Catalog,
        dirno: u64,
        fname: &str,
        ftype: &str,
    ) -> Result<&'c FileMeta, DmsError> {
        cat.dirs
            .get(&dirno)
            .and_then(|d| d.files.get(&(fname.to_string(), ftype.to_string())))
            .and_then(|n| cat.files.get(n))
            .ok_or_else(|| {
                DmsError::FileNotFound(format!(
                    "{fname} {ftype} {}:{}",
                    self.cfg.name,
                    cat.dir_key(dirno).unwrap_or_default()
                ))
            })
    }

    fn need_admin(&self, who: &UserId, what: &str) -> Result<(), DmsError> {
        if self.is_admin(who) {
            Ok(())
        } else {
            Err(DmsError::NotAuthorized(format!(
                "{what} (file pool administrators only)"
            )))
        }
    }

    /// Runs a work unit: `f` applies operations through the [`Txn`]; on error everything it did
    /// is taken back; on success the unit is made durable before this returns.
    pub fn commit<R>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, DmsError>,
    ) -> Result<R, DmsError> {
        let (r, seq) = self.commit_nowait(f)?;
        self.wait_durable(seq)?;
        Ok(r)
    }

    /// Waits until the work unit with log sequence `seq` is durable (see [`Pool::commit_nowait`]).
    pub fn wait_durable(&self, seq: u64) -> Result<(), DmsError> {
        if seq > 0 {
            self.wal.wait_durable(seq)?;
            self.maybe_checkpoint();
        }
        Ok(())
    }

    /// The first half of [`Pool::commit`]: applies the work unit and writes it to the log, but
    /// does not wait for the log to reach the disk. Returns the unit's log sequence number (0 when
    /// it changed nothing); pass it to [`Pool::wait_durable`] before acknowledging anything.
    /// Units are ordered by sequence number, so when one is durable every earlier one is too: a
    /// caller that orders its own work under a lock of its own keeps that order on disk without
    /// holding the lock through the fsync.
    pub fn commit_nowait<R>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, DmsError>,
    ) -> Result<(R, u64), DmsError> {
        let wait = {
            let mut cat = self.cat.write().unwrap();
            let mut t = Txn {
                cat: &mut cat,
                ops: Vec::new(),
                inline: Vec::new(),
                undos: Vec::new(),
            };
            let res = f(&mut t);
            let Txn {
                ops, inline, undos, ..
            } = t;
            let r = match res {
                Ok(r) => r,
                Err(e) => {
                    for u in undos.into_iter().rev() {
                        cat.undo(u);
                    }
                    return Err(e);
                }
            };
            if ops.is_empty() {
                return Ok((r, 0));
            }
            let enc = ops::encode_batch(&ops, &inline);
            let (seq, pos) = match self.wal.append(&[enc.payload]) {
                Ok(x) => x,
                Err(e) => {
                    for u in undos.into_iter().rev() {
                        cat.undo(u);
                    }
                    return Err(e.into());
                }
            };
            let at = pos[0];
            for (i, off, len, crc) in enc.inline_at {
                let x = Extent {
                    seg: at.segment,
                    off: at.offset + off,
                    len,
                    crc,
                };
                let fileno = match &ops[i] {
                    Op::PutFile { fileno, .. } | Op::AppendFile { fileno, .. } => *fileno,
                    _ => continue,
                };
                if let Some(m) = cat.files.get_mut(&fileno) {
                    m.extents.push(x);
                }
            }
            stamp(&mut cat, &ops, seq);
            (r, seq)
        };
        Ok(wait)
    }

    /// Stores data for a file: inline with its operation when small, else as chunk entries whose
    /// extents the operation references. Returns (extents so far, inline data).
    pub(super) fn stage(&self, data: Vec<u8>) -> Result<(Vec<Extent>, Option<Vec<u8>>), DmsError> {
        if data.len() <= INLINE_MAX {
            return Ok((Vec::new(), Some(data)));
        }
        let mut xs = Vec::new();
        for chunk in data.chunks(INLINE_MAX) {
            let (_, pos) = self.wal.append(&[ops::encode_chunk(chunk)])?;
            xs.push(Extent {
                seg: pos[0].segment,
                off: pos[0].offset + 1,
                len: chunk.len() as u64,
                crc: crc32fast::hash(chunk),
            });
        }
        Ok((xs, None))
    }

    /// Reads under the catalog lock, then waits until what was read is durable.
    fn read<R>(
        &self,
        f: impl FnOnce(&Catalog) -> Result<(R, u64), DmsError>,
    ) -> Result<R, DmsError> {
        let (r, seq) = {
            let cat = self.cat.read().unwrap();
            f(&cat)?
        };
        if seq > self.wal.durable_seq() {
            self.wal.wait_durable(seq)?;
        }
        Ok(r)
    }

    // ---- file space administration ----

    /// ENROLL USER (administrators).
    pub fn enroll(&self, who: &UserId, user: &UserId, blocks: Option<u64>) -> Result<(), DmsError> {
        self.need_admin(who, "ENROLL USER")?;
        let blocks = blocks.unwrap_or(self.cfg.default_blocks);
        self.commit(|t| {
            let top = t.dirno();
            t.op(
                Op::Enroll {
                    user: user.clone(),
                    blocks,
                    top,
                },
                None,
            )
        })
    }

    /// The DMSPARMS `ENROLL` statements, applied by the server at start: each user not yet
    /// enrolled is enrolled. Returns the users it enrolled.
    pub fn enroll_at_start(&self) -> Result<Vec<UserId>, DmsError> {
        let mut done = Vec::new();
        for (user, blocks) in &self.cfg.enroll {
            let blocks = blocks.unwrap_or(self.cfg.default_blocks);
            let res = self.commit(|t| {
                let top = t.dirno();
                t.op(
                    Op::Enroll {
                        user: user.clone(),
                        blocks,
                        top,
                    },
                    None,
                )
            });
            match res {
                Ok(()) => done.push(user.clone()),
                Err(DmsError::AlreadyEnrolled(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// MODIFY USER: a new block limit (administrators).
    pub fn modify(&self, who: &UserId, user: &UserId, blocks: u64) -> Result<(), DmsError> {
        self.need_admin(who, "MODIFY USER")?;
        self.commit(|t| {
            t.op(
                Op::Modify {
                    user: user.clone(),
                    blocks,
                },
                None,
            )
        })
        .map_err(|e| self.name_pool(e))
    }

    /// DELETE USER: the user's whole file space (administrators).
    pub fn delete_user(&self, who: &UserId, user: &UserId) -> Result<(), DmsError> {
        self.need_admin(who, "DELETE USER")?;
        self.commit(|t| t.op(Op::DeleteUser { user: user.clone() }, None))
            .map_err(|e| self.name_pool(e))
    }

    fn name_pool(&self, e: DmsError) -> DmsError {
        match e {
            DmsError::NotEnrolled { user, .. } => DmsError::NotEnrolled {
                user,
                pool: self.cfg.name.to_string(),
            },
            other => other,
        }
    }

    /// QUERY ENROLL: enrolled users and their limits (administrators see all; others
    /// themselves).
    pub fn query_enroll(&self, who: &UserId) -> Result<Vec<Limits>, DmsError> {
        self.read(|cat| {
            let v: Vec<Limits> = cat
                .users
                .iter()
                .filter(|(u, _)| self.is_admin(who) || *u == who)
                .map(|(u, r)| Limits {
                    user: u.clone(),
                    limit: r.limit,
                    used: r.used,
                })
                .collect();
            let seq = cat.users.values().map(|u| u.seq).max().unwrap_or(0);
            Ok((v, seq))
        })
    }

    /// QUERY LIMITS for a user (oneself, or anyone for an administrator).
    pub fn query_limits(&self, who: &UserId, user: &UserId) -> Result<Limits, DmsError> {
        if who != user && !self.is_admin(who) {
            return Err(DmsError::NotAuthorized(format!("the limits of {user}")));
        }
        self.read(|cat| {
            let r = cat.users.get(user).ok_or_else(|| DmsError::NotEnrolled {
                user: user.to_string(),
                pool: self.cfg.name.to_string(),
            })?;
            Ok((
                Limits {
                    user: user.clone(),
                    limit: r.limit,
                    used: r.used,
                },
                r.seq,
            ))
        })
    }

    // ---- directories ----

    /// CREATE DIRECTORY (the owner or an administrator).
    pub fn create_dir(
        &self,
        who: &UserId,
        path: &DirPath,
        control: Control,
    ) -> Result<(), DmsError> {
        self.commit(|t| self.create_dir_in(t, who, path, control))
    }

    /// ERASE DIRECTORY: an empty directory (the owner or an administrator).
    pub fn erase_dir(&self, who: &UserId, path: &DirPath) -> Result<(), DmsError> {
        self.commit(|t| self.erase_dir_in(t, who, path))
    }

    /// RENAME DIRECTORY within its parent (the owner or an administrator).
    pub fn rename_dir(&self, who: &UserId, path: &DirPath, new_name: &str) -> Result<(), DmsError> {
        self.commit(|t| {
            let d = self.dir_of(t.cat(), path)?;
            if &path.owner != who && !self.is_admin(who) {
                return Err(DmsError::NotAuthorized(format!(
                    "{}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            t.op(
                Op::RenameDir {
                    dirno: d,
                    name: new_name.to_ascii_uppercase(),
                },
                None,
            )
        })
    }

    /// Lists a directory (READ or WRITE on it).
    pub fn list(&self, who: &UserId, path: &DirPath) -> Result<Listing, DmsError> {
        self.read(|cat| {
            let d = self.dir_of(cat, path)?;
            let a = self.dir_auth(cat, who, d);
            if !(a.has(Auth::READ) || a.has(Auth::WRITE)) {
                return Err(DmsError::NotAuthorized(format!(
                    "{}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            let dir = &cat.dirs[&d];
            let mut seq = dir.seq;
            let files = dir
                .files
                .values()
                .filter_map(|n| cat.files.get(n))
                .inspect(|f| seq = seq.max(f.seq))
                .map(FileInfo::from)
                .collect();
            Ok((
                Listing {
                    files,
                    subdirs: dir.subdirs.keys().cloned().collect(),
                },
                seq,
            ))
        })
    }

    /// Whether a directory exists (and the caller may see it).
    pub fn dir_exists(&self, who: &UserId, path: &DirPath) -> Result<bool, DmsError> {
        match self.list(who, path) {
            Ok(_) => Ok(true),
            Err(DmsError::DirNotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    // ---- files ----

    /// Information about one file (READ on it, or on the directory for the listing).
    pub fn stat(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<FileInfo, DmsError> {
        self.read(|cat| {
            let d = self.dir_of(cat, path)?;
            let f = self.file_of(cat, d, fname, ftype)?;
            let a = self.file_auth(cat, who, f).with(self.dir_auth(cat, who, d));
            if !a.has(Auth::READ) {
                return Err(DmsError::NotAuthorized(format!(
                    "{fname} {ftype} {}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            Ok((FileInfo::from(f), f.seq))
        })
    }

    /// Reads a whole file (READ authority on the file).
    pub fn read_file(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<(FileInfo, Content), DmsError> {
        let meta = self.read(|cat| {
            let d = self.dir_of(cat, path)?;
            let f = self.file_of(cat, d, fname, ftype)?;
            if !self.file_auth(cat, who, f).has(Auth::READ) {
                return Err(DmsError::NotAuthorized(format!(
                    "{fname} {ftype} {}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            Ok((f.clone(), f.seq))
        })?;
        let data = self.read_extents(&meta.extents, 0, u64::MAX)?;
        let content = match meta.format {
            Format::Stream => Content::Stream(data),
            f => Content::Records {
                format: f,
                records: ops::decode_records(&data, meta.records)
                    .map_err(|e| DmsError::Storage(format!("{fname} {ftype}: {}", e.0)))?,
            },
        };
        Ok((FileInfo::from(&meta), content))
    }

    /// Reads `len` bytes at `offset` of a stream file (READ authority).
    pub fn read_range(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, DmsError> {
        let meta = self.read(|cat| {
            let d = self.dir_of(cat, path)?;
            let f = self.file_of(cat, d, fname, ftype)?;
            if !self.file_auth(cat, who, f).has(Auth::READ) {
                return Err(DmsError::NotAuthorized(format!("{fname} {ftype}")));
            }
            Ok((f.clone(), f.seq))
        })?;
        self.read_extents(&meta.extents, offset, len)
    }

    fn segment(&self, seg: u32) -> Result<Arc<File>, DmsError> {
        let mut m = self.segs.lock().unwrap();
        if let Some(f) = m.get(&seg) {
            return Ok(f.clone());
        }
        let f = Arc::new(File::open(wal::segment_path(&self.log_dir, seg)).map_err(storage)?);
        m.insert(seg, f.clone());
        Ok(f)
    }

    /// Reads `len` bytes from `offset` of the data the extents describe; whole extents are checked
    /// against their CRC.
    fn read_extents(&self, xs: &[Extent], offset: u64, len: u64) -> Result<Vec<u8>, DmsError> {
        let total: u64 = xs.iter().map(|x| x.len).sum();
        let end = offset.saturating_add(len).min(total);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut pos = 0u64;
        for x in xs {
            let (xs0, xe) = (pos, pos + x.len);
            pos = xe;
            if xe <= offset || xs0 >= end {
                continue;
            }
            let f = self.segment(x.seg)?;
            let from = offset.max(xs0) - xs0;
            let to = end.min(xe) - xs0;
            let whole = from == 0 && to == x.len;
            let mut buf = vec![0u8; (to - from) as usize];
            f.read_exact_at(&mut buf, x.off + from).map_err(storage)?;
            if whole && crc32fast::hash(&buf) != x.crc {
                return Err(DmsError::Storage(format!(
                    "data checksum mismatch in log segment {:08} at {}",
                    x.seg, x.off
                )));
            }
            out.extend_from_slice(&buf);
        }
        Ok(out)
    }

    /// Creates or replaces a file: WRITE on the directory to create, WRITE on the file to replace.
    pub fn write_file(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        content: &Content,
        create_only: bool,
    ) -> Result<FileInfo, DmsError> {
        let (format, lrecl, records, bytes) = content.stats()?;
        let (extents, inline) = self.stage(content.encode())?;
        let fname = fname.to_string();
        let ftype = ftype.to_string();
        self.commit(|t| {
            let op = self.put_op(
                t,
                who,
                path,
                &fname,
                &ftype,
                format,
                lrecl,
                records,
                bytes,
                extents,
                create_only,
            )?;
            t.op(op, inline)?;
            let cat = t.cat();
            let d = self.dir_of(cat, path)?;
            Ok(FileInfo::from(self.file_of(cat, d, &fname, &ftype)?))
        })
    }

    /// Builds (after checking authority) the operation that puts a file.
    #[allow(clippy::too_many_arguments)]
    pub fn put_op(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        format: Format,
        lrecl: u32,
        records: u64,
        bytes: u64,
        extents: Vec<Extent>,
        create_only: bool,
    ) -> Result<Op, DmsError> {
        let d = self.dir_of(t.cat(), path)?;
        let existing = self.file_of(t.cat(), d, fname, ftype).ok().cloned();
        match &existing {
            Some(f) if !self.file_auth(t.cat(), who, f).has(Auth::WRITE) => {
                return Err(DmsError::NotAuthorized(format!(
                    "{fname} {ftype} {}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            None if !self.dir_auth(t.cat(), who, d).has(Auth::WRITE) => {
                return Err(DmsError::NotAuthorized(format!(
                    "{}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            _ => {}
        }
        let fileno = t.fileno();
        Ok(Op::PutFile {
            fileno,
            dirno: d,
            fname: fname.to_string(),
            ftype: ftype.to_string(),
            format,
            lrecl,
            records,
            bytes,
            extents,
            mtime: now(),
            create_only,
        })
    }

    /// Appends records (or bytes) to a file, creating it if it does not exist.
    pub fn append_file(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        content: &Content,
    ) -> Result<FileInfo, DmsError> {
        let data = self.stage_content(content)?;
        self.commit(|t| {
            self.append_in(t, who, path, fname, ftype, data)?;
            let cat = t.cat();
            let d = self.dir_of(cat, path)?;
            Ok(FileInfo::from(self.file_of(cat, d, fname, ftype)?))
        })
    }

    /// Erases a file (WRITE on the file and on its directory).
    pub fn erase_file(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<(), DmsError> {
        self.commit(|t| self.erase_in(t, who, path, fname, ftype))
    }

    /// Builds (after checking authority) the operation that erases a file.
    pub fn erase_op(
        &self,
        cat: &Catalog,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<Op, DmsError> {
        let d = self.dir_of(cat, path)?;
        let f = self.file_of(cat, d, fname, ftype)?;
        let fa = self.file_auth(cat, who, f);
        let da = self.dir_auth(cat, who, d);
        if !(fa.has(Auth::WRITE) && da.has(Auth::WRITE)) {
            return Err(DmsError::NotAuthorized(format!(
                "erasing {fname} {ftype} {}:{}",
                self.cfg.name,
                path.display()
            )));
        }
        Ok(Op::EraseFile { fileno: f.fileno })
    }

    /// Renames (or moves within one file space) a file.
    #[allow(clippy::too_many_arguments)]
    pub fn rename_file(
        &self,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        to: &DirPath,
        new_fname: &str,
        new_ftype: &str,
    ) -> Result<(), DmsError> {
        self.commit(|t| self.rename_in(t, who, path, fname, ftype, to, new_fname, new_ftype))
    }

    // ---- authority ----

    fn target(
        &self,
        cat: &Catalog,
        path: &DirPath,
        file: Option<(&str, &str)>,
    ) -> Result<Target, DmsError> {
        let d = self.dir_of(cat, path)?;
        Ok(match file {
            Some((f, t)) => Target::File(self.file_of(cat, d, f, t)?.fileno),
            None => Target::Dir(d),
        })
    }

    /// GRANT (grant=true) or REVOKE AUTHORITY on a directory or a file (the owner or an
    /// administrator).
    pub fn grant(
        &self,
        who: &UserId,
        path: &DirPath,
        file: Option<(&str, &str)>,
        grantee: &Grantee,
        auth: Auth,
        grant: bool,
    ) -> Result<(), DmsError> {
        if &path.owner != who && !self.is_admin(who) {
            return Err(DmsError::NotAuthorized(format!(
                "granting authority on {}:{} (owner only)",
                self.cfg.name,
                path.display()
            )));
        }
        // Revoking "everything" from a file means its READ and WRITE.
        let auth = if file.is_some() && !grant {
            Auth(auth.0 & (Auth::READ.0 | Auth::WRITE.0))
        } else {
            auth
        };
        if file.is_some() && (auth.has(Auth::NEWREAD) || auth.has(Auth::NEWWRITE)) {
            return Err(DmsError::BadRecord(
                "NEWREAD and NEWWRITE apply to directories only".into(),
            ));
        }
        self.commit(|t| {
            let target = self.target(t.cat(), path, file)?;
            let op = if grant {
                Op::Grant {
                    target,
                    grantee: grantee.clone(),
                    auth,
                }
            } else {
                Op::Revoke {
                    target,
                    grantee: grantee.clone(),
                    auth,
                }
            };
            t.op(op, None)
        })
    }

    /// QUERY AUTHORITY: the grants on a directory or file (the owner, an administrator, or anyone
    /// who holds authority there).
    pub fn query_auth(
        &self,
        who: &UserId,
        path: &DirPath,
        file: Option<(&str, &str)>,
    ) -> Result<Vec<(Grantee, Auth)>, DmsError> {
        self.read(|cat| {
            let target = self.target(cat, path, file)?;
            let (grants, seq) = match target {
                Target::Dir(d) => (cat.dirs[&d].grants.clone(), cat.dirs[&d].seq),
                Target::File(f) => (cat.files[&f].grants.clone(), cat.files[&f].seq),
            };
            let d = self.dir_of(cat, path)?;
            let mine = grants.contains_key(&Grantee::User(who.clone()));
            if &path.owner != who
                && !self.is_admin(who)
                && !mine
                && self.dir_auth(cat, who, d).is_empty()
            {
                return Err(DmsError::NotAuthorized(format!(
                    "{}:{}",
                    self.cfg.name,
                    path.display()
                )));
            }
            Ok((grants.into_iter().collect(), seq))
        })
    }

    // ---- checkpoint ----

    fn maybe_checkpoint(&self) {
        let end = self.wal.end();
        let Ok(last) = self.last_checkpoint.try_lock() else {
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
            tracing::error!(pool = %self.cfg.name, error = %e, "file pool checkpoint failed");
        }
    }

    /// Writes a catalog snapshot and removes log segments no file needs any more.
    pub fn checkpoint(&self) -> Result<(), DmsError> {
        let mut last = self.last_checkpoint.lock().unwrap();
        let (bytes, pos, live) = {
            let cat = self.cat.read().unwrap();
            let pos = self.wal.end();
            let live: std::collections::BTreeSet<u32> = cat
                .files
                .values()
                .flat_map(|f| f.extents.iter().map(|x| x.seg))
                .collect();
            (encode_catalog(&cat, pos, &self.cfg.name), pos, live)
        };
        self.wal.flush()?;
        wal::atomic_write(&self.dir, CAT_NAME, &bytes)?;
        *last = pos;
        for seg in wal::list_segments(&self.log_dir)? {
            if seg < pos.segment && !live.contains(&seg) {
                self.segs.lock().unwrap().remove(&seg);
                let _ = fs::remove_file(wal::segment_path(&self.log_dir, seg));
            }
        }
        Ok(())
    }
}

/// Marks every object an operation touched with the log sequence number that makes it durable.
fn stamp(cat: &mut Catalog, ops: &[Op], seq: u64) {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    let mut users = Vec::new();
    for op in ops {
        match op {
            Op::Enroll { user, top, .. } => {
                users.push(user.clone());
                dirs.push(*top);
            }
            Op::Modify { user, .. } | Op::DeleteUser { user } => users.push(user.clone()),
            Op::CreateDir { dirno, parent, .. } => {
                dirs.push(*dirno);
                dirs.push(*parent);
            }
            Op::EraseDir { dirno } | Op::RenameDir { dirno, .. } => dirs.push(*dirno),
            Op::PutFile { fileno, dirno, .. } | Op::RenameFile { fileno, dirno, .. } => {
                files.push(*fileno);
                dirs.push(*dirno);
            }
            Op::AppendFile { fileno, .. }
            | Op::EraseFile { fileno }
            | Op::Relocate { fileno, .. } => files.push(*fileno),
            Op::Grant { target, .. } | Op::Revoke { target, .. } => match target {
                Target::Dir(d) => dirs.push(*d),
                Target::File(f) => files.push(*f),
            },
        }
    }
    for f in files {
        if let Some(m) = cat.files.get_mut(&f) {
            m.seq = seq;
            let d = m.dirno;
            if let Some(dir) = cat.dirs.get_mut(&d) {
                dir.seq = seq;
            }
        }
    }
    for d in dirs {
        if let Some(dir) = cat.dirs.get_mut(&d) {
            dir.seq = seq;
            if let Some(p) = dir.parent
                && let Some(pd) = cat.dirs.get_mut(&p)
            {
                pd.seq = seq;
            }
        }
    }
    for u in users {
        if let Some(r) = cat.users.get_mut(&u) {
            r.seq = seq;
        }
    }
}

fn put_grants(e: &mut Enc, g: &BTreeMap<Grantee, Auth>) {
    e.u32(g.len() as u32);
    for (k, a) in g {
        match k {
            Grantee::Public => e.u8(0),
            Grantee::User(u) => {
                e.u8(1);
                e.str(u.as_str());
            }
        }
        e.u8(a.0);
    }
}

fn get_grants(d: &mut Dec<'_>) -> Result<BTreeMap<Grantee, Auth>, spool::codec::CodecError> {
    let n = d.u32()?;
    let mut m = BTreeMap::new();
    for _ in 0..n {
        let g = match d.u8()? {
            0 => Grantee::Public,
            _ => Grantee::User(d.userid()?),
        };
        m.insert(g, Auth(d.u8()?));
    }
    Ok(m)
}

/// Encodes a catalog snapshot. Layout: `VMSFSCAT`, version, pool name, replay position, counters,
/// users, directories, files, CRC-32.
fn encode_catalog(cat: &Catalog, pos: Pos, pool: &PoolName) -> Vec<u8> {
    let mut e = Enc::default();
    e.buf.extend_from_slice(CAT_MAGIC);
    e.u16(CAT_VERSION);
    e.str(pool.as_str());
    e.u32(pos.segment);
    e.u64(pos.offset);
    e.u64(cat.next_dirno);
    e.u64(cat.next_fileno);
    e.u32(cat.users.len() as u32);
    for (u, r) in &cat.users {
        e.str(u.as_str());
        e.u64(r.limit);
        e.u64(r.used);
        e.u64(r.top);
    }
    let mut dirs: Vec<&Dir> = cat.dirs.values().collect();
    dirs.sort_by_key(|d| d.dirno);
    e.u32(dirs.len() as u32);
    for d in dirs {
        e.u64(d.dirno);
        e.str(d.owner.as_str());
        e.u64(d.parent.unwrap_or(0));
        e.str(&d.name);
        e.u8(matches!(d.control, Control::Dir) as u8);
        put_grants(&mut e, &d.grants);
    }
    let mut files: Vec<&FileMeta> = cat.files.values().collect();
    files.sort_by_key(|f| f.fileno);
    e.u32(files.len() as u32);
    for f in files {
        e.u64(f.fileno);
        e.u64(f.dirno);
        e.str(&f.fname);
        e.str(&f.ftype);
        e.u8(match f.format {
            Format::F => b'F',
            Format::V => b'V',
            Format::Stream => b'S',
        });
        e.u32(f.lrecl);
        e.u64(f.records);
        e.u64(f.bytes);
        e.i64(f.mtime);
        e.u32(f.extents.len() as u32);
        for x in &f.extents {
            e.u32(x.seg);
            e.u64(x.off);
            e.u64(x.len);
            e.u32(x.crc);
        }
        put_grants(&mut e, &f.grants);
    }
    let crc = crc32fast::hash(&e.buf);
    e.u32(crc);
    e.buf
}

fn decode_catalog(buf: &[u8]) -> Result<(Catalog, Pos), DmsError> {
    let bad = |m: String| DmsError::Storage(format!("pool CATALOG: {m}"));
    if buf.len() < 14 || &buf[..8] != CAT_MAGIC {
        return Err(bad("not a file pool catalog".into()));
    }
    let (body, crc) = buf.split_at(buf.len() - 4);
    if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().unwrap()) {
        return Err(bad("checksum mismatch".into()));
    }
    let mut d = Dec::new(&body[8..]);
    let c = |e: spool::codec::CodecError| bad(e.0);
    let v = d.u16().map_err(c)?;
    if v != CAT_VERSION {
        return Err(bad(format!(
            "format version {v}; this program reads version {CAT_VERSION}"
        )));
    }
    let _pool = d.str().map_err(c)?;
    let pos = Pos {
        segment: d.u32().map_err(c)?,
        offset: d.u64().map_err(c)?,
    };
    let mut cat = Catalog::new();
    cat.next_dirno = d.u64().map_err(c)?;
    cat.next_fileno = d.u64().map_err(c)?;
    for _ in 0..d.u32().map_err(c)? {
        let u = d.userid().map_err(c)?;
        cat.users.insert(
            u,
            User {
                limit: d.u64().map_err(c)?,
                used: d.u64().map_err(c)?,
                top: d.u64().map_err(c)?,
                seq: 0,
            },
        );
    }
    for _ in 0..d.u32().map_err(c)? {
        let dirno = d.u64().map_err(c)?;
        let owner = d.userid().map_err(c)?;
        let parent = d.u64().map_err(c)?;
        let name = d.str().map_err(c)?;
        let control = if d.u8().map_err(c)? == 1 {
            Control::Dir
        } else {
            Control::File
        };
        let grants = get_grants(&mut d).map_err(c)?;
        cat.dirs.insert(
            dirno,
            Dir {
                dirno,
                owner,
                parent: (parent != 0).then_some(parent),
                name,
                control,
                grants,
                files: BTreeMap::new(),
                subdirs: BTreeMap::new(),
                seq: 0,
            },
        );
    }
    let links: Vec<(u64, u64, String)> = cat
        .dirs
        .values()
        .filter_map(|d| d.parent.map(|p| (p, d.dirno, d.name.clone())))
        .collect();
    for (p, dn, name) in links {
        cat.dirs
            .get_mut(&p)
            .ok_or_else(|| bad(format!("directory {dn} has a missing parent {p}")))?
            .subdirs
            .insert(name, dn);
    }
    for _ in 0..d.u32().map_err(c)? {
        let fileno = d.u64().map_err(c)?;
        let dirno = d.u64().map_err(c)?;
        let fname = d.str().map_err(c)?;
        let ftype = d.str().map_err(c)?;
        let format = match d.u8().map_err(c)? {
            b'F' => Format::F,
            b'V' => Format::V,
            _ => Format::Stream,
        };
        let lrecl = d.u32().map_err(c)?;
        let records = d.u64().map_err(c)?;
        let bytes = d.u64().map_err(c)?;
        let mtime = d.i64().map_err(c)?;
        let n = d.u32().map_err(c)?;
        let mut extents = Vec::new();
        for _ in 0..n {
            extents.push(Extent {
                seg: d.u32().map_err(c)?,
                off: d.u64().map_err(c)?,
                len: d.u64().map_err(c)?,
                crc: d.u32().map_err(c)?,
            });
        }
        let grants = get_grants(&mut d).map_err(c)?;
        cat.dirs
            .get_mut(&dirno)
            .ok_or_else(|| bad(format!("file {fname} {ftype} in a missing directory")))?
            .files
            .insert((fname.clone(), ftype.clone()), fileno);
        cat.files.insert(
            fileno,
            FileMeta {
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
                grants,
                seq: 0,
            },
        );
    }
    Ok((cat, pos))
}

/// Rebuilds the catalog from the snapshot and the log. Returns it, the log's end, and the
/// snapshot's replay position.
fn recover(
    dir: &Path,
    log_dir: &Path,
    repair: bool,
) -> Result<(Catalog, Pos, Option<Pos>), DmsError> {
    let (mut cat, start, cp) = match fs::read(dir.join(CAT_NAME)) {
        Ok(buf) => {
            let (c, p) = decode_catalog(&buf)?;
            (c, p, Some(p))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Catalog::new(),
            Pos {
                segment: wal::list_segments(log_dir)?.first().copied().unwrap_or(1),
                offset: SEG_HEADER_LEN,
            },
            None,
        ),
        Err(e) => return Err(storage(e)),
    };
    let (entries, end) = wal::scan(log_dir, LOG_MAGIC, start, 1 << 30, repair)?;
    for ent in entries {
        match ops::decode(&ent.payload, ent.segment, ent.payload_offset)
            .map_err(|e| DmsError::Storage(format!("log segment {:08}: {}", ent.segment, e.0)))?
        {
            Entry::Chunk => {}
            Entry::Batch(ops) => {
                for op in ops {
                    cat.apply(&op).map_err(|e| {
                        DmsError::Storage(format!(
                            "log segment {:08} offset {}: replay failed: {e}",
                            ent.segment, ent.payload_offset
                        ))
                    })?;
                }
            }
        }
    }
    Ok((cat, end, cp))
}

/// The result of an offline pool check.
#[derive(Debug, Clone, Default)]
pub struct PoolCheck {
    /// Enrolled users.
    pub users: usize,
    /// Directories.
    pub dirs: usize,
    /// Files.
    pub files: usize,
    /// Bytes of file data verified.
    pub bytes: u64,
    /// Problems found; empty means consistent.
    pub problems: Vec<String>,
}

/// Verifies a pool's storage without changing it: the catalog and log replay, every directory and
/// file is linked consistently, every extent is readable with its checksum, and every user's
/// blocks in use match its files.
pub fn check(dir: &Path) -> Result<PoolCheck, DmsError> {
    let log_dir = dir.join("log");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("pool.lock"))
        .map_err(storage)?;
    lock.try_lock()
        .map_err(|_| DmsError::Storage("the pool is in use by a running system".into()))?;
    let mut out = PoolCheck::default();
    let cat = match recover(dir, &log_dir, false) {
        Ok((c, _, _)) => c,
        Err(e) => {
            out.problems.push(e.to_string());
            return Ok(out);
        }
    };
    out.users = cat.users.len();
    out.dirs = cat.dirs.len();
    out.files = cat.files.len();
    for (u, r) in &cat.users {
        match cat.dirs.get(&r.top) {
            Some(d) if d.parent.is_none() && &d.owner == u => {}
            _ => out
                .problems
                .push(format!("user {u}: top directory missing")),
        }
    }
    for d in cat.dirs.values() {
        if let Some(p) = d.parent {
            match cat.dirs.get(&p) {
                Some(pd) if pd.subdirs.get(&d.name) == Some(&d.dirno) => {}
                _ => out
                    .problems
                    .push(format!("directory {}: not linked from its parent", d.dirno)),
            }
        }
        if !cat.users.contains_key(&d.owner) {
            out.problems
                .push(format!("directory {} of unenrolled {}", d.dirno, d.owner));
        }
    }
    let mut segs: HashMap<u32, File> = HashMap::new();
    for f in cat.files.values() {
        let key = format!(
            "{} {} in {}",
            f.fname,
            f.ftype,
            cat.dir_key(f.dirno).unwrap_or_default()
        );
        if cat
            .dirs
            .get(&f.dirno)
            .and_then(|d| d.files.get(&(f.fname.clone(), f.ftype.clone())))
            != Some(&f.fileno)
        {
            out.problems
                .push(format!("{key}: not linked from its directory"));
        }
        let total: u64 = f.extents.iter().map(|x| x.len).sum();
        let mut data = Vec::with_capacity(total as usize);
        for x in &f.extents {
            if let std::collections::hash_map::Entry::Vacant(e) = segs.entry(x.seg) {
                match File::open(wal::segment_path(&log_dir, x.seg)) {
                    Ok(h) => {
                        e.insert(h);
                    }
                    Err(err) => {
                        out.problems
                            .push(format!("{key}: log segment {:08}: {err}", x.seg));
                        continue;
                    }
                }
            }
            let mut buf = vec![0u8; x.len as usize];
            match segs[&x.seg].read_exact_at(&mut buf, x.off) {
                Ok(()) if crc32fast::hash(&buf) == x.crc => data.extend_from_slice(&buf),
                Ok(()) => out.problems.push(format!("{key}: data checksum mismatch")),
                Err(err) => out.problems.push(format!("{key}: data unreadable: {err}")),
            }
        }
        out.bytes += data.len() as u64;
        if data.len() as u64 == total {
            match f.format {
                Format::Stream if total != f.bytes => out
                    .problems
                    .push(format!("{key}: {total} bytes, catalog says {}", f.bytes)),
                Format::Stream => {}
                _ => match ops::decode_records(&data, f.records) {
                    Ok(r) if r.iter().map(|x| x.len() as u64).sum::<u64>() == f.bytes => {}
                    Ok(_) => out
                        .problems
                        .push(format!("{key}: record bytes differ from the catalog")),
                    Err(e) => out.problems.push(format!("{key}: {}", e.0)),
                },
            }
        }
    }
    for (u, n) in cat.recount() {
        let rec = cat.users[&u].used;
        if rec != n {
            out.problems.push(format!(
                "user {u}: {rec} blocks recorded in use, files hold {n}"
            ));
        }
    }
    Ok(out)
}
