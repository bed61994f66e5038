//! `vmimap bench spool`: durable CLOSE throughput and QUERY RDR * ALL over a full reader, on a
//! fresh system in a temporary folder (its disk is the one that temporary folders live on).

use std::{
    process::ExitCode,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use spool::{Queue, UserId};
use vm::{
    clock, cp,
    machine::{DevRef, OutKind, VirtualMachine},
    system::{IplOptions, System, create_system_folder, spoolops},
};

fn puncher(sys: &Arc<System>, user: &str, to: &UserId, n: usize) -> Vec<Duration> {
    let entry = sys.entry(&UserId::parse(user).unwrap()).unwrap();
    let (vm, _rx) = VirtualMachine::new(entry, clock::now(), true, 0);
    let dev = DevRef::Kind(OutKind::Punch);
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let mut card = format!("CARD {i}").into_bytes();
        card.resize(80, b' ');
        spoolops::write_record(sys, &vm, dev, card).expect("write");
        spoolops::close_output(
            sys,
            &vm,
            dev,
            &spoolops::CloseOpts {
                to: Some((to.clone(), Queue::Rdr)),
                ..Default::default()
            },
        )
        .expect("close");
        lat.push(t.elapsed());
    }
    lat
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn purge_all(sys: &Arc<System>) {
    let admin = sys.entry(&UserId::parse("MAINT").unwrap()).unwrap();
    let (vm, _rx) = VirtualMachine::new(admin, clock::now(), true, 0);
    let vm = Arc::new(vm);
    for u in ["MAINT", "DEMO", "OPERATOR"] {
        cp::execute(sys, &vm, &format!("PURGE {u} ALL ALL"));
    }
}

/// Runs the spool benchmark and prints its figures.
pub fn spool(closes: usize, reader_files: usize) -> anyhow::Result<ExitCode> {
    let reader_files = reader_files.min(spool::MAX_SPOOLID as usize);
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("vmsys");
    create_system_folder(&dir, &[])?;
    let sys = System::ipl(&dir, vm::Registry::new(), IplOptions::default())?;
    println!("vmimap bench spool: system folder {}", dir.display());
    println!("{:<58} {:>12} {:>14}", "case", "closes/s", "median close");
    let targets = ["MAINT", "DEMO", "OPERATOR"].map(|u| UserId::parse(u).unwrap());
    for punchers in [1usize, 8] {
        let per = (closes / punchers).max(1);
        let start = Instant::now();
        let hs: Vec<_> = (0..punchers)
            .map(|i| {
                let sys = sys.clone();
                let to = targets[i % 3].clone();
                let from = ["MAINT", "DEMO", "OPERATOR"][i % 3];
                thread::spawn(move || puncher(&sys, from, &to, per))
            })
            .collect();
        let lat: Vec<Duration> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let el = start.elapsed();
        let total = lat.len();
        println!(
            "{:<58} {:>12.0} {:>11.2} ms",
            format!("durable CLOSE of 1-card files, {punchers} puncher(s), {total} closes"),
            total as f64 / el.as_secs_f64(),
            median(lat).as_secs_f64() * 1000.0
        );
        purge_all(&sys);
    }
    // Fill one reader, then time the query.
    let per = reader_files.div_ceil(4);
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let sys = sys.clone();
            let n = per.min(reader_files.saturating_sub(i * per));
            thread::spawn(move || puncher(&sys, "DEMO", &UserId::parse("MAINT").unwrap(), n))
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let maint = sys.entry(&UserId::parse("MAINT").unwrap()).unwrap();
    let (vm, _rx) = VirtualMachine::new(maint, clock::now(), true, 0);
    let vm = Arc::new(vm);
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..21 {
        let t = Instant::now();
        let r = cp::execute(&sys, &vm, "QUERY RDR * ALL");
        times.push(t.elapsed());
        rows = r.lines.len() - 1;
    }
    println!(
        "{:<58} {:>12} {:>11.2} ms",
        format!("QUERY RDR * ALL over {rows} files (median of 21)"),
        "-",
        median(times).as_secs_f64() * 1000.0
    );
    sys.request_shutdown("BENCH");
    sys.wait();
    Ok(ExitCode::SUCCESS)
}
