//! The typed SFS client a virtual machine gets from an IUCV connection to a pool's server. Every
//! call runs under the caller's own authority and first checks that the path still stands: when
//! the server logs off, its paths are severed and calls answer "file pool not available".

use std::sync::{Arc, Weak};

use spool::UserId;

use super::{
    catalog::{Auth, Control, Grantee},
    errors::DmsError,
    ids::{DirPath, PoolName},
    pool::{Content, FileInfo, Limits, Listing, Pool, Txn},
};
use crate::{iucv::PathId, machine::VirtualMachine, system::System};

/// A connection to one file pool.
pub struct SfsClient {
    sys: Arc<System>,
    vm: Arc<VirtualMachine>,
    pool: Weak<Pool>,
    name: PoolName,
    path: PathId,
}

impl std::fmt::Debug for SfsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SfsClient({} to {} path {})",
            self.vm.userid, self.name, self.path
        )
    }
}

/// The IUCV service name of a pool.
pub fn service_name(pool: &PoolName) -> String {
    format!("SFS:{pool}")
}

impl SfsClient {
    pub(crate) fn new(
        sys: Arc<System>,
        vm: Arc<VirtualMachine>,
        pool: &Arc<Pool>,
        path: PathId,
    ) -> SfsClient {
        SfsClient {
            sys,
            vm,
            name: pool.name().clone(),
            pool: Arc::downgrade(pool),
            path,
        }
    }

    /// The pool's name.
    pub fn pool_name(&self) -> &PoolName {
        &self.name
    }

    /// Who the client acts as.
    pub fn userid(&self) -> &UserId {
        &self.vm.userid
    }

    /// The IUCV path to the server.
    pub fn path(&self) -> PathId {
        self.path
    }

    fn pool(&self) -> Result<Arc<Pool>, DmsError> {
        let gone = || DmsError::PoolUnavailable(self.name.to_string());
        if !self
            .sys
            .iucv
            .holds_service(&self.vm.userid, self.path, &service_name(&self.name))
        {
            return Err(gone());
        }
        self.pool.upgrade().ok_or_else(gone)
    }

    /// Whether the path to the server still stands.
    pub fn connected(&self) -> bool {
        self.pool().is_ok()
    }

    fn who(&self) -> &UserId {
        &self.vm.userid
    }

    /// Whether the caller administers the pool.
    pub fn is_admin(&self) -> bool {
        self.pool().is_ok_and(|p| p.is_admin(self.who()))
    }

    /// ENROLL USER.
    pub fn enroll(&self, user: &UserId, blocks: Option<u64>) -> Result<(), DmsError> {
        self.pool()?.enroll(self.who(), user, blocks)
    }

    /// MODIFY USER.
    pub fn modify(&self, user: &UserId, blocks: u64) -> Result<(), DmsError> {
        self.pool()?.modify(self.who(), user, blocks)
    }

    /// DELETE USER.
    pub fn delete_user(&self, user: &UserId) -> Result<(), DmsError> {
        self.pool()?.delete_user(self.who(), user)
    }

    /// QUERY ENROLL.
    pub fn query_enroll(&self) -> Result<Vec<Limits>, DmsError> {
        self.pool()?.query_enroll(self.who())
    }

    /// QUERY LIMITS.
    pub fn query_limits(&self, user: &UserId) -> Result<Limits, DmsError> {
        self.pool()?.query_limits(self.who(), user)
    }

    /// CREATE DIRECTORY.
    pub fn create_dir(&self, path: &DirPath, control: Control) -> Result<(), DmsError> {
        self.pool()?.create_dir(self.who(), path, control)
    }

    /// ERASE DIRECTORY.
    pub fn erase_dir(&self, path: &DirPath) -> Result<(), DmsError> {
        self.pool()?.erase_dir(self.who(), path)
    }

    /// RENAME DIRECTORY.
    pub fn rename_dir(&self, path: &DirPath, new_name: &str) -> Result<(), DmsError> {
        self.pool()?.rename_dir(self.who(), path, new_name)
    }

    /// Lists a directory.
    pub fn list(&self, path: &DirPath) -> Result<Listing, DmsError> {
        self.pool()?.list(self.who(), path)
    }

    /// Whether a directory exists.
    pub fn dir_exists(&self, path: &DirPath) -> Result<bool, DmsError> {
        self.pool()?.dir_exists(self.who(), path)
    }

    /// One file's description.
    pub fn stat(&self, path: &DirPath, fname: &str, ftype: &str) -> Result<FileInfo, DmsError> {
        self.pool()?.stat(self.who(), path, fname, ftype)
    }

    /// Reads a file.
    pub fn read_file(
        &self,
        path: &DirPath,
        fname: &str,
        ftype: &str,
    ) -> Result<(FileInfo, Content), DmsError> {
        self.pool()?.read_file(self.who(), path, fname, ftype)
    }

    /// Reads part of a stream file.
    pub fn read_range(
        &self,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, DmsError> {
        self.pool()?
            .read_range(self.who(), path, fname, ftype, offset, len)
    }

    /// Creates or replaces a file.
    pub fn write_file(
        &self,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        content: &Content,
        create_only: bool,
    ) -> Result<FileInfo, DmsError> {
        self.pool()?
            .write_file(self.who(), path, fname, ftype, content, create_only)
    }

    /// Appends to a file (creating it if needed).
    pub fn append_file(
        &self,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        content: &Content,
    ) -> Result<FileInfo, DmsError> {
        self.pool()?
            .append_file(self.who(), path, fname, ftype, content)
    }

    /// Erases a file.
    pub fn erase_file(&self, path: &DirPath, fname: &str, ftype: &str) -> Result<(), DmsError> {
        self.pool()?.erase_file(self.who(), path, fname, ftype)
    }

    /// Renames a file.
    pub fn rename_file(
        &self,
        path: &DirPath,
        fname: &str,
        ftype: &str,
        to: &DirPath,
        new_fname: &str,
        new_ftype: &str,
    ) -> Result<(), DmsError> {
        self.pool()?
            .rename_file(self.who(), path, fname, ftype, to, new_fname, new_ftype)
    }

    /// GRANT AUTHORITY (or REVOKE with `grant` false).
    pub fn grant(
        &self,
        path: &DirPath,
        file: Option<(&str, &str)>,
        grantee: &Grantee,
        auth: Auth,
        grant: bool,
    ) -> Result<(), DmsError> {
        self.pool()?
            .grant(self.who(), path, file, grantee, auth, grant)
    }

    /// QUERY AUTHORITY.
    pub fn query_auth(
        &self,
        path: &DirPath,
        file: Option<(&str, &str)>,
    ) -> Result<Vec<(Grantee, Auth)>, DmsError> {
        self.pool()?.query_auth(self.who(), path, file)
    }

    /// Runs a work unit (several changes committed atomically) under the caller's authority. The
    /// closure gets the pool (for its `*_op` builders and authority checks) and the transaction.
    pub fn work<R>(
        &self,
        f: impl FnOnce(&Pool, &UserId, &mut Txn<'_>) -> Result<R, DmsError>,
    ) -> Result<R, DmsError> {
        let pool = self.pool()?;
        let who = self.who().clone();
        pool.commit(|t| f(&pool, &who, t))
    }

    /// Like [`SfsClient::work`] but returns before the unit is durable, with its log sequence
    /// number for [`SfsClient::wait_durable`] (see [`Pool::commit_nowait`]).
    pub fn work_nowait<R>(
        &self,
        f: impl FnOnce(&Pool, &UserId, &mut Txn<'_>) -> Result<R, DmsError>,
    ) -> Result<(R, u64), DmsError> {
        let pool = self.pool()?;
        let who = self.who().clone();
        pool.commit_nowait(|t| f(&pool, &who, t))
    }

    /// Waits until the unit with log sequence `seq` is on disk.
    pub fn wait_durable(&self, seq: u64) -> Result<(), DmsError> {
        self.pool()?.wait_durable(seq)
    }

    /// Stages data for a work unit (large data goes to the log before the unit).
    pub fn stage(&self, content: &Content) -> Result<super::work::Staged, DmsError> {
        self.pool()?.stage_content(content)
    }

    /// Stages a byte stream for a work unit, without copying it.
    pub fn stage_bytes(&self, data: Vec<u8>) -> Result<super::work::Staged, DmsError> {
        self.pool()?.stage_bytes(data)
    }
}
