//! Filling a mailbox fast: several connections appending concurrently, with MULTIAPPEND batches
//! when the server advertises it. Progress goes to stderr.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

use super::{
    Ctx,
    client::{Account, Client},
    messages::{Rng, message},
};

/// Messages per MULTIAPPEND command.
const BATCH: u32 = 100;

/// The flags a generated message is stored with: four in five are \Seen.
pub fn flags_of(n: u64) -> &'static str {
    if n.is_multiple_of(5) { "" } else { "\\Seen" }
}

/// What a fill did.
#[derive(Debug)]
pub struct Filled {
    pub elapsed: Duration,
    pub multiappend: bool,
}

/// Appends `n` generated messages to `mailbox` (which exists) over `conns` connections.
pub async fn fill(
    ctx: &Ctx,
    account: &Account,
    mailbox: &str,
    n: u32,
    conns: usize,
    seed: u64,
) -> anyhow::Result<Filled> {
    let next = Arc::new(AtomicU32::new(0));
    let bar = ProgressBar::new(u64::from(n));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("template"),
    );
    bar.set_message(format!("filling {}/{mailbox}", account.user));
    let start = Instant::now();
    let mut set = JoinSet::new();
    let mut multiappend = false;
    for w in 0..conns.max(1) {
        let mut c = Client::login(&ctx.target, account).await?;
        multiappend = c.caps.contains("MULTIAPPEND");
        let (next, bar, mailbox) = (next.clone(), bar.clone(), mailbox.to_string());
        set.spawn(async move {
            let mut rng = Rng::new(seed.wrapping_add(w as u64 * 7919));
            let batch = if multiappend { BATCH } else { 1 };
            loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= n {
                    break;
                }
                let k = batch.min(n - first);
                let msgs: Vec<(&str, Vec<u8>)> = (first..first + k)
                    .map(|i| (flags_of(u64::from(i)), message(&mut rng, u64::from(i))))
                    .collect();
                let d = if msgs.len() == 1 {
                    c.append(&mailbox, msgs[0].0, &msgs[0].1).await?
                } else {
                    c.multiappend(&mailbox, &msgs).await?
                };
                d.ok(&format!("APPEND to {mailbox}"))?;
                bar.inc(u64::from(k));
            }
            c.logout().await;
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = r? {
            bar.abandon();
            return Err(e);
        }
    }
    bar.finish();
    Ok(Filled {
        elapsed: start.elapsed(),
        multiappend,
    })
}
