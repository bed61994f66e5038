//! An SFS directory accessed at a file mode: a [`CmsDisk`] whose files live in a file pool.

use std::sync::Arc;

use super::disk::{CmsDisk, CmsFile, FileInfo, RecFm};
use crate::sfs::{Content, DirId, Format, SfsClient};

/// An accessed SFS directory.
#[derive(Debug)]
pub struct SfsDisk {
    client: Arc<SfsClient>,
    dirid: DirId,
    writable: bool,
}

impl SfsDisk {
    /// `dirid` through `client`, read/write or read-only.
    pub fn new(client: Arc<SfsClient>, dirid: DirId, writable: bool) -> SfsDisk {
        SfsDisk {
            client,
            dirid,
            writable,
        }
    }

    /// The directory.
    pub fn dirid(&self) -> &DirId {
        &self.dirid
    }
}

fn recfm(f: Format) -> RecFm {
    match f {
        Format::F => RecFm::F,
        Format::V | Format::Stream => RecFm::V,
    }
}

impl CmsDisk for SfsDisk {
    fn label(&self) -> String {
        self.dirid.to_string()
    }

    fn volid(&self) -> String {
        "-".into()
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn list(&self) -> Result<Vec<FileInfo>, String> {
        let l = self
            .client
            .list(&self.dirid.path)
            .map_err(|e| e.to_string())?;
        Ok(l.files
            .into_iter()
            .map(|f| FileInfo {
                fname: f.fname,
                ftype: f.ftype,
                mode_num: 1,
                recfm: recfm(f.format),
                lrecl: f.lrecl,
                records: f.records as u32,
                bytes: f.bytes,
                mtime: f.mtime,
            })
            .collect())
    }

    fn read(&self, fname: &str, ftype: &str) -> Result<Option<CmsFile>, String> {
        match self.client.read_file(&self.dirid.path, fname, ftype) {
            Ok((info, content)) => {
                let (fmt, records) = match content {
                    Content::Records { format, records } => (format, records),
                    // A byte stream is shown as its lines.
                    Content::Stream(b) => (
                        Format::V,
                        b.split(|c| *c == b'\n')
                            .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                            .collect(),
                    ),
                };
                Ok(Some(CmsFile {
                    fname: info.fname,
                    ftype: info.ftype,
                    mode_num: 1,
                    recfm: recfm(fmt),
                    lrecl: info.lrecl,
                    records,
                    mtime: info.mtime,
                }))
            }
            Err(crate::sfs::DmsError::FileNotFound(_)) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn write(&self, f: &CmsFile) -> Result<(), String> {
        if !self.writable {
            return Err("directory is accessed read-only".into());
        }
        let format = match f.recfm {
            RecFm::F => Format::F,
            RecFm::V => Format::V,
        };
        self.client
            .write_file(
                &self.dirid.path,
                &f.fname,
                &f.ftype,
                &Content::Records {
                    format,
                    records: f.records.clone(),
                },
                false,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn sfs_dirid(&self) -> Option<DirId> {
        Some(self.dirid.clone())
    }

    fn erase(&self, fname: &str, ftype: &str) -> Result<bool, String> {
        match self.client.erase_file(&self.dirid.path, fname, ftype) {
            Ok(()) => Ok(true),
            Err(crate::sfs::DmsError::FileNotFound(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}
