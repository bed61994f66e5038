//! The relay queue: mail for other domains waits in SMTP's own reader as relay queue files
//! (class Q, `RELAY QUEUE`, made by [`super::deliver`]) until the smart host takes it. Being
//! spool files they survive a restart: `*SPL` reports them again, and they are tried again.
//!
//! A worker thread sends each file when it is due: at once when it arrives, then every
//! RETRYINT while the host is down or answers 4xx. When the host refuses (5xx), or the mail is
//! older than RETRYAGE, the sender gets an error report (if local) and the file is purged.
//! Recipients the host defers while taking others are written to a new queue file before the
//! old one is purged, so a crash in between sends again rather than loses.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, atomic::AtomicBool, atomic::Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crossbeam_channel::{Receiver, Sender};
use spool::netdata;
use vm::{iucv::SplFile, system::SplClient};

use super::{
    client::{self, Outcome},
    deck::{Queued, parse_queue},
    server::Server,
    stats::Stats,
};

#[derive(Debug, Clone)]
struct Item {
    spl: SplFile,
    from: String,
    to: Vec<String>,
    attempts: u32,
    next: Instant,
    last_error: String,
    active: bool,
}

/// The queue, shared by the worker and QUEU.
#[derive(Debug)]
pub struct RelayQueue {
    items: Mutex<BTreeMap<u64, Item>>,
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
}

impl Default for RelayQueue {
    fn default() -> Self {
        let (wake_tx, wake_rx) = crossbeam_channel::unbounded();
        RelayQueue {
            items: Mutex::new(BTreeMap::new()),
            wake_tx,
            wake_rx,
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl RelayQueue {
    /// A queue file arrived (or was found at start): it is due now.
    pub fn add(&self, spl: SplFile) {
        let mut g = self.items.lock().unwrap_or_else(|e| e.into_inner());
        g.entry(spl.file_id).or_insert(Item {
            to: spl.tag.split_whitespace().map(str::to_string).collect(),
            spl,
            from: String::new(),
            attempts: 0,
            next: Instant::now(),
            last_error: String::new(),
            active: false,
        });
        drop(g);
        let _ = self.wake_tx.send(());
    }

    /// Wakes the worker (to stop, or to look at the queue now).
    pub fn wake(&self) {
        let _ = self.wake_tx.send(());
    }

    /// The queue's lines for QUEU: how many, and one line per file.
    pub fn report(&self, dated: bool, host: Option<&(String, u16)>) -> Vec<String> {
        let g = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let target = host.map_or_else(|| "no smart host".to_string(), |(h, p)| format!("{h}:{p}"));
        let active = g.values().filter(|i| i.active).count();
        let mut out = vec![format!(
            "Active: {active} mail being sent to the smart host ({target})"
        )];
        out.push(format!("Retry Queue: {} mail for the smart host", g.len()));
        for i in g.values() {
            let next = i.next.saturating_duration_since(Instant::now()).as_secs();
            let mut l = format!(
                "  {:04} <{}> to {}: {} attempts, next in {next}s",
                i.spl.spoolid,
                i.from,
                i.to.join(" "),
                i.attempts
            );
            if !i.last_error.is_empty() {
                l.push_str(&format!(
                    " ({})",
                    i.last_error.chars().take(80).collect::<String>()
                ));
            }
            if dated {
                l.push_str(&format!(
                    " queued {}s ago",
                    (now_secs() - i.spl.created).max(0)
                ));
            }
            out.push(l);
        }
        out
    }

    /// The next file due, marked active; or how long to wait.
    fn due(&self) -> Result<SplFile, Duration> {
        let mut g = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut wait = Duration::from_secs(1);
        for i in g.values_mut() {
            if i.active {
                continue;
            }
            if i.next <= now {
                i.active = true;
                return Ok(i.spl.clone());
            }
            wait = wait.min(i.next - now);
        }
        Err(wait)
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Item)) {
        if let Some(i) = self
            .items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&id)
        {
            f(i);
        }
    }

    fn remove(&self, id: u64) {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// The worker: sends due files until `stop` is set.
    pub fn run(&self, server: &Server, spl: &SplClient, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            match self.due() {
                Ok(f) => self.attempt(server, spl, &f),
                Err(wait) => {
                    let _ = self
                        .wake_rx
                        .recv_timeout(wait.max(Duration::from_millis(10)));
                }
            }
        }
    }

    fn read(spl: &SplClient, f: &SplFile) -> Result<Queued, String> {
        let (_, cards) = spl.read(f.file_id).map_err(|e| e.to_string())?;
        let t = netdata::decode(&cards).map_err(|e| e.to_string())?;
        parse_queue(t.records)
    }

    fn attempt(&self, server: &Server, spl: &SplClient, f: &SplFile) {
        let q = match Self::read(spl, f) {
            Ok(q) => q,
            Err(e) if e.contains("not in the reader") => {
                // Purged by an operator meanwhile.
                self.remove(f.file_id);
                return;
            }
            Err(e) => {
                let pm = server.cfg.postmaster.clone();
                let sent = spl.transfer(f.file_id, &pm).is_ok();
                server.log(&format!(
                    "DTCSMT053E Relay queue file {:04} cannot be read ({e}); {}",
                    f.spoolid,
                    if sent {
                        format!("transferred to {pm}")
                    } else {
                        "left in the reader".to_string()
                    }
                ));
                self.remove(f.file_id);
                return;
            }
        };
        self.update(f.file_id, |i| {
            i.from = q.from.clone();
            i.to = q.to.clone();
        });
        let Some((host, port)) = server.cfg.smarthost.clone() else {
            self.bounce(
                server,
                f,
                &q,
                &q.to
                    .iter()
                    .map(|t| {
                        (
                            t.clone(),
                            "no smart host is configured any more".to_string(),
                        )
                    })
                    .collect::<Vec<_>>(),
            );
            self.finish(server, spl, f);
            return;
        };
        match client::send(&host, port, &server.cfg.hostname, &q.from, &q.to, &q.lines) {
            Outcome::Sent {
                accepted,
                refused,
                deferred,
            } => {
                if !accepted.is_empty() {
                    Stats::bump(&server.stats.relayed);
                    if server.tracing() {
                        server.log(&format!(
                            "DTCSMT050I Mail from <{}> sent to {host}:{port} for {}",
                            q.from,
                            accepted.join(", ")
                        ));
                    }
                }
                if !refused.is_empty() {
                    self.bounce(server, f, &q, &refused);
                }
                if !deferred.is_empty() {
                    let to: Vec<String> = deferred.iter().map(|d| d.0.clone()).collect();
                    if let Err(e) = server.to_queue(&q.from, &to, &q.lines, chrono::Utc::now()) {
                        // The old file stays; all of it is tried again.
                        self.retry(
                            server,
                            spl,
                            f,
                            &q,
                            &format!("cannot queue the deferred recipients: {e}"),
                        );
                        return;
                    }
                }
                self.finish(server, spl, f);
            }
            Outcome::Permanent(why) => {
                let all: Vec<(String, String)> =
                    q.to.iter().map(|t| (t.clone(), why.clone())).collect();
                self.bounce(server, f, &q, &all);
                self.finish(server, spl, f);
            }
            Outcome::Temporary(why) => self.retry(server, spl, f, &q, &why),
        }
    }

    fn retry(&self, server: &Server, spl: &SplClient, f: &SplFile, q: &Queued, why: &str) {
        let age = Duration::from_secs((now_secs() - f.created).max(0) as u64);
        if age >= server.cfg.retry_age {
            let all: Vec<(String, String)> =
                q.to.iter()
                    .map(|t| {
                        (
                            t.clone(),
                            format!("not sent for {}s; last: {why}", age.as_secs()),
                        )
                    })
                    .collect();
            self.bounce(server, f, q, &all);
            self.finish(server, spl, f);
            return;
        }
        let next = server.cfg.retry_int;
        server.log(&format!(
            "DTCSMT051W Mail from <{}> for {} not sent: {why}; next try in {}s",
            q.from,
            q.to.join(", "),
            next.as_secs()
        ));
        self.update(f.file_id, |i| {
            i.attempts += 1;
            i.next = Instant::now() + next;
            i.last_error = why.to_string();
            i.active = false;
        });
    }

    fn bounce(&self, server: &Server, f: &SplFile, q: &Queued, failed: &[(String, String)]) {
        let mut lines = vec![
            "Your mail could not be delivered to these recipients by the smart host:".to_string(),
            String::new(),
        ];
        for (t, why) in failed {
            lines.push(format!("  <{t}>: {why}"));
            server.log(&format!(
                "DTCSMT052E Mail from <{}> (queue file {:04}) returned for <{t}>: {why}",
                q.from, f.spoolid
            ));
        }
        lines.push(String::new());
        lines.push("The message began:".into());
        lines.push(String::new());
        for l in q.lines.iter().take(40) {
            lines.push(format!("  {}", String::from_utf8_lossy(l)));
        }
        if q.from.is_empty() {
            return;
        }
        server.mail_report(&q.from, "Undeliverable mail", &lines);
    }

    fn finish(&self, server: &Server, spl: &SplClient, f: &SplFile) {
        if let Err(e) = spl.purge(f.file_id) {
            server.log(&format!(
                "DTCSMT054E Relay queue file {:04} could not be purged: {e}",
                f.spoolid
            ));
        }
        self.remove(f.file_id);
    }
}

/// Starts the worker thread.
pub fn start(
    queue: Arc<RelayQueue>,
    server: Arc<Server>,
    spl: Arc<SplClient>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("smtp-relay".into())
        .spawn(move || queue.run(&server, &spl, &stop))
}
