//! The `*SPL` client: what a service machine connected to `*SPL` can do with its reader files.

use std::sync::Arc;

use spool::{Queue, SpoolError, UserId};

use super::{System, spoolops};
use crate::{
    cp::messages::{self, CpMsg},
    iucv::{PathId, SplFile, services::SPL},
    machine::VirtualMachine,
};

/// A connection to `*SPL`. Every call checks that the path still exists (it is severed when the
/// machine logs off).
pub struct SplClient {
    sys: Arc<System>,
    vm: Arc<VirtualMachine>,
    path: PathId,
}

impl std::fmt::Debug for SplClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SplClient({} path {})", self.vm.userid, self.path)
    }
}

impl SplClient {
    pub(crate) fn new(sys: Arc<System>, vm: Arc<VirtualMachine>, path: PathId) -> SplClient {
        SplClient { sys, vm, path }
    }

    /// The IUCV path.
    pub fn path(&self) -> PathId {
        self.path
    }

    fn check(&self) -> Result<(), CpMsg> {
        if self.sys.iucv.holds_service(&self.vm.userid, self.path, SPL) {
            Ok(())
        } else {
            Err(messages::spool_error("*SPL path severed"))
        }
    }

    /// The files now in the reader, in queue order (only those whose arrival is durable).
    pub fn files(&self) -> Result<Vec<SplFile>, CpMsg> {
        self.check()?;
        Ok(self.sys.spool().view(|t| {
            t.queue(&self.vm.userid, Queue::Rdr)
                .into_iter()
                .filter(|f| t.visible(f.sfid))
                .map(SplFile::from)
                .collect()
        }))
    }

    /// Reads a reader file's records by its file id.
    pub fn read(&self, file_id: u64) -> Result<(SplFile, Vec<Vec<u8>>), CpMsg> {
        self.check()?;
        let f = self
            .sys
            .spool()
            .view(|t| {
                t.by_sfid(file_id)
                    .filter(|f| f.owner == self.vm.userid && f.queue == Queue::Rdr)
                    .filter(|f| t.visible(f.sfid))
                    .cloned()
            })
            .ok_or_else(|| {
                messages::spool_error(&format!("file {file_id} is not in the reader"))
            })?;
        let recs = self.sys.spool().read_records(&f)?;
        Ok((SplFile::from(&f), recs))
    }

    /// Purges a reader file (durably, before returning). Returns false if it was already gone.
    pub fn purge(&self, file_id: u64) -> Result<bool, CpMsg> {
        self.check()?;
        let owner = self.vm.userid.clone();
        let gone = self.sys.spool().transact(|t| -> Result<bool, SpoolError> {
            match t.by_sfid(file_id) {
                Some(f) if f.owner == owner && f.queue == Queue::Rdr => {
                    t.purge(file_id);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })?;
        self.sys.spl_gone(&owner, file_id);
        Ok(gone)
    }

    /// Transfers a reader file to another user's reader (with the usual FILE SENT lines).
    pub fn transfer(&self, file_id: u64, to: &UserId) -> Result<Vec<String>, CpMsg> {
        self.check()?;
        let lines = spoolops::transfer(&self.sys, &self.vm, file_id, to, Queue::Rdr)?;
        self.sys.spl_gone(&self.vm.userid, file_id);
        Ok(lines)
    }
}
