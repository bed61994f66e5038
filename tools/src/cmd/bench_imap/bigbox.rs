//! Part 3: opening a big mailbox: SELECT + `FETCH 1:* (UID FLAGS)` after a fresh login, the first
//! time and warm.

use std::time::{Duration, Instant};

use anyhow::ensure;

use super::{
    Ctx,
    client::{Account, Client},
    report::{Report, ms, num, quantile},
};

/// One timed open on a fresh connection: (SELECT time, FETCH time).
async fn open_once(
    ctx: &Ctx,
    a: &Account,
    mailbox: &str,
    n: u32,
) -> anyhow::Result<(Duration, Duration)> {
    let mut c = Client::login(&ctx.target, a).await?;
    let t = Instant::now();
    let exists = c.select(mailbox).await?;
    let t_select = t.elapsed();
    let mut fetches = 0usize;
    let d = c
        .run(
            &[super::client::Piece::Text(b"FETCH 1:* (UID FLAGS)")],
            |r, _| {
                if r.windows(7).any(|w| w.eq_ignore_ascii_case(b" FETCH ")) {
                    fetches += 1;
                }
            },
        )
        .await?;
    let t_all = t.elapsed();
    d.ok("FETCH 1:* (UID FLAGS)")?;
    ensure!(
        exists == n,
        "{mailbox} has {exists} messages after SELECT, expected {n}"
    );
    ensure!(
        fetches == n as usize,
        "FETCH 1:* returned {fetches} FETCH responses for {n} messages"
    );
    c.logout().await;
    Ok((t_select, t_all - t_select))
}

/// Fills (or reuses) the big mailbox and times opening it.
pub async fn run(
    ctx: &Ctx,
    rep: &mut Report,
    n: u32,
    fill_conns: usize,
    warm_reps: usize,
) -> anyhow::Result<()> {
    let a = &ctx.accounts[0];
    let mailbox = format!("{}-big", ctx.prefix);
    let mut c = Client::login(&ctx.target, a).await?;
    let how = if c.status_messages(&mailbox).await? == Some(n) {
        eprintln!(
            "big mailbox: {}/{mailbox} already has {n} messages; reusing it",
            a.user
        );
        c.logout().await;
        "reused from an earlier run"
    } else {
        super::recreate(&mut c, &mailbox).await?;
        c.logout().await;
        let f = super::fill::fill(ctx, a, &mailbox, n, fill_conns, 0xb16b).await?;
        rep.add(
            format!("fill of the {n}-message mailbox"),
            num(f64::from(n) / f.elapsed.as_secs_f64()),
            "msg/s",
            format!(
                "{fill_conns} connections, {}, {:.1} s",
                if f.multiappend {
                    "MULTIAPPEND of 100 messages per command"
                } else {
                    "one APPEND per message"
                },
                f.elapsed.as_secs_f64()
            ),
        );
        "filled just before"
    };
    eprintln!("big mailbox: first open ...");
    let (s, f) = open_once(ctx, a, &mailbox, n).await?;
    let label = format!("SELECT + FETCH 1:* (UID FLAGS), {n} msgs");
    rep.add(
        format!("{label}: first open"),
        ms(s + f),
        "ms",
        format!(
            "SELECT {} ms + FETCH {} ms; fresh login, mailbox {how} (the server may have it cached)",
            ms(s),
            ms(f)
        ),
    );
    let mut totals = Vec::new();
    let mut selects = Vec::new();
    let mut fetches = Vec::new();
    for i in 0..warm_reps {
        eprintln!("big mailbox: warm open {}/{warm_reps} ...", i + 1);
        let (s, f) = open_once(ctx, a, &mailbox, n).await?;
        totals.push(s + f);
        selects.push(s);
        fetches.push(f);
    }
    if warm_reps > 0 {
        totals.sort();
        selects.sort();
        fetches.sort();
        rep.add(
            format!("{label}: warm, median of {warm_reps}"),
            ms(quantile(&totals, 0.5)),
            "ms",
            format!(
                "SELECT {} ms + FETCH {} ms (medians); each on a fresh login",
                ms(quantile(&selects, 0.5)),
                ms(quantile(&fetches, 0.5))
            ),
        );
    }
    Ok(())
}
