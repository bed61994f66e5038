//! Part 2: APPEND throughput (each APPEND is acknowledged only when the server has stored the
//! message with whatever durability it provides) at several client counts.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinSet;

use super::{
    Ctx,
    client::Client,
    messages::{Rng, message},
    report::{Report, ms, num, quantile},
};

/// Distinct messages each client cycles through.
const POOL: u64 = 64;

async fn client_loop(
    mut c: Client,
    mailbox: String,
    seed: u64,
    deadline: Instant,
) -> anyhow::Result<(Vec<Duration>, Instant)> {
    let mut rng = Rng::new(seed);
    let pool: Vec<Vec<u8>> = (0..POOL).map(|i| message(&mut rng, seed + i)).collect();
    let mut lat = Vec::new();
    let mut i = 0;
    while Instant::now() < deadline {
        let t = Instant::now();
        c.append(&mailbox, "", &pool[i % pool.len()])
            .await?
            .ok(&format!("APPEND to {mailbox}"))?;
        lat.push(t.elapsed());
        i += 1;
    }
    let end = Instant::now();
    c.logout().await;
    Ok((lat, end))
}

/// Runs the APPEND test with `clients` clients for the configured duration.
pub async fn run(ctx: &Ctx, rep: &mut Report, clients: usize) -> anyhow::Result<()> {
    eprintln!("APPEND: {clients} client(s), {:?} ...", ctx.duration);
    let mut conns = super::login_many(ctx, clients, |k| k).await?;
    let mailbox_of = |k: usize| {
        if ctx.append_shared {
            format!("{}-append", ctx.prefix)
        } else {
            format!("{}-append-{k}", ctx.prefix)
        }
    };
    // Fresh, empty mailboxes (for a shared one: once per account).
    let mut made = std::collections::HashSet::new();
    for (k, c) in conns.iter_mut().enumerate() {
        let key = (k % ctx.accounts.len(), mailbox_of(k));
        if made.insert(key) {
            super::recreate(c, &mailbox_of(k))
                .await
                .with_context(|| format!("preparing {}", mailbox_of(k)))?;
        }
    }
    let mode = conns[0].literal_mode(3000);
    let start = Instant::now();
    let deadline = start + ctx.duration;
    let mut set = JoinSet::new();
    for (k, c) in conns.into_iter().enumerate() {
        set.spawn(client_loop(
            c,
            mailbox_of(k),
            0xa99e_0000 + k as u64 * 1000,
            deadline,
        ));
    }
    let mut lat = Vec::new();
    let mut end = start;
    while let Some(r) = set.join_next().await {
        let (l, e) = r??;
        lat.extend(l);
        end = end.max(e);
    }
    let elapsed = end - start;
    lat.sort();
    let where_ = if ctx.append_shared {
        "one mailbox per account, shared by its clients"
    } else {
        "a mailbox per client"
    };
    let label = format!("APPEND 2-4 KB, {clients} client(s)");
    rep.add(
        format!("{label}: throughput"),
        num(lat.len() as f64 / elapsed.as_secs_f64()),
        "msg/s",
        format!(
            "{} messages in {:.1} s, {where_}, {mode}",
            lat.len(),
            elapsed.as_secs_f64()
        ),
    );
    rep.add(
        format!("{label}: median latency"),
        ms(quantile(&lat, 0.5)),
        "ms",
        "",
    );
    rep.add(
        format!("{label}: p99 latency"),
        ms(quantile(&lat, 0.99)),
        "ms",
        "",
    );
    // The scratch mailboxes go away again.
    let mut by_account: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for (acct, mbox) in made {
        by_account.entry(acct).or_default().push(mbox);
    }
    for (acct, mboxes) in by_account {
        let mut c = Client::login(&ctx.target, &ctx.accounts[acct]).await?;
        for m in mboxes {
            c.command(&format!("DELETE {}", super::client::quoted(&m)))
                .await?;
        }
        c.logout().await;
    }
    Ok(())
}
