//! `vmimap bench sfs`: durable SFS file creates (4 KiB) with 1 and 8 writers, the read throughput
//! of a 100 MiB file, and IUCV round trips between two guests. The work is done by guest programs
//! of a private system in a temporary folder, through the same paths any guest uses.

use std::{
    process::ExitCode,
    sync::{Arc, Barrier, Mutex, mpsc},
    time::{Duration, Instant},
};

use vm::{
    Guest, Interrupt, Registry, System, UserId, VmHandle,
    iucv::{IucvEvent, user_data},
    sfs::{Content, DirId, PoolName},
    system::{IplOptions, LogonHow, create_system_folder},
};

const WRITERS: usize = 8;

fn directory() -> String {
    let mut d = String::from(
        "PROFILE IBMDFLT\n CONSOLE 0009 3215 T\n SPOOL 000C 2540 READER *\n SPOOL 000D 2540 PUNCH A\n SPOOL 000E 1403 A\n\
USER OPERATOR NOLOG 32M 64M ABCDEG\n INCLUDE IBMDFLT\n\
USER VMSERVS AUTOONLY 64M 256M BG\n INCLUDE IBMDFLT\n IPL SFS\n IUCV ALLOW\n OPTION MAXCONN 4000\n\
USER ECHO AUTOONLY 8M 8M G\n INCLUDE IBMDFLT\n IPL BECHO\n IUCV ALLOW\n\
USER DRIVER AUTOONLY 8M 8M G\n INCLUDE IBMDFLT\n IPL BDRIVE\n IUCV ANY\n\
USER READER AUTOONLY 8M 8M G\n INCLUDE IBMDFLT\n IPL BREAD\n",
    );
    for i in 1..=WRITERS {
        d.push_str(&format!(
            "USER W{i} AUTOONLY 8M 8M G\n INCLUDE IBMDFLT\n IPL BWRITE\n"
        ));
    }
    d
}

fn dmsparms() -> String {
    let admins: Vec<String> = (1..=WRITERS).map(|i| format!("W{i}")).collect();
    format!(
        "FILEPOOLID VMSYSU\n ADMIN READER {}\n CONNECT ENROLLED\n DEFBLOCKS 1000000\n",
        admins.join(" ")
    )
}

type Report = mpsc::Sender<(String, Vec<Duration>)>;

/// Connects to VMSYSU and enrols itself (the benchmark's writers are pool administrators).
fn own_space(vm: &VmHandle) -> anyhow::Result<(vm::sfs::SfsClient, vm::sfs::DirPath)> {
    let c = vm.sfs_connect("VMSYSU")?;
    match c.enroll(vm.userid(), Some(1_000_000)) {
        Ok(()) | Err(vm::sfs::DmsError::AlreadyEnrolled(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let d = DirId::parse(&format!("{}.", vm.userid()), &PoolName::parse("VMSYSU")?)?;
    Ok((c, d.path))
}

struct Writer {
    files: usize,
    run: usize,
    start: Arc<Barrier>,
    report: Arc<Mutex<Report>>,
}

impl Guest for Writer {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let (c, dir) = own_space(&vm)?;
        let data = Content::Stream(vec![b'x'; 4096]);
        self.start.wait();
        let mut lat = Vec::with_capacity(self.files);
        for n in 0..self.files {
            let t = Instant::now();
            c.write_file(&dir, &format!("R{}F{n:06}", self.run), "DATA", &data, true)?;
            lat.push(t.elapsed());
        }
        let _ = self
            .report
            .lock()
            .unwrap()
            .send((vm.userid().to_string(), lat));
        // Stay logged on until the system shuts down.
        while vm.is_logged_on() {
            if let Some(Interrupt::Shutdown) = vm.next_interrupt(Duration::from_secs(1)) {
                break;
            }
        }
        Ok(())
    }
}

struct Reader {
    report: Arc<Mutex<Report>>,
}

impl Guest for Reader {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let (c, dir) = own_space(&vm)?;
        let big: Vec<u8> = (0..100u32 << 20).map(|i| (i % 253) as u8).collect();
        c.write_file(&dir, "BIG", "FILE", &Content::Stream(big), false)?;
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let (info, content) = c.read_file(&dir, "BIG", "FILE")?;
            times.push(t.elapsed());
            anyhow::ensure!(
                info.bytes == 100 << 20
                    && matches!(content, Content::Stream(ref b) if b.len() == 100 << 20)
            );
        }
        let _ = self.report.lock().unwrap().send(("READ".into(), times));
        while vm.is_logged_on() {
            if let Some(Interrupt::Shutdown) = vm.next_interrupt(Duration::from_secs(1)) {
                break;
            }
        }
        Ok(())
    }
}

struct Echo;

impl Guest for Echo {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        loop {
            match vm.next_interrupt(Duration::from_secs(3600)) {
                Some(Interrupt::Iucv(IucvEvent::ConnectionPending { path, .. })) => {
                    vm.iucv_accept(path)?
                }
                Some(Interrupt::Iucv(IucvEvent::MessagePending { path, msgid, .. })) => {
                    let m = vm.iucv_receive(path, Some(msgid))?;
                    vm.iucv_reply(path, msgid, m.data)?;
                }
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) | None => return Ok(()),
                Some(_) => {}
            }
        }
    }
}

struct Driver {
    trips: usize,
    report: Arc<Mutex<Report>>,
}

impl Guest for Driver {
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let p = vm.iucv_connect("ECHO", Some(10), user_data("BENCH"))?;
        loop {
            match vm.next_interrupt(Duration::from_secs(10)) {
                Some(Interrupt::Iucv(IucvEvent::ConnectionComplete { path })) if path == p => break,
                None => anyhow::bail!("ECHO did not accept"),
                _ => {}
            }
        }
        let mut lat = Vec::with_capacity(self.trips);
        for i in 0..self.trips {
            let t = Instant::now();
            let r = vm.iucv_send_wait(
                p,
                1,
                (i as u64).to_be_bytes().to_vec(),
                Duration::from_secs(5),
            )?;
            lat.push(t.elapsed());
            anyhow::ensure!(r == (i as u64).to_be_bytes());
        }
        let _ = self.report.lock().unwrap().send(("IUCV".into(), lat));
        while vm.is_logged_on() {
            if let Some(Interrupt::Shutdown) = vm.next_interrupt(Duration::from_secs(1)) {
                break;
            }
        }
        Ok(())
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs the SFS and IUCV benchmark.
pub fn run(files: usize, trips: usize) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("vmsys");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("USER DIRECT"), directory())?;
    std::fs::write(dir.join(vm::sfs::parms::DMSPARMS), dmsparms())?;
    create_system_folder(&dir, &["VMSERVS", "ECHO"])?;
    let (tx, rx) = mpsc::channel();
    let report = Arc::new(Mutex::new(tx));
    let mut reg = Registry::new();
    vm::sfs::server::register(&mut reg);
    // (barrier, files per writer, run number) of the run being started.
    let plan = Arc::new(Mutex::new((Arc::new(Barrier::new(1)), files, 0usize)));
    {
        let (report, plan) = (report.clone(), plan.clone());
        reg.register("BWRITE", move |_| {
            let (start, files, run) = plan.lock().unwrap().clone();
            Ok(Box::new(Writer {
                files,
                run,
                start,
                report: report.clone(),
            }) as Box<dyn Guest>)
        });
    }
    {
        let report = report.clone();
        reg.register("BREAD", move |_| {
            Ok(Box::new(Reader {
                report: report.clone(),
            }) as Box<dyn Guest>)
        });
    }
    reg.register("BECHO", |_| Ok(Box::new(Echo) as Box<dyn Guest>));
    {
        let report = report.clone();
        reg.register("BDRIVE", move |_| {
            Ok(Box::new(Driver {
                trips,
                report: report.clone(),
            }) as Box<dyn Guest>)
        });
    }
    let sys: Arc<System> = System::ipl(&dir, reg, IplOptions::default())?;
    println!("vmimap bench sfs: system folder {}", dir.display());
    println!("{:<56} {:>14} {:>16}", "case", "rate", "median latency");
    let logon = |u: &str| -> anyhow::Result<()> {
        let e = sys
            .entry(&UserId::parse(u)?)
            .ok_or_else(|| anyhow::anyhow!("{u} missing"))?;
        sys.logon(e, LogonHow::Autolog { by: None })
            .map_err(|m| anyhow::anyhow!("{m}"))?;
        Ok(())
    };
    for (run, writers) in [1usize, WRITERS].into_iter().enumerate() {
        let per = (files / writers).max(1);
        *plan.lock().unwrap() = (Arc::new(Barrier::new(writers)), per, run);
        let start = Instant::now();
        for w in 1..=writers {
            logon(&format!("W{w}"))?;
        }
        let mut lat = Vec::new();
        for _ in 0..writers {
            let (_, l) = rx.recv_timeout(Duration::from_secs(600))?;
            lat.extend(l);
        }
        let el = start.elapsed();
        let n = lat.len();
        println!(
            "{:<56} {:>9.0} /s {:>13.3} ms",
            format!("durable 4 KiB file creates, {writers} writer(s), {n} files"),
            n as f64 / el.as_secs_f64(),
            median(&mut lat).as_secs_f64() * 1e3
        );
        for vm in sys.logged_on() {
            if vm.userid.as_str().starts_with('W') {
                sys.logoff(&vm, vm::system::LogoffWhy::Own);
            }
        }
    }
    logon("READER")?;
    let (_, mut t) = rx.recv_timeout(Duration::from_secs(600))?;
    let m = median(&mut t);
    println!(
        "{:<56} {:>9.0} MiB/s {:>10.1} ms",
        "read of a 100 MiB file (median of 5)",
        100.0 / m.as_secs_f64(),
        m.as_secs_f64() * 1e3
    );
    logon("DRIVER")?;
    let (_, mut lat) = rx.recv_timeout(Duration::from_secs(600))?;
    let n = lat.len();
    let total: Duration = lat.iter().sum();
    println!(
        "{:<56} {:>9.0} /s {:>13.1} us",
        format!("IUCV round trips (SEND, RECEIVE, REPLY), {n}"),
        n as f64 / total.as_secs_f64(),
        median(&mut lat).as_secs_f64() * 1e6
    );
    sys.request_shutdown("BENCH");
    sys.wait();
    Ok(ExitCode::SUCCESS)
}
