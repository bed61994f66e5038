//! The file pool server guest (`IPL SFS`, normally VMSERVS): it reads `VMSERVS DMSPARMS`, opens
//! its pools and offers them through CP until it is logged off or the system shuts down, when it
//! checkpoints them.

use std::{sync::Arc, time::Duration};

use anyhow::Context;

use super::{
    parms::{DMSPARMS, default_text, parse},
    pool::{Pool, PoolOptions},
};
use crate::{
    clock,
    directory::Ipl,
    machine::{Guest, Interrupt, Registry},
    system::VmHandle,
};

/// The default name of the mail store pool.
pub const DEFAULT_MAILPOOL: &str = "MAILPOOL";

/// Registers the server as the guest program `SFS`.
pub fn register(reg: &mut Registry) {
    reg.register(
        "SFS",
        |_ipl: &Ipl| Ok(Box::new(SfsServer) as Box<dyn Guest>),
    );
}

/// The SFS file pool server.
#[derive(Debug)]
pub struct SfsServer;

impl Guest for SfsServer {
    fn signals_ready(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let tz = vm.tz().clone();
        let now = clock::now();
        vm.console(&format!(
            "DMSWFV1117I FILESERV processing begun at {} on {}",
            tz.hhmmss(now),
            tz.isodate(now)
        ));
        let path = vm.config_path(DMSPARMS);
        let text = vm.config_or_default(DMSPARMS, &default_text(DEFAULT_MAILPOOL))?;
        let cfgs = parse(&text, &path).map_err(|e| anyhow::anyhow!("{e}"))?;
        vm.console(&format!("DMSWFV1121I {DMSPARMS} file used"));
        let mut pools: Vec<Arc<Pool>> = Vec::new();
        for cfg in cfgs {
            let name = cfg.name.clone();
            let dir = vm.dasd_dir().join(name.as_str());
            let pool = Arc::new(
                Pool::open(&dir, cfg, PoolOptions::default())
                    .with_context(|| format!("file pool {name}"))?,
            );
            for u in pool
                .enroll_at_start()
                .with_context(|| format!("file pool {name}: ENROLL"))?
            {
                vm.console(&format!("DMSWFV1125I {u} enrolled in file pool {name}"));
            }
            vm.sfs_register(pool.clone());
            vm.console(&format!("DMSWFV1122I File pool {name} is ready"));
            pools.push(pool);
        }
        vm.ready();
        loop {
            match vm.next_interrupt(Duration::from_secs(3600)) {
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => break,
                _ if !vm.is_logged_on() => break,
                _ => {}
            }
        }
        for p in &pools {
            if let Err(e) = p.checkpoint() {
                vm.console(&format!(
                    "DMSWFV1124E File pool {} checkpoint failed: {e}",
                    p.name()
                ));
            }
        }
        vm.console("DMSWFV1118I FILESERV processing ended");
        Ok(())
    }
}
