//! Folder index versions and the converter (docs/index.md), on a mailstore written by the
//! version-1 code (`tests/fixtures/v1_mailstore.tar.gz`, made by
//! `tests/fixtures/make_v1_mailstore.py`; what a client saw then is in `v1_mailstore.json`):
//!
//! - the server refuses a version-1 folder with the documented NO and console message;
//! - `vmimap index check` reports version 1, and refuses to run while the system runs;
//! - `vmimap index migrate` killed (`kill -9`) several times in the middle leaves every folder
//!   wholly version 1 or wholly version 2 and the pool consistent; a last run finishes the job;
//! - afterwards the server shows exactly what the version-1 server showed (UIDVALIDITY, UIDNEXT,
//!   UIDs, flags, sizes, bytes), and MODSEQs survive a restart.

mod common;
mod imap_support;

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{HostOut, Ports, process_running, vmimap_bin, write_network_config};
use imap_support::{Imap, quote, snapshot};
use serde_json::Value;

/// The NO of a version-1 folder.
const REFUSAL: &str = "NO [CANNOT] Folder index is version 1; run vmimap index migrate";

/// The fixture unpacked in a temporary folder, with fresh ports.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ports: Ports,
    expect: Value,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

impl Fixture {
    fn unpack() -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let st = Command::new("tar")
            .arg("xzf")
            .arg(fixtures().join("v1_mailstore.tar.gz"))
            .arg("-C")
            .arg(tmp.path())
            .status()
            .expect("run tar");
        assert!(st.success(), "tar failed");
        let dir = tmp.path().join("vmsys");
        let ports = write_network_config(&dir);
        let expect: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("v1_mailstore.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(expect["index_version"], 1);
        Fixture {
            _tmp: tmp,
            dir,
            ports,
            expect,
        }
    }

    /// `vmimap ARGS… --system DIR`.
    fn run(&self, args: &[&str]) -> HostOut {
        let out = Command::new(vmimap_bin())
            .args(args)
            .arg("--system")
            .arg(&self.dir)
            .env_remove("VMIMAP_SYSTEM")
            .output()
            .expect("run vmimap");
        HostOut {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ipl(&self) {
        let o = self.run(&["ipl", "--detach"]);
        assert_eq!(o.code, 0, "ipl: {o:?}");
    }

    fn shutdown(&self) {
        let o = self.run(&["shutdown"]);
        assert_eq!(o.code, 0, "shutdown: {o:?}");
    }

    fn password(&self, user: &str) -> String {
        self.expect["passwords"][user].as_str().unwrap().to_string()
    }

    fn login(&self, user: &str) -> Imap {
        Imap::login(self.ports.imap, user, user, &self.password(user))
    }

    fn folder_count(&self) -> usize {
        self.expect["folders"].as_u64().unwrap() as usize
    }

    /// `vmimap index check`: exit status and (user folder → version) of every folder, asserting
    /// that each is consistent.
    fn check(&self, when: &str) -> (i32, BTreeMap<String, u32>) {
        let o = self.run(&["index", "check"]);
        let mut versions = BTreeMap::new();
        for l in o.stdout.lines() {
            let Some((folder, rest)) = l.split_once("): version ") else {
                continue;
            };
            assert!(l.ends_with(", consistent"), "{when}: {l}\n{}", o.stdout);
            let v: u32 = rest.split(',').next().unwrap().parse().unwrap();
            versions.insert(format!("{folder})"), v);
        }
        assert_eq!(
            versions.len(),
            self.folder_count(),
            "{when}: folders in check output\n{o:?}"
        );
        (o.code, versions)
    }

    /// `vmimap sfs check` of the stopped system: every pool consistent.
    fn pools_consistent(&self, when: &str) {
        let o = self.run(&["sfs", "check"]);
        assert_eq!(o.code, 0, "{when}: sfs check: {o:?}");
        assert!(
            o.stdout.contains("file pool MAILPOOL is consistent"),
            "{when}: {o:?}"
        );
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.join("vmimap.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        if let Some(pid) = pid
            && process_running(pid)
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The tagged line's text after the tag.
fn after_tag(tagged: &str) -> &str {
    tagged.split_once(' ').map_or("", |(_, r)| r)
}

#[test]
fn server_refuses_a_version_1_folder_with_the_documented_message() {
    let f = Fixture::unpack();
    let (code, versions) = f.check("before IPL");
    assert_eq!(code, 2, "check exits 2 while folders need migrating");
    assert!(versions.values().all(|v| *v == 1), "{versions:?}");

    f.ipl();
    let o = f.run(&["index", "check"]);
    assert_eq!(o.code, 1, "check of a running system: {o:?}");
    assert!(o.stderr.contains("is running"), "{o:?}");
    let o = f.run(&["index", "migrate"]);
    assert_eq!(o.code, 1, "migrate of a running system: {o:?}");
    assert!(o.stderr.contains("shut it down first"), "{o:?}");

    let mut c = f.login("DEMO");
    for cmd in [
        "SELECT INBOX",
        "EXAMINE \"Work/Beta\"",
        "STATUS Sent (MESSAGES)",
        "APPEND Drafts {3+}\r\nx\r\n",
    ] {
        let r = c.cmd(cmd);
        assert_eq!(after_tag(&r.tagged), REFUSAL, "{cmd}\n{}", c.dump());
    }
    // A new folder is version 2 and works beside the old ones.
    c.ok("CREATE Fresh");
    c.ok("APPEND Fresh {3+}\r\nx\r\n");
    let r = c.ok("SELECT Fresh");
    assert!(r.with("1 EXISTS").len() == 1, "{}", c.dump());
    c.logout();

    let console = std::fs::read_to_string(f.dir.join("logs/IMAP.console")).unwrap();
    let refused: Vec<&str> = console
        .lines()
        .filter(|l| l.contains("DTCIMA0240E"))
        .collect();
    assert!(
        refused.iter().any(|l| l.ends_with(
            "DTCIMA0240E Folder INBOX (F0000001) of DEMO refused: Folder index is version 1; run vmimap index migrate"
        )),
        "{console}"
    );
    // Once per folder.
    assert_eq!(refused.len(), 4, "{refused:?}");
    f.shutdown();

    let o = f.run(&["index", "check", "--user", "demo", "--folder", "Fresh"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("DEMO Fresh ("), "{o:?}");
    assert!(o.stdout.contains("version 2, 1 messages"), "{o:?}");
    let o = f.run(&["index", "dump", "--user", "DEMO", "--folder", "inbox"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.starts_with("== DEMO INBOX (F0000001): "), "{o:?}");
    assert!(
        o.stdout.contains("\nheader version 1 uidvalidity "),
        "{o:?}"
    );
}

#[test]
fn migration_survives_kill9_and_keeps_every_message() {
    let f = Fixture::unpack();
    let total = f.folder_count();
    let (code, versions) = f.check("before migration");
    assert_eq!(code, 2);
    assert!(versions.values().all(|v| *v == 1));

    // Kill -9 in the middle: after the n-th folder line, plus a pause (microseconds) so that
    // kills land at different points of a folder's conversion, inside its work unit too. (The
    // converter takes about a millisecond per folder.)
    let rounds: [(usize, u64); 6] = [(3, 0), (1, 700), (2, 2500), (4, 1300), (1, 300), (2, 0)];
    let mut done_before = 0;
    let mut interrupted = 0;
    for (round, (lines, pause)) in rounds.into_iter().enumerate() {
        let when = format!("after kill {}", round + 1);
        let mut child = Command::new(vmimap_bin())
            .args(["index", "migrate", "--system"])
            .arg(&f.dir)
            .env_remove("VMIMAP_SYSTEM")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start migrate");
        let mut seen = 0;
        // Kept open until the kill, so that the child never writes to a closed pipe.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut l = String::new();
        while seen < lines {
            l.clear();
            if out.read_line(&mut l).unwrap() == 0 {
                break;
            }
            if l.contains(": version 1 -> 2, ") {
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(pause));
        child.kill().expect("kill -9");
        let st = child.wait().unwrap();
        drop(out);
        if !st.success() {
            interrupted += 1;
        }
        f.pools_consistent(&when);
        let (code, versions) = f.check(&when);
        let done = versions.values().filter(|v| **v == 2).count();
        assert!(
            versions.values().all(|v| *v == 1 || *v == 2),
            "{when}: {versions:?}"
        );
        assert!(
            done >= done_before + seen,
            "{when}: {done} folders at version 2, {done_before} before and {seen} reported"
        );
        assert_eq!(code, if done == total { 0 } else { 2 }, "{when}");
        eprintln!(
            "{when}: {done} of {total} folders converted (killed: {})",
            !st.success()
        );
        done_before = done;
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} runs were killed mid-way"
    );
    assert!(
        done_before < total,
        "the kills left nothing to convert: make the fixture larger"
    );

    // The last run finishes the job; another changes nothing.
    let t = Instant::now();
    let o = f.run(&["index", "migrate"]);
    let took = t.elapsed();
    assert_eq!(o.code, 0, "{o:?}");
    let want = format!("{} folders converted (", total - done_before);
    assert!(o.stdout.contains(&want), "{want}\n{o:?}");
    assert!(
        o.stdout
            .contains(&format!("{done_before} already at version 2, 0 failed")),
        "{o:?}"
    );
    eprintln!(
        "last migrate: {:?}: {}",
        took,
        o.stdout.lines().last().unwrap()
    );
    let o = f.run(&["index", "migrate"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout.contains(&format!(
            "0 folders converted (0 messages), {total} already"
        )),
        "{o:?}"
    );
    let (code, versions) = f.check("after the last run");
    assert_eq!(code, 0);
    assert!(versions.values().all(|v| *v == 2));
    f.pools_consistent("after the last run");

    // What the version-1 server showed.
    f.ipl();
    for (user, folders) in f.expect["users"].as_object().unwrap() {
        let mut c = f.login(user);
        for (name, want) in folders.as_object().unwrap() {
            let what = format!("{user} {name}");
            let (uidvalidity, msgs) = snapshot(&mut c, &quote(name));
            assert_eq!(
                uidvalidity as u64,
                want["uidvalidity"].as_u64().unwrap(),
                "{what}"
            );
            let r = c.ok(&format!("STATUS {} (UIDNEXT HIGHESTMODSEQ)", quote(name)));
            let st = r.with("* STATUS").join(" ");
            assert!(
                st.contains(&format!("UIDNEXT {}", want["uidnext"])),
                "{what}: {st}"
            );
            assert!(st.contains("HIGHESTMODSEQ 1)"), "{what}: {st}");
            let wm = want["messages"].as_array().unwrap();
            assert_eq!(msgs.len(), wm.len(), "{what}: messages");
            for (m, w) in msgs.iter().zip(wm) {
                assert_eq!(m.uid as u64, w["uid"].as_u64().unwrap(), "{what}");
                let flags: Vec<String> = w["flags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(m.flags, flags, "{what} UID {}", m.uid);
                assert_eq!(m.bytes.len() as u64, w["size"].as_u64().unwrap(), "{what}");
                assert_eq!(
                    fnv1a64(&m.bytes),
                    w["fnv1a64"].as_str().unwrap(),
                    "{what} UID {} bytes",
                    m.uid
                );
            }
        }
        c.logout();
    }

    // MODSEQs now survive a restart: a flag change raises the message's, an expunge the
    // folder's.
    let mut c = f.login("DEMO");
    c.ok("SELECT \"Lists/vm-l\"");
    c.ok("UID STORE 100 +FLAGS ($Migrated)");
    let modseq_of = |c: &mut Imap, uid: u32| -> u64 {
        let r = c.ok(&format!("UID FETCH {uid} (MODSEQ)"));
        let l = r.with("MODSEQ (").join("");
        l.split("MODSEQ (")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let m100 = modseq_of(&mut c, 100);
    assert!(m100 > 1, "MODSEQ after STORE: {m100}");
    assert_eq!(modseq_of(&mut c, 101), 1);
    c.ok("UID STORE 101 +FLAGS (\\Deleted)");
    c.ok("UID EXPUNGE 101");
    let highest = |c: &mut Imap| -> u64 {
        let r = c.ok("STATUS \"Lists/vm-l\" (HIGHESTMODSEQ)");
        let l = r.with("HIGHESTMODSEQ ").join("");
        let n = l.split("HIGHESTMODSEQ ").nth(1).unwrap();
        n.trim_end_matches(')').parse().unwrap()
    };
    let h = highest(&mut c);
    assert!(
        h > m100 + 1,
        "HIGHESTMODSEQ {h} after STORE, STORE and EXPUNGE"
    );
    c.logout();
    f.shutdown();
    let o = f.run(&["index", "dump", "--user", "DEMO", "--folder", "Lists/vm-l"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout
            .contains(&format!("F modseq {m100}\n  uid 100 flags (")),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&format!("X modseq {h} uids 101")),
        "{}",
        o.stdout
    );
    f.ipl();
    let mut c = f.login("DEMO");
    assert_eq!(highest(&mut c), h, "HIGHESTMODSEQ after re-IPL");
    c.ok("SELECT \"Lists/vm-l\"");
    assert_eq!(modseq_of(&mut c, 100), m100, "MODSEQ after re-IPL");
    c.ok("UID STORE 102 +FLAGS ($Restarted)");
    assert_eq!(
        modseq_of(&mut c, 102),
        h + 1,
        "the next MODSEQ after re-IPL"
    );
    c.logout();
    f.shutdown();
}

/// A crash at any byte of the conversion's log writes: the log of a whole migration cut at
/// points across what it appended (inside entries too) on top of the unconverted pool, as if
/// the machine had died there. Every cut leaves each folder wholly version 1 or wholly version
/// 2, the pool consistent, and more folders converted the later the cut.
#[test]
fn every_crash_point_of_a_migration_leaves_each_folder_old_or_new() {
    let f = Fixture::unpack();
    let pool = f.dir.join("dasd/VMSERVS/MAILPOOL");
    let seg = pool.join("log/00000001.jnl");
    let before_log = std::fs::read(&seg).unwrap();
    let before_catalog = std::fs::read(pool.join("CATALOG")).unwrap();
    let o = f.run(&["index", "migrate", "--quiet"]);
    assert_eq!(o.code, 0, "{o:?}");
    let after_log = std::fs::read(&seg).unwrap();
    let segments = std::fs::read_dir(pool.join("log")).unwrap().count();
    assert_eq!(
        segments, 1,
        "the conversion went on in the same log segment"
    );
    assert!(after_log.len() > before_log.len());
    assert!(
        after_log[..before_log.len()] == before_log[..],
        "the conversion only appends to the log"
    );
    let (l0, l1) = (before_log.len(), after_log.len());
    let step = ((l1 - l0) / 150).max(1);
    let mut cuts: Vec<usize> = (l0..l1).step_by(step).collect();
    cuts.extend([l0 + 1, l1 - 1, l1]);
    cuts.sort_unstable();
    cuts.dedup();
    let mut last_done = 0;
    let mut mixed = 0;
    for (i, cut) in cuts.iter().enumerate() {
        let when = format!("log cut at {cut} ({} bytes of {})", cut - l0, l1 - l0);
        std::fs::write(&seg, &after_log[..*cut]).unwrap();
        std::fs::write(pool.join("CATALOG"), &before_catalog).unwrap();
        if i % 10 == 0 || *cut == l1 {
            f.pools_consistent(&when);
        }
        let (code, versions) = f.check(&when);
        let done = versions.values().filter(|v| **v == 2).count();
        assert!(versions.values().all(|v| *v == 1 || *v == 2), "{when}");
        assert!(
            done >= last_done,
            "{when}: {done} converted, {last_done} at an earlier cut"
        );
        assert_eq!(code, if done == versions.len() { 0 } else { 2 }, "{when}");
        if done > 0 && done < versions.len() {
            mixed += 1;
        }
        last_done = done;
    }
    assert_eq!(
        last_done,
        f.folder_count(),
        "the whole log converts every folder"
    );
    assert!(
        mixed > 50,
        "only {mixed} cuts fell between the first and the last folder"
    );
}
