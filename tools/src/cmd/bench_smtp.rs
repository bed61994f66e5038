//! `vmimap bench smtp`: durable end-to-end mail delivery, measured from outside: mail sent over
//! SMTP until it is visible in the recipient's INBOX over IMAP.
//!
//! - **Rate**: N SMTP sessions send M messages between them (pipelined MAIL/RCPT/DATA); the
//!   clock runs from the first command to the moment an IMAP session in IDLE on the recipient's
//!   INBOX has seen all M arrive (`* n EXISTS`). Also reported: the rate of SMTP `250`s alone.
//! - **Latency**: one session sends one message at a time; the time from reading its `250` to
//!   reading the `EXISTS` in the IDLE session, median and p90 of K samples.
//!
//! Usable against any SMTP server whose mail lands in an IMAP server's INBOX.

use std::{
    net::ToSocketAddrs,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    sync::Mutex,
};

use super::bench_imap::client::{Account, Client, Target};

/// Options.
#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Server host (both SMTP and IMAP).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// SMTP port.
    #[arg(long, default_value_t = 1025)]
    smtp_port: u16,
    /// IMAP port (plain; the IDLE watcher logs in there).
    #[arg(long, default_value_t = 1143)]
    imap_port: u16,
    /// The recipient's IMAP userid.
    #[arg(long)]
    user: String,
    /// Its password.
    #[arg(long, env = "VMIMAP_BENCH_PASS", hide_env_values = true)]
    pass: String,
    /// The recipient address (default USER@localhost).
    #[arg(long)]
    rcpt: Option<String>,
    /// Session counts of the rate test.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    sessions: Vec<usize>,
    /// Messages per rate run.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Samples of the latency test.
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Bytes of each message body.
    #[arg(long, default_value_t = 2048)]
    size: usize,
}

/// A minimal SMTP client (pipelining when the server offers it).
struct Smtp {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    pipelining: bool,
}

impl Smtp {
    async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Smtp> {
        let s = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to SMTP at {addr}"))?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Smtp {
            r: BufReader::new(r),
            w,
            pipelining: false,
        };
        c.reply(220).await.context("SMTP greeting")?;
        c.w.write_all(b"EHLO bench.example\r\n").await?;
        let lines = c.reply(250).await.context("EHLO")?;
        c.pipelining = lines
            .iter()
            .any(|l| l[4..].eq_ignore_ascii_case("PIPELINING"));
        Ok(c)
    }

    /// Reads one (multi-line) reply and checks its code.
    async fn reply(&mut self, want: u16) -> anyhow::Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l).await? == 0 {
                bail!("the SMTP server closed the connection");
            }
            let l = l.trim_end().to_string();
            if l.len() < 4 {
                bail!("malformed SMTP reply {l:?}");
            }
            let last = l.as_bytes()[3] == b' ';
            lines.push(l);
            if last {
                break;
            }
        }
        let code: u16 = lines[0][..3].parse().unwrap_or(0);
        if code != want {
            bail!(
                "SMTP server answered {:?} (wanted {want})",
                lines.join(" / ")
            );
        }
        Ok(lines)
    }

    /// Sends one message; returns when its `250` has been read.
    async fn send(&mut self, rcpt: &str, msg: &[u8]) -> anyhow::Result<()> {
        let env = format!("MAIL FROM:<bench@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n");
        if self.pipelining {
            self.w.write_all(env.as_bytes()).await?;
            self.reply(250).await.context("MAIL")?;
            self.reply(250).await.context("RCPT")?;
            self.reply(354).await.context("DATA")?;
        } else {
            for (cmd, code) in env.split_inclusive("\r\n").zip([250, 250, 354]) {
                self.w.write_all(cmd.as_bytes()).await?;
                self.reply(code)
                    .await
                    .with_context(|| cmd.trim().to_string())?;
            }
        }
        self.w.write_all(msg).await?;
        self.w.write_all(b".\r\n").await?;
        self.reply(250).await.context("end of DATA")?;
        Ok(())
    }
}

/// A message with a unique subject; lines end in CRLF and none starts with a dot.
fn message(tag: &str, n: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: bench@example.org\r\nTo: someone@example.org\r\nSubject: bench {tag} {n}\r\nMessage-ID: <{tag}.{n}@bench.example>\r\n\r\n"
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(b"The quick brown fox jumps over the lazy dog, again and again.\r\n");
    }
    m
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Reads IDLE updates until INBOX holds `want` messages; returns when it does.
async fn wait_exists(watch: &mut Client, want: u32, limit: Duration) -> anyhow::Result<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(left, watch.idle_update())
            .await
            .map_err(|_| {
                anyhow::anyhow!("INBOX did not reach {want} messages within {limit:?}")
            })??;
        if let Some(n) = line
            .strip_prefix("* ")
            .and_then(|r| r.strip_suffix(" EXISTS"))
            .and_then(|n| n.parse::<u32>().ok())
            && n >= want
        {
            return Ok(n);
        }
    }
}

async fn run_async(o: Opts) -> anyhow::Result<()> {
    let smtp_addr = (o.host.as_str(), o.smtp_port)
        .to_socket_addrs()?
        .next()
        .context("SMTP host")?;
    let imap_addr = (o.host.as_str(), o.imap_port)
        .to_socket_addrs()?
        .next()
        .context("IMAP host")?;
    let rcpt = o
        .rcpt
        .clone()
        .unwrap_or_else(|| format!("{}@localhost", o.user));
    let target = Target {
        addr: imap_addr,
        host: o.host.clone(),
        tls: None,
        timeout: Duration::from_secs(120),
        sync_literals: false,
    };
    let account = Account {
        user: o.user.clone(),
        pass: o.pass.clone(),
    };
    let mut watch = Client::login(&target, &account).await?;
    let mut exists = watch.select("INBOX").await?;
    watch.idle_start().await?;
    println!("measurement                                            value  unit   note");
    println!("{}", "-".repeat(100));
    let run_tag = format!("{}", std::process::id());
    for &n in &o.sessions {
        let n = n.max(1);
        let per = o.messages / n;
        let total = per * n;
        let mut conns = Vec::new();
        for _ in 0..n {
            conns.push(Smtp::connect(smtp_addr).await?);
        }
        let acked = Arc::new(Mutex::new(None::<Instant>));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (i, mut c) in conns.into_iter().enumerate() {
            let (rcpt, tag, size, acked) = (
                rcpt.clone(),
                format!("{run_tag}-{n}-{i}"),
                o.size,
                acked.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for k in 0..per {
                    c.send(&rcpt, &message(&tag, k, size)).await?;
                }
                let mut a = acked.lock().await;
                let now = Instant::now();
                if a.is_none_or(|t| t < now) {
                    *a = Some(now);
                }
                Ok::<(), anyhow::Error>(())
            }));
        }
        let want = exists + total as u32;
        let seen = wait_exists(&mut watch, want, Duration::from_secs(600)).await?;
        let visible = start.elapsed();
        for t in tasks {
            t.await??;
        }
        let smtp_done = acked.lock().await.map_or(visible, |t| t - start);
        exists = seen;
        println!(
            "{:<52} {:>8.0}  msg/s  {total} messages, 250 to visible in INBOX in {:.2} s",
            format!("delivery, {n} SMTP session(s): end to end"),
            total as f64 / visible.as_secs_f64(),
            visible.as_secs_f64()
        );
        println!(
            "{:<52} {:>8.0}  msg/s  all 250s received after {:.2} s",
            format!("delivery, {n} SMTP session(s): SMTP 250s"),
            total as f64 / smtp_done.as_secs_f64(),
            smtp_done.as_secs_f64()
        );
    }
    let mut c = Smtp::connect(smtp_addr).await?;
    let mut lat = Vec::with_capacity(o.samples);
    for k in 0..o.samples {
        c.send(&rcpt, &message(&format!("{run_tag}-lat"), k, o.size))
            .await?;
        let t0 = Instant::now();
        exists = wait_exists(&mut watch, exists + 1, Duration::from_secs(30)).await?;
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let med = percentile(&mut lat, 0.5);
    let p90 = percentile(&mut lat, 0.9);
    println!(
        "{:<52} {:>8.2}  ms     p90 {p90:.2} ms over {} messages, one at a time",
        "latency 250 -> EXISTS in IDLE: median", med, o.samples
    );
    watch.idle_done().await?;
    watch.logout().await;
    Ok(())
}

/// Runs the benchmark.
pub fn run(o: Opts) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(o))?;
    Ok(ExitCode::SUCCESS)
}
