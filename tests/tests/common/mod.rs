//! The harness of the whole-system tests: IPL the real `vmimap` binary in a temporary folder, talk
//! to it the way a user does (the host commands and the control socket), and kill it if a test
//! leaves it running.

#![allow(dead_code)]

pub mod console;
pub mod imapline;

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The `vmimap` binary of this build. `cargo test` does not rebuild another package's binary, so
/// this runs `cargo build` for it once per test process (a no-op when it is up to date), with the
/// profile the tests were built with.
pub fn vmimap_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>/vmimap
        let profile_dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", "vmimap", "--bin", "vmimap"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build");
        assert!(status.success(), "building vmimap failed");
        profile_dir.join("vmimap")
    })
    .clone()
}

/// The TCP ports a test system's servers listen on (free ports, so tests run side by side).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    /// SMTP.
    pub smtp: u16,
    /// IMAP (STARTTLS).
    pub imap: u16,
    /// IMAP over TLS.
    pub imaps: u16,
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Writes PROFILE TCPIP, IMAP CONFIG and SMTP CONFIG with free ports into a (new) system folder,
/// as a site would before its first IPL; first IPL keeps them and creates the rest.
pub fn write_network_config(dir: &Path) -> Ports {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .unwrap();
    // Three different free ports, in the order of the default profile's (SMTP 1025, IMAP 1143,
    // IMAP over TLS 1993), so that NETSTAT lists the listeners in the documented order.
    let mut p = [free_port(), free_port(), free_port()];
    while p[0] == p[1] || p[1] == p[2] || p[0] == p[2] {
        p = [free_port(), free_port(), free_port()];
    }
    p.sort_unstable();
    let ports = Ports {
        smtp: p[0],
        imap: p[1],
        imaps: p[2],
    };
    std::fs::write(
        dir.join("PROFILE TCPIP"),
        format!(
            "; written by a test\nAUTOLOG\n  IMAP 0\n  SMTP 0\nENDAUTOLOG\nMAXRESTART 5\nHOME\n  127.0.0.1 LOOPBACK\nPORT\n  {} TCP SMTP\n  {} TCP IMAP\n  {} TCP IMAP\nRESTRICTLOWPORTS\n",
            ports.smtp, ports.imap, ports.imaps
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("IMAP CONFIG"),
        format!(
            "/* written by a test */\nMAILSTORE MAILPOOL\nPORT {}\nTLSPORT {}\nADMIN MAINT IMAPADM\nLOGINDELAY 0\n",
            ports.imap, ports.imaps
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("SMTP CONFIG"),
        format!("/* written by a test */\nPORT {}\n", ports.smtp),
    )
    .unwrap();
    ports
}

/// A system IPLed in a temporary folder.
pub struct TestSystem {
    _tmp: tempfile::TempDir,
    /// The system folder.
    pub dir: PathBuf,
    /// Its servers' ports.
    pub ports: Ports,
    /// Passwords shown by first IPL.
    pub passwords: HashMap<String, String>,
    /// What `vmimap ipl --detach` printed the first time.
    pub first_ipl_output: String,
}

impl TestSystem {
    /// A new folder, IPLed with `--detach`.
    pub fn ipl() -> TestSystem {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("vmsys");
        let ports = write_network_config(&dir);
        let mut t = TestSystem {
            _tmp: tmp,
            dir,
            ports,
            passwords: HashMap::new(),
            first_ipl_output: String::new(),
        };
        let out = t.run(&["ipl", "--detach"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ipl failed: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut in_pw = false;
        for line in text.lines() {
            if line.contains("HCPIPL9001I") {
                in_pw = true;
                continue;
            }
            if in_pw {
                let w: Vec<&str> = line.split_whitespace().collect();
                if w.len() == 2 && w[0].chars().all(|c| c.is_ascii_uppercase()) {
                    t.passwords.insert(w[0].to_string(), w[1].to_string());
                } else if !line.starts_with("            They") {
                    in_pw = false;
                }
            }
        }
        t.first_ipl_output = text;
        t
    }

    /// Runs `vmimap ARGS --system DIR`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(vmimap_bin())
            .args(args)
            .arg("--system")
            .arg(&self.dir)
            .env_remove("VMIMAP_SYSTEM")
            .output()
            .expect("run vmimap")
    }

    /// `vmimap cp --user USER COMMAND`: (exit status, output lines).
    pub fn cp(&self, user: &str, command: &str) -> (i32, Vec<String>) {
        let out = Command::new(vmimap_bin())
            .args(["cp", "--system"])
            .arg(&self.dir)
            .args(["--user", user, "--", command])
            .output()
            .expect("run vmimap cp");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
        )
    }

    /// `vmimap cp`, asserting return code 0; the response lines.
    pub fn cp_ok(&self, user: &str, command: &str) -> Vec<String> {
        let (rc, lines) = self.cp(user, command);
        assert_eq!(rc, 0, "{user}: {command} -> {lines:?}");
        lines
    }

    /// `vmimap console [--user USER]` with `input` on standard input: everything printed.
    pub fn console(&self, user: Option<&str>, input: &str) -> String {
        let mut cmd = Command::new(vmimap_bin());
        cmd.args(["console", "--system"]).arg(&self.dir);
        if let Some(u) = user {
            cmd.args(["--user", u]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run vmimap console");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// Punches a host file.
    pub fn punch(&self, user: &str, to: Option<&str>, file: &Path, extra: &[&str]) -> Output {
        let mut cmd = Command::new(vmimap_bin());
        cmd.args(["punch", "--system"])
            .arg(&self.dir)
            .args(["--user", user]);
        if let Some(t) = to {
            cmd.args(["--to", t]);
        }
        cmd.args(extra)
            .arg(file)
            .output()
            .expect("run vmimap punch")
    }

    /// The pid of the running system, if any.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("vmimap.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Whether the system process is alive.
    pub fn alive(&self) -> bool {
        self.pid().is_some_and(process_running)
    }

    /// `vmimap shutdown`, asserting success.
    pub fn shutdown(&self) {
        let out = self.run(&["shutdown"]);
        assert!(
            out.status.success(),
            "shutdown failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `kill -9` of the system process; waits until it is gone.
    pub fn kill9(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while process_running(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// IPLs again (warm start), asserting success.
    pub fn reipl(&self) -> String {
        let out = self.run(&["ipl", "--detach"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "re-IPL failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

impl Drop for TestSystem {
    fn drop(&mut self) {
        if self.alive() {
            self.kill9();
        }
    }
}

/// Whether a process runs: it exists and is not a zombie whose threads have all exited. (A
/// killed process's leader is a zombie while its other threads still exit and hold its files.)
pub fn process_running(pid: u32) -> bool {
    let zombie = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => return false,
    };
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0);
    !zombie || threads > 1
}

/// A raw client of the control socket, for protocol-level tests.
pub struct Raw {
    pub stream: std::os::unix::net::UnixStream,
}

impl Raw {
    pub fn connect(t: &TestSystem) -> Raw {
        Raw {
            stream: std::os::unix::net::UnixStream::connect(t.dir.join("control.sock"))
                .expect("connect control socket"),
        }
    }

    /// Sends bytes and reads everything until the server closes (or 5 s pass).
    pub fn exchange(mut self, bytes: &[u8]) -> String {
        use std::io::Read;
        let _ = self.stream.write_all(bytes);
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut out = Vec::new();
        let _ = self.stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends bytes (without closing the writing side) and reads until the server closes the
    /// connection. Returns what was read and whether the server closed it (rather than the 5 s
    /// timeout passing).
    pub fn exchange_until_closed(mut self, bytes: &[u8]) -> (String, bool) {
        use std::io::Read;
        let _ = self.stream.write_all(bytes);
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let closed = loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    break !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        };
        (String::from_utf8_lossy(&out).into_owned(), closed)
    }
}

/// Everything a host command printed: exit status, standard output, standard error.
#[derive(Debug)]
pub struct HostOut {
    /// Exit status (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl HostOut {
    fn from(out: Output) -> HostOut {
        HostOut {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Standard output as lines.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lines().map(str::to_string).collect()
    }
}

/// Runs `vmimap SUBCOMMAND --system DIR REST…` on any folder.
pub fn vmimap(args: &[&str], dir: &Path) -> HostOut {
    HostOut::from(
        Command::new(vmimap_bin())
            .arg(args[0])
            .arg("--system")
            .arg(dir)
            .args(&args[1..])
            .env_remove("VMIMAP_SYSTEM")
            .output()
            .expect("run vmimap"),
    )
}

impl TestSystem {
    /// A new folder holding the given USER DIRECT (and a SYSTEM CONFIG with the defaults), IPLed
    /// with `--detach`. No passwords are generated: the directory's own are used.
    pub fn ipl_with_directory(direct: &str) -> TestSystem {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("vmsys");
        write_system_folder(&dir, direct, DEFAULT_CONFIG);
        let ports = write_network_config(&dir);
        let t = TestSystem {
            _tmp: tmp,
            dir,
            ports,
            passwords: HashMap::new(),
            first_ipl_output: String::new(),
        };
        let out = t.run(&["ipl", "--detach"]);
        assert!(
            out.status.success(),
            "ipl failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    /// `vmimap cp --user USER -- COMMAND` with everything it printed.
    pub fn cp_full(&self, user: &str, command: &str) -> HostOut {
        HostOut::from(
            Command::new(vmimap_bin())
                .args(["cp", "--system"])
                .arg(&self.dir)
                .args(["--user", user, "--", command])
                .output()
                .expect("run vmimap cp"),
        )
    }

    /// `vmimap console --user USER` with no input: the user is logged on (or reconnected) and
    /// left disconnected. Returns what the terminal showed.
    pub fn logon_disconnected(&self, user: &str) -> String {
        let out = self.console(Some(user), "");
        assert!(
            out.contains("DISCONNECT AT"),
            "{user} not left disconnected: {out}"
        );
        out
    }

    /// A terminal that stays open: lines are typed one at a time, output is read as it comes.
    pub fn term(&self, user: Option<&str>) -> Term {
        Term::open(self, user)
    }

    /// Asserts the system process is alive and that neither the operator's log nor the detached
    /// process's output shows a panic or a program check.
    pub fn assert_healthy(&self) {
        assert!(self.alive(), "the system process is gone");
        for f in ["logs/system.log", "logs/ipl.out"] {
            let log = std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
            for bad in ["panicked", "program check", "RUST_BACKTRACE"] {
                assert!(!log.contains(bad), "{f} shows {bad:?}:\n{log}");
            }
        }
    }
}

/// SYSTEM CONFIG with the defaults, for folders a test writes itself.
pub const DEFAULT_CONFIG: &str = "\
/* SYSTEM CONFIG written by a test */
System_Identifier_Default VMIMAP
Timezone_Definition UTC East 00.00.00
System_Userids Operator OPERATOR
Spool_Limits Maxrecords 1000000 Maxfilesize 256M
";

/// Creates a system folder (mode 0700) with these two files.
pub fn write_system_folder(dir: &Path, direct: &str, config: &str) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .unwrap();
    std::fs::write(dir.join("SYSTEM CONFIG"), config).unwrap();
    std::fs::write(dir.join("USER DIRECT"), direct).unwrap();
}

/// An interactive `vmimap console` whose output is read line by line.
pub struct Term {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    rx: std::sync::mpsc::Receiver<String>,
    /// Every line read so far.
    pub transcript: Vec<String>,
}

impl Term {
    fn open(t: &TestSystem, user: Option<&str>) -> Term {
        use std::io::{BufRead, BufReader};
        let mut cmd = Command::new(vmimap_bin());
        cmd.args(["console", "--system"]).arg(&t.dir);
        if let Some(u) = user {
            cmd.args(["--user", u]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run vmimap console");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if tx2.send(format!("stderr: {l}")).is_err() {
                    break;
                }
            }
        });
        Term {
            stdin: child.stdin.take(),
            child,
            rx,
            transcript: Vec::new(),
        }
    }

    /// Types a line.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("input already closed");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line of output (10 s at most), or `None` when the terminal ended.
    pub fn next_line(&mut self) -> Option<String> {
        match self.rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => {
                self.transcript.push(l.clone());
                Some(l)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "no output for 10 s; transcript:\n{}",
                    self.transcript.join("\n")
                )
            }
        }
    }

    /// Reads lines until one contains `pat`; returns the lines read, that one last.
    pub fn until(&mut self, pat: &str) -> Vec<String> {
        self.until_line(pat, |l| l.contains(pat))
    }

    /// Reads lines until `hit` says yes; returns the lines read, that one last.
    pub fn until_line(&mut self, what: &str, hit: impl Fn(&str) -> bool) -> Vec<String> {
        let mut got = Vec::new();
        loop {
            let Some(l) = self.next_line() else {
                panic!(
                    "terminal ended before {what:?}; transcript:\n{}",
                    self.transcript.join("\n")
                );
            };
            let done = hit(&l);
            got.push(l);
            if done {
                return got;
            }
        }
    }

    /// Reads until a line contains `pat`; returns that line.
    pub fn wait_for(&mut self, pat: &str) -> String {
        self.until(pat).pop().unwrap()
    }

    /// Types a CMS command and returns its output up to and including the `Ready` line.
    pub fn cms(&mut self, line: &str) -> Vec<String> {
        self.send(line);
        self.until_line("Ready", |l| l.starts_with("Ready"))
    }

    /// Ends input and returns the rest of the output until the terminal ends.
    pub fn close(mut self) -> Vec<String> {
        self.stdin = None;
        let mut rest = Vec::new();
        while let Some(l) = self.next_line() {
            rest.push(l);
        }
        let _ = self.child.wait();
        rest
    }

    /// Reads the rest of the output until the terminal ends by itself (LOGOFF, FORCE,
    /// DISCONNECT), without closing input first.
    pub fn ended(&mut self) -> Vec<String> {
        let mut rest = Vec::new();
        while let Some(l) = self.next_line() {
            rest.push(l);
        }
        let _ = self.child.wait();
        rest
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A random source for the crash tests: xorshift seeded from the clock, the seed printed so a
/// failing run can be told apart (the kill moments differ from run to run by design).
pub fn seeded_rng() -> impl FnMut() -> u64 {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
