//! Crash safety of the spool: four concurrent punchers send decks to three users while the system
//! is killed with SIGKILL at random moments and re-IPLed, at least 20 times. Afterwards every
//! acknowledged file is present at its spoolid and complete, no partial file exists, and the
//! offline spool check is clean.

mod common;

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use common::TestSystem;
use spool::{Queue, Spool, SpoolOptions, UserId, cards::card_text};

const USERS: [&str; 3] = ["MAINT", "DEMO", "OPERATOR"];

/// A deck: a unique id line, some body lines, and a closing line with the body line count, so a
/// partial file can be told from a complete one.
fn deck(id: &str, lines: usize) -> String {
    let mut s = format!("DECK {id}\n");
    for i in 0..lines {
        s.push_str(&format!("{id} line {i} {}\n", "z".repeat(i % 90)));
    }
    s.push_str(&format!("END {id} {lines}\n"));
    s
}

/// Tiny deterministic generator (xorshift), seeded from the clock and printed for replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn parse_ack(out: &str) -> Option<(String, u16)> {
    // PUN FILE 0007 SENT TO   DEMO     RDR AS  0012 …  or  RDR FILE 0003 SENT FROM MAINT … (own reader)
    let l = out.lines().find(|l| l.contains(" SENT "))?;
    if l.starts_with("RDR FILE ") {
        let id = l[9..13].parse().ok()?;
        return Some((String::new(), id));
    }
    let to = l.get(23..31)?.trim().to_string();
    let as_id = l.get(39..43)?.parse().ok()?;
    Some((to, as_id))
}

#[test]
fn acknowledged_files_survive_kill_9_and_nothing_partial_appears() {
    let t = Arc::new(TestSystem::ipl());
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    // (target, spoolid) -> deck id, for every acknowledged punch.
    let acked: Arc<Mutex<HashMap<(String, u16), String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let t = t.clone();
            let acked = acked.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let dir = t.dir.join(format!("w{w}"));
                std::fs::create_dir_all(&dir).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = format!("W{w}N{n}");
                    let from = USERS[(w + n) % 3];
                    let to = USERS[(w * 7 + n) % 3];
                    let f = dir.join(format!("d{n}.txt"));
                    std::fs::write(&f, deck(&id, 1 + (n * 13 + w) % 40)).unwrap();
                    let out = t.punch(from, Some(to), &f, &[]);
                    let text = String::from_utf8_lossy(&out.stdout).into_owned();
                    if out.status.success() {
                        let (mut target, sid) = parse_ack(&text).unwrap_or_else(|| {
                            panic!("acknowledged punch without a SENT line: {text}")
                        });
                        if target.is_empty() {
                            target = to.to_string();
                        }
                        assert_eq!(target, to);
                        acked.lock().unwrap().insert((target, sid), id);
                    } else {
                        // The system is down (or going down): nothing was acknowledged.
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            })
        })
        .collect();
    let kills = 20;
    for i in 0..kills {
        std::thread::sleep(Duration::from_millis(80 + rng.next() % 300));
        t.kill9();
        if i + 1 < kills {
            // Some punches fail while the system is down; then it comes back (warm start).
            std::thread::sleep(Duration::from_millis(rng.next() % 30));
            t.reipl();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 100,
        "only {} punches were acknowledged",
        acked.len()
    );

    // Offline: the spool check is clean, and every file is a complete deck.
    let check = t.run(&["spool", "check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let sp_dir = t.dir.join("spool");
    let (sp, report) = Spool::open(Path::new(&sp_dir), SpoolOptions::default()).unwrap();
    println!(
        "{} acknowledged, {} files after {kills} kills, report {report:?}",
        acked.len(),
        report.files
    );
    let mut seen_ids = HashSet::new();
    let mut found: HashMap<(String, u16), String> = HashMap::new();
    for u in USERS {
        for f in sp.queue(&UserId::parse(u).unwrap(), Queue::Rdr) {
            let recs = sp.read_records(&f).unwrap();
            let text: Vec<String> = recs.iter().map(|r| card_text(r)).collect();
            assert!(text[0].starts_with(":READ  D"), "no header card: {text:?}");
            let id = text[1]
                .strip_prefix("DECK ")
                .expect("deck id line")
                .to_string();
            let last = text.last().unwrap();
            let body = text.len() - 3;
            assert_eq!(
                last,
                &format!("END {id} {body}"),
                "partial or damaged deck {id}"
            );
            for (i, l) in text[2..text.len() - 1].iter().enumerate() {
                assert_eq!(
                    l.trim_end(),
                    format!("{id} line {i} {}", "z".repeat(i % 90)).trim_end(),
                    "bad line in {id}"
                );
            }
            assert!(seen_ids.insert(id.clone()), "deck {id} filed twice");
            found.insert((u.to_string(), f.spoolid), id);
        }
    }
    for (key, id) in &acked {
        assert_eq!(
            found.get(key),
            Some(id),
            "acknowledged deck {id} at {key:?} lost"
        );
    }
}
