//! Crash safety of the file pools: four CMS users write SFS files concurrently (single-record
//! appends with EXECIO, and multi-record COPYFILEs) while the system is killed with SIGKILL at
//! random moments, 20 times. After each kill — before the next IPL — `vmimap sfs check` is clean
//! and every acknowledged write is present and whole; files are never torn.

mod common;

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use common::{
    TestSystem,
    console::{Console, ConsoleError, SFS_CONFIG, sfs_directory},
};
use vm::sfs::{
    Content, DirId, Pool, PoolConfig, PoolName,
    pool::{ConnectRule, PoolOptions},
};

const WRITERS: [&str; 4] = ["W1", "W2", "W3", "W4"];

#[derive(Default)]
struct Acked {
    /// Appends acknowledged.
    appends: u64,
    /// (snapshot file name, records it had when copied), acknowledged.
    snaps: Vec<(String, u64)>,
}

fn record(w: &str, k: u64) -> String {
    format!("{w} record {k} {}", "x".repeat((k % 50) as usize))
}

/// One writer: log on, access its directory, append and copy until told to stop; a broken
/// session (the system died) is retried until the system is back.
fn writer(
    t: Arc<TestSystem>,
    w: &'static str,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
    up: Arc<AtomicU64>,
) {
    'session: while !stop.load(Ordering::Relaxed) {
        let generation = up.load(Ordering::Acquire);
        let mut c = match Console::open(&t.dir, w) {
            Ok(c) => c,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let ok = |r: Result<(i32, Vec<String>), ConsoleError>| matches!(r, Ok((0, _)));
        if !ok(c.cms(&format!("ACCESS VMSYSU:{w}. B"))) {
            continue;
        }
        while !stop.load(Ordering::Relaxed) && up.load(Ordering::Acquire) == generation {
            let k = acked.lock().unwrap().appends;
            match c.cms(&format!(
                "EXECIO 1 DISKW LOG DATA B (STRING {}",
                record(w, k)
            )) {
                Ok((0, _)) => acked.lock().unwrap().appends = k + 1,
                Ok((rc, l)) => panic!("{w}: append failed rc {rc}: {l:?}"),
                Err(_) => continue 'session,
            }
            if k % 7 == 6 {
                let name = format!("S{k:07}");
                match c.cms(&format!("COPYFILE LOG DATA B {name} DATA B")) {
                    Ok((0, _)) => acked.lock().unwrap().snaps.push((name, k + 1)),
                    Ok((rc, l)) => panic!("{w}: copy failed rc {rc}: {l:?}"),
                    Err(_) => continue 'session,
                }
            }
        }
    }
}

fn verify_offline(dir: &Path, acked: &[Arc<Mutex<Acked>>]) -> u64 {
    let pool_dir = dir.join("dasd/VMSERVS/VMSYSU");
    let cfg = PoolConfig {
        name: PoolName::parse("VMSYSU").unwrap(),
        admins: vec![vm::UserId::parse("MAINT").unwrap()],
        connect: ConnectRule::Enrolled,
        default_blocks: 1,
        enroll: Vec::new(),
    };
    let pool =
        Pool::open(&pool_dir, cfg, PoolOptions::default()).expect("pool opens after a crash");
    let maint = vm::UserId::parse("MAINT").unwrap();
    let vmsysu = PoolName::parse("VMSYSU").unwrap();
    let mut total = 0;
    for (w, a) in WRITERS.iter().zip(acked) {
        let mut a = a.lock().unwrap();
        let d = DirId::parse(&format!("{w}."), &vmsysu).unwrap().path;
        let recs = match pool.read_file(&maint, &d, "LOG", "DATA") {
            Ok((_, Content::Records { records, .. })) => records,
            Ok(_) => panic!("{w}: LOG DATA is not a record file"),
            Err(vm::sfs::DmsError::FileNotFound(_)) => Vec::new(),
            Err(e) => panic!("{w}: {e}"),
        };
        // Every acknowledged append is there, in order; at most the one in flight beyond it.
        assert!(
            recs.len() as u64 >= a.appends && recs.len() as u64 <= a.appends + 1,
            "{w}: {} records, {} acknowledged",
            recs.len(),
            a.appends
        );
        for (k, r) in recs.iter().enumerate() {
            assert_eq!(
                String::from_utf8_lossy(r),
                record(w, k as u64),
                "{w}: record {k} torn"
            );
        }
        // Every acknowledged copy is whole: exactly the records the log had then.
        for (name, n) in &a.snaps {
            let (_, c) = pool
                .read_file(&maint, &d, name, "DATA")
                .unwrap_or_else(|e| panic!("{w}: acknowledged {name} lost: {e}"));
            let Content::Records { records, .. } = c else {
                panic!()
            };
            assert_eq!(records.len() as u64, *n, "{w}: {name} torn");
            assert_eq!(
                records[..],
                recs[..*n as usize],
                "{w}: {name} differs from the log"
            );
        }
        // An append that reached the disk but was not acknowledged is done: the writer goes on
        // after it, as a client that re-reads the file would.
        a.appends = recs.len() as u64;
        total += a.appends;
    }
    total
}

#[test]
fn acknowledged_sfs_writes_survive_kill_9() {
    let users: Vec<&str> = WRITERS.to_vec();
    let t = Arc::new(TestSystem::ipl_with(&sfs_directory(&users), SFS_CONFIG));
    {
        let mut maint = t.session("MAINT");
        for w in WRITERS {
            assert_eq!(
                maint
                    .cms(&format!("ENROLL USER {w} VMSYSU: (BLOCKS 100000"))
                    .unwrap()
                    .0,
                0
            );
        }
    }
    let mut rnd = common::seeded_rng();
    let stop = Arc::new(AtomicBool::new(false));
    let up = Arc::new(AtomicU64::new(0));
    let acked: Vec<Arc<Mutex<Acked>>> = WRITERS.iter().map(|_| Arc::default()).collect();
    let threads: Vec<_> = WRITERS
        .iter()
        .zip(&acked)
        .map(|(w, a)| {
            let (t, a, stop, up) = (t.clone(), a.clone(), stop.clone(), up.clone());
            std::thread::spawn(move || writer(t, w, a, stop, up))
        })
        .collect();
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(100 + rnd() % 250));
        t.kill9();
        up.fetch_add(1, Ordering::AcqRel);
        let check = t.run(&["sfs", "check"]);
        let text = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(
            check.status.success(),
            "kill {i}: sfs check: {text}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        // Writers are between requests or stuck on a dead socket: the counts are stable now.
        let total = verify_offline(&t.dir, &acked);
        println!("kill {i}: {total} acknowledged appends verified");
        t.reipl();
    }
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    t.shutdown();
    let total = verify_offline(&t.dir, &acked);
    assert!(total >= 200, "only {total} appends acknowledged");
    let check = t.run(&["sfs", "check"]);
    assert!(check.status.success());
}
