//! The harness of the whole-system tests: IPL the real `vmimap` binary in a temporary folder, talk
//! to it the way a user does (the host commands and the control socket), and kill it if a test
//! leaves it running.

#![allow(dead_code)]

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

/// A system IPLed in a temporary folder.
pub struct TestSystem {
    _tmp: tempfile::TempDir,
    /// The system folder.
    pub dir: PathBuf,
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
        let mut t = TestSystem {
            _tmp: tmp,
            dir,
            passwords: HashMap::new(),
            first_ipl_output: String::new(),
        };
        let out = t.run(&["ipl", "--detach"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "ipl failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
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
        String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr)
    }

    /// Punches a host file.
    pub fn punch(&self, user: &str, to: Option<&str>, file: &Path, extra: &[&str]) -> Output {
        let mut cmd = Command::new(vmimap_bin());
        cmd.args(["punch", "--system"]).arg(&self.dir).args(["--user", user]);
        if let Some(t) = to {
            cmd.args(["--to", t]);
        }
        cmd.args(extra).arg(file).output().expect("run vmimap punch")
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
        assert!(out.status.success(), "re-IPL failed: {text}{}", String::from_utf8_lossy(&out.stderr));
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

/// Whether a process runs (exists and is not a zombie).
pub fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
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
}
