//! The file pools of the system: which server machine serves each pool, and connections to them.

use std::sync::Arc;

use super::System;
use crate::{
    machine::VirtualMachine,
    sfs::{DmsError, Pool, PoolName, SfsClient, client::service_name},
};

/// A pool as CP knows it.
#[derive(Debug)]
pub(crate) struct PoolReg {
    pub server: spool::UserId,
    pub generation: u64,
    /// `None` while the server is not running.
    pub pool: Option<Arc<Pool>>,
}

impl System {
    /// A server machine offers a pool.
    pub fn sfs_register(&self, vm: &VirtualMachine, pool: Arc<Pool>) {
        self.pools.write().unwrap().insert(
            pool.name().clone(),
            PoolReg {
                server: vm.userid.clone(),
                generation: vm.generation,
                pool: Some(pool),
            },
        );
    }

    /// The pools and their servers: (pool, server, available).
    pub fn sfs_pools(&self) -> Vec<(PoolName, spool::UserId, bool)> {
        self.pools
            .read()
            .unwrap()
            .iter()
            .map(|(n, r)| (n.clone(), r.server.clone(), r.pool.is_some()))
            .collect()
    }

    /// Connects `vm` to `pool`: the server must be running, the directory must allow the IUCV
    /// connection (the client's `IUCV server`/`IUCV ANY`, or the server's `IUCV ALLOW`), and the
    /// pool must accept the user.
    pub fn sfs_connect(
        self: &Arc<Self>,
        vm: &Arc<VirtualMachine>,
        pool: &str,
    ) -> Result<SfsClient, DmsError> {
        let name = PoolName::parse(pool)?;
        let (server, generation, p) = {
            let pools = self.pools.read().unwrap();
            let reg = pools
                .get(&name)
                .ok_or_else(|| DmsError::UnknownPool(name.to_string()))?;
            let p = reg
                .pool
                .clone()
                .ok_or_else(|| DmsError::PoolUnavailable(name.to_string()))?;
            (reg.server.clone(), reg.generation, p)
        };
        let svm = self
            .vm(&server)
            .filter(|s| s.generation == generation)
            .ok_or_else(|| DmsError::PoolUnavailable(name.to_string()))?;
        if vm.entry.iucv_to(server.as_str()).is_none() && !svm.entry.iucv_allow() {
            return Err(DmsError::ConnectRefused {
                user: vm.userid.to_string(),
                pool: name.to_string(),
            });
        }
        p.connect_check(&vm.userid)?;
        let path = self
            .iucv
            .connect_service(
                &vm.userid,
                vm.generation,
                vm.entry.maxconn(),
                &service_name(&name),
            )
            .map_err(|e| DmsError::Storage(e.to_string()))?;
        Ok(SfsClient::new(self.clone(), vm.clone(), &p, path))
    }

    /// A server machine logged off: its pools become unavailable and every client path to them
    /// is severed (clients see "file pool not available").
    pub(crate) fn sfs_server_gone(&self, vm: &VirtualMachine) {
        let names: Vec<PoolName> = {
            let mut pools = self.pools.write().unwrap();
            pools
                .iter_mut()
                .filter(|(_, r)| r.server == vm.userid && r.generation == vm.generation)
                .map(|(n, r)| {
                    r.pool = None;
                    n.clone()
                })
                .collect()
        };
        for n in names {
            let eff = self.iucv.sever_service(&service_name(&n));
            self.deliver(eff);
        }
    }

    /// Whether `vm` serves a pool (shutdown stops pool servers last).
    pub(crate) fn serves_pools(&self, vm: &VirtualMachine) -> bool {
        self.pools
            .read()
            .unwrap()
            .values()
            .any(|r| r.server == vm.userid && r.generation == vm.generation && r.pool.is_some())
    }
}
