//! The catalog of a file pool: enrolled users and their block limits, directories, files (with
//! where their data lies), and authorities. Every change is an [`Op`]; [`Catalog::apply`] checks
//! it against the catalog, makes it, and returns an [`Undo`] so that a work unit whose later
//! operation fails can be taken back entirely.

use std::collections::{BTreeMap, HashMap};

use spool::UserId;

use super::errors::DmsError;

/// Size of an SFS block.
pub const BLOCK: u64 = 4096;

/// Authority bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Auth(pub u8);

impl Auth {
    /// Read a file, or list a directory.
    pub const READ: Auth = Auth(1);
    /// Write a file, or create and erase files in a directory.
    pub const WRITE: Auth = Auth(2);
    /// Directories: READ on files created later.
    pub const NEWREAD: Auth = Auth(4);
    /// Directories: WRITE on files created later.
    pub const NEWWRITE: Auth = Auth(8);

    /// Whether all bits of `o` are set.
    pub fn has(self, o: Auth) -> bool {
        self.0 & o.0 == o.0 && o.0 != 0
    }
    /// Union.
    pub fn with(self, o: Auth) -> Auth {
        Auth(self.0 | o.0)
    }
    /// Difference.
    pub fn without(self, o: Auth) -> Auth {
        Auth(self.0 & !o.0)
    }
    /// No bits.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Names of the bits, as QUERY AUTHORITY shows them.
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (b, n) in [
            (Auth::READ, "READ"),
            (Auth::WRITE, "WRITE"),
            (Auth::NEWREAD, "NEWREAD"),
            (Auth::NEWWRITE, "NEWWRITE"),
        ] {
            if self.has(b) {
                v.push(n);
            }
        }
        v
    }
}

/// Who an authority is granted to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// Everyone.
    Public,
    /// One user.
    User(UserId),
}

/// Directory control: authority per file, or per directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// FILECONTROL: files carry their own authorities (the default).
    File,
    /// DIRCONTROL: the directory's authority covers its files.
    Dir,
}

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Fixed-length records.
    F,
    /// Variable-length records.
    V,
    /// A byte stream (mail bodies).
    Stream,
}

/// Where a piece of a file's data lies in the pool's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    /// Log segment.
    pub seg: u32,
    /// Offset in it.
    pub off: u64,
    /// Length.
    pub len: u64,
    /// CRC-32 of the bytes.
    pub crc: u32,
}

/// A file in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// File number (never reused).
    pub fileno: u64,
    /// Its directory.
    pub dirno: u64,
    /// File name.
    pub fname: String,
    /// File type.
    pub ftype: String,
    /// Format.
    pub format: Format,
    /// Record length (F), longest record (V), 1 (stream).
    pub lrecl: u32,
    /// Records (stream: bytes).
    pub records: u64,
    /// Logical size in bytes (record data or stream bytes).
    pub bytes: u64,
    /// The data, in order. Record files store each record as a u32 length and its bytes.
    pub extents: Vec<Extent>,
    /// Last written (seconds since the epoch).
    pub mtime: i64,
    /// Authorities granted on the file.
    pub grants: BTreeMap<Grantee, Auth>,
    /// Log sequence number of the last change (for waiting on durability).
    pub seq: u64,
}

impl FileMeta {
    /// Blocks the file occupies.
    pub fn blocks(&self) -> u64 {
        blocks(self.bytes)
    }
}

/// Blocks for `bytes` of data: at least one per file.
pub fn blocks(bytes: u64) -> u64 {
    bytes.div_ceil(BLOCK).max(1)
}

/// A directory in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    /// Directory number.
    pub dirno: u64,
    /// Owner of the file space it is in.
    pub owner: UserId,
    /// Parent directory (`None` for a top directory).
    pub parent: Option<u64>,
    /// Its name in the parent (empty for a top directory).
    pub name: String,
    /// FILECONTROL or DIRCONTROL.
    pub control: Control,
    /// Authorities granted on the directory.
    pub grants: BTreeMap<Grantee, Auth>,
    /// Files by (name, type).
    pub files: BTreeMap<(String, String), u64>,
    /// Subdirectories by name.
    pub subdirs: BTreeMap<String, u64>,
    /// Log sequence number of the last change to it or its list of files.
    pub seq: u64,
}

/// An enrolled user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Block limit.
    pub limit: u64,
    /// Blocks in use.
    pub used: u64,
    /// The top directory.
    pub top: u64,
    /// Log sequence number of the last change.
    pub seq: u64,
}

/// What a grant or revoke applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A directory.
    Dir(u64),
    /// A file.
    File(u64),
}

/// One change to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// ENROLL USER: a file space with a block limit and a top directory.
    Enroll {
        /// The user.
        user: UserId,
        /// Block limit.
        blocks: u64,
        /// Number of the new top directory.
        top: u64,
    },
    /// MODIFY USER: a new block limit.
    Modify {
        /// The user.
        user: UserId,
        /// New limit.
        blocks: u64,
    },
    /// DELETE USER: the file space and everything in it.
    DeleteUser {
        /// The user.
        user: UserId,
    },
    /// CREATE DIRECTORY.
    CreateDir {
        /// Number of the new directory.
        dirno: u64,
        /// Parent.
        parent: u64,
        /// Name.
        name: String,
        /// Control.
        control: Control,
    },
    /// ERASE DIRECTORY (must be empty).
    EraseDir {
        /// The directory.
        dirno: u64,
    },
    /// RENAME DIRECTORY (within its parent).
    RenameDir {
        /// The directory.
        dirno: u64,
        /// New name.
        name: String,
    },
    /// Creates or replaces a file.
    PutFile {
        /// The new file's number.
        fileno: u64,
        /// Directory.
        dirno: u64,
        /// Name.
        fname: String,
        /// Type.
        ftype: String,
        /// Format.
        format: Format,
        /// LRECL.
        lrecl: u32,
        /// Records.
        records: u64,
        /// Logical bytes.
        bytes: u64,
        /// Data.
        extents: Vec<Extent>,
        /// Time written.
        mtime: i64,
        /// Fail if a file of this name exists.
        create_only: bool,
    },
    /// Appends records (or bytes) to a file.
    AppendFile {
        /// The file.
        fileno: u64,
        /// Records added.
        records: u64,
        /// Bytes added.
        bytes: u64,
        /// New LRECL.
        lrecl: u32,
        /// Data added.
        extents: Vec<Extent>,
        /// Time written.
        mtime: i64,
    },
    /// ERASE of a file.
    EraseFile {
        /// The file.
        fileno: u64,
    },
    /// RENAME of a file (to another directory of the same owner, or another name).
    RenameFile {
        /// The file.
        fileno: u64,
        /// New directory.
        dirno: u64,
        /// New name.
        fname: String,
        /// New type.
        ftype: String,
    },
    /// GRANT AUTHORITY.
    Grant {
        /// On what.
        target: Target,
        /// To whom.
        grantee: Grantee,
        /// Which bits.
        auth: Auth,
    },
    /// REVOKE AUTHORITY.
    Revoke {
        /// On what.
        target: Target,
        /// From whom.
        grantee: Grantee,
        /// Which bits.
        auth: Auth,
    },
    /// Moves a file's data (compaction); nothing else changes.
    Relocate {
        /// The file.
        fileno: u64,
        /// New extents.
        extents: Vec<Extent>,
    },
}

/// How to take back one applied [`Op`].
#[derive(Debug)]
pub enum Undo {
    /// Remove a user that was enrolled (and its top directory).
    Unenroll(UserId, u64),
    /// Restore a user record.
    User(UserId, User),
    /// Restore a deleted user with everything in its space and the grants that were removed.
    Restore {
        /// The user.
        user: UserId,
        /// Its record.
        rec: User,
        /// Its directories.
        dirs: Vec<Dir>,
        /// Its files.
        files: Vec<FileMeta>,
        /// Grants to it on others' objects.
        grants: Vec<(Target, Auth)>,
    },
    /// Remove a created directory.
    Uncreate(u64),
    /// Restore an erased or renamed directory.
    Dir(Dir),
    /// Remove a created file and restore the one it replaced; give back the blocks.
    Unput {
        /// New file.
        fileno: u64,
        /// Replaced file.
        old: Option<FileMeta>,
    },
    /// Restore a file as it was (append, rename, relocate, grant, erase).
    File(FileMeta),
    /// Restore a directory's grants.
    DirGrants(u64, BTreeMap<Grantee, Auth>),
}

/// The catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Enrolled users.
    pub users: BTreeMap<UserId, User>,
    /// Directories by number.
    pub dirs: HashMap<u64, Dir>,
    /// Files by number.
    pub files: HashMap<u64, FileMeta>,
    /// Next directory number.
    pub next_dirno: u64,
    /// Next file number.
    pub next_fileno: u64,
}

fn name_of(c: &Catalog, dirno: u64) -> String {
    c.dir_key(dirno).unwrap_or_else(|| format!("#{dirno}"))
}

impl Catalog {
    /// A new, empty catalog.
    pub fn new() -> Catalog {
        Catalog {
            next_dirno: 1,
            next_fileno: 1,
            ..Default::default()
        }
    }

    /// A fresh directory number.
    pub fn alloc_dirno(&mut self) -> u64 {
        let n = self.next_dirno;
        self.next_dirno += 1;
        n
    }

    /// A fresh file number.
    pub fn alloc_fileno(&mut self) -> u64 {
        let n = self.next_fileno;
        self.next_fileno += 1;
        n
    }

    /// The path key `OWNER.A.B` of a directory.
    pub fn dir_key(&self, dirno: u64) -> Option<String> {
        let mut parts = Vec::new();
        let mut d = self.dirs.get(&dirno)?;
        loop {
            match d.parent {
                Some(p) => {
                    parts.push(d.name.clone());
                    d = self.dirs.get(&p)?;
                }
                None => {
                    parts.push(d.owner.to_string());
                    break;
                }
            }
        }
        parts.reverse();
        Some(parts.join("."))
    }

    /// Resolves a directory path to its number.
    pub fn resolve(&self, path: &super::ids::DirPath) -> Option<u64> {
        let mut d = self.users.get(&path.owner)?.top;
        for c in &path.comps {
            d = *self.dirs.get(&d)?.subdirs.get(c)?;
        }
        Some(d)
    }

    /// The owner of a directory's file space.
    pub fn owner_of(&self, dirno: u64) -> Option<&UserId> {
        self.dirs.get(&dirno).map(|d| &d.owner)
    }

    fn charge(&mut self, owner: &UserId, add: u64, sub: u64) -> Result<(), DmsError> {
        let u = self
            .users
            .get_mut(owner)
            .ok_or_else(|| DmsError::DirNotFound(format!("{owner}.")))?;
        let new = u.used + add - sub.min(u.used + add);
        if add > sub && new > u.limit {
            return Err(DmsError::QuotaExceeded {
                user: owner.to_string(),
                need: new,
                limit: u.limit,
            });
        }
        u.used = new;
        Ok(())
    }

    /// Applies one operation after checking it; returns how to undo it.
    pub fn apply(&mut self, op: &Op) -> Result<Undo, DmsError> {
        match op {
            Op::Enroll { user, blocks, top } => {
                if self.users.contains_key(user) {
                    return Err(DmsError::AlreadyEnrolled(user.to_string()));
                }
                self.users.insert(
                    user.clone(),
                    User {
                        limit: *blocks,
                        used: 0,
                        top: *top,
                        seq: 0,
                    },
                );
                self.dirs.insert(
                    *top,
                    Dir {
                        dirno: *top,
                        owner: user.clone(),
                        parent: None,
                        name: String::new(),
                        control: Control::File,
                        grants: BTreeMap::new(),
                        files: BTreeMap::new(),
                        subdirs: BTreeMap::new(),
                        seq: 0,
                    },
                );
                self.next_dirno = self.next_dirno.max(top + 1);
                Ok(Undo::Unenroll(user.clone(), *top))
            }
            Op::Modify { user, blocks } => {
                let u = self
                    .users
                    .get_mut(user)
                    .ok_or_else(|| DmsError::NotEnrolled {
                        user: user.to_string(),
                        pool: String::new(),
                    })?;
                let old = u.clone();
                u.limit = *blocks;
                Ok(Undo::User(user.clone(), old))
            }
            Op::DeleteUser { user } => {
                let rec = self
                    .users
                    .remove(user)
                    .ok_or_else(|| DmsError::NotEnrolled {
                        user: user.to_string(),
                        pool: String::new(),
                    })?;
                let dirnos: Vec<u64> = self
                    .dirs
                    .values()
                    .filter(|d| &d.owner == user)
                    .map(|d| d.dirno)
                    .collect();
                let mut dirs = Vec::new();
                let mut files = Vec::new();
                for dn in dirnos {
                    let d = self.dirs.remove(&dn).unwrap();
                    for f in d.files.values() {
                        if let Some(m) = self.files.remove(f) {
                            files.push(m);
                        }
                    }
                    dirs.push(d);
                }
                let g = Grantee::User(user.clone());
                let mut grants = Vec::new();
                for d in self.dirs.values_mut() {
                    if let Some(a) = d.grants.remove(&g) {
                        grants.push((Target::Dir(d.dirno), a));
                    }
                }
                for f in self.files.values_mut() {
                    if let Some(a) = f.grants.remove(&g) {
                        grants.push((Target::File(f.fileno), a));
                    }
                }
                Ok(Undo::Restore {
                    user: user.clone(),
                    rec,
                    dirs,
                    files,
                    grants,
                })
            }
            Op::CreateDir {
                dirno,
                parent,
                name,
                control,
            } => {
                let pkey = name_of(self, *parent);
                let p = self
                    .dirs
                    .get_mut(parent)
                    .ok_or_else(|| DmsError::DirNotFound(pkey.clone()))?;
                if p.subdirs.contains_key(name) {
                    return Err(DmsError::DirExists(format!("{pkey}.{name}")));
                }
                let depth = pkey.matches('.').count() + 1;
                if depth > super::ids::MAX_LEVELS {
                    return Err(DmsError::InvalidDirId(format!(
                        "{pkey}.{name}: more than 8 levels"
                    )));
                }
                p.subdirs.insert(name.clone(), *dirno);
                let owner = p.owner.clone();
                self.dirs.insert(
                    *dirno,
                    Dir {
                        dirno: *dirno,
                        owner,
                        parent: Some(*parent),
                        name: name.clone(),
                        control: *control,
                        grants: BTreeMap::new(),
                        files: BTreeMap::new(),
                        subdirs: BTreeMap::new(),
                        seq: 0,
                    },
                );
                self.next_dirno = self.next_dirno.max(dirno + 1);
                Ok(Undo::Uncreate(*dirno))
            }
            Op::EraseDir { dirno } => {
                let key = name_of(self, *dirno);
                let d = self
                    .dirs
                    .get(dirno)
                    .ok_or_else(|| DmsError::DirNotFound(key.clone()))?;
                let Some(parent) = d.parent else {
                    return Err(DmsError::NotAuthorized(format!(
                        "erasing the top directory {key}. (DELETE USER does that)"
                    )));
                };
                if !d.files.is_empty() || !d.subdirs.is_empty() {
                    return Err(DmsError::DirNotEmpty(key));
                }
                let d = self.dirs.remove(dirno).unwrap();
                if let Some(p) = self.dirs.get_mut(&parent) {
                    p.subdirs.remove(&d.name);
                }
                Ok(Undo::Dir(d))
            }
            Op::RenameDir { dirno, name } => {
                let key = name_of(self, *dirno);
                let d = self
                    .dirs
                    .get(dirno)
                    .cloned()
                    .ok_or_else(|| DmsError::DirNotFound(key.clone()))?;
                let Some(parent) = d.parent else {
                    return Err(DmsError::NotAuthorized(format!(
                        "renaming top directory {key}."
                    )));
                };
                let p = self.dirs.get_mut(&parent).unwrap();
                if p.subdirs.contains_key(name) {
                    return Err(DmsError::DirExists(name.clone()));
                }
                p.subdirs.remove(&d.name);
                p.subdirs.insert(name.clone(), *dirno);
                self.dirs.get_mut(dirno).unwrap().name = name.clone();
                Ok(Undo::Dir(d))
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
                let key = name_of(self, *dirno);
                let d = self
                    .dirs
                    .get(dirno)
                    .ok_or_else(|| DmsError::DirNotFound(key.clone()))?;
                let owner = d.owner.clone();
                let old_no = d.files.get(&(fname.clone(), ftype.clone())).copied();
                if *create_only && old_no.is_some() {
                    return Err(DmsError::FileExists(format!("{fname} {ftype} {key}")));
                }
                let old = old_no.and_then(|n| self.files.get(&n).cloned());
                let new_blocks = blocks(*bytes);
                // A replaced file keeps its authorities; a new one gets the directory's
                // NEWREAD/NEWWRITE holders.
                let grants = match &old {
                    Some(o) => o.grants.clone(),
                    None => d
                        .grants
                        .iter()
                        .filter_map(|(g, a)| {
                            let mut fa = Auth::default();
                            if a.has(Auth::NEWREAD) {
                                fa = fa.with(Auth::READ);
                            }
                            if a.has(Auth::NEWWRITE) {
                                fa = fa.with(Auth::WRITE);
                            }
                            (!fa.is_empty()).then(|| (g.clone(), fa))
                        })
                        .collect(),
                };
                self.charge(&owner, new_blocks, old.as_ref().map_or(0, |o| o.blocks()))?;
                if let Some(o) = &old {
                    self.files.remove(&o.fileno);
                }
                self.files.insert(
                    *fileno,
                    FileMeta {
                        fileno: *fileno,
                        dirno: *dirno,
                        fname: fname.clone(),
                        ftype: ftype.clone(),
                        format: *format,
                        lrecl: *lrecl,
                        records: *records,
                        bytes: *bytes,
                        extents: extents.clone(),
                        mtime: *mtime,
                        grants,
                        seq: 0,
                    },
                );
                self.dirs
                    .get_mut(dirno)
                    .unwrap()
                    .files
                    .insert((fname.clone(), ftype.clone()), *fileno);
                self.next_fileno = self.next_fileno.max(fileno + 1);
                Ok(Undo::Unput {
                    fileno: *fileno,
                    old,
                })
            }
            Op::AppendFile {
                fileno,
                records,
                bytes,
                lrecl,
                extents,
                mtime,
            } => {
                let f = self
                    .files
                    .get(fileno)
                    .cloned()
                    .ok_or_else(|| DmsError::FileNotFound(format!("#{fileno}")))?;
                let owner = self.owner_of(f.dirno).cloned().unwrap();
                let nb = blocks(f.bytes + bytes);
                self.charge(&owner, nb, f.blocks())?;
                let m = self.files.get_mut(fileno).unwrap();
                m.records += records;
                m.bytes += bytes;
                m.lrecl = (*lrecl).max(m.lrecl);
                m.extents.extend_from_slice(extents);
                m.mtime = *mtime;
                Ok(Undo::File(f))
            }
            Op::EraseFile { fileno } => {
                let f = self
                    .files
                    .remove(fileno)
                    .ok_or_else(|| DmsError::FileNotFound(format!("#{fileno}")))?;
                let owner = self.owner_of(f.dirno).cloned();
                if let Some(d) = self.dirs.get_mut(&f.dirno) {
                    d.files.remove(&(f.fname.clone(), f.ftype.clone()));
                }
                if let Some(o) = owner {
                    self.charge(&o, 0, f.blocks())?;
                }
                Ok(Undo::File(f))
            }
            Op::RenameFile {
                fileno,
                dirno,
                fname,
                ftype,
            } => {
                let f = self
                    .files
                    .get(fileno)
                    .cloned()
                    .ok_or_else(|| DmsError::FileNotFound(format!("#{fileno}")))?;
                let key = name_of(self, *dirno);
                let nd = self
                    .dirs
                    .get(dirno)
                    .ok_or_else(|| DmsError::DirNotFound(key.clone()))?;
                if self.owner_of(f.dirno) != Some(&nd.owner) {
                    return Err(DmsError::NotAuthorized(
                        "moving a file to another user's file space".into(),
                    ));
                }
                if nd.files.contains_key(&(fname.clone(), ftype.clone())) {
                    return Err(DmsError::FileExists(format!("{fname} {ftype} {key}")));
                }
                self.dirs
                    .get_mut(&f.dirno)
                    .unwrap()
                    .files
                    .remove(&(f.fname.clone(), f.ftype.clone()));
                self.dirs
                    .get_mut(dirno)
                    .unwrap()
                    .files
                    .insert((fname.clone(), ftype.clone()), *fileno);
                let m = self.files.get_mut(fileno).unwrap();
                m.dirno = *dirno;
                m.fname = fname.clone();
                m.ftype = ftype.clone();
                Ok(Undo::File(f))
            }
            Op::Grant {
                target,
                grantee,
                auth,
            }
            | Op::Revoke {
                target,
                grantee,
                auth,
            } => {
                let grant = matches!(op, Op::Grant { .. });
                let edit = |g: &mut BTreeMap<Grantee, Auth>| {
                    let cur = g.get(grantee).copied().unwrap_or_default();
                    let new = if grant {
                        cur.with(*auth)
                    } else {
                        cur.without(*auth)
                    };
                    if new.is_empty() {
                        g.remove(grantee);
                    } else {
                        g.insert(grantee.clone(), new);
                    }
                };
                match target {
                    Target::Dir(d) => {
                        let dir = self
                            .dirs
                            .get_mut(d)
                            .ok_or_else(|| DmsError::DirNotFound(format!("#{d}")))?;
                        let old = dir.grants.clone();
                        edit(&mut dir.grants);
                        Ok(Undo::DirGrants(*d, old))
                    }
                    Target::File(f) => {
                        let file = self
                            .files
                            .get_mut(f)
                            .ok_or_else(|| DmsError::FileNotFound(format!("#{f}")))?;
                        let old = file.clone();
                        edit(&mut file.grants);
                        Ok(Undo::File(old))
                    }
                }
            }
            Op::Relocate { fileno, extents } => {
                let f = self
                    .files
                    .get_mut(fileno)
                    .ok_or_else(|| DmsError::FileNotFound(format!("#{fileno}")))?;
                let old = f.clone();
                f.extents = extents.clone();
                Ok(Undo::File(old))
            }
        }
    }

    /// Takes back one applied operation (in reverse order of application).
    pub fn undo(&mut self, u: Undo) {
        match u {
            Undo::Unenroll(user, top) => {
                self.users.remove(&user);
                self.dirs.remove(&top);
            }
            Undo::User(user, rec) => {
                self.users.insert(user, rec);
            }
            Undo::Restore {
                user,
                rec,
                dirs,
                files,
                grants,
            } => {
                self.users.insert(user.clone(), rec);
                for d in dirs {
                    self.dirs.insert(d.dirno, d);
                }
                for f in files {
                    self.files.insert(f.fileno, f);
                }
                let g = Grantee::User(user);
                for (t, a) in grants {
                    match t {
                        Target::Dir(d) => {
                            if let Some(d) = self.dirs.get_mut(&d) {
                                d.grants.insert(g.clone(), a);
                            }
                        }
                        Target::File(f) => {
                            if let Some(f) = self.files.get_mut(&f) {
                                f.grants.insert(g.clone(), a);
                            }
                        }
                    }
                }
            }
            Undo::Uncreate(dirno) => {
                if let Some(d) = self.dirs.remove(&dirno)
                    && let Some(p) = d.parent.and_then(|p| self.dirs.get_mut(&p))
                {
                    p.subdirs.remove(&d.name);
                }
            }
            Undo::Dir(d) => {
                if let Some(p) = d.parent.and_then(|p| self.dirs.get_mut(&p)) {
                    p.subdirs.retain(|_, v| *v != d.dirno);
                    p.subdirs.insert(d.name.clone(), d.dirno);
                }
                self.dirs.insert(d.dirno, d);
            }
            Undo::Unput { fileno, old } => {
                if let Some(n) = self.files.remove(&fileno) {
                    if let Some(d) = self.dirs.get_mut(&n.dirno) {
                        d.files.remove(&(n.fname.clone(), n.ftype.clone()));
                    }
                    if let Some(o) = self.owner_of(n.dirno).cloned()
                        && let Some(u) = self.users.get_mut(&o)
                    {
                        u.used = (u.used + old.as_ref().map_or(0, |x| x.blocks()))
                            .saturating_sub(n.blocks());
                    }
                }
                if let Some(o) = old {
                    if let Some(d) = self.dirs.get_mut(&o.dirno) {
                        d.files.insert((o.fname.clone(), o.ftype.clone()), o.fileno);
                    }
                    self.files.insert(o.fileno, o);
                }
            }
            Undo::File(f) => {
                let cur = self.files.get(&f.fileno).cloned();
                let owner = self.owner_of(f.dirno).cloned();
                match &cur {
                    Some(c) => {
                        if let Some(d) = self.dirs.get_mut(&c.dirno) {
                            d.files.remove(&(c.fname.clone(), c.ftype.clone()));
                        }
                        if let Some(o) = &owner
                            && let Some(u) = self.users.get_mut(o)
                        {
                            u.used = (u.used + f.blocks()).saturating_sub(c.blocks());
                        }
                    }
                    None => {
                        if let Some(o) = &owner
                            && let Some(u) = self.users.get_mut(o)
                        {
                            u.used += f.blocks();
                        }
                    }
                }
                if let Some(d) = self.dirs.get_mut(&f.dirno) {
                    d.files.insert((f.fname.clone(), f.ftype.clone()), f.fileno);
                }
                self.files.insert(f.fileno, f);
            }
            Undo::DirGrants(d, g) => {
                if let Some(d) = self.dirs.get_mut(&d) {
                    d.grants = g;
                }
            }
        }
    }

    /// Whether `user` holds any authority anywhere in the pool (or PUBLIC does).
    pub fn holds_any_grant(&self, user: &UserId) -> bool {
        let g = Grantee::User(user.clone());
        self.dirs
            .values()
            .any(|d| d.grants.contains_key(&g) || d.grants.contains_key(&Grantee::Public))
            || self
                .files
                .values()
                .any(|f| f.grants.contains_key(&g) || f.grants.contains_key(&Grantee::Public))
    }

    /// Recomputes every user's blocks in use from the files (for checks).
    pub fn recount(&self) -> BTreeMap<UserId, u64> {
        let mut m: BTreeMap<UserId, u64> = self.users.keys().map(|u| (u.clone(), 0)).collect();
        for f in self.files.values() {
            if let Some(o) = self.owner_of(f.dirno) {
                *m.entry(o.clone()).or_default() += f.blocks();
            }
        }
        m
    }
}
