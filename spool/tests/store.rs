//! Behaviour of the spool store: spoolids, queues, durability and warm start.

use std::{fs::OpenOptions, io::Write, sync::Arc, thread};

use spool::{Class, DevType, FileAttrs, NewFile, Queue, Spool, SpoolError, SpoolOptions, UserId};

fn u(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn open(dir: &std::path::Path) -> Spool {
    Spool::open(dir, SpoolOptions::default()).unwrap().0
}

fn punch(sp: &Spool, from: &str, to: &str, text: &str) -> spool::SpoolFile {
    sp.transact(|t| {
        let id = t.alloc_spoolid(&u(to), 9999)?;
        t.create(NewFile {
            owner: u(to),
            queue: Queue::Rdr,
            spoolid: id,
            origin: u(from),
            origin_dev: DevType::Pun,
            prev: None,
            attrs: FileAttrs::with_class(Class::A, from),
            records: vec![text.as_bytes().to_vec()],
        })
    })
    .unwrap()
}

#[test]
fn spoolids_are_per_owner_sequential_and_survive_restart() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let sp = open(tmp.path());
        assert_eq!(punch(&sp, "MAINT", "BOB", "a").spoolid, 1);
        assert_eq!(punch(&sp, "MAINT", "BOB", "b").spoolid, 2);
        assert_eq!(punch(&sp, "MAINT", "ALICE", "c").spoolid, 1);
    }
    let (sp, rep) = Spool::open(tmp.path(), SpoolOptions::default()).unwrap();
    assert_eq!(rep.files, 3);
    let q = sp.queue(&u("BOB"), Queue::Rdr);
    assert_eq!(q.iter().map(|f| f.spoolid).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(sp.read_records(&q[1]).unwrap(), vec![b"b".to_vec()]);
    assert_eq!(punch(&sp, "MAINT", "BOB", "d").spoolid, 3);
}

#[test]
fn spoolids_wrap_and_skip_ids_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = open(tmp.path());
    let first = punch(&sp, "A", "BOB", "keep me");
    assert_eq!(first.spoolid, 1);
    // Use up ids 2..=9999 then purge them all but 9999.
    let mut last = None;
    for _ in 2..=9999 {
        last = Some(punch(&sp, "A", "BOB", "x"));
    }
    assert_eq!(last.unwrap().spoolid, 9999);
    // Full: the next allocation fails with the limit error.
    let err = sp
        .transact(|t| t.alloc_spoolid(&u("BOB"), 9999))
        .unwrap_err();
    assert!(matches!(err, SpoolError::SpoolidLimit(_)));
    sp.transact(|t| -> Result<(), SpoolError> {
        let ids: Vec<u64> = t
            .queue(&u("BOB"), Queue::Rdr)
            .iter()
            .filter(|f| f.spoolid > 1 && f.spoolid < 9999)
            .map(|f| f.sfid)
            .collect();
        for s in ids {
            t.purge(s);
        }
        Ok(())
    })
    .unwrap();
    // After 9999 comes 0001, which is in use, so 0002.
    assert_eq!(punch(&sp, "A", "BOB", "y").spoolid, 2);
    drop(sp);
    let sp = open(tmp.path());
    assert_eq!(punch(&sp, "A", "BOB", "z").spoolid, 3);
}

#[test]
fn maxspool_limit_is_enforced() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = open(tmp.path());
    sp.transact(|t| t.alloc_spoolid(&u("BOB"), 2).map(|_| ()))
        .unwrap();
    punch(&sp, "A", "BOB", "1");
    punch(&sp, "A", "BOB", "2");
    assert!(matches!(
        sp.transact(|t| t.alloc_spoolid(&u("BOB"), 2)),
        Err(SpoolError::SpoolidLimit(_))
    ));
}

#[test]
fn transfer_gives_a_new_spoolid_and_order_moves_to_the_front() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = open(tmp.path());
    let a = punch(&sp, "MAINT", "BOB", "a");
    let b = punch(&sp, "MAINT", "BOB", "b");
    let c = punch(&sp, "MAINT", "BOB", "c");
    punch(&sp, "MAINT", "ALICE", "x");
    let moved = sp
        .transact(|t| t.move_to(b.sfid, &u("ALICE"), Queue::Rdr, 9999))
        .unwrap();
    assert_eq!(moved.spoolid, 2);
    assert_eq!(moved.prev, Some((u("BOB"), 2)));
    sp.transact(|t| -> Result<(), SpoolError> {
        t.order_first(&[c.sfid]);
        Ok(())
    })
    .unwrap();
    let ids = |sp: &Spool, who| {
        sp.queue(&u(who), Queue::Rdr)
            .iter()
            .map(|f| f.spoolid)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&sp, "BOB"), vec![c.spoolid, a.spoolid]);
    assert_eq!(ids(&sp, "ALICE"), vec![1, 2]);
    drop(sp);
    let sp = open(tmp.path());
    assert_eq!(ids(&sp, "BOB"), vec![3, 1]);
    assert_eq!(ids(&sp, "ALICE"), vec![1, 2]);
    let f = &sp.queue(&u("ALICE"), Queue::Rdr)[1];
    assert_eq!(sp.read_records(f).unwrap(), vec![b"b".to_vec()]);
}

#[test]
fn checkpoint_then_more_changes_warm_start_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = SpoolOptions {
        segment_bytes: 4096,
        checkpoint_bytes: 8192,
        ..Default::default()
    };
    let before;
    {
        let (sp, _) = Spool::open(tmp.path(), opts.clone()).unwrap();
        for i in 0..300 {
            punch(
                &sp,
                "MAINT",
                if i % 2 == 0 { "BOB" } else { "ALICE" },
                &"r".repeat(i),
            );
        }
        // Purge most of BOB's files so that old segments become garbage.
        sp.transact(|t| -> Result<(), SpoolError> {
            let v: Vec<u64> = t
                .queue(&u("BOB"), Queue::Rdr)
                .iter()
                .map(|f| f.sfid)
                .collect();
            for s in &v[..140] {
                t.purge(*s);
            }
            Ok(())
        })
        .unwrap();
        sp.checkpoint().unwrap();
        punch(&sp, "MAINT", "BOB", "after checkpoint");
        before = (
            sp.queue(&u("BOB"), Queue::Rdr),
            sp.queue(&u("ALICE"), Queue::Rdr),
        );
    }
    let (sp, rep) = Spool::open(tmp.path(), opts).unwrap();
    assert!(rep.checkpoint);
    assert_eq!(sp.queue(&u("BOB"), Queue::Rdr), before.0);
    assert_eq!(sp.queue(&u("ALICE"), Queue::Rdr), before.1);
    for f in before.0.iter().chain(before.1.iter()) {
        assert_eq!(sp.read_records(f).unwrap().len(), 1);
    }
    let check = {
        drop(sp);
        Spool::check(tmp.path()).unwrap()
    };
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.files, before.0.len() + before.1.len());
}

#[test]
fn a_torn_tail_is_cut_off_and_earlier_files_survive() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let sp = open(tmp.path());
        punch(&sp, "MAINT", "BOB", "one");
        punch(&sp, "MAINT", "BOB", "two");
    }
    // Simulate a crash in the middle of writing a third entry.
    let seg = tmp.path().join("journal/00000001.jnl");
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0, 0, 0, 200, 1, 2, 3, 4, 9, 9, 9]).unwrap();
    drop(f);
    let sp = open(tmp.path());
    let q = sp.queue(&u("BOB"), Queue::Rdr);
    assert_eq!(q.len(), 2);
    assert_eq!(punch(&sp, "MAINT", "BOB", "three").spoolid, 3);
    drop(sp);
    let sp = open(tmp.path());
    assert_eq!(sp.queue(&u("BOB"), Queue::Rdr).len(), 3);
}

#[test]
fn a_second_open_of_a_live_spool_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let _sp = open(tmp.path());
    assert!(matches!(
        Spool::open(tmp.path(), SpoolOptions::default()),
        Err(SpoolError::Locked(_))
    ));
}

#[test]
fn concurrent_writers_all_land() {
    let tmp = tempfile::tempdir().unwrap();
    let sp = Arc::new(open(tmp.path()));
    let handles: Vec<_> = (0..8)
        .map(|w| {
            let sp = sp.clone();
            thread::spawn(move || {
                for i in 0..50 {
                    punch(&sp, "MAINT", &format!("U{}", w % 3), &format!("{w}-{i}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total: usize = (0..3)
        .map(|i| sp.queue(&u(&format!("U{i}")), Queue::Rdr).len())
        .sum();
    assert_eq!(total, 400);
    drop(sp);
    let sp = open(tmp.path());
    let mut seen = Vec::new();
    for i in 0..3 {
        for f in sp.queue(&u(&format!("U{i}")), Queue::Rdr) {
            seen.push(String::from_utf8(sp.read_records(&f).unwrap().remove(0)).unwrap());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 400);
}

#[test]
fn a_newer_format_is_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let sp = open(tmp.path());
        punch(&sp, "MAINT", "BOB", "one");
    }
    let seg = tmp.path().join("journal/00000001.jnl");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[9] = 9; // version 9
    std::fs::write(&seg, bytes).unwrap();
    let err = Spool::open(tmp.path(), SpoolOptions::default()).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
}

#[test]
fn a_reserved_spoolid_never_moves_the_sequence_back() {
    // A console file reserved 0001 when spooling started; punches took 0002 and 0003; the
    // console file closes with its 0001; 0003 is purged. The next file is 0004, not 0003 —
    // and the same after a restart.
    let tmp = tempfile::tempdir().unwrap();
    let next = {
        let sp = open(tmp.path());
        let reserved = sp.reserve(&u("DEMO"), 9999).unwrap();
        assert_eq!(reserved, 1);
        let _two = punch(&sp, "MAINT", "DEMO", "2");
        let three = punch(&sp, "MAINT", "DEMO", "3");
        sp.transact(|t| {
            t.create(NewFile {
                owner: u("DEMO"),
                queue: Queue::Prt,
                spoolid: reserved,
                origin: u("DEMO"),
                origin_dev: DevType::Con,
                prev: None,
                attrs: FileAttrs::with_class(Class::T, "DEMO"),
                records: vec![b"console".to_vec()],
            })
        })
        .unwrap();
        sp.transact(|t| -> Result<(), SpoolError> {
            t.purge(three.sfid);
            Ok(())
        })
        .unwrap();
        punch(&sp, "MAINT", "DEMO", "4").spoolid
    };
    assert_eq!(next, 4);
    let sp = open(tmp.path());
    assert_eq!(punch(&sp, "MAINT", "DEMO", "5").spoolid, 5);
}
