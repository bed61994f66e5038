//! Exactly-once delivery through the spool under crashes: four SMTP sessions send mail to an
//! enrolled IMAP user while the whole system is killed with SIGKILL at random moments, 20 times,
//! and IPLed again. Afterwards every message that got a 250 reply is in the INBOX exactly once,
//! whole; a message that got no 250 is either absent or whole and there once (its 250 may have
//! been lost with the connection); the IMAP machine's reader ends empty.
//!
//! Also here: during a burst, `QUERY RDR * ALL` as IMAP shows the files in flight (SMTP's
//! class-M files tagged for the intake), and the reader is empty once the burst is filed.

mod common;
mod imap_support;
mod smtp_support;

use std::{
    collections::{BTreeSet, HashMap},
    io::{self, BufRead, BufReader, Write},
    net::TcpStream,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use common::{TestSystem, vmimap};
use imap_support::python_json;
use smtp_support::{reader, wait_for};

const SESSIONS: usize = 4;
const KILLS: usize = 20;
/// Messages that must have been acknowledged before the senders stop.
const AT_LEAST: usize = 2000;

/// The text of the message with this subject: a few lines, none starting with a dot, a length
/// that varies with the subject.
fn text(subject: &str) -> String {
    let h = subject
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    (0..h % 30 + 1)
        .map(|k| {
            format!(
                "{subject} line {k}: {}\r\n",
                "xyz".repeat((h % 17) as usize)
            )
        })
        .collect()
}

fn message(subject: &str) -> String {
    format!(
        "From: crash@example.org\r\nTo: demo@vmimap.localdomain\r\nSubject: {subject}\r\n\r\n{}",
        text(subject)
    )
}

/// An SMTP client that reports failures instead of panicking (the server dies under it).
struct Sender {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Sender {
    fn open(port: u16) -> io::Result<Sender> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut c = Sender {
            w: s.try_clone()?,
            r: BufReader::new(s),
        };
        c.expect("", "220")?;
        c.expect("EHLO crash.test\r\n", "250")?;
        Ok(c)
    }

    /// One reply's last line.
    fn reply(&mut self) -> io::Result<String> {
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok(l.trim_end().to_string());
            }
        }
    }

    fn expect(&mut self, send: &str, code: &str) -> io::Result<String> {
        self.w.write_all(send.as_bytes())?;
        let r = self.reply()?;
        if r.starts_with(code) {
            Ok(r)
        } else {
            Err(io::Error::other(format!("{send:?} -> {r}")))
        }
    }

    /// Sends one message; Ok(true) when DATA got its 250.
    fn send(&mut self, subject: &str) -> io::Result<bool> {
        self.expect("MAIL FROM:<crash@example.org>\r\n", "250")?;
        self.expect("RCPT TO:<demo@vmimap.localdomain>\r\n", "250")?;
        self.expect("DATA\r\n", "354")?;
        self.w.write_all(message(subject).as_bytes())?;
        let r = self.expect(".\r\n", "")?;
        Ok(r.starts_with("250"))
    }
}

#[derive(Default)]
struct Log {
    /// Every subject sent (whether or not it was acknowledged).
    tried: BTreeSet<String>,
    /// Subjects whose DATA got a 250.
    acked: BTreeSet<String>,
}

fn sender(t: Arc<TestSystem>, i: usize, log: Arc<Mutex<Log>>, stop: Arc<AtomicBool>) {
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = Sender::open(t.ports.smtp) else {
            std::thread::sleep(Duration::from_millis(30));
            continue;
        };
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let subject = format!("s{i}-{seq}");
            log.lock().unwrap().tried.insert(subject.clone());
            match s.send(&subject) {
                Ok(true) => {
                    log.lock().unwrap().acked.insert(subject);
                }
                Ok(false) | Err(_) => break,
            }
        }
    }
}

/// Subject → the texts of the INBOX messages with that subject (read with imaplib).
fn inbox(t: &TestSystem) -> HashMap<String, Vec<String>> {
    const SCRIPT: &str = r#"
import imaplib, json, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('DEMO', sys.argv[2])
c.select('INBOX', readonly=True)
typ, data = c.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])')
out = []
parts = [d for d in data if isinstance(d, tuple)]
for i in range(0, len(parts), 2):
    subj = parts[i][1].decode().strip()
    out.append([subj[len('Subject: '):], parts[i + 1][1].decode()])
c.logout()
print(json.dumps(out))
"#;
    let v = python_json(SCRIPT, &[&t.ports.imap.to_string(), &t.passwords["DEMO"]]);
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for m in v.as_array().into_iter().flatten() {
        out.entry(m[0].as_str().unwrap().to_string())
            .or_default()
            .push(m[1].as_str().unwrap().to_string());
    }
    out
}

fn enroll_demo(t: &TestSystem) {
    let out = vmimap(&["admin", "enroll", "DEMO", "400000"], &t.dir);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn mail_with_a_250_is_filed_exactly_once_across_kill_9() {
    let t = Arc::new(TestSystem::ipl());
    enroll_demo(&t);
    let mut rnd = common::seeded_rng();
    let stop = Arc::new(AtomicBool::new(false));
    let logs: Vec<Arc<Mutex<Log>>> = (0..SESSIONS).map(|_| Arc::default()).collect();
    let threads: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let (t, l, s) = (t.clone(), logs[i].clone(), stop.clone());
            std::thread::spawn(move || sender(t, i, l, s))
        })
        .collect();
    let acked = || {
        logs.iter()
            .map(|l| l.lock().unwrap().acked.len())
            .sum::<usize>()
    };
    // Kill at random moments while the mail flows: at least KILLS times, and on until AT_LEAST
    // messages have been acknowledged (so all of them were sent between kills).
    let started = Instant::now();
    let mut kills = 0;
    while kills < KILLS || acked() < AT_LEAST {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {} acknowledged after {kills} kills",
            acked()
        );
        std::thread::sleep(Duration::from_millis(200 + rnd() % 1300));
        t.kill9();
        kills += 1;
        let chk = t.run(&["sfs", "check"]);
        assert!(
            chk.status.success(),
            "kill {kills}: sfs check: {}{}",
            String::from_utf8_lossy(&chk.stdout),
            String::from_utf8_lossy(&chk.stderr)
        );
        t.reipl();
    }
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    // The intake files what is still in the reader.
    wait_for(120, "IMAP's reader to be empty", || {
        reader(&t, "IMAP").is_empty().then_some(())
    });
    let found = inbox(&t);
    let (mut tried, mut acked_all) = (BTreeSet::new(), BTreeSet::new());
    for l in &logs {
        let l = l.lock().unwrap();
        tried.extend(l.tried.iter().cloned());
        acked_all.extend(l.acked.iter().cloned());
    }
    for (subject, texts) in &found {
        assert!(tried.contains(subject), "a message nobody sent: {subject}");
        assert_eq!(
            texts.len(),
            1,
            "{subject} is in INBOX {} times",
            texts.len()
        );
        assert_eq!(texts[0], text(subject), "{subject} is not whole");
    }
    let lost: Vec<&String> = acked_all
        .iter()
        .filter(|s| !found.contains_key(*s))
        .collect();
    if !lost.is_empty() {
        let imap = std::fs::read_to_string(t.dir.join("logs/IMAP.console")).unwrap_or_default();
        let notes: Vec<&str> = imap
            .lines()
            .filter(|l| !l.contains("DTCIMA0300I") && !l.contains("DTCIMA0200I"))
            .collect();
        let smtp = std::fs::read_to_string(t.dir.join("logs/SMTP.console")).unwrap_or_default();
        let smtp: Vec<&str> = smtp
            .lines()
            .filter(|l| !l.contains("DTCSMT001I") && !l.contains("DTCSMT003I"))
            .collect();
        panic!(
            "{} acknowledged messages lost: {lost:?}\nDEMO's reader: {:?}\nIMAP console:\n{}\nSMTP console:\n{}",
            lost.len(),
            t.cp("MAINT", "QUERY RDR DEMO ALL").1,
            notes.join("\n"),
            smtp.join("\n")
        );
    }
    let unacked_filed = found.len() - acked_all.len();
    println!(
        "{} acknowledged messages filed exactly once over {kills} kills; {} sent, {} filed without a 250",
        acked_all.len(),
        tried.len(),
        unacked_filed
    );
    t.shutdown();
}

#[test]
fn the_reader_shows_files_in_flight_during_a_burst_and_ends_empty() {
    let t = Arc::new(TestSystem::ipl());
    enroll_demo(&t);
    const BURST: usize = 300;
    let mut most = 0;
    let mut seen = Vec::new();
    let mut sent = 0;
    // A burst of BURST messages over four sessions, watched from IMAP's side. The intake keeps
    // up closely, so a burst might pass between two looks; up to three bursts are watched.
    for burst in 0..3 {
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..SESSIONS)
            .map(|i| {
                let (port, done) = (t.ports.smtp, done.clone());
                std::thread::spawn(move || {
                    let mut s = Sender::open(port).expect("connect to SMTP");
                    for k in 0..BURST / SESSIONS {
                        let ok = s.send(&format!("b{burst}-{i}-{k}")).expect("send");
                        assert!(ok, "no 250");
                    }
                    done.fetch_add(1, Ordering::AcqRel);
                })
            })
            .collect();
        while done.load(Ordering::Acquire) < SESSIONS {
            let files = reader(&t, "IMAP");
            if files.len() > most {
                most = files.len();
                seen = files;
            }
        }
        for th in threads {
            th.join().unwrap();
        }
        sent += BURST;
        if most > 0 {
            break;
        }
    }
    assert!(most > 0, "no file was ever seen in IMAP's reader");
    // What was seen: SMTP's files, class M, for DEMO (QUERY RDR * ALL columns: ORIGINID FILE
    // CLASS RECORDS CPY HOLD DATE TIME NAME TYPE DIST).
    for l in &seen {
        let w: Vec<&str> = l.split_whitespace().collect();
        assert_eq!((w[0], w[2], w[3]), ("SMTP", "M", "PUN"), "{seen:?}");
        assert_eq!(w.get(9..11), Some(&["DEMO", "MAIL"][..]), "{seen:?}");
    }
    println!("at most {most} files in flight");
    wait_for(60, "IMAP's reader to be empty", || {
        reader(&t, "IMAP").is_empty().then_some(())
    });
    let found = inbox(&t);
    let n: usize = found.values().map(Vec::len).sum();
    assert_eq!(n, sent, "INBOX holds {n} of {sent}");
    t.assert_healthy();
}
