//! Building blocks of a work unit: each checks the caller's authority and applies one change to
//! the [`Txn`], so a server that needs several changes to land together (a message file and the
//! index record that names it; a file moved between folders and both indexes) composes them in
//! one [`Pool::commit`]. Data is staged first, outside the unit, because large files go to the
//! log as chunks before the operation that references them.

use spool::UserId;

use super::{
    catalog::{Extent, Format, Op},
    errors::DmsError,
    ids::DirPath,
    pool::{Content, Pool, Txn},
};

/// A file's data, staged for a work unit: its shape and where its bytes are (or the bytes to
/// store inline with the operation).
#[derive(Debug)]
pub struct Staged {
    format: Format,
    lrecl: u32,
    records: u64,
    bytes: u64,
    extents: Vec<Extent>,
    inline: Option<Vec<u8>>,
}

impl Staged {
    /// Logical bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Pool {
    /// Stages a file's contents for a later work unit.
    pub fn stage_content(&self, content: &Content) -> Result<Staged, DmsError> {
        let (format, lrecl, records, bytes) = content.stats()?;
        let (extents, inline) = self.stage(content.encode())?;
        Ok(Staged {
            format,
            lrecl,
            records,
            bytes,
            extents,
            inline,
        })
    }

    /// Stages a byte stream (no copy of the data is made).
    pub fn stage_bytes(&self, data: Vec<u8>) -> Result<Staged, DmsError> {
        let bytes = data.len() as u64;
        let (extents, inline) = self.stage(data)?;
        Ok(Staged {
            format: Format::Stream,
            lrecl: 1,
            records: bytes,
            bytes,
            extents,
            inline,
        })
    }

    /// Copies a file in the unit without copying its data: the new file refers to the same
    /// pieces of log as the old one (they never change once written, and a log segment is kept
    /// while any file refers to it). The copy is charged to the target's owner like any file.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        to: &DirPath,
        new_fname: &str,
        new_ftype: &str,
    ) -> Result<(), DmsError> {
        let d = self.dir_of(t.cat(), path)?;
        let f = self.file_of(t.cat(), d, fname, ftype)?.clone();
        if !self
            .file_auth(t.cat(), who, &f)
            .has(super::catalog::Auth::READ)
        {
            return Err(DmsError::NotAuthorized(format!("{fname} {ftype}")));
        }
        let data = Staged {
            format: f.format,
            lrecl: f.lrecl,
            records: f.records,
            bytes: f.bytes,
            extents: f.extents.clone(),
            inline: None,
        };
        self.put_in(t, who, to, new_fname, new_ftype, data, true)
    }

    /// Creates (or, unless `create_only`, replaces) a file in the unit.
    #[allow(clippy::too_many_arguments)] // the CMS file identity (path, name, type) plus the transaction, caller and content
    pub fn put_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        data: Staged,
        create_only: bool,
    ) -> Result<(), DmsError> {
        let op = self.put_op(
            t,
            who,
            path,
            fname,
            ftype,
            data.format,
            data.lrecl,
            data.records,
            data.bytes,
            data.extents,
            create_only,
        )?;
        t.op(op, data.inline)
    }

    /// Appends to a file in the unit, creating it if it does not exist.
    pub fn append_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        data: Staged,
    ) -> Result<(), DmsError> {
        let d = self.dir_of(t.cat(), path)?;
        let Some(f) = self.file_of(t.cat(), d, fname, ftype).ok().cloned() else {
            return self.put_in(t, who, path, fname, ftype, data, true);
        };
        if !self
            .file_auth(t.cat(), who, &f)
            .has(super::catalog::Auth::WRITE)
        {
            return Err(DmsError::NotAuthorized(format!("{fname} {ftype}")));
        }
        if (f.format == Format::Stream) != (data.format == Format::Stream)
            || (f.format == Format::F
                && data.format == Format::F
                && f.lrecl != data.lrecl
                && f.records > 0)
        {
            return Err(DmsError::BadRecord(format!(
                "appending {:?} data to a {:?} file of LRECL {}",
                data.format, f.format, f.lrecl
            )));
        }
        t.op(
            Op::AppendFile {
                fileno: f.fileno,
                records: data.records,
                bytes: data.bytes,
                lrecl: data.lrecl,
                extents: data.extents,
                mtime: now(),
            },
            data.inline,
        )
    }

    /// Erases a file in the unit.
    pub fn erase_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<(), DmsError> {
        let op = self.erase_op(t.cat(), who, path, fname, ftype)?;
        t.op(op, None)
    }

    /// Renames or moves a file (within one owner's space) in the unit.
    #[allow(clippy::too_many_arguments)]
    pub fn rename_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        to: &DirPath,
        new_fname: &str,
        new_ftype: &str,
    ) -> Result<(), DmsError> {
        use super::catalog::Auth;
        let d = self.dir_of(t.cat(), path)?;
        let nd = self.dir_of(t.cat(), to)?;
        let f = self.file_of(t.cat(), d, fname, ftype)?.clone();
        if !(self.file_auth(t.cat(), who, &f).has(Auth::WRITE)
            && self.dir_auth(t.cat(), who, d).has(Auth::WRITE)
            && self.dir_auth(t.cat(), who, nd).has(Auth::WRITE))
        {
            return Err(DmsError::NotAuthorized(format!("renaming {fname} {ftype}")));
        }
        t.op(
            Op::RenameFile {
                fileno: f.fileno,
                dirno: nd,
                fname: new_fname.to_string(),
                ftype: new_ftype.to_string(),
            },
            None,
        )
    }

    /// Creates a directory in the unit (the owner or an administrator).
    pub fn create_dir_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
        control: super::catalog::Control,
    ) -> Result<(), DmsError> {
        let parent = path
            .parent()
            .ok_or_else(|| DmsError::DirExists(format!("{}:{}", self.name(), path.display())))?;
        let name = path.comps.last().cloned().unwrap_or_default();
        let p = self.dir_of(t.cat(), &parent)?;
        if &path.owner != who && !self.is_admin(who) {
            return Err(DmsError::NotAuthorized(format!(
                "creating directories in {}:{}",
                self.name(),
                parent.display()
            )));
        }
        let dirno = t.dirno();
        t.op(
            Op::CreateDir {
                dirno,
                parent: p,
                name,
                control,
            },
            None,
        )
        .map_err(|e| match e {
            DmsError::DirExists(_) => {
                DmsError::DirExists(format!("{}:{}", self.name(), path.display()))
            }
            other => other,
        })
    }

    /// Erases an empty directory in the unit (the owner or an administrator).
    pub fn erase_dir_in(
        &self,
        t: &mut Txn<'_>,
        who: &UserId,
        path: &DirPath,
    ) -> Result<(), DmsError> {
        let d = self.dir_of(t.cat(), path)?;
        if &path.owner != who && !self.is_admin(who) {
            return Err(DmsError::NotAuthorized(format!(
                "{}:{}",
                self.name(),
                path.display()
            )));
        }
        t.op(Op::EraseDir { dirno: d }, None).map_err(|e| match e {
            DmsError::DirNotEmpty(_) => {
                DmsError::DirNotEmpty(format!("{}:{}", self.name(), path.display()))
            }
            other => other,
        })
    }
}
