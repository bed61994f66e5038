//! `vmimap ipl [--system DIR] [--detach]`

use std::{
    fs,
    io::{Read, Seek, SeekFrom},
    path::Path,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use vm::system::{IplOptions, PID_FILE, System, create_system_folder};

use crate::registry::{registry, startup_users};

fn show_passwords(dir: &Path, first: &vm::system::FirstIpl) {
    println!(
        "HCPIPL9001I First IPL: created system folder {} with these logon passwords.",
        dir.display()
    );
    println!("            They are shown only this once; USER DIRECT keeps only their hashes.");
    for u in &first.passwords {
        println!("              {:<8}  {}", u.userid, u.password);
    }
}

/// IPLs the system, in the foreground or detached.
pub fn run(dir: &Path, detach: bool, child: bool) -> anyhow::Result<ExitCode> {
    let reg = registry();
    if !child && let Some(first) = create_system_folder(dir, &startup_users(&reg))? {
        show_passwords(dir, &first);
    }
    if detach {
        return detach_ipl(dir);
    }
    raise_open_files();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VMIMAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let sys = System::ipl(
        dir,
        reg,
        IplOptions {
            echo: true,
            ..Default::default()
        },
    )?;
    let s2 = sys.clone();
    sys.runtime().spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        s2.request_shutdown("SIGNAL");
    });
    sys.wait();
    Ok(ExitCode::SUCCESS)
}

/// Starts the system in a background process and returns once it is ready.
fn detach_ipl(dir: &Path) -> anyhow::Result<ExitCode> {
    let logs = dir.join("logs");
    fs::create_dir_all(&logs)?;
    let out_path = logs.join("ipl.out");
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out_path)?;
    let start = out.metadata()?.len();
    // A running system holds the folder's lock: refuse before touching its pid file.
    if let Ok(lock) = fs::OpenOptions::new().write(true).open(dir.join(".lock"))
        && lock.try_lock().is_err()
    {
        let pid = fs::read_to_string(dir.join(PID_FILE)).unwrap_or_default();
        bail!(
            "the system in {} is already IPLed{}",
            dir.display(),
            match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            }
        );
    }
    let _ = fs::remove_file(dir.join(PID_FILE));
    let exe = std::env::current_exe().context("cannot find the vmimap executable")?;
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .arg("ipl")
            .arg("--system")
            .arg(dir)
            .arg("--child")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .context("cannot start the system process")?
    };
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let print_log = || -> anyhow::Result<()> {
        let mut f = fs::File::open(&out_path)?;
        f.seek(SeekFrom::Start(start))?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        print!("{s}");
        Ok(())
    };
    loop {
        if let Some(status) = child.try_wait()? {
            print_log()?;
            bail!("the system did not come up ({status})");
        }
        if fs::read_to_string(dir.join(PID_FILE)).is_ok_and(|p| p.trim() == pid.to_string()) {
            break;
        }
        if Instant::now() > deadline {
            print_log()?;
            bail!("the system did not become ready within 60 seconds (pid {pid})");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    print_log()?;
    println!(
        "vmimap: system running in the background (pid {pid}); stop it with `vmimap shutdown --system {}`",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A mail server holds a descriptor per client connection: the soft open-file limit is raised
/// to the hard limit (often 1024 by default, far below what IMAP clients in IDLE need).
fn raise_open_files() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = getrlimit(Resource::Nofile);
    if l.current != l.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: l.maximum,
                maximum: l.maximum,
            },
        );
    }
}
