//! Crash safety of the IMAP mailstore: four clients APPEND messages and STORE flags while the
//! system is killed with SIGKILL at random moments, 20 times. After each kill the file pools
//! check clean offline, and after each re-IPL every acknowledged APPEND is in the mailbox exactly
//! once, whole, under the UID APPENDUID gave it, and every acknowledged flag change is there;
//! UIDVALIDITY never changes.

mod common;

use std::{
    collections::{BTreeMap, HashMap},
    io::{self, BufRead, BufReader, Write},
    net::TcpStream,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use common::{TestSystem, imapline::ImapConn, vmimap};

const CLIENTS: usize = 4;
const KILLS: usize = 20;

/// What the clients were told was done.
#[derive(Default)]
struct Acked {
    /// Subject → UID from APPENDUID.
    appended: BTreeMap<String, u32>,
    /// Subjects whose \Flagged STORE was acknowledged.
    flagged: Vec<String>,
}

fn body(subject: &str) -> String {
    let n = subject.len() * 37 % 3000 + 10;
    format!(
        "From: crash@example.org\r\nSubject: {subject}\r\n\r\n{}\r\n",
        "abcdefghij".repeat(n / 10)
    )
}

/// A client that reports failures instead of panicking (the server dies under it).
struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn open(port: u16, pw: &str) -> io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut c = Client {
            w: s.try_clone()?,
            r: BufReader::new(s),
        };
        c.line()?;
        let r = c.cmd("l", &format!("LOGIN demo {pw}"))?;
        if !r.starts_with("l OK") {
            return Err(io::Error::other(r));
        }
        Ok(c)
    }

    fn line(&mut self) -> io::Result<String> {
        let mut l = String::new();
        if self.r.read_line(&mut l)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(l)
    }

    /// Sends a command and returns its tagged response line (untagged ones are skipped; the
    /// commands used here get no literals back).
    fn cmd(&mut self, tag: &str, text: &str) -> io::Result<String> {
        self.w.write_all(format!("{tag} {text}\r\n").as_bytes())?;
        loop {
            let l = self.line()?;
            if l.starts_with(&format!("{tag} ")) {
                return Ok(l.trim_end().to_string());
            }
        }
    }
}

fn client(
    t: Arc<TestSystem>,
    id: usize,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
    up: Arc<AtomicU64>,
    paused: Arc<AtomicBool>,
) {
    let pw = t.passwords["DEMO"].clone();
    let mut k = 0u64;
    'session: while !stop.load(Ordering::Relaxed) {
        if paused.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let generation = up.load(Ordering::Acquire);
        let Ok(mut c) = Client::open(t.ports.imap, &pw) else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if c.cmd("s", "SELECT INBOX").is_err() {
            continue;
        }
        while !stop.load(Ordering::Relaxed) && up.load(Ordering::Acquire) == generation {
            k += 1;
            let subject = format!("c{id}-{k}");
            let msg = body(&subject);
            let r = (|| {
                c.w.write_all(
                    format!("a APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes(),
                )?;
                loop {
                    let l = c.line()?;
                    if l.starts_with("a ") {
                        return Ok::<String, io::Error>(l);
                    }
                }
            })();
            let Ok(r) = r else { continue 'session };
            assert!(r.starts_with("a OK [APPENDUID "), "APPEND refused: {r}");
            let uid: u32 = r
                .split_whitespace()
                .nth(4)
                .and_then(|u| u.trim_end_matches(']').parse().ok())
                .expect("APPENDUID uid");
            acked.lock().unwrap().appended.insert(subject.clone(), uid);
            if k.is_multiple_of(3) {
                match c.cmd("f", &format!("UID STORE {uid} +FLAGS.SILENT (\\Flagged)")) {
                    Ok(r) if r.starts_with("f OK") => acked.lock().unwrap().flagged.push(subject),
                    Ok(r) => panic!("STORE refused: {r}"),
                    Err(_) => continue 'session,
                }
            }
        }
    }
}

/// Every message of INBOX: subject → (UID, flags, size), and UIDVALIDITY.
/// One message as the mailbox holds it: UID, flags, size.
type Held = (u32, String, usize);

fn inbox(t: &TestSystem) -> (u32, HashMap<String, Vec<Held>>) {
    let mut c = ImapConn::login(t.ports.imap, "demo", &t.passwords["DEMO"]);
    let sel = c.command("s", "EXAMINE INBOX");
    let uv: u32 = sel
        .iter()
        .find_map(|l| l.split("[UIDVALIDITY ").nth(1))
        .and_then(|v| v.split(']').next())
        .and_then(|v| v.parse().ok())
        .expect("UIDVALIDITY");
    let resps = c.command_resps("f", b"UID FETCH 1:* (FLAGS BODY.PEEK[])");
    let mut out: HashMap<String, Vec<(u32, String, usize)>> = HashMap::new();
    for r in resps
        .iter()
        .filter(|r| r.first.starts_with("* ") && r.first.contains(" FETCH ("))
    {
        let raw = String::from_utf8_lossy(&r.raw).into_owned();
        let uid: u32 = raw
            .split("UID ")
            .nth(1)
            .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no UID in {}", r.first));
        let flags = raw
            .split("FLAGS (")
            .nth(1)
            .and_then(|v| v.split(')').next())
            .unwrap_or("")
            .to_string();
        let start = raw.find("}\r\n").expect("a literal") + 3;
        let len: usize = raw[..start - 3]
            .rsplit('{')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("literal length");
        let msg = &raw[start..start + len];
        let subject = msg
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .expect("a subject")
            .trim()
            .to_string();
        assert_eq!(msg, body(&subject), "message {subject} (UID {uid}) is torn");
        out.entry(subject).or_default().push((uid, flags, len));
    }
    (uv, out)
}

#[test]
fn acknowledged_imap_changes_survive_kill_9() {
    let t = Arc::new(TestSystem::ipl());
    let out = vmimap(&["admin", "enroll", "DEMO", "400000"], &t.dir);
    assert_eq!(out.code, 0, "{out:?}");
    let mut rnd = common::seeded_rng();
    let stop = Arc::new(AtomicBool::new(false));
    let paused = Arc::new(AtomicBool::new(false));
    let up = Arc::new(AtomicU64::new(0));
    let acked: Vec<Arc<Mutex<Acked>>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (t, a, s, u, p) = (
                t.clone(),
                acked[i].clone(),
                stop.clone(),
                up.clone(),
                paused.clone(),
            );
            std::thread::spawn(move || client(t, i, a, s, u, p))
        })
        .collect();
    let mut uidvalidity = None;
    let mut total = 0;
    for round in 0..KILLS {
        std::thread::sleep(Duration::from_millis(150 + rnd() % 600));
        paused.store(true, Ordering::Release);
        t.kill9();
        up.fetch_add(1, Ordering::AcqRel);
        // Offline, before the next IPL: the pools are consistent.
        let chk = t.run(&["sfs", "check"]);
        assert!(
            chk.status.success(),
            "round {round}: sfs check: {}{}",
            String::from_utf8_lossy(&chk.stdout),
            String::from_utf8_lossy(&chk.stderr)
        );
        t.reipl();
        let (uv, found) = inbox(&t);
        assert_eq!(*uidvalidity.get_or_insert(uv), uv, "UIDVALIDITY changed");
        for dupes in found.values() {
            assert_eq!(dupes.len(), 1, "a message is in INBOX twice: {dupes:?}");
        }
        total = 0;
        for a in &acked {
            let a = a.lock().unwrap();
            for (subject, uid) in &a.appended {
                let got = found
                    .get(subject)
                    .unwrap_or_else(|| panic!("round {round}: acknowledged {subject} lost"));
                assert_eq!(got[0].0, *uid, "{subject}: UID changed");
                total += 1;
            }
            for subject in &a.flagged {
                assert!(
                    found[subject][0].1.contains("\\Flagged"),
                    "round {round}: acknowledged \\Flagged on {subject} lost"
                );
            }
        }
        paused.store(false, Ordering::Release);
    }
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    println!("{total} acknowledged appends verified over {KILLS} kills");
    assert!(total > 100, "too few appends to mean anything: {total}");
    t.shutdown();
}
