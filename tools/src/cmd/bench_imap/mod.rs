//! `vmimap bench imap`: an IMAP benchmark against any IMAP server (the vmimap IMAP server,
//! Dovecot, ...), so that servers can be compared side by side:
//!
//! 1. a mixed read-mostly workload at 1, 10 and 50 clients: commands/s, median and p99 latency;
//! 2. APPEND throughput at 1 and 10 clients;
//! 3. SELECT + `FETCH 1:* (UID FLAGS)` on a 100,000-message mailbox, first and warm;
//! 4. server memory per idle (IDLE) connection at 1,000 and 10,000 connections.
//!
//! Progress goes to stderr, the result table to stdout.

mod append;
mod bigbox;
pub mod client;
mod fill;
mod idle;
mod mem;
mod messages;
mod mixed;
mod report;

use std::{
    net::ToSocketAddrs,
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use client::{Account, Client, Target};
use report::Report;
use tokio::task::JoinSet;

/// The parts of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Mixed workload at several client counts.
    Mix,
    /// APPEND throughput.
    Append,
    /// SELECT + FETCH 1:* on the big mailbox.
    Open,
    /// Memory per idle connection.
    Idle,
}

/// Options of `vmimap bench imap`.
#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Server host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port [default: 143, or 993 with --tls].
    #[arg(long)]
    port: Option<u16>,
    /// Account to log in as (the big mailbox is made in this one).
    #[arg(long)]
    user: Option<String>,
    /// Its password.
    #[arg(long, env = "VMIMAP_BENCH_PASS", hide_env_values = true)]
    pass: Option<String>,
    /// More accounts; connections are spread over all accounts round-robin (servers often
    /// limit connections per user).
    #[arg(long, value_name = "U1:PW1,U2:PW2,...")]
    users: Option<String>,
    /// Implicit TLS (IMAPS). The certificate is not checked unless --tls-ca is given.
    #[arg(long)]
    tls: bool,
    /// Check the server certificate against the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM", requires = "tls")]
    tls_ca: Option<PathBuf>,
    /// The server's process id: the idle-connection test reads the VmRSS of it and all its
    /// descendants from /proc before and after opening the connections.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// A smoke run: 3 s runs, a 300-message mix mailbox, a 10,000-message big mailbox and 200
    /// idle connections (explicit size options still win).
    #[arg(long)]
    quick: bool,
    /// Run only these parts.
    #[arg(long, value_delimiter = ',', value_name = "PART,...")]
    only: Option<Vec<Part>>,
    /// Seconds each timed run (mixed workload, APPEND) lasts [default: 10, --quick 3].
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Client counts of the mixed workload.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,10,50",
        value_name = "N,..."
    )]
    mix_clients: Vec<usize>,
    /// Messages in each account's mixed-workload mailbox [default: 1000, --quick 300].
    #[arg(long, value_name = "N")]
    mix_messages: Option<u32>,
    /// Client counts of the APPEND test.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,10",
        value_name = "N,..."
    )]
    append_clients: Vec<usize>,
    /// APPEND clients of one account all append to one mailbox (default: a mailbox per
    /// client).
    #[arg(long)]
    append_shared: bool,
    /// Messages in the big mailbox [default: 100000, --quick 10000].
    #[arg(long, value_name = "N")]
    big_messages: Option<u32>,
    /// Connections filling the big mailbox (MULTIAPPEND batches of 100 when the server has it).
    #[arg(long, default_value_t = 8, value_name = "N")]
    fill_conns: usize,
    /// Warm repetitions of the big mailbox open.
    #[arg(long, default_value_t = 5, value_name = "N")]
    warm_reps: usize,
    /// Idle connection counts [default: 1000,10000, --quick 200].
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    idle: Option<Vec<usize>>,
    /// Idle connections being set up at the same time.
    #[arg(long, default_value_t = 50, value_name = "N")]
    idle_ramp: usize,
    /// Seconds to wait with all idle connections open before reading the server's memory.
    #[arg(long, default_value_t = 3.0, value_name = "SECS")]
    idle_settle: f64,
    /// Prefix of the benchmark's mailbox names.
    #[arg(long, default_value = "vmbench", value_name = "NAME")]
    prefix: String,
    /// Delete the mix and big mailboxes at the end (by default they are kept, and reused by the
    /// next run when they still have the right number of messages).
    #[arg(long)]
    cleanup: bool,
    /// Always send synchronizing literals (wait for `+`), even to a server with LITERAL+.
    #[arg(long)]
    sync_literals: bool,
    /// Seconds any single command may take.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    timeout: u64,
}

/// What every part needs.
#[derive(Debug)]
pub struct Ctx {
    pub target: Target,
    pub accounts: Vec<Account>,
    pub prefix: String,
    pub duration: Duration,
    pub append_shared: bool,
}

/// Logs `n` clients in at once; client k uses account `acct(k)` (mod the number of accounts).
async fn login_many(
    ctx: &Ctx,
    n: usize,
    acct: impl Fn(usize) -> usize,
) -> anyhow::Result<Vec<Client>> {
    let mut set = JoinSet::new();
    for k in 0..n {
        let (t, a) = (
            ctx.target.clone(),
            ctx.accounts[acct(k) % ctx.accounts.len()].clone(),
        );
        set.spawn(async move {
            Client::login(&t, &a)
                .await
                .with_context(|| format!("connection {} of {n} ({})", k + 1, a.user))
                .map(|c| (k, c))
        });
    }
    let mut v = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        v.push(r??);
    }
    v.sort_by_key(|(k, _)| *k);
    Ok(v.into_iter().map(|(_, c)| c).collect())
}

/// Deletes `mailbox` if it exists and creates it empty.
async fn recreate(c: &mut Client, mailbox: &str) -> anyhow::Result<()> {
    let q = client::quoted(mailbox);
    let _ = c.command(&format!("DELETE {q}")).await?;
    c.command(&format!("CREATE {q}"))
        .await?
        .ok(&format!("CREATE {mailbox}"))?;
    Ok(())
}

/// Raises the open-file soft limit to the hard limit; fails when it is still below `need`.
fn raise_nofile(need: u64) -> anyhow::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = getrlimit(Resource::Nofile);
    if l.current != l.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: l.maximum,
                maximum: l.maximum,
            },
        );
    }
    let l = getrlimit(Resource::Nofile);
    let have = l.current.unwrap_or(u64::MAX);
    if have < need {
        bail!(
            "the open-file limit is {have} (hard limit {}), but this run needs about {need} \
             descriptors (one per idle connection plus some): raise it, e.g. `ulimit -n {need}` \
             (as root, or after raising the hard limit in /etc/security/limits.conf), or ask for \
             fewer with --idle",
            l.maximum.map_or("unlimited".to_string(), |m| m.to_string())
        );
    }
    Ok(have)
}

fn accounts(o: &Opts) -> anyhow::Result<Vec<Account>> {
    let mut v = Vec::new();
    match (&o.user, &o.pass) {
        (Some(u), Some(p)) => v.push(Account {
            user: u.clone(),
            pass: p.clone(),
        }),
        (Some(_), None) => bail!("--user needs --pass (or VMIMAP_BENCH_PASS)"),
        (None, Some(_)) => bail!("--pass needs --user"),
        (None, None) => {}
    }
    for item in o.users.iter().flat_map(|s| s.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (u, p) = item
            .split_once(':')
            .ok_or_else(|| anyhow!("--users: `{item}` is not USER:PASSWORD"))?;
        if !v.iter().any(|a: &Account| a.user == u) {
            v.push(Account {
                user: u.to_string(),
                pass: p.to_string(),
            });
        }
    }
    if v.is_empty() {
        bail!("give an account: --user U --pass PW (and optionally --users U1:PW1,...)");
    }
    Ok(v)
}

/// Runs the benchmark.
pub fn run(o: Opts) -> anyhow::Result<ExitCode> {
    let accounts = accounts(&o)?;
    let wants = |p: Part| o.only.as_ref().is_none_or(|v| v.contains(&p));
    let duration = Duration::from_secs_f64(o.duration.unwrap_or(if o.quick { 3.0 } else { 10.0 }));
    let mix_messages = o.mix_messages.unwrap_or(if o.quick { 300 } else { 1000 });
    let big_messages = o
        .big_messages
        .unwrap_or(if o.quick { 10_000 } else { 100_000 });
    let idle_counts = o.idle.clone().unwrap_or(if o.quick {
        vec![200]
    } else {
        vec![1000, 10_000]
    });
    let max_idle = if wants(Part::Idle) {
        idle_counts.iter().copied().max().unwrap_or(0)
    } else {
        0
    };
    let need = (max_idle + o.fill_conns + 64).max(*o.mix_clients.iter().max().unwrap_or(&0) + 64);
    let nofile = raise_nofile(need as u64)?;
    if let Some(pid) = o.server_pid {
        mem::tree(pid)?;
    }
    let port = o.port.unwrap_or(if o.tls { 993 } else { 143 });
    let addr = (o.host.as_str(), port)
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", o.host))?
        .next()
        .ok_or_else(|| anyhow!("{} has no address", o.host))?;
    let tls = if o.tls {
        Some(client::tls_connector(o.tls_ca.as_deref())?)
    } else {
        None
    };
    let ctx = Ctx {
        target: Target {
            addr,
            host: o.host.clone(),
            tls,
            timeout: Duration::from_secs(o.timeout),
            sync_literals: o.sync_literals,
        },
        accounts,
        prefix: o.prefix.clone(),
        duration,
        append_shared: o.append_shared,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut rep = Report::default();
        // Probe: can we log in at all, and what does the server offer?
        let c = Client::login(&ctx.target, &ctx.accounts[0])
            .await
            .with_context(|| format!("{addr}"))?;
        let mut caps: Vec<&String> = c.caps.iter().collect();
        caps.sort();
        rep.header.push(format!(
            "vmimap bench imap: {addr}{} as {} ({} account(s)); open-file limit {nofile}",
            if o.tls { " (TLS)" } else { "" },
            ctx.accounts[0].user,
            ctx.accounts.len()
        ));
        rep.header.push(format!("greeting: {}", c.greeting));
        rep.header.push(format!(
            "capabilities after login: {}",
            caps.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ));
        rep.header.push(format!(
            "timed runs {:.0} s; mixed workload mailbox {mix_messages} msgs per account; mix: {}",
            duration.as_secs_f64(),
            mixed::describe()
        ));
        for cap in ["IDLE", "LITERAL+", "MULTIAPPEND"] {
            if !c.caps.contains(cap) {
                eprintln!("note: the server does not advertise {cap}");
            }
        }
        let has_idle = c.caps.contains("IDLE");
        c.logout().await;
        let t0 = Instant::now();

        if wants(Part::Mix) {
            let max = o.mix_clients.iter().copied().max().unwrap_or(1);
            match mixed::prepare(&ctx, max.min(ctx.accounts.len()), mix_messages).await {
                Err(e) => rep.fail("mixed workload: preparing the mailboxes", &e),
                Ok(mailbox) => {
                    for &n in &o.mix_clients {
                        if let Err(e) = mixed::run(&ctx, &mut rep, &mailbox, n).await {
                            rep.fail(format!("mixed workload, {n} client(s)"), &e);
                        }
                    }
                }
            }
        }
        if wants(Part::Append) {
            for &n in &o.append_clients {
                if let Err(e) = append::run(&ctx, &mut rep, n).await {
                    rep.fail(format!("APPEND, {n} client(s)"), &e);
                }
            }
        }
        if wants(Part::Open)
            && let Err(e) =
                bigbox::run(&ctx, &mut rep, big_messages, o.fill_conns, o.warm_reps).await
        {
            rep.fail(format!("{big_messages}-message mailbox"), &e);
        }
        if wants(Part::Idle) {
            if !has_idle {
                rep.fail(
                    "idle connections",
                    &anyhow!("the server does not advertise IDLE"),
                );
            } else {
                for &n in &idle_counts {
                    if let Err(e) = idle::run(
                        &ctx,
                        &mut rep,
                        n,
                        o.idle_ramp,
                        Duration::from_secs_f64(o.idle_settle),
                        o.server_pid,
                    )
                    .await
                    {
                        rep.fail(format!("{n} idle connections"), &e);
                    }
                }
            }
        }
        if o.cleanup {
            let r: anyhow::Result<()> = async {
                for (i, a) in ctx.accounts.iter().enumerate() {
                    let mut c = Client::login(&ctx.target, a).await?;
                    for m in ["mix", "big"] {
                        if m == "big" && i > 0 {
                            continue;
                        }
                        let _ = c
                            .command(&format!(
                                "DELETE {}",
                                client::quoted(&format!("{}-{m}", ctx.prefix))
                            ))
                            .await?;
                    }
                    c.logout().await;
                }
                Ok(())
            }
            .await;
            if let Err(e) = r {
                eprintln!("vmimap bench imap: cleanup: {e:#}");
            }
        }
        rep.header.push(format!(
            "total run time {:.0} s",
            t0.elapsed().as_secs_f64()
        ));
        rep.print();
        Ok(if rep.failures > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
