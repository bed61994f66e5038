//! The in-memory spool state and the transaction through which every change is made.
//!
//! The state is rebuilt at IPL from the checkpoint and the journal. A [`Txn`] mutates it and records
//! one journal entry per change, so the journal order is exactly the order of the changes; the
//! store appends those entries before it releases the state lock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{
    DataRef, DevType, FileAttrs, Queue, SpoolError, SpoolFile, SpoolResult, UserId,
    codec::{CodecError, Dec, Enc, get_meta, put_meta, put_records},
};

/// The highest spoolid; ids run 0001–9999 per owner and then wrap.
pub const MAX_SPOOLID: u16 = 9999;

pub(crate) const E_CREATE: u8 = 1;
pub(crate) const E_UPDATE: u8 = 2;
pub(crate) const E_PURGE: u8 = 3;
pub(crate) const E_ALLOC: u8 = 4;

/// A file in the state, with the journal sequence number that made it durable-visible.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub file: SpoolFile,
    pub seq: u64,
}

/// One owner's spoolid space and queues.
#[derive(Debug, Default, Clone)]
pub(crate) struct Owner {
    pub ids: BTreeMap<u16, u64>,
    pub reserved: BTreeSet<u16>,
    pub last: u16,
    pub queues: [BTreeSet<(i64, u64)>; 3],
}

impl Owner {
    fn in_use(&self) -> usize {
        self.ids.len() + self.reserved.len()
    }

    /// The next free spoolid after `last`, wrapping 9999 → 0001 and skipping ids in use.
    fn next_free(&self) -> Option<u16> {
        let mut id = self.last;
        for _ in 0..MAX_SPOOLID {
            id = if id >= MAX_SPOOLID { 1 } else { id + 1 };
            if !self.ids.contains_key(&id) && !self.reserved.contains(&id) {
                return Some(id);
            }
        }
        None
    }
}

/// The whole spool in memory.
#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    pub files: HashMap<u64, Entry>,
    pub owners: HashMap<UserId, Owner>,
    pub next_sfid: u64,
    pub order_back: i64,
    pub order_front: i64,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            next_sfid: 1,
            order_back: 1,
            order_front: 0,
            ..Default::default()
        }
    }

    fn owner(&mut self, u: &UserId) -> &mut Owner {
        self.owners.entry(u.clone()).or_default()
    }

    fn index(&mut self, f: &SpoolFile) {
        let o = self.owner(&f.owner);
        o.ids.insert(f.spoolid, f.sfid);
        o.queues[f.queue as usize].insert((f.order, f.sfid));
    }

    fn unindex(&mut self, f: &SpoolFile) {
        if let Some(o) = self.owners.get_mut(&f.owner) {
            o.ids.remove(&f.spoolid);
            o.queues[f.queue as usize].remove(&(f.order, f.sfid));
        }
    }

    fn note_order(&mut self, order: i64) {
        self.order_back = self.order_back.max(order + 1);
        self.order_front = self.order_front.min(order - 1);
    }

    /// Applies one journal entry during recovery. `pos` is where the payload sits on disk.
    pub(crate) fn replay(
        &mut self,
        payload: &[u8],
        segment: u32,
        payload_offset: u64,
    ) -> Result<(), CodecError> {
        let mut d = Dec::new(payload);
        match d.u8()? {
            E_CREATE => {
                // Whether the spoolid was allocated with the file (not reserved earlier by an
                // open device file, whose allocation has its own entry).
                let fresh = d.u8()? == 1;
                let mut f = get_meta(&mut d)?;
                let blob_len = d.u64()?;
                let at = d.pos() as u64;
                d.take(blob_len as usize)?;
                f.data = DataRef {
                    segment,
                    offset: payload_offset + at,
                    len: blob_len,
                };
                self.next_sfid = self.next_sfid.max(f.sfid + 1);
                self.note_order(f.order);
                if let Some(old) = self.files.remove(&f.sfid) {
                    self.unindex(&old.file);
                }
                if fresh {
                    self.owner(&f.owner).last = f.spoolid;
                }
                self.index(&f);
                self.files.insert(f.sfid, Entry { file: f, seq: 0 });
            }
            E_UPDATE => {
                let mut f = get_meta(&mut d)?;
                let Some(old) = self.files.remove(&f.sfid) else {
                    return Err(CodecError(format!("update of unknown file {}", f.sfid)));
                };
                self.unindex(&old.file);
                f.data = old.file.data;
                self.note_order(f.order);
                if old.file.owner != f.owner || old.file.spoolid != f.spoolid {
                    self.owner(&f.owner).last = f.spoolid;
                }
                self.index(&f);
                self.files.insert(f.sfid, Entry { file: f, seq: 0 });
            }
            E_PURGE => {
                let sfid = d.u64()?;
                if let Some(old) = self.files.remove(&sfid) {
                    self.unindex(&old.file);
                }
            }
            E_ALLOC => {
                let owner = d.userid()?;
                let id = d.u16()?;
                self.owner(&owner).last = id;
            }
            k => return Err(CodecError(format!("unknown journal entry kind {k}"))),
        }
        Ok(())
    }

    /// Files of `owner` on `queue`, in processing order.
    pub(crate) fn queue(&self, owner: &UserId, queue: Queue) -> Vec<&SpoolFile> {
        match self.owners.get(owner) {
            Some(o) => o.queues[queue as usize]
                .iter()
                .filter_map(|(_, sfid)| self.files.get(sfid).map(|e| &e.file))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A new file to be created by [`Txn::create`].
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Owner (whose queue receives the file).
    pub owner: UserId,
    /// Queue it goes on.
    pub queue: Queue,
    /// Spoolid, allocated in the owner's space with [`Txn::alloc_spoolid`] or reserved earlier.
    pub spoolid: u16,
    /// ORIGINID.
    pub origin: UserId,
    /// Originating device type.
    pub origin_dev: DevType,
    /// Previous owner and spoolid, if the file was sent from another user's device.
    pub prev: Option<(UserId, u16)>,
    /// Attributes.
    pub attrs: FileAttrs,
    /// The records.
    pub records: Vec<Vec<u8>>,
}

/// A transaction over the spool state. Changes apply at once; each is also recorded as a journal
/// entry that the store makes durable before [`crate::Spool::transact`] returns.
pub struct Txn<'a> {
    pub(crate) st: &'a mut State,
    pub(crate) entries: Vec<Vec<u8>>,
    /// (sfid, index of its entry, offset of the record blob within the payload)
    pub(crate) created: Vec<(u64, usize, u64)>,
    pub(crate) touched: Vec<u64>,
    pub(crate) now: i64,
    pub(crate) durable_seq: u64,
    pub(crate) max_file_bytes: u64,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Txn({} entries)", self.entries.len())
    }
}

impl Txn<'_> {
    /// The current time (seconds since the epoch) used for creation stamps in this transaction.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The file `spoolid` of `owner`, if it exists.
    pub fn file(&self, owner: &UserId, spoolid: u16) -> Option<&SpoolFile> {
        let sfid = self.st.owners.get(owner)?.ids.get(&spoolid)?;
        self.st.files.get(sfid).map(|e| &e.file)
    }

    /// A file by its system number.
    pub fn by_sfid(&self, sfid: u64) -> Option<&SpoolFile> {
        self.st.files.get(&sfid).map(|e| &e.file)
    }

    /// Files of `owner` on `queue`, in processing order.
    pub fn queue(&self, owner: &UserId, queue: Queue) -> Vec<&SpoolFile> {
        self.st.queue(owner, queue)
    }

    /// Every owner that has files or a spoolid history.
    pub fn owners(&self) -> Vec<UserId> {
        let mut v: Vec<UserId> = self.st.owners.keys().cloned().collect();
        v.sort();
        v
    }

    /// Whether a file's creation is durable, so that it may be read and announced.
    pub fn visible(&self, sfid: u64) -> bool {
        self.st
            .files
            .get(&sfid)
            .is_some_and(|e| e.seq <= self.durable_seq)
    }

    /// How many spoolids `owner` has in use (files plus reservations of open device files).
    pub fn in_use(&self, owner: &UserId) -> usize {
        self.st.owners.get(owner).map_or(0, |o| o.in_use())
    }

    /// Allocates the next spoolid in `owner`'s space. `limit` is the owner's MAXSPOOL.
    pub fn alloc_spoolid(&mut self, owner: &UserId, limit: u16) -> SpoolResult<u16> {
        let o = self.st.owner(owner);
        if o.in_use() >= limit.min(MAX_SPOOLID) as usize {
            return Err(SpoolError::SpoolidLimit(owner.to_string()));
        }
        let id = o
            .next_free()
            .ok_or_else(|| SpoolError::SpoolidLimit(owner.to_string()))?;
        o.last = id;
        Ok(id)
    }

    /// Reserves a spoolid for a file being written on a virtual device: on CP a file has its
    /// spoolid from the moment the device opens it. The allocation is journaled (it need not be
    /// durable before the caller goes on: a file is only acknowledged at CLOSE), so the owner's
    /// spoolid sequence after a restart is the one before it.
    pub fn reserve_spoolid(&mut self, owner: &UserId, limit: u16) -> SpoolResult<u16> {
        let id = self.alloc_spoolid(owner, limit)?;
        self.st.owner(owner).reserved.insert(id);
        let mut e = Enc::default();
        e.u8(E_ALLOC);
        e.str(owner.as_str());
        e.u16(id);
        self.entries.push(e.buf);
        Ok(id)
    }

    /// Ends a reservation (the file was closed elsewhere, sent to another user, or purged). The id
    /// stays consumed in the owner's sequence.
    pub fn release_spoolid(&mut self, owner: &UserId, id: u16) {
        if let Some(o) = self.st.owners.get_mut(owner) {
            o.reserved.remove(&id);
        }
    }

    /// Creates a closed file. The spoolid must have been allocated (or reserved and released) in
    /// the owner's space.
    pub fn create(&mut self, nf: NewFile) -> SpoolResult<SpoolFile> {
        let bytes: u64 = nf.records.iter().map(|r| r.len() as u64 + 4).sum();
        if bytes > self.max_file_bytes {
            return Err(SpoolError::TooLarge(format!(
                "{bytes} bytes exceeds the spool file limit of {} bytes",
                self.max_file_bytes
            )));
        }
        let fresh = !self
            .st
            .owners
            .get_mut(&nf.owner)
            .is_some_and(|o| o.reserved.remove(&nf.spoolid));
        let sfid = self.st.next_sfid;
        self.st.next_sfid += 1;
        let order = self.st.order_back;
        self.st.order_back += 1;
        let f = SpoolFile {
            sfid,
            owner: nf.owner,
            queue: nf.queue,
            spoolid: nf.spoolid,
            origin: nf.origin,
            origin_dev: nf.origin_dev,
            prev: nf.prev,
            attrs: nf.attrs,
            created: self.now,
            records: nf.records.len() as u32,
            order,
            data: DataRef {
                segment: 0,
                offset: 0,
                len: bytes,
            },
        };
        let mut e = Enc::new(Vec::with_capacity(256 + bytes as usize));
        e.u8(E_CREATE);
        e.u8(fresh as u8);
        put_meta(&mut e, &f);
        e.u64(bytes);
        let at = e.buf.len() as u64;
        put_records(&mut e, &nf.records);
        self.created.push((sfid, self.entries.len(), at));
        self.entries.push(e.buf);
        self.st.index(&f);
        self.st.files.insert(
            sfid,
            Entry {
                file: f.clone(),
                seq: u64::MAX,
            },
        );
        self.touched.push(sfid);
        Ok(f)
    }

    /// Changes attributes of a file in place (CHANGE, HOLD/FREE). Owner, queue and spoolid are
    /// kept; use [`Txn::move_to`] to move a file.
    pub fn change(&mut self, sfid: u64, f: impl FnOnce(&mut FileAttrs)) -> Option<SpoolFile> {
        let entry = self.st.files.get_mut(&sfid)?;
        f(&mut entry.file.attrs);
        let file = entry.file.clone();
        self.log_update(&file);
        Some(file)
    }

    /// Moves a file to another owner and/or queue (TRANSFER, a reader file re-spooled). It gets a
    /// new spoolid in the new owner's space and goes to the end of the new queue.
    pub fn move_to(
        &mut self,
        sfid: u64,
        owner: &UserId,
        queue: Queue,
        limit: u16,
    ) -> SpoolResult<SpoolFile> {
        let old = self
            .st
            .files
            .get(&sfid)
            .map(|e| e.file.clone())
            .ok_or(SpoolError::NoSuchFile(0))?;
        let new_id = if &old.owner == owner {
            old.spoolid
        } else {
            self.alloc_spoolid(owner, limit)?
        };
        self.st.unindex(&old);
        let mut f = old.clone();
        if &old.owner != owner {
            f.prev = Some((old.owner.clone(), old.spoolid));
        }
        f.owner = owner.clone();
        f.queue = queue;
        f.spoolid = new_id;
        f.order = self.st.order_back;
        self.st.order_back += 1;
        self.st.index(&f);
        self.st.files.get_mut(&sfid).unwrap().file = f.clone();
        self.log_update(&f);
        Ok(f)
    }

    /// Moves the listed files, in the given order, to the head of their queues (ORDER).
    pub fn order_first(&mut self, sfids: &[u64]) {
        for sfid in sfids.iter().rev() {
            let Some(old) = self.st.files.get(sfid).map(|e| e.file.clone()) else {
                continue;
            };
            self.st.unindex(&old);
            let mut f = old;
            f.order = self.st.order_front;
            self.st.order_front -= 1;
            self.st.index(&f);
            self.st.files.get_mut(sfid).unwrap().file = f.clone();
            self.log_update(&f);
        }
    }

    /// Deletes a file.
    pub fn purge(&mut self, sfid: u64) -> Option<SpoolFile> {
        let old = self.st.files.remove(&sfid)?;
        self.st.unindex(&old.file);
        let mut e = Enc::default();
        e.u8(E_PURGE);
        e.u64(sfid);
        self.entries.push(e.buf);
        Some(old.file)
    }

    fn log_update(&mut self, f: &SpoolFile) {
        let mut e = Enc::default();
        e.u8(E_UPDATE);
        put_meta(&mut e, f);
        self.entries.push(e.buf);
        self.touched.push(f.sfid);
    }
}
