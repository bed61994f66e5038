//! `vmimap spool check [--system DIR]`

use std::{path::Path, process::ExitCode};

use anyhow::Context;

/// Verifies the spool of a stopped system.
pub fn check(dir: &Path) -> anyhow::Result<ExitCode> {
    let spool_dir = dir.join("spool");
    if !spool_dir.exists() {
        anyhow::bail!("{} has no spool (never IPLed?)", dir.display());
    }
    let r = spool::Spool::check(&spool_dir)
        .with_context(|| format!("cannot check the spool of {}", dir.display()))?;
    println!("{} spool files, {} records", r.files, r.records);
    if r.problems.is_empty() {
        println!("spool is consistent");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &r.problems {
            println!("problem: {p}");
        }
        Ok(ExitCode::from(1))
    }
}
