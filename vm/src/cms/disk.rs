//! CMS disks: what a file mode letter gives access to. A minidisk is a folder in the system's
//! DASD area holding one host file per CMS file.
//!
//! A CMS file on disk: `VMCMSFIL`, version u16, record format (`F`/`V`), mode number, LRECL u32,
//! record count u32, last-written time i64, then each record as a u32 length and its bytes.
//! Files are replaced atomically (temporary file, fsync, rename, directory fsync).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use spool::codec::{Dec, Enc};

/// Record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecFm {
    /// Fixed-length records.
    F,
    /// Variable-length records.
    V,
}

/// A CMS file in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmsFile {
    /// File name.
    pub fname: String,
    /// File type.
    pub ftype: String,
    /// Mode number (0–6).
    pub mode_num: u8,
    /// Record format.
    pub recfm: RecFm,
    /// Logical record length (the longest record for V).
    pub lrecl: u32,
    /// The records.
    pub records: Vec<Vec<u8>>,
    /// Last written, seconds since the epoch.
    pub mtime: i64,
}

/// A file's description without its records (for LISTFILE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// File name.
    pub fname: String,
    /// File type.
    pub ftype: String,
    /// Mode number.
    pub mode_num: u8,
    /// Record format.
    pub recfm: RecFm,
    /// LRECL.
    pub lrecl: u32,
    /// Records.
    pub records: u32,
    /// Bytes of data.
    pub bytes: u64,
    /// Last written.
    pub mtime: i64,
}

const MAGIC: &[u8; 8] = b"VMCMSFIL";
const VERSION: u16 = 1;

impl CmsFile {
    /// Encodes the file.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.buf.extend_from_slice(MAGIC);
        e.u16(VERSION);
        e.u8(match self.recfm {
            RecFm::F => b'F',
            RecFm::V => b'V',
        });
        e.u8(self.mode_num);
        e.u32(self.lrecl);
        e.u32(self.records.len() as u32);
        e.i64(self.mtime);
        for r in &self.records {
            e.bytes(r);
        }
        e.buf
    }

    /// Decodes a file; `fname`/`ftype` come from its name on disk.
    pub fn decode(fname: &str, ftype: &str, buf: &[u8]) -> Result<CmsFile, String> {
        let (info, mut d) = header(fname, ftype, buf)?;
        if info.records as usize > buf.len() / 4 {
            return Err("record count exceeds file size".into());
        }
        let mut records = Vec::with_capacity(info.records as usize);
        for _ in 0..info.records {
            records.push(d.bytes().map_err(|e| e.0)?.to_vec());
        }
        Ok(CmsFile {
            fname: info.fname,
            ftype: info.ftype,
            mode_num: info.mode_num,
            recfm: info.recfm,
            lrecl: info.lrecl,
            records,
            mtime: info.mtime,
        })
    }

    /// The description of this file.
    pub fn info(&self) -> FileInfo {
        FileInfo {
            fname: self.fname.clone(),
            ftype: self.ftype.clone(),
            mode_num: self.mode_num,
            recfm: self.recfm,
            lrecl: self.lrecl,
            records: self.records.len() as u32,
            bytes: self.records.iter().map(|r| r.len() as u64).sum(),
            mtime: self.mtime,
        }
    }
}

fn header<'a>(fname: &str, ftype: &str, buf: &'a [u8]) -> Result<(FileInfo, Dec<'a>), String> {
    if buf.len() < 28 || &buf[..8] != MAGIC {
        return Err("not a CMS file".into());
    }
    let mut d = Dec::new(&buf[8..]);
    let v = d.u16().map_err(|e| e.0)?;
    if v != VERSION {
        return Err(format!("CMS file format version {v} is not supported"));
    }
    let recfm = match d.u8().map_err(|e| e.0)? {
        b'F' => RecFm::F,
        b'V' => RecFm::V,
        x => return Err(format!("bad record format {x}")),
    };
    let mode_num = d.u8().map_err(|e| e.0)?;
    let lrecl = d.u32().map_err(|e| e.0)?;
    let records = d.u32().map_err(|e| e.0)?;
    let mtime = d.i64().map_err(|e| e.0)?;
    Ok((
        FileInfo {
            fname: fname.into(),
            ftype: ftype.into(),
            mode_num,
            recfm,
            lrecl,
            records,
            bytes: (buf.len() - 28) as u64 - 4 * records as u64,
            mtime,
        },
        d,
    ))
}

/// Something a file mode letter can access.
pub trait CmsDisk: Send + std::fmt::Debug {
    /// How ACCESS and QUERY DISK name it, e.g. `191` or `VMSYSU:BOB.`.
    fn label(&self) -> String;
    /// Volume id shown in the PUNCH header card (`-` for SFS).
    fn volid(&self) -> String;
    /// Whether it is accessed read/write.
    fn writable(&self) -> bool;
    /// All files.
    fn list(&self) -> Result<Vec<FileInfo>, String>;
    /// One file, if it exists.
    fn read(&self, fname: &str, ftype: &str) -> Result<Option<CmsFile>, String>;
    /// Creates or replaces a file atomically.
    fn write(&self, f: &CmsFile) -> Result<(), String>;
    /// Erases a file; false if it did not exist.
    fn erase(&self, fname: &str, ftype: &str) -> Result<bool, String>;

    /// The SFS directory this is, if it is one.
    fn sfs_dirid(&self) -> Option<crate::sfs::DirId> {
        None
    }
}

/// A minidisk: a host folder.
#[derive(Debug, Clone)]
pub struct Minidisk {
    dir: PathBuf,
    vdev: u16,
    volid: String,
    writable: bool,
}

impl Minidisk {
    /// The minidisk `vdev` with volume id `volid` stored in `dir` (created if missing).
    pub fn open(dir: &Path, vdev: u16, volid: &str, writable: bool) -> Result<Minidisk, String> {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Minidisk {
            dir: dir.to_path_buf(),
            vdev,
            volid: volid.to_string(),
            writable,
        })
    }

    fn path(&self, fname: &str, ftype: &str) -> PathBuf {
        self.dir.join(format!("{fname}.{ftype}"))
    }
}

impl CmsDisk for Minidisk {
    fn label(&self) -> String {
        format!("{:03X}", self.vdev)
    }

    fn volid(&self) -> String {
        self.volid.clone()
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn list(&self) -> Result<Vec<FileInfo>, String> {
        let mut out = Vec::new();
        let rd = fs::read_dir(&self.dir).map_err(|e| e.to_string())?;
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            let Some((f, t)) = name.split_once('.') else {
                continue;
            };
            if f.is_empty() || t.contains('.') || name.ends_with(".tmp") {
                continue;
            }
            let buf = fs::read(ent.path()).map_err(|e| e.to_string())?;
            if let Ok((info, _)) = header(f, t, &buf) {
                out.push(info);
            }
        }
        out.sort_by(|a, b| (&a.fname, &a.ftype).cmp(&(&b.fname, &b.ftype)));
        Ok(out)
    }

    fn read(&self, fname: &str, ftype: &str) -> Result<Option<CmsFile>, String> {
        match fs::read(self.path(fname, ftype)) {
            Ok(buf) => CmsFile::decode(fname, ftype, &buf).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn write(&self, f: &CmsFile) -> Result<(), String> {
        if !self.writable {
            return Err("disk is read-only".into());
        }
        let tmp = self.dir.join(format!("{}.{}.tmp", f.fname, f.ftype));
        let mut file = fs::File::create(&tmp).map_err(|e| e.to_string())?;
        file.write_all(&f.encode()).map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        fs::rename(&tmp, self.path(&f.fname, &f.ftype)).map_err(|e| e.to_string())?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| e.to_string())
    }

    fn erase(&self, fname: &str, ftype: &str) -> Result<bool, String> {
        if !self.writable {
            return Err("disk is read-only".into());
        }
        match fs::remove_file(self.path(fname, ftype)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}
