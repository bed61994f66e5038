//! One open folder: its messages in memory, shared by every session that has it selected and by
//! intake, with the changes made to it.
//!
//! Every change is made under the folder's lock and written to SFS (message files and index
//! records in one work unit) before it becomes visible in memory, so what any session sees is
//! on disk. Appends do not hold the lock through the fsync: the UIDs are assigned and the unit
//! written to the log under the lock, so units reach the log in UID order, and the log makes
//! them durable in that order; each appender then publishes every pending append up to its own.
//! Other changes (flags, expunges, copies in) are rarer and hold the lock through their fsync.
//!
//! Each change takes the folder's next MODSEQ, which the index records with it (a message's in its
//! `A` and `F` records, an expunge's in its `X` record), so MODSEQs survive restarts: a message's
//! MODSEQ is that of its append or last flag change and the folder's HIGHESTMODSEQ only grows.
//! An append's MODSEQ is given out with its UIDs, under the lock; it becomes the folder's when
//! the append is published. Sessions remember the MODSEQ they have reported and ask for what
//! changed since ([`FolderState::expunged_since`], [`Msg::modseq`]). IDLE sessions wait on
//! [`Folder::notified`].

use std::{
    collections::{HashSet, VecDeque},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use vm::{
    UserId,
    sfs::{Content, DirPath, DmsError, Format, SfsClient},
};

use super::{
    error::StoreError,
    index::{self, INDEX_FILE, IdxRec, MIGRATE_HINT, MSG_TYPE, MsgRec, PER_RECORD, msg_name},
};

/// Expunges remembered for sessions to catch up with; older ones make a session resynchronise
/// by comparing UID lists.
const EXPUNGE_LOG: usize = 50_000;

/// Keywords a folder can hold.
pub const MAX_KEYWORDS: usize = 64;

/// Bytes of message headers a folder keeps in memory for SEARCH and header FETCHes.
const HEADER_CACHE_BYTES: usize = 16 << 20;

/// How much of a message is read first to find the end of its header.
const HEADER_PROBE: u64 = 16 * 1024;

/// The header block of a message: up to and including the empty line that ends it (all of the
/// message when it has no body).
pub fn header_end(raw: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < raw.len() {
        let nl = raw[i..].iter().position(|&c| c == b'\n')? + i;
        let line = &raw[i..nl];
        if line.is_empty() || line == b"\r" {
            return Some(nl + 1);
        }
        i = nl + 1;
    }
    None
}

#[derive(Debug, Default)]
struct HeaderCache {
    map: std::collections::HashMap<u32, std::sync::Arc<[u8]>>,
    /// SEARCH's decoded fields of messages whose header is in `map` (evicted with it).
    fields: std::collections::HashMap<u32, std::sync::Arc<crate::mime::SearchFields>>,
    order: VecDeque<u32>,
    bytes: usize,
}

impl HeaderCache {
    fn put_fields(&mut self, uid: u32, f: std::sync::Arc<crate::mime::SearchFields>) {
        if self.map.contains_key(&uid) && !self.fields.contains_key(&uid) {
            self.bytes += f.size();
            self.fields.insert(uid, f);
            self.evict();
        }
    }

    fn evict(&mut self) {
        while self.bytes > HEADER_CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(x) = self.map.remove(&old) {
                self.bytes -= x.len();
            }
            if let Some(f) = self.fields.remove(&old) {
                self.bytes -= f.size();
            }
        }
    }

    fn put(&mut self, uid: u32, h: std::sync::Arc<[u8]>) {
        if h.len() > HEADER_CACHE_BYTES / 64 || self.map.contains_key(&uid) {
            return;
        }
        self.bytes += h.len();
        self.map.insert(uid, h);
        self.order.push_back(uid);
        self.evict();
    }
}

/// One message in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    /// UID.
    pub uid: u32,
    /// Flag bits (see [`index::flag`]).
    pub flags: u8,
    /// Keyword bits.
    pub keywords: u64,
    /// RFC822.SIZE.
    pub size: u64,
    /// INTERNALDATE (seconds, UTC).
    pub date: i64,
    /// The folder MODSEQ of its last change.
    pub modseq: u64,
    /// The spool file it came from (0: none).
    pub source: u64,
}

impl Msg {
    fn from_rec(r: &MsgRec) -> Msg {
        Msg {
            uid: r.uid,
            flags: r.flags,
            keywords: r.keywords,
            size: r.size,
            date: r.date,
            modseq: r.modseq,
            source: r.source,
        }
    }

    fn rec(&self) -> MsgRec {
        MsgRec {
            uid: self.uid,
            flags: self.flags,
            keywords: self.keywords,
            size: self.size,
            date: self.date,
            source: self.source,
            modseq: self.modseq,
        }
    }
}

/// A message to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMsg {
    /// The message.
    pub data: Vec<u8>,
    /// Flag bits.
    pub flags: u8,
    /// Keywords by name.
    pub keywords: Vec<String>,
    /// INTERNALDATE.
    pub date: i64,
    /// The spool file it came from (0: none).
    pub source: u64,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMode {
    /// Replace.
    Set,
    /// Add.
    Add,
    /// Remove.
    Remove,
}

/// What a STORE did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// UIDs whose flags changed.
    pub changed: Vec<u32>,
    /// UIDs left alone because of UNCHANGEDSINCE.
    pub refused: Vec<u32>,
    /// The folder's MODSEQ before the change (after publishing appends it covered: see
    /// `after`).
    pub before: u64,
    /// The folder's MODSEQ after the change; `after == before + 1` when nothing else changed
    /// the folder in between, so the caller's own FETCH responses were the whole news.
    pub after: u64,
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    modseq: u64,
    msgs: Vec<Msg>,
}

/// The folder's state.
#[derive(Debug)]
pub struct FolderState {
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// UIDNEXT.
    pub uidnext: u32,
    /// Messages in UID order.
    pub msgs: Vec<Msg>,
    /// Keyword names by number ("" = unused).
    pub keywords: Vec<String>,
    /// Highest MODSEQ (of what is published).
    pub modseq: u64,
    /// Messages from this UID up have not been seen by any session yet (`\Recent`).
    pub recent_floor: u32,
    /// The folder was deleted.
    pub deleted: bool,
    /// The highest MODSEQ given out: `modseq`, or above it while appends wait to be published.
    assigned: u64,
    expunged: VecDeque<(u64, u32)>,
    expunge_floor: u64,
    records: u64,
    pending: VecDeque<Pending>,
    sources: HashSet<u64>,
}

impl FolderState {
    /// The position of `uid`.
    pub fn pos(&self, uid: u32) -> Option<usize> {
        self.msgs.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    /// UIDs expunged after `modseq`, or `None` when the log no longer reaches back that far
    /// (compare UID lists instead).
    pub fn expunged_since(&self, modseq: u64) -> Option<Vec<u32>> {
        if modseq < self.expunge_floor {
            return None;
        }
        let start = self.expunged.partition_point(|(m, _)| *m <= modseq);
        Some(self.expunged.iter().skip(start).map(|(_, u)| *u).collect())
    }

    /// The number of keyword `name` (case-insensitive), if the folder has it.
    pub fn keyword(&self, name: &str) -> Option<usize> {
        self.keywords
            .iter()
            .position(|k| !k.is_empty() && k.eq_ignore_ascii_case(name))
    }

    /// Keyword names of a bit set.
    pub fn keyword_names(&self, bits: u64) -> impl Iterator<Item = &str> {
        self.keywords
            .iter()
            .enumerate()
            .filter(move |(i, k)| bits & (1u64 << i) != 0 && !k.is_empty())
            .map(|(_, k)| k.as_str())
    }

    /// Whether a message from spool file `source` is here.
    pub fn has_source(&self, source: u64) -> bool {
        source != 0 && self.sources.contains(&source)
    }

    /// Bits for keyword names, adding new keywords (and their `K` records to `recs`).
    fn keyword_bits(
        &mut self,
        names: &[String],
        recs: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        let mut bits = 0u64;
        for n in names {
            let i = match self.keyword(n) {
                Some(i) => i,
                None => {
                    let i = match self.keywords.iter().position(|k| k.is_empty()) {
                        Some(i) => i,
                        None if self.keywords.len() < MAX_KEYWORDS => {
                            self.keywords.push(String::new());
                            self.keywords.len() - 1
                        }
                        None => {
                            return Err(StoreError::Limit(format!(
                                "[LIMIT] A mailbox holds at most {MAX_KEYWORDS} keywords"
                            )));
                        }
                    };
                    self.keywords[i] = n.clone();
                    recs.push(IdxRec::Keyword(i as u8, n.clone()).encode());
                    i
                }
            };
            bits |= 1u64 << i;
        }
        Ok(bits)
    }

    /// The next MODSEQ, for a change about to be written.
    fn next_modseq(&mut self) -> u64 {
        self.assigned = self.assigned.max(self.modseq) + 1;
        self.assigned
    }

    /// Publishes pending appends up to log sequence `seq` (durable now), in UID order.
    fn publish_upto(&mut self, seq: u64) {
        while self.pending.front().is_some_and(|p| p.seq <= seq) {
            let p = self.pending.pop_front().unwrap();
            self.modseq = self.modseq.max(p.modseq);
            for m in p.msgs {
                if m.source != 0 {
                    self.sources.insert(m.source);
                }
                self.msgs.push(m);
            }
        }
    }

    fn log_expunges(&mut self, uids: &[u32]) {
        for u in uids {
            self.expunged.push_back((self.modseq, *u));
        }
        while self.expunged.len() > EXPUNGE_LOG {
            let (m, _) = self.expunged.pop_front().unwrap();
            self.expunge_floor = m;
        }
    }
}

/// An open folder.
pub struct Folder {
    /// The folder's number.
    pub id: u32,
    /// Whose it is.
    pub owner: UserId,
    /// Its SFS directory.
    pub dir: DirPath,
    st: Mutex<FolderState>,
    changed: tokio::sync::Notify,
    version: AtomicU64,
    headers: Mutex<HeaderCache>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Folder({} {})", self.owner, self.id)
    }
}

fn records(recs: Vec<Vec<u8>>) -> Content {
    Content::Records {
        format: Format::V,
        records: recs,
    }
}

fn chunks<T: Copy>(v: &[T], f: impl Fn(Vec<T>) -> IdxRec) -> Vec<Vec<u8>> {
    v.chunks(PER_RECORD)
        .map(|c| f(c.to_vec()).encode())
        .collect()
}

impl Folder {
    /// Reads a folder's index.
    pub fn load(
        sfs: &SfsClient,
        owner: &UserId,
        id: u32,
        dir: DirPath,
    ) -> Result<Folder, StoreError> {
        let (info, content) =
            sfs.read_file(&dir, INDEX_FILE.0, INDEX_FILE.1)
                .map_err(|e| match e {
                    DmsError::FileNotFound(_) | DmsError::DirNotFound(_) => StoreError::Corrupt(
                        format!("folder {} of {owner} has no index", dir.display()),
                    ),
                    other => other.into(),
                })?;
        let Content::Records { records: recs, .. } = content else {
            return Err(StoreError::Corrupt(format!(
                "index of {} is not a record file",
                dir.display()
            )));
        };
        if let Some(h) = recs.first()
            && let Ok(v) = index::version_of(h)
            && v != index::VERSION
        {
            return Err(StoreError::Version(if v < index::VERSION {
                format!("Folder index is version {v}; {MIGRATE_HINT}")
            } else {
                format!(
                    "Folder index is version {v}; this server reads version {}",
                    index::VERSION
                )
            }));
        }
        let l = index::replay(&recs)
            .map_err(|b| StoreError::Corrupt(format!("index of {}: {}", dir.display(), b.0)))?;
        let sources = l
            .msgs
            .iter()
            .filter(|m| m.source != 0)
            .map(|m| m.source)
            .collect();
        let st = FolderState {
            uidvalidity: l.uidvalidity,
            uidnext: l.uidnext,
            msgs: l.msgs.iter().map(Msg::from_rec).collect(),
            keywords: l.keywords,
            modseq: l.highest_modseq,
            recent_floor: l.uidnext,
            deleted: false,
            assigned: l.highest_modseq,
            expunged: VecDeque::new(),
            // Expunges before this opening are not remembered.
            expunge_floor: l.highest_modseq,
            records: l.records,
            pending: VecDeque::new(),
            sources,
        };
        let f = Folder {
            id,
            owner: owner.clone(),
            dir,
            st: Mutex::new(st),
            changed: tokio::sync::Notify::new(),
            version: AtomicU64::new(l.highest_modseq),
            headers: Mutex::new(HeaderCache::default()),
        };
        // An index appended to many times is in many pieces of log; one rewrite makes reading
        // it at the next open a single read.
        if info.extents > 256 {
            let mut st = f.lock();
            f.compact(sfs, &mut st)?;
        }
        Ok(f)
    }

    /// The work-unit steps that create a folder's directory and empty index.
    pub fn create_in(
        pool: &vm::sfs::Pool,
        who: &UserId,
        t: &mut vm::sfs::Txn<'_>,
        dir: &DirPath,
        uidvalidity: u32,
    ) -> Result<(), DmsError> {
        pool.create_dir_in(t, who, dir, vm::sfs::Control::File)?;
        let idx = pool.stage_content(&records(vec![index::header(uidvalidity, 1, 1)]))?;
        pool.put_in(t, who, dir, INDEX_FILE.0, INDEX_FILE.1, idx, true)
    }

    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, FolderState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The highest MODSEQ, without locking.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// A future that completes at the next change (enable it before checking [`Folder::version`]).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    fn publish(&self, st: &FolderState) {
        self.version.store(st.modseq, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Marks the folder deleted and wakes its sessions.
    pub fn mark_deleted(&self) {
        let mut st = self.lock();
        st.deleted = true;
        st.modseq = st.next_modseq();
        self.publish(&st);
    }

    /// Reads a message; `None` if it is gone (expunged by another session).
    pub fn read(&self, sfs: &SfsClient, uid: u32) -> Result<Option<Vec<u8>>, StoreError> {
        match sfs.read_file(&self.dir, &msg_name(uid), MSG_TYPE) {
            Ok((_, Content::Stream(b))) => Ok(Some(b)),
            Ok(_) => Err(StoreError::Corrupt(format!(
                "message {uid} is not a stream file"
            ))),
            Err(DmsError::FileNotFound(_)) | Err(DmsError::DirNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A message's header block (kept in a cache: SEARCH on header fields and ENVELOPE or
    /// header FETCHes need nothing else); `None` if the message is gone.
    pub fn header(
        &self,
        sfs: &SfsClient,
        uid: u32,
    ) -> Result<Option<std::sync::Arc<[u8]>>, StoreError> {
        if let Some(h) = self
            .headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .get(&uid)
        {
            return Ok(Some(h.clone()));
        }
        let probe = match sfs.read_range(&self.dir, &msg_name(uid), MSG_TYPE, 0, HEADER_PROBE) {
            Ok(b) => b,
            Err(DmsError::FileNotFound(_)) | Err(DmsError::DirNotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let h: std::sync::Arc<[u8]> = match header_end(&probe) {
            Some(end) => probe[..end].into(),
            None if (probe.len() as u64) < HEADER_PROBE => probe.into(),
            None => match self.read(sfs, uid)? {
                Some(all) => {
                    let end = header_end(&all).unwrap_or(all.len());
                    all[..end].into()
                }
                None => return Ok(None),
            },
        };
        self.headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put(uid, h.clone());
        Ok(Some(h))
    }

    /// The decoded header fields SEARCH FROM/TO/CC/BCC/SUBJECT match, cached with the header;
    /// `None` if the message is gone.
    pub fn search_fields(
        &self,
        sfs: &SfsClient,
        uid: u32,
    ) -> Result<Option<std::sync::Arc<crate::mime::SearchFields>>, StoreError> {
        if let Some(f) = self
            .headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fields
            .get(&uid)
        {
            return Ok(Some(f.clone()));
        }
        let Some(h) = self.header(sfs, uid)? else {
            return Ok(None);
        };
        let f = std::sync::Arc::new(crate::mime::SearchFields::of(&crate::mime::Message::parse(
            &h,
        )));
        self.headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put_fields(uid, f.clone());
        Ok(Some(f))
    }

    /// Appends messages (MULTIAPPEND: all or none); returns their UIDs once durable.
    pub fn append(&self, sfs: &SfsClient, msgs: Vec<NewMsg>) -> Result<Vec<u32>, StoreError> {
        let mut staged = Vec::with_capacity(msgs.len());
        let mut metas = Vec::with_capacity(msgs.len());
        for m in msgs {
            metas.push((m.data.len() as u64, m.flags, m.keywords, m.date, m.source));
            staged.push(sfs.stage_bytes(m.data)?);
        }
        let mut st = self.lock();
        if st.deleted {
            return Err(StoreError::Gone);
        }
        if (st.uidnext as u64) + metas.len() as u64 >= u32::MAX as u64 {
            return Err(StoreError::Limit(
                "[LIMIT] This mailbox has used up its UIDs".into(),
            ));
        }
        let saved_keywords = st.keywords.clone();
        let first = st.uidnext;
        let modseq = st.next_modseq();
        let mut recs = Vec::new();
        let mut new = Vec::with_capacity(metas.len());
        for (i, (size, flags, kws, date, source)) in metas.into_iter().enumerate() {
            let keywords = match st.keyword_bits(&kws, &mut recs) {
                Ok(b) => b,
                Err(e) => {
                    st.keywords = saved_keywords;
                    return Err(e);
                }
            };
            let m = Msg {
                uid: first + i as u32,
                flags,
                keywords,
                size,
                date,
                modseq,
                source,
            };
            recs.push(IdxRec::Add(m.rec()).encode());
            new.push(m);
        }
        let uids: Vec<u32> = new.iter().map(|m| m.uid).collect();
        let nrec = recs.len() as u64;
        let res = sfs.work_nowait(|pool, who, t| {
            for (uid, data) in uids.iter().zip(staged) {
                pool.put_in(t, who, &self.dir, &msg_name(*uid), MSG_TYPE, data, true)?;
            }
            let idx = pool.stage_content(&records(recs))?;
            pool.append_in(t, who, &self.dir, INDEX_FILE.0, INDEX_FILE.1, idx)
        });
        let seq = match res {
            Ok(((), seq)) => seq,
            Err(e) => {
                st.keywords = saved_keywords;
                return Err(e.into());
            }
        };
        st.uidnext = first + uids.len() as u32;
        st.records += nrec;
        st.pending.push_back(Pending {
            seq,
            modseq,
            msgs: new,
        });
        drop(st);
        let durable = sfs.wait_durable(seq);
        let mut st = self.lock();
        if let Err(e) = durable {
            st.pending.retain(|p| p.seq != seq);
            return Err(e.into());
        }
        st.publish_upto(seq);
        self.publish(&st);
        Ok(uids)
    }

    /// Writes index records (and any other steps) in one unit and waits for it, holding the lock;
    /// then publishes pending appends the unit's durability covers.
    fn commit_locked(
        &self,
        sfs: &SfsClient,
        st: &mut FolderState,
        recs: Vec<Vec<u8>>,
        extra: impl FnOnce(&vm::sfs::Pool, &UserId, &mut vm::sfs::Txn<'_>) -> Result<(), DmsError>,
    ) -> Result<(), StoreError> {
        let n = recs.len() as u64;
        let ((), seq) = sfs.work_nowait(|pool, who, t| {
            extra(pool, who, t)?;
            if !recs.is_empty() {
                let idx = pool.stage_content(&records(recs))?;
                pool.append_in(t, who, &self.dir, INDEX_FILE.0, INDEX_FILE.1, idx)?;
            }
            Ok(())
        })?;
        sfs.wait_durable(seq)?;
        st.records += n;
        st.publish_upto(seq);
        Ok(())
    }

    /// STORE: changes the flags of the messages with these UIDs (those still here) unless their
    /// MODSEQ is above `unchanged_since`. Returns the UIDs whose flags changed, those refused
    /// by `unchanged_since`, and the folder's MODSEQ before and after the change.
    pub fn store(
        &self,
        sfs: &SfsClient,
        uids: &[u32],
        mode: FlagMode,
        flags: u8,
        keywords: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<Stored, StoreError> {
        let mut st = self.lock();
        if st.deleted {
            return Err(StoreError::Gone);
        }
        let saved_keywords = st.keywords.clone();
        let mut recs = Vec::new();
        let kbits = match mode {
            FlagMode::Remove => keywords
                .iter()
                .filter_map(|k| st.keyword(k))
                .fold(0u64, |b, i| b | (1 << i)),
            _ => st.keyword_bits(keywords, &mut recs)?,
        };
        let mut changes = Vec::new();
        let mut refused = Vec::new();
        for &u in uids {
            let Some(i) = st.pos(u) else { continue };
            let m = st.msgs[i];
            if unchanged_since.is_some_and(|s| m.modseq > s) {
                refused.push(u);
                continue;
            }
            let (f, k) = match mode {
                FlagMode::Set => (flags, kbits),
                FlagMode::Add => (m.flags | flags, m.keywords | kbits),
                FlagMode::Remove => (m.flags & !flags, m.keywords & !kbits),
            };
            if (f, k) != (m.flags, m.keywords) {
                changes.push((u, f, k));
            }
        }
        let before = st.modseq;
        if changes.is_empty() {
            st.keywords = saved_keywords;
            return Ok(Stored {
                changed: Vec::new(),
                refused,
                before,
                after: before,
            });
        }
        let ms = st.next_modseq();
        recs.extend(
            changes
                .chunks(PER_RECORD)
                .map(|c| IdxRec::Flags(ms, c.to_vec()).encode()),
        );
        if let Err(e) = self.commit_locked(sfs, &mut st, recs, |_, _, _| Ok(())) {
            st.keywords = saved_keywords;
            return Err(e);
        }
        st.modseq = ms;
        for (u, f, k) in &changes {
            if let Some(i) = st.pos(*u) {
                let m = &mut st.msgs[i];
                m.flags = *f;
                m.keywords = *k;
                m.modseq = ms;
            }
        }
        self.maybe_compact(sfs, &mut st);
        self.publish(&st);
        Ok(Stored {
            changed: changes.into_iter().map(|c| c.0).collect(),
            refused,
            before,
            after: st.modseq,
        })
    }

    /// EXPUNGE: removes the messages flagged `\Deleted` (only those in `only`, for UID EXPUNGE).
    /// Returns the UIDs removed.
    pub fn expunge(&self, sfs: &SfsClient, only: Option<&[u32]>) -> Result<Vec<u32>, StoreError> {
        let mut st = self.lock();
        if st.deleted {
            return Err(StoreError::Gone);
        }
        let gone: Vec<u32> = st
            .msgs
            .iter()
            .filter(|m| m.flags & index::flag::DELETED != 0)
            .filter(|m| only.is_none_or(|o| o.binary_search(&m.uid).is_ok()))
            .map(|m| m.uid)
            .collect();
        if gone.is_empty() {
            return Ok(gone);
        }
        self.remove_locked(sfs, &mut st, &gone)?;
        self.maybe_compact(sfs, &mut st);
        self.publish(&st);
        Ok(gone)
    }

    fn remove_locked(
        &self,
        sfs: &SfsClient,
        st: &mut FolderState,
        gone: &[u32],
    ) -> Result<(), StoreError> {
        let ms = st.next_modseq();
        let recs = chunks(gone, |c| IdxRec::Expunge(ms, c));
        let dir = self.dir.clone();
        self.commit_locked(sfs, st, recs, |pool, who, t| {
            for u in gone {
                match pool.erase_in(t, who, &dir, &msg_name(*u), MSG_TYPE) {
                    // A file already missing is no reason to keep the index entry.
                    Err(DmsError::FileNotFound(_)) => {}
                    r => r?,
                }
            }
            Ok(())
        })?;
        st.modseq = ms;
        let set: HashSet<u32> = gone.iter().copied().collect();
        let mut srcs = Vec::new();
        st.msgs.retain(|m| {
            let keep = !set.contains(&m.uid);
            if !keep && m.source != 0 {
                srcs.push(m.source);
            }
            keep
        });
        for s in srcs {
            st.sources.remove(&s);
        }
        st.log_expunges(gone);
        Ok(())
    }

    /// COPY or MOVE of the messages with these UIDs (those still here) to `dst`, in one unit:
    /// message files are copied without copying data (or moved), the target's index gains them
    /// and, for MOVE, the source's loses them. Returns (source UID, new UID) pairs.
    pub fn copy_to(
        &self,
        dst: &Folder,
        sfs: &SfsClient,
        uids: &[u32],
        mv: bool,
    ) -> Result<Vec<(u32, u32)>, StoreError> {
        if std::ptr::eq(self, dst) {
            let mut st = self.lock();
            return self.copy_locked(None, &mut st, None, sfs, uids, mv);
        }
        // Lock in folder-number order so two opposite copies cannot deadlock.
        if self.id < dst.id {
            let mut s = self.lock();
            let mut d = dst.lock();
            self.copy_locked(Some(dst), &mut s, Some(&mut d), sfs, uids, mv)
        } else {
            let mut d = dst.lock();
            let mut s = self.lock();
            self.copy_locked(Some(dst), &mut s, Some(&mut d), sfs, uids, mv)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn copy_locked(
        &self,
        dst: Option<&Folder>,
        src: &mut FolderState,
        dstate: Option<&mut FolderState>,
        sfs: &SfsClient,
        uids: &[u32],
        mv: bool,
    ) -> Result<Vec<(u32, u32)>, StoreError> {
        if src.deleted {
            return Err(StoreError::Gone);
        }
        let picked: Vec<Msg> = uids
            .iter()
            .filter_map(|u| src.pos(*u).map(|i| src.msgs[i]))
            .collect();
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        let src_kw = src.keywords.clone();
        let same = dstate.is_none();
        // MOVE to another folder: the expunge's MODSEQ in the source.
        let src_ms = if mv && !same { src.next_modseq() } else { 0 };
        let target = dst.unwrap_or(self);
        // The target's state: the other folder's, or (COPY/MOVE within one folder) the same.
        let d: &mut FolderState = match dstate {
            Some(d) => d,
            None => &mut *src,
        };
        if d.deleted {
            return Err(StoreError::Gone);
        }
        if (d.uidnext as u64) + picked.len() as u64 >= u32::MAX as u64 {
            return Err(StoreError::Limit(
                "[LIMIT] The target mailbox has used up its UIDs".into(),
            ));
        }
        let saved = d.keywords.clone();
        let dst_ms = d.next_modseq();
        // MOVE within the folder: the copies first, then the expunge.
        let src_ms = if mv && same { d.next_modseq() } else { src_ms };
        let mut drecs = Vec::new();
        let mut added = Vec::with_capacity(picked.len());
        for (i, m) in picked.iter().enumerate() {
            let names: Vec<String> = src_kw
                .iter()
                .enumerate()
                .filter(|(b, k)| m.keywords & (1u64 << b) != 0 && !k.is_empty())
                .map(|(_, k)| k.clone())
                .collect();
            let kb = match d.keyword_bits(&names, &mut drecs) {
                Ok(b) => b,
                Err(e) => {
                    d.keywords = saved;
                    return Err(e);
                }
            };
            let n = Msg {
                uid: d.uidnext + i as u32,
                keywords: kb,
                source: 0,
                modseq: dst_ms,
                ..*m
            };
            drecs.push(IdxRec::Add(n.rec()).encode());
            added.push(n);
        }
        let pairs: Vec<(u32, u32)> = picked
            .iter()
            .zip(&added)
            .map(|(a, b)| (a.uid, b.uid))
            .collect();
        let gone: Vec<u32> = picked.iter().map(|m| m.uid).collect();
        let (src_dir, dst_dir) = (&self.dir, &target.dir);
        let n_drecs = drecs.len() as u64;
        let srecs = if mv {
            chunks(&gone, |c| IdxRec::Expunge(src_ms, c))
        } else {
            Vec::new()
        };
        let n_srecs = srecs.len() as u64;
        let unit = sfs.work_nowait(|pool, who, t| {
            for (a, b) in &pairs {
                let (a, b) = (msg_name(*a), msg_name(*b));
                if mv && !same {
                    pool.rename_in(t, who, src_dir, &a, MSG_TYPE, dst_dir, &b, MSG_TYPE)?;
                } else {
                    pool.copy_in(t, who, src_dir, &a, MSG_TYPE, dst_dir, &b, MSG_TYPE)?;
                }
            }
            if mv && same {
                for a in &gone {
                    pool.erase_in(t, who, src_dir, &msg_name(*a), MSG_TYPE)?;
                }
            }
            let idx = pool.stage_content(&records(drecs))?;
            pool.append_in(t, who, dst_dir, INDEX_FILE.0, INDEX_FILE.1, idx)?;
            if !srecs.is_empty() {
                let idx = pool.stage_content(&records(srecs))?;
                pool.append_in(t, who, src_dir, INDEX_FILE.0, INDEX_FILE.1, idx)?;
            }
            Ok(())
        });
        let seq = match unit.map_err(StoreError::from).and_then(|((), seq)| {
            sfs.wait_durable(seq)?;
            Ok(seq)
        }) {
            Ok(seq) => seq,
            Err(e) => {
                d.keywords = saved;
                return Err(e);
            }
        };
        d.publish_upto(seq);
        d.records += n_drecs;
        d.uidnext += added.len() as u32;
        d.modseq = d.modseq.max(dst_ms);
        d.msgs.extend(added);
        target.publish(d);
        if mv {
            // Appends to the source logged before this unit are durable with it: publish them
            // first, so that they are not hidden under the expunge's MODSEQ.
            src.publish_upto(seq);
            src.records += n_srecs;
            src.modseq = src.modseq.max(src_ms);
            let set: HashSet<u32> = gone.iter().copied().collect();
            src.msgs.retain(|m| !set.contains(&m.uid));
            src.log_expunges(&gone);
            self.publish(src);
        }
        Ok(pairs)
    }

    fn maybe_compact(&self, sfs: &SfsClient, st: &mut FolderState) {
        if st.pending.is_empty()
            && st.records > 2 * st.msgs.len() as u64 + 256
            && let Err(e) = self.compact(sfs, st)
        {
            tracing::warn!(folder = %self.dir.display(), error = %e, "index rewrite failed");
        }
    }

    /// Rewrites the index as a header and one record per message.
    fn compact(&self, sfs: &SfsClient, st: &mut FolderState) -> Result<(), StoreError> {
        if !st.pending.is_empty() {
            return Ok(());
        }
        let recs = index::snapshot(
            st.uidvalidity,
            st.uidnext,
            st.modseq,
            &st.keywords,
            st.msgs.iter().map(|m| m.rec()),
        );
        let n = recs.len() as u64;
        let data = sfs.stage(&records(recs))?;
        let dir = self.dir.clone();
        sfs.work(|pool, who, t| {
            pool.put_in(t, who, &dir, INDEX_FILE.0, INDEX_FILE.1, data, false)
        })?;
        st.records = n;
        Ok(())
    }
}
