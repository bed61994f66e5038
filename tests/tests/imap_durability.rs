//! The mailstore across restarts: after SHUTDOWN and re-IPL a mailbox has the same UIDVALIDITY,
//! UIDs, flags and bytes; after `kill -9` every change whose tagged OK a client read (STORE,
//! APPEND, EXPUNGE) is there, and UIDs are never given out twice.

mod common;
mod imap_support;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use imap_support::{Imap, Stored, message, snapshot, system_with_demo};

fn assert_same(before: &(u32, Vec<Stored>), after: &(u32, Vec<Stored>), when: &str) {
    assert_eq!(before.0, after.0, "{when}: UIDVALIDITY changed");
    let uids = |s: &(u32, Vec<Stored>)| s.1.iter().map(|m| m.uid).collect::<Vec<_>>();
    assert_eq!(uids(before), uids(after), "{when}: UIDs differ");
    for (b, a) in before.1.iter().zip(&after.1) {
        assert_eq!(b.flags, a.flags, "{when}: flags of UID {}", b.uid);
        assert!(b.bytes == a.bytes, "{when}: bytes of UID {} differ", b.uid);
    }
}

#[test]
fn mailbox_survives_shutdown_and_acknowledged_changes_survive_kill9() {
    let (t, pw) = system_with_demo();
    let port = t.ports.imap;
    let msgs = [
        message("one", "First."),
        message("two", &"Second, larger body line.\r\n".repeat(4000)),
        message("three", "Third."),
    ];
    let mut c = Imap::login(port, "before shutdown", "DEMO", &pw);
    let flags = ["\\Seen", "", "\\Flagged $Label1"];
    let uids: Vec<u32> = msgs
        .iter()
        .zip(flags)
        .map(|(m, f)| c.append("INBOX", f, m))
        .collect();
    assert_eq!(uids, [1, 2, 3]);
    c.ok("SELECT INBOX");
    c.ok("STORE 2 +FLAGS (\\Answered)");
    let before = snapshot(&mut c, "INBOX");
    assert_eq!(before.1.len(), 3);
    for (m, want) in before.1.iter().zip(&msgs) {
        assert!(m.bytes == *want, "UID {} bytes as fetched differ", m.uid);
    }
    assert_eq!(before.1[1].flags, ["\\Answered"]);
    assert_eq!(before.1[2].flags, ["$Label1", "\\Flagged"]);
    c.logout();

    // Orderly shutdown and re-IPL.
    t.shutdown();
    assert!(!t.alive(), "system still running after shutdown");
    t.reipl();
    let mut c = Imap::login(port, "after re-IPL", "DEMO", &pw);
    let after = snapshot(&mut c, "INBOX");
    assert_same(&before, &after, "after SHUTDOWN and re-IPL");

    // kill -9 right after a STORE's tagged OK.
    let r = c.ok("UID STORE 3 +FLAGS (\\Seen $Label2)");
    t.kill9();
    assert!(!t.alive());
    t.reipl();
    let mut c = Imap::login(port, "after kill after STORE", "DEMO", &pw);
    let mut want = after.clone();
    want.1[2].flags = vec![
        "$Label1".into(),
        "$Label2".into(),
        "\\Flagged".into(),
        "\\Seen".into(),
    ];
    let got = snapshot(&mut c, "INBOX");
    assert_same(
        &want,
        &got,
        &format!("after kill -9 following the STORE ({})", r.tagged),
    );

    // kill -9 right after an APPEND's tagged OK.
    let m4 = message("four", "Acknowledged just before the crash.");
    let uid4 = c.append("INBOX", "\\Draft", &m4);
    assert_eq!(uid4, 4);
    t.kill9();
    t.reipl();
    let mut c = Imap::login(port, "after kill after APPEND", "DEMO", &pw);
    want.1.push(Stored {
        uid: 4,
        flags: vec!["\\Draft".into()],
        bytes: m4,
    });
    let got = snapshot(&mut c, "INBOX");
    assert_same(&want, &got, "after kill -9 following the APPEND");

    // kill -9 right after an EXPUNGE's tagged OK.
    c.ok("UID STORE 1 +FLAGS.SILENT (\\Deleted)");
    let r = c.ok("EXPUNGE");
    assert_eq!(r.lines(), ["* 1 EXPUNGE"]);
    t.kill9();
    t.reipl();
    let mut c = Imap::login(port, "after kill after EXPUNGE", "DEMO", &pw);
    want.1.remove(0);
    let got = snapshot(&mut c, "INBOX");
    assert_same(&want, &got, "after kill -9 following the EXPUNGE");

    // UIDs are not reused after the crashes: the next APPEND gets 5.
    let uid5 = c.append("INBOX", "", &message("five", "After the crashes."));
    assert_eq!(
        uid5,
        5,
        "UID reused or skipped after restarts\n{}",
        c.dump()
    );
    c.logout();
    t.assert_healthy();
}

/// (UID, message) of every APPEND whose tagged OK was read.
type Acked = Arc<Mutex<Vec<(u32, Vec<u8>)>>>;

/// Four clients append as fast as they can; the system is killed mid-stream. Every APPEND whose
/// tagged OK was read is in INBOX after re-IPL, with its UID and bytes, exactly once.
#[test]
fn acknowledged_appends_survive_kill9_under_load() {
    let (t, pw) = system_with_demo();
    let port = t.ports.imap;
    let acked: Acked = Arc::default();
    let mut workers = Vec::new();
    for w in 0..4 {
        let acked = acked.clone();
        let pw = pw.clone();
        workers.push(std::thread::spawn(move || {
            let mut c = Imap::login(port, &format!("writer {w}"), "DEMO", &pw);
            for i in 0.. {
                let msg = message(&format!("w{w} n{i}"), &format!("writer {w} message {i}"));
                let (tag, bytes) = c.append_bytes("INBOX", "", &msg);
                if c.try_send_raw(&bytes).is_err() {
                    return;
                }
                let Some(r) = c.try_finish(&tag) else { return };
                assert!(r.ok(), "{}", r.tagged);
                let uid = r.code("APPENDUID").unwrap()[1].parse().unwrap();
                acked.lock().unwrap().push((uid, msg));
                c.transcript.clear();
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 400 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    t.kill9();
    for w in workers {
        w.join().expect("writer thread");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.len() >= 400, "only {} appends in 20 s", acked.len());
    t.reipl();
    let mut c = Imap::login(port, "after kill", "DEMO", &pw);
    let (_, stored) = snapshot(&mut c, "INBOX");
    let mut seen_uids = std::collections::HashSet::new();
    for m in &stored {
        assert!(seen_uids.insert(m.uid), "UID {} twice", m.uid);
    }
    let mut by_bytes = std::collections::HashMap::new();
    for m in &stored {
        assert!(
            by_bytes.insert(m.bytes.clone(), m.uid).is_none(),
            "a message is stored twice (UID {})",
            m.uid
        );
    }
    let mut lost = Vec::new();
    for (uid, msg) in &acked {
        match by_bytes.get(msg) {
            Some(u) if u == uid => {}
            Some(u) => panic!("acknowledged UID {uid} is now UID {u}"),
            None => lost.push(*uid),
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged APPENDs lost after kill -9: UIDs {lost:?}",
        lost.len(),
        acked.len()
    );
    eprintln!(
        "{} appends acknowledged before kill -9, {} messages after re-IPL",
        acked.len(),
        stored.len()
    );
    // The next UID is above every UID ever acknowledged.
    let max = acked.iter().map(|(u, _)| *u).max().unwrap();
    let next = c.append("INBOX", "", &message("after", "after the crash"));
    assert!(next > max, "new UID {next} not above acknowledged {max}");
    c.logout();
    t.assert_healthy();
}
