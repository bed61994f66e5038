//! Part 4: server memory per idle connection: N connections each logged in, with INBOX selected,
//! in IDLE.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::{sync::Semaphore, task::JoinSet};

use super::{
    Ctx,
    client::Client,
    mem,
    report::{Report, num},
};

/// Connections that may fail before the rest are not even tried.
fn max_failures(n: usize) -> usize {
    (n / 100).max(10)
}

/// Opens `n` idle connections, reads the server's memory before and after, and closes them.
pub async fn run(
    ctx: &Ctx,
    rep: &mut Report,
    n: usize,
    ramp: usize,
    settle: Duration,
    pid: Option<u32>,
) -> anyhow::Result<()> {
    eprintln!("idle connections: {n} ...");
    let before = pid.map(mem::tree).transpose()?;
    let sem = Arc::new(Semaphore::new(ramp.max(1)));
    let failures = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})",
        )
        .expect("template"),
    );
    bar.set_message("connect, LOGIN, SELECT INBOX, IDLE");
    let start = Instant::now();
    let mut set = JoinSet::new();
    for k in 0..n {
        if failures.load(Ordering::Relaxed) >= max_failures(n) {
            break;
        }
        let permit = sem.clone().acquire_owned().await?;
        let (t, a) = (
            ctx.target.clone(),
            ctx.accounts[k % ctx.accounts.len()].clone(),
        );
        let (failures, first_error, bar) = (failures.clone(), first_error.clone(), bar.clone());
        set.spawn(async move {
            let r = async {
                let mut c = Client::login(&t, &a).await?;
                c.select("INBOX").await.context("SELECT INBOX")?;
                c.idle_start().await.context("IDLE")?;
                anyhow::Ok(c)
            }
            .await;
            drop(permit);
            match r {
                Ok(c) => {
                    bar.inc(1);
                    Some(c)
                }
                Err(e) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    first_error
                        .lock()
                        .unwrap()
                        .get_or_insert_with(|| format!("connection {} ({}): {e:#}", k + 1, a.user));
                    None
                }
            }
        });
    }
    let mut idle = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        if let Some(c) = r? {
            idle.push(c);
        }
    }
    let setup = start.elapsed();
    bar.finish();
    let opened = idle.len();
    let failed = failures.load(Ordering::Relaxed);
    let first_error = first_error.lock().unwrap().clone();
    if let Some(e) = &first_error {
        eprintln!("idle connections: {failed} failed; first: {e}");
    }
    // Let the server settle (process start-up, lazily freed buffers) before measuring.
    eprintln!("idle connections: {opened} idling; measuring in {settle:?}");
    tokio::time::sleep(settle).await;
    let after = pid.map(mem::tree).transpose()?;
    let mut closed = 0;
    for c in &mut idle {
        if c.closed_by_server().await {
            closed += 1;
        }
    }
    let alive = opened - closed;
    let label = format!("{n} idle connections");
    let mut note = format!(
        "LOGIN + SELECT INBOX + IDLE over {} account(s), {ramp} being set up at a time: {:.0} conn/s",
        ctx.accounts.len().min(n),
        opened as f64 / setup.as_secs_f64()
    );
    if failed > 0 {
        note.push_str(&format!(
            "; {failed} FAILED (stopped after {}), first: {}",
            max_failures(n),
            first_error.as_deref().unwrap_or("?")
        ));
    }
    rep.add(format!("{label}: opened"), opened.to_string(), "conn", note);
    if closed > 0 {
        rep.add(
            format!("{label}: closed by the server"),
            closed.to_string(),
            "conn",
            "closed (or BYE) before the memory was read; the memory figures are per connection still open",
        );
    }
    match (before, after) {
        (Some(b), Some(a)) if alive > 0 => {
            let per = (a.rss_kib as f64 - b.rss_kib as f64) / alive as f64;
            rep.add(
                format!("{label}: server memory (VmRSS)"),
                num(per),
                "KiB/conn",
                format!(
                    "sum of VmRSS of pid {} and its descendants: {} MiB in {} process(es) before, {} MiB in {} after",
                    pid.unwrap_or(0),
                    b.rss_kib / 1024,
                    b.procs,
                    a.rss_kib / 1024,
                    a.procs
                ),
            );
            if let (Some(pb), Some(pa)) = (b.pss_kib, a.pss_kib) {
                rep.add(
                    format!("{label}: server memory (PSS)"),
                    num((pa as f64 - pb as f64) / alive as f64),
                    "KiB/conn",
                    format!(
                        "sum of Pss (shared pages divided among the processes sharing them): {} -> {} MiB",
                        pb / 1024,
                        pa / 1024
                    ),
                );
            }
        }
        _ => rep.add(
            format!("{label}: server memory (VmRSS)"),
            "n/a".into(),
            "KiB/conn",
            if pid.is_none() {
                "give --server-pid to measure"
            } else {
                "no connection open"
            },
        ),
    }
    // Close them all properly: DONE, then LOGOUT.
    eprintln!("idle connections: DONE + LOGOUT on {opened} ...");
    let bad = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for mut c in idle {
        let permit = sem.clone().acquire_owned().await?;
        let bad = bad.clone();
        set.spawn(async move {
            if c.idle_done().await.is_err() {
                bad.fetch_add(1, Ordering::Relaxed);
            } else {
                c.logout().await;
            }
            drop(permit);
        });
    }
    while set.join_next().await.is_some() {}
    let bad = bad.load(Ordering::Relaxed);
    if bad > 0 {
        rep.add(
            format!("{label}: DONE not completed"),
            bad.to_string(),
            "conn",
            "connections that did not answer DONE with a tagged OK",
        );
    }
    // Give the server time to release what the connections held.
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(())
}
