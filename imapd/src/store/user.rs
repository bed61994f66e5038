//! Users' mail: enrolment, the folder list, and the folders open in memory.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
};

use vm::{
    UserId,
    sfs::{Content, DirPath, DmsError, Format, Limits, SfsClient},
};

use super::{
    error::StoreError,
    folder::Folder,
    folders::{DEFAULT_FOLDERS, FolderEntry, FolderList, LIST_FILE, dir_name},
    names,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(1)
}

fn records(recs: Vec<Vec<u8>>) -> Content {
    Content::Records {
        format: Format::V,
        records: recs,
    }
}

/// Where the mailstore reports folders it refuses (the IMAP console).
pub type StoreLog = Arc<dyn Fn(&str) + Send + Sync>;

/// Reports folders refused for their index version, once per folder and run.
#[derive(Default)]
struct Refusals {
    log: Option<StoreLog>,
    seen: Mutex<HashSet<(UserId, u32)>>,
}

impl Refusals {
    fn report(&self, user: &UserId, id: u32, name: &str, e: &StoreError) {
        if !lock(&self.seen).insert((user.clone(), id)) {
            return;
        }
        let line = format!(
            "DTCIMA0240E Folder {name} ({}) of {user} refused: {e}",
            dir_name(id)
        );
        tracing::error!("{line}");
        if let Some(log) = &self.log {
            log(&line);
        }
    }
}

/// The mailstore: the IMAP machine's connection to the pool and the users loaded from it.
pub struct Mailstore {
    sfs: Arc<SfsClient>,
    users: Mutex<HashMap<UserId, Arc<UserStore>>>,
    refusals: Arc<Refusals>,
}

impl std::fmt::Debug for Mailstore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailstore({})", self.sfs.pool_name())
    }
}

impl Mailstore {
    /// A mailstore in the pool `sfs` is connected to (as its administrator).
    pub fn new(sfs: SfsClient) -> Mailstore {
        Mailstore {
            sfs: Arc::new(sfs),
            users: Mutex::new(HashMap::new()),
            refusals: Arc::new(Refusals::default()),
        }
    }

    /// Reports folders refused because of their index version (`DTCIMA0240E`) to `log` too.
    pub fn with_log(mut self, log: StoreLog) -> Mailstore {
        self.refusals = Arc::new(Refusals {
            log: Some(log),
            seen: Mutex::new(HashSet::new()),
        });
        self
    }

    /// The pool connection.
    pub fn sfs(&self) -> &SfsClient {
        &self.sfs
    }

    /// Enrols a user: an SFS file space of `blocks` (the pool's default if `None`) holding INBOX,
    /// Sent, Drafts, Trash and Junk, all subscribed.
    pub fn enroll(&self, user: &UserId, blocks: Option<u64>) -> Result<(), StoreError> {
        self.sfs.enroll(user, blocks)?;
        let top = DirPath::top(user.clone());
        let mut list = FolderList::default();
        let mut recs = vec![FolderList::header()];
        let mut made = Vec::new();
        for (name, special) in DEFAULT_FOLDERS {
            let e = FolderEntry {
                id: list.new_id(),
                name: name.to_string(),
                uidvalidity: list.new_uidvalidity(now()),
                special: *special,
            };
            recs.push(FolderList::rec_create(&e));
            recs.push(FolderList::rec_subscribe(name, true));
            made.push(e);
        }
        let res = self.sfs.work(|pool, who, t| {
            for e in &made {
                Folder::create_in(pool, who, t, &top.child(&dir_name(e.id)), e.uidvalidity)?;
            }
            let data = pool.stage_content(&records(recs))?;
            pool.put_in(t, who, &top, LIST_FILE.0, LIST_FILE.1, data, true)
        });
        if let Err(e) = res {
            // Leave no half-made user behind.
            let _ = self.sfs.delete_user(user);
            return Err(e.into());
        }
        lock(&self.users).remove(user);
        Ok(())
    }

    /// Deletes a user and all their mail; sessions with a folder open are told it is gone.
    pub fn delete(&self, user: &UserId) -> Result<(), StoreError> {
        let cached = lock(&self.users).remove(user);
        if let Some(u) = &cached {
            for f in lock(&u.open).values() {
                f.mark_deleted();
            }
        }
        self.sfs.delete_user(user)?;
        Ok(())
    }

    /// Whether a user is enrolled (has a folder list).
    pub fn is_enrolled(&self, user: &UserId) -> bool {
        self.sfs
            .stat(&DirPath::top(user.clone()), LIST_FILE.0, LIST_FILE.1)
            .is_ok()
    }

    /// Enrolled users and their space.
    pub fn enrolled(&self) -> Result<Vec<Limits>, StoreError> {
        Ok(self.sfs.query_enroll()?)
    }

    /// Space of one user.
    pub fn limits(&self, user: &UserId) -> Result<Limits, StoreError> {
        Ok(self.sfs.query_limits(user)?)
    }

    /// A user's mail (loading the folder list at first use).
    pub fn user(&self, user: &UserId) -> Result<Arc<UserStore>, StoreError> {
        if let Some(u) = lock(&self.users).get(user) {
            return Ok(u.clone());
        }
        let top = DirPath::top(user.clone());
        let (_, content) =
            self.sfs
                .read_file(&top, LIST_FILE.0, LIST_FILE.1)
                .map_err(|e| match e {
                    DmsError::FileNotFound(_)
                    | DmsError::NotEnrolled { .. }
                    | DmsError::DirNotFound(_) => StoreError::NotEnrolled(user.to_string()),
                    other => other.into(),
                })?;
        let Content::Records { records: recs, .. } = content else {
            return Err(StoreError::Corrupt(format!(
                "folder list of {user} is not a record file"
            )));
        };
        let list = FolderList::decode(&recs)
            .map_err(|b| StoreError::Corrupt(format!("folder list of {user}: {}", b.0)))?;
        let u = Arc::new(UserStore {
            user: user.clone(),
            top,
            sfs: self.sfs.clone(),
            list: Mutex::new(list),
            open: Mutex::new(HashMap::new()),
            refusals: self.refusals.clone(),
        });
        let mut g = lock(&self.users);
        Ok(g.entry(user.clone()).or_insert(u).clone())
    }

    /// Users loaded now, for QUERY.
    pub fn loaded(&self) -> Vec<UserId> {
        lock(&self.users).keys().cloned().collect()
    }
}

/// One user's folders.
pub struct UserStore {
    /// The user.
    pub user: UserId,
    top: DirPath,
    sfs: Arc<SfsClient>,
    list: Mutex<FolderList>,
    open: Mutex<HashMap<u32, Arc<Folder>>>,
    refusals: Arc<Refusals>,
}

impl std::fmt::Debug for UserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserStore({})", self.user)
    }
}

impl UserStore {
    /// The pool connection.
    pub fn sfs(&self) -> &SfsClient {
        &self.sfs
    }

    /// A copy of the folder list.
    pub fn list(&self) -> FolderList {
        lock(&self.list).clone()
    }

    /// The folder list entry of `name` (normalised).
    pub fn entry(&self, name: &str) -> Option<FolderEntry> {
        lock(&self.list).get(name).cloned()
    }

    /// Opens a folder by name (normalised), loading it at first use.
    pub fn folder(&self, name: &str) -> Result<Arc<Folder>, StoreError> {
        let e = self
            .entry(name)
            .ok_or_else(|| StoreError::NoMailbox(name.to_string()))?;
        self.folder_by_id(e.id).inspect_err(|err| {
            if let StoreError::Version(_) = err {
                self.refusals.report(&self.user, e.id, &e.name, err);
            }
        })
    }

    /// The open folder, loading it on first use. The load happens under the open-folder map's
    /// lock so that a folder has one instance: two loads racing would each read the index, and
    /// the loser's compaction (a rewrite of the index from what it read) could drop records
    /// the winner appended meanwhile.
    fn folder_by_id(&self, id: u32) -> Result<Arc<Folder>, StoreError> {
        let mut g = lock(&self.open);
        if let Some(f) = g.get(&id) {
            return Ok(f.clone());
        }
        let f = Arc::new(Folder::load(
            &self.sfs,
            &self.user,
            id,
            self.top.child(&dir_name(id)),
        )?);
        g.insert(id, f.clone());
        Ok(f)
    }

    /// Writes list records (rewriting the list when it has grown) and applies them.
    fn commit_list(
        &self,
        list: &mut FolderList,
        recs: Vec<Vec<u8>>,
        extra: impl FnOnce(&vm::sfs::Pool, &UserId, &mut vm::sfs::Txn<'_>) -> Result<(), DmsError>,
    ) -> Result<(), StoreError> {
        let mut next = list.clone();
        for r in &recs {
            next.apply(r)
                .map_err(|b| StoreError::Corrupt(format!("folder list record: {}", b.0)))?;
        }
        let rewrite = next.wants_compaction();
        let (content, replace) = if rewrite {
            (records(next.snapshot()), true)
        } else {
            (records(recs), false)
        };
        let top = self.top.clone();
        self.sfs.work(|pool, who, t| {
            extra(pool, who, t)?;
            let data = pool.stage_content(&content)?;
            if replace {
                pool.put_in(t, who, &top, LIST_FILE.0, LIST_FILE.1, data, false)
            } else {
                pool.append_in(t, who, &top, LIST_FILE.0, LIST_FILE.1, data)
            }
        })?;
        if rewrite {
            next.records = next.snapshot().len() as u64;
        }
        *list = next;
        Ok(())
    }

    /// CREATE.
    pub fn create(&self, name: &str, special: u8) -> Result<(), StoreError> {
        let mut list = lock(&self.list);
        if list.get(name).is_some() {
            return Err(StoreError::Exists(name.to_string()));
        }
        let e = FolderEntry {
            id: list.new_id(),
            name: name.to_string(),
            uidvalidity: list.new_uidvalidity(now()),
            special,
        };
        let dir = self.top.child(&dir_name(e.id));
        let uv = e.uidvalidity;
        self.commit_list(
            &mut list,
            vec![FolderList::rec_create(&e)],
            |pool, who, t| Folder::create_in(pool, who, t, &dir, uv),
        )
    }

    /// DELETE: the folder and its messages (INBOX cannot be deleted). Its children stay.
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        if name == "INBOX" {
            return Err(StoreError::Refused("INBOX cannot be deleted".into()));
        }
        let mut list = lock(&self.list);
        let e = list
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::NoMailbox(name.to_string()))?;
        let dir = self.top.child(&dir_name(e.id));
        let files = self.sfs.list(&dir).map(|l| l.files).unwrap_or_default();
        let open = lock(&self.open).get(&e.id).cloned();
        // Hold the folder still while it goes, so no append lands in a directory being erased.
        let guard = open.as_ref().map(|f| f.lock());
        self.commit_list(
            &mut list,
            vec![FolderList::rec_delete(e.id)],
            |pool, who, t| {
                for f in &files {
                    pool.erase_in(t, who, &dir, &f.fname, &f.ftype)?;
                }
                pool.erase_dir_in(t, who, &dir)
            },
        )?;
        drop(guard);
        if let Some(f) = lock(&self.open).remove(&e.id) {
            f.mark_deleted();
        }
        Ok(())
    }

    /// RENAME: the folder and every folder below it. Renaming INBOX moves its messages to a new
    /// folder and leaves INBOX empty (RFC 3501 §6.3.5).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), StoreError> {
        if to == "INBOX" {
            return Err(StoreError::Exists(to.to_string()));
        }
        if names::is_within(to, from) {
            return Err(StoreError::Refused(
                "Cannot rename a mailbox into itself".into(),
            ));
        }
        if from == "INBOX" {
            self.create(to, 0)?;
            let inbox = self.folder("INBOX")?;
            let target = self.folder(to)?;
            let uids: Vec<u32> = inbox.lock().msgs.iter().map(|m| m.uid).collect();
            inbox.copy_to(&target, &self.sfs, &uids, true)?;
            return Ok(());
        }
        let mut list = lock(&self.list);
        if list.get(from).is_none() {
            return Err(StoreError::NoMailbox(from.to_string()));
        }
        let moving: Vec<(u32, String)> = list
            .folders
            .values()
            .filter(|e| names::is_within(&e.name, from))
            .map(|e| (e.id, format!("{to}{}", &e.name[from.len()..])))
            .collect();
        for (_, n) in &moving {
            if list.get(n).is_some() {
                return Err(StoreError::Exists(n.clone()));
            }
        }
        let recs = moving
            .iter()
            .map(|(id, n)| FolderList::rec_rename(*id, n))
            .collect();
        self.commit_list(&mut list, recs, |_, _, _| Ok(()))
    }

    /// SUBSCRIBE / UNSUBSCRIBE.
    pub fn subscribe(&self, name: &str, on: bool) -> Result<(), StoreError> {
        let mut list = lock(&self.list);
        if list.subscribed.contains(name) == on {
            return Ok(());
        }
        self.commit_list(
            &mut list,
            vec![FolderList::rec_subscribe(name, on)],
            |_, _, _| Ok(()),
        )
    }
}
