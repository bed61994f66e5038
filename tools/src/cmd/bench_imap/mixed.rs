//! Part 1: a mixed read-mostly workload over a prepared mailbox, at several client counts.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::task::JoinSet;

use super::{
    Ctx,
    client::{Client, Status},
    messages::{Rng, SENDERS, SUBJECT_WORDS},
    report::{Report, ms, num, quantile},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Select,
    FetchFlags,
    FetchHeaders,
    FetchBody,
    StoreSeen,
    StoreUnseen,
    SearchUnseen,
    SearchFrom,
    SearchSubject,
    Noop,
    Status,
}

/// The mix: (operation, weight in percent, how it is shown in the breakdown).
const MIX: &[(Op, u64, &str)] = &[
    (Op::Select, 5, "SELECT mailbox"),
    (Op::FetchFlags, 15, "FETCH 50 (UID FLAGS)"),
    (
        Op::FetchHeaders,
        15,
        "FETCH 20 BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]",
    ),
    (Op::FetchBody, 10, "FETCH 1 BODY.PEEK[]"),
    (Op::StoreSeen, 8, "STORE 1 +FLAGS (\\Seen)"),
    (Op::StoreUnseen, 4, "STORE 1 -FLAGS (\\Seen)"),
    (Op::SearchUnseen, 6, "SEARCH UNSEEN"),
    (Op::SearchFrom, 6, "SEARCH FROM name"),
    (Op::SearchSubject, 6, "SEARCH SUBJECT word"),
    (Op::Noop, 15, "NOOP"),
    (Op::Status, 10, "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)"),
];

/// A one-line description of the mix for the report.
pub fn describe() -> String {
    MIX.iter()
        .map(|(_, w, n)| format!("{w}% {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pick(rng: &mut Rng) -> usize {
    let total: u64 = MIX.iter().map(|m| m.1).sum();
    let mut x = rng.below(total);
    for (i, m) in MIX.iter().enumerate() {
        if x < m.1 {
            return i;
        }
        x -= m.1;
    }
    MIX.len() - 1
}

/// The command text of one operation on a mailbox of `exists` messages.
fn command(op: Op, rng: &mut Rng, mailbox: &str, exists: u32) -> String {
    let n = exists.max(1) as u64;
    let range = |rng: &mut Rng, len: u64| {
        let a = 1 + rng.below(n);
        let b = (a + len - 1).min(n);
        format!("{a}:{b}")
    };
    match op {
        Op::Select => format!("SELECT {}", super::client::quoted(mailbox)),
        Op::FetchFlags => format!("FETCH {} (UID FLAGS)", range(rng, 50)),
        Op::FetchHeaders => format!(
            "FETCH {} (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
            range(rng, 20)
        ),
        Op::FetchBody => format!("FETCH {} BODY.PEEK[]", 1 + rng.below(n)),
        Op::StoreSeen => format!("STORE {} +FLAGS (\\Seen)", 1 + rng.below(n)),
        Op::StoreUnseen => format!("STORE {} -FLAGS (\\Seen)", 1 + rng.below(n)),
        Op::SearchUnseen => "SEARCH UNSEEN".into(),
        Op::SearchFrom => {
            let first = rng.pick(SENDERS).0.split(' ').next().unwrap_or("alice");
            format!("SEARCH FROM \"{}\"", first.to_ascii_lowercase())
        }
        Op::SearchSubject => format!("SEARCH SUBJECT \"{}\"", rng.pick(SUBJECT_WORDS)),
        Op::Noop => "NOOP".into(),
        Op::Status => "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)".into(),
    }
}

/// Makes sure each account used has its mix mailbox with `n` messages (reusing one that has).
pub async fn prepare(ctx: &Ctx, accounts: usize, n: u32) -> anyhow::Result<String> {
    let mailbox = format!("{}-mix", ctx.prefix);
    for a in ctx.accounts.iter().take(accounts) {
        let mut c = Client::login(&ctx.target, a).await?;
        if c.status_messages(&mailbox).await? == Some(n) {
            eprintln!(
                "mixed workload: {}/{mailbox} already has {n} messages; reusing it",
                a.user
            );
        } else {
            eprintln!(
                "mixed workload: filling {}/{mailbox} with {n} messages",
                a.user
            );
            super::recreate(&mut c, &mailbox).await?;
            c.logout().await;
            super::fill::fill(ctx, a, &mailbox, n, 8, 0xfeed).await?;
            continue;
        }
        c.logout().await;
    }
    Ok(mailbox)
}

struct ClientResult {
    /// Latency of each command, by index into MIX.
    lat: Vec<Vec<Duration>>,
    errors: usize,
    first_error: Option<String>,
    end: Instant,
}

async fn client_loop(
    mut c: Client,
    mailbox: String,
    mut exists: u32,
    seed: u64,
    deadline: Instant,
) -> anyhow::Result<ClientResult> {
    let mut rng = Rng::new(seed);
    let mut r = ClientResult {
        lat: vec![Vec::new(); MIX.len()],
        errors: 0,
        first_error: None,
        end: Instant::now(),
    };
    while Instant::now() < deadline {
        let i = pick(&mut rng);
        let op = MIX[i].0;
        let cmd = command(op, &mut rng, &mailbox, exists);
        let t = Instant::now();
        let mut new_exists = None;
        let d = c
            .run(&[super::client::Piece::Text(cmd.as_bytes())], |resp, _| {
                if let Some(n) = resp
                    .strip_suffix(b"\r\n")
                    .and_then(|r| r.strip_suffix(b" EXISTS"))
                {
                    new_exists = std::str::from_utf8(n).ok().and_then(|s| s.parse().ok());
                }
            })
            .await
            .with_context(|| format!("during {cmd}"))?;
        r.lat[i].push(t.elapsed());
        if let Some(n) = new_exists {
            exists = n;
        }
        if d.status != Status::Ok {
            r.errors += 1;
            if r.first_error.is_none() {
                r.first_error = Some(format!("{cmd}: {:?} {}", d.status, d.text));
            }
        }
    }
    r.end = Instant::now();
    c.logout().await;
    Ok(r)
}

/// Runs the mixed workload with `clients` clients for the configured duration.
pub async fn run(ctx: &Ctx, rep: &mut Report, mailbox: &str, clients: usize) -> anyhow::Result<()> {
    eprintln!(
        "mixed workload: {clients} client(s), {:?} ...",
        ctx.duration
    );
    let clients_ready = super::login_many(ctx, clients, |k| k).await?;
    let mut ready = Vec::new();
    for (k, mut c) in clients_ready.into_iter().enumerate() {
        let exists = c.select(mailbox).await?;
        ready.push((k, c, exists));
    }
    let start = Instant::now();
    let deadline = start + ctx.duration;
    let mut set = JoinSet::new();
    for (k, c, exists) in ready {
        set.spawn(client_loop(
            c,
            mailbox.to_string(),
            exists,
            0x5eed_0000 + k as u64,
            deadline,
        ));
    }
    let mut lat: Vec<Vec<Duration>> = vec![Vec::new(); MIX.len()];
    let mut errors = 0;
    let mut first_error = None;
    let mut end = start;
    while let Some(r) = set.join_next().await {
        let r = r??;
        for (i, l) in r.lat.into_iter().enumerate() {
            lat[i].extend(l);
        }
        errors += r.errors;
        first_error = first_error.or(r.first_error);
        end = end.max(r.end);
    }
    let elapsed = end - start;
    let mut all: Vec<Duration> = lat.iter().flatten().copied().collect();
    all.sort();
    let n = all.len();
    let users: HashSet<usize> = (0..clients).map(|k| k % ctx.accounts.len()).collect();
    let share = format!(
        "{} account(s), each with one mailbox shared by its clients",
        users.len()
    );
    let mut note = format!("{n} commands in {:.1} s, {share}", elapsed.as_secs_f64());
    if errors > 0 {
        note.push_str(&format!(
            "; {errors} NO/BAD, first: {}",
            first_error.unwrap_or_default()
        ));
    }
    let label = format!("mixed workload, {clients} client(s)");
    rep.add(
        format!("{label}: throughput"),
        num(n as f64 / elapsed.as_secs_f64()),
        "cmd/s",
        note,
    );
    rep.add(
        format!("{label}: median latency"),
        ms(quantile(&all, 0.5)),
        "ms",
        "",
    );
    rep.add(
        format!("{label}: p99 latency"),
        ms(quantile(&all, 0.99)),
        "ms",
        "",
    );
    let ops = lat
        .iter_mut()
        .zip(MIX)
        .map(|(l, (_, _, name))| {
            l.sort();
            (
                name.to_string(),
                quantile(l, 0.5),
                quantile(l, 0.99),
                l.len(),
            )
        })
        .collect();
    rep.breakdown.push((clients, ops));
    Ok(())
}
