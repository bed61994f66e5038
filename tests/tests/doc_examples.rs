//! Runs every example in the documentation, so the documentation stays true.
//!
//! The examples are the ```` ```console ```` blocks of every `.md` file under `docs/` and of
//! `README.md` (blocks with any other info string, such as ```` ```sh ````, are not run). In a
//! block, a line beginning `$ ` is a command and the lines after it, up to the next `$ ` line or
//! the end of the block, are its expected output (standard output and standard error together),
//! where `…` matches any run of characters within one line and trailing blanks do not count. A
//! last output line `[exit N]` is the expected exit status; without it the status is not checked.
//!
//! The examples of one document run in order against one fresh system IPLed in a temporary
//! folder: each command runs with `sh -c` in the folder holding the system folder, with the
//! `vmimap` binary first on `PATH` and `VMIMAP_SYSTEM` naming the system folder. The passwords
//! first IPL generated are in `<USERID>_PASSWORD` (`DEMO_PASSWORD`, `MAINT_PASSWORD`…) and the
//! test system's ports in `IMAP_PORT`, `IMAPS_PORT` and `SMTP_PORT` (1143, 1993 and 1025 on a
//! default system), as a reader would type them. No example but the last may leave the system
//! down; the system is shut down after the last.

mod common;

use std::{
    io::Read,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::TestSystem;

/// The wildcard of expected output: any run of characters within one line.
const WILDCARD: char = '…';

/// Longest a single example command may take before it is killed and reported.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// One `$ ` command of a console block and what it should print.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Example {
    /// The document it comes from.
    file: PathBuf,
    /// 1-based line of the `$ ` line.
    line: usize,
    /// The shell command.
    command: String,
    /// Expected output lines, each with its 1-based line in the document.
    expected: Vec<(usize, String)>,
    /// Expected exit status, if the block gives one.
    exit: Option<i32>,
}

/// The console examples of a markdown text, in order. A malformed block is an error naming its
/// line.
fn parse_examples(file: &Path, text: &str) -> Result<Vec<Example>, String> {
    let mut out: Vec<Example> = Vec::new();
    // The fence of the block we are in (its backtick run) and whether it is a console block.
    let mut fence: Option<(usize, bool)> = None;
    // The example of the current console block that output lines belong to, while one is open.
    let mut current: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match fence {
            None => {
                if ticks >= 3 {
                    let info = trimmed[ticks..].trim();
                    fence = Some((ticks, info == "console"));
                    current = None;
                }
            }
            Some((open, console)) => {
                if ticks >= open && ticks == trimmed.len() {
                    fence = None;
                    current = None;
                    continue;
                }
                if !console {
                    continue;
                }
                if let Some(cmd) = raw.strip_prefix("$ ") {
                    out.push(Example {
                        file: file.to_path_buf(),
                        line: n,
                        command: cmd.to_string(),
                        expected: Vec::new(),
                        exit: None,
                    });
                    current = Some(out.len() - 1);
                    continue;
                }
                let Some(ex) = current.map(|c| &mut out[c]) else {
                    return Err(format!(
                        "{}:{n}: output line before any `$ ` command, or after an [exit N] \
                         line: {raw:?}",
                        file.display()
                    ));
                };
                if let Some(code) = exit_marker(raw) {
                    ex.exit = Some(code);
                    // `[exit N]` ends the example's output.
                    current = None;
                } else {
                    ex.expected.push((n, raw.to_string()));
                }
            }
        }
    }
    if fence.is_some() {
        return Err(format!("{}: a code block is not closed", file.display()));
    }
    Ok(out)
}

/// `[exit N]` → N.
fn exit_marker(line: &str) -> Option<i32> {
    line.trim()
        .strip_prefix("[exit ")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Whether an actual output line matches an expected one: `…` matches any run of characters;
/// trailing blanks are ignored on both sides.
fn line_matches(expected: &str, actual: &str) -> bool {
    let expected = expected.trim_end();
    let actual = actual.trim_end();
    let parts: Vec<&str> = expected.split(WILDCARD).collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for mid in &parts[1..parts.len() - 1] {
        match actual[pos..].find(mid) {
            Some(i) => pos += i + mid.len(),
            None => return false,
        }
    }
    actual.len() - pos >= last.len() && actual.ends_with(last)
}

/// What a command printed and how it ended.
struct Ran {
    output: String,
    status: Option<i32>,
    timed_out: bool,
}

/// Runs `command` with `sh -c` in `cwd`, standard error merged into standard output in order.
fn run_shell(
    command: &str,
    cwd: &Path,
    bin_dir: &Path,
    system: &Path,
    env: &[(String, String)],
) -> Ran {
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut dirs = vec![bin_dir.to_path_buf()];
            dirs.extend(std::env::split_paths(&p));
            std::env::join_paths(dirs).expect("PATH")
        }
        None => bin_dir.as_os_str().to_owned(),
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(cwd)
        .env("PATH", path)
        .env("VMIMAP_SYSTEM", system)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("VMIMAP_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("run sh");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    let (buf, timed_out) = match rx.recv_timeout(COMMAND_TIMEOUT) {
        Ok(buf) => (buf, false),
        Err(_) => {
            // Kill the example's own process group (sh and what it started in the foreground).
            let _ = Command::new("kill")
                .args(["-9", "--", &format!("-{pid}")])
                .status();
            (
                rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default(),
                true,
            )
        }
    };
    let status = child.wait().ok().and_then(|s| s.code());
    Ran {
        output: String::from_utf8_lossy(&buf).into_owned(),
        status,
        timed_out,
    }
}

/// Checks one example's output; `None` if it matches, else a report.
fn check(ex: &Example, ran: &Ran) -> Option<String> {
    let mut actual: Vec<&str> = ran.output.split('\n').collect();
    if actual.last() == Some(&"") {
        actual.pop();
    }
    let mut problems = Vec::new();
    if ran.timed_out {
        problems.push(format!(
            "did not finish within {} s and was killed",
            COMMAND_TIMEOUT.as_secs()
        ));
    }
    let n = ex.expected.len().max(actual.len());
    for i in 0..n {
        match (ex.expected.get(i), actual.get(i)) {
            (Some((line, want)), Some(got)) if !line_matches(want, got) => {
                problems.push(format!(
                    "line {line}: expected {:?}\n  got            {:?}",
                    want.trim_end(),
                    got.trim_end()
                ));
                break;
            }
            (Some((line, want)), None) => {
                problems.push(format!(
                    "line {line}: expected {:?} but the output ended",
                    want.trim_end()
                ));
                break;
            }
            (None, Some(got)) => {
                problems.push(format!("unexpected output line {:?}", got.trim_end()));
                break;
            }
            _ => {}
        }
    }
    if let Some(want) = ex.exit
        && ran.status != Some(want)
    {
        problems.push(format!("exit status {:?}, expected {want}", ran.status));
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "{}:{}: $ {}\n  {}\n  --- full output ---\n{}",
        ex.file.display(),
        ex.line,
        ex.command,
        problems.join("\n  "),
        actual
            .iter()
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// Runs the examples of one document against a fresh system; the reports of those that failed.
fn run_document(examples: &[Example]) -> Vec<String> {
    let bin = common::vmimap_bin();
    let bin_dir = bin.parent().expect("binary folder").to_path_buf();
    let t = TestSystem::ipl();
    let cwd = t.dir.parent().expect("temporary folder").to_path_buf();
    let mut env: Vec<(String, String)> = t
        .passwords
        .iter()
        .map(|(u, p)| (format!("{u}_PASSWORD"), p.clone()))
        .collect();
    env.push(("IMAP_PORT".into(), t.ports.imap.to_string()));
    env.push(("IMAPS_PORT".into(), t.ports.imaps.to_string()));
    env.push(("SMTP_PORT".into(), t.ports.smtp.to_string()));
    let mut failures = Vec::new();
    for (i, ex) in examples.iter().enumerate() {
        let ran = run_shell(&ex.command, &cwd, &bin_dir, &t.dir, &env);
        if let Some(report) = check(ex, &ran) {
            failures.push(report);
        }
        let last = i + 1 == examples.len();
        if !last && !t.alive() {
            failures.push(format!(
                "{}:{}: $ {}\n  left the system down, but it is not the document's last example",
                ex.file.display(),
                ex.line,
                ex.command
            ));
            break;
        }
    }
    if t.alive() {
        t.shutdown();
    }
    failures
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The documents whose examples are run: `docs/**/*.md` and `README.md`.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut docs = Vec::new();
    let mut dirs = vec![root.join("docs")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                docs.push(p);
            }
        }
    }
    docs.sort();
    docs.push(root.join("README.md"));
    docs
}

#[test]
fn every_documented_example_runs_as_shown() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", doc.display()));
        // Reports name the document as it is in the repository.
        let shown = doc.strip_prefix(root()).unwrap_or(&doc).to_path_buf();
        let examples = match parse_examples(&shown, &text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if examples.is_empty() {
            continue;
        }
        ran += examples.len();
        failures.extend(run_document(&examples));
    }
    assert!(
        failures.is_empty(),
        "{} documentation example(s) do not run as shown:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran > 0, "no console examples found under docs/");
}

#[test]
fn the_wildcard_matches_within_one_line() {
    assert!(line_matches(
        "LOGON AT …",
        "LOGON AT 10:05:22 UTC TUESDAY 05/21/24"
    ));
    assert!(line_matches("a … b … c", "a x b y c"));
    assert!(line_matches("…", ""));
    assert!(line_matches("x…x", "xx"));
    assert!(!line_matches("x…xx", "xx"));
    assert!(line_matches(
        "NONE …/… …:…:… NOTES",
        "NONE 11/26 08:45:03 NOTES"
    ));
    assert!(!line_matches("NONE …/… NOTES", "NONE 1126 NOTES"));
    assert!(line_matches("MAINT   ", "MAINT"));
    assert!(!line_matches("MAINT", "MAINT2"));
    assert!(!line_matches("MAINT", "XMAINT"));
}

#[test]
fn only_console_blocks_are_examples() {
    let text = "\
# Title

```sh
$ not run
```

```console
$ echo one
one
$ false
[exit 1]
```

````console
$ echo ```
```
````

```text
$ not run either
```
";
    let ex = parse_examples(Path::new("t.md"), text).unwrap();
    assert_eq!(ex.len(), 3, "{ex:?}");
    assert_eq!(ex[0].command, "echo one");
    assert_eq!(ex[0].line, 8);
    assert_eq!(ex[0].expected, vec![(9, "one".to_string())]);
    assert_eq!(ex[0].exit, None);
    assert_eq!(ex[1].command, "false");
    assert!(ex[1].expected.is_empty());
    assert_eq!(ex[1].exit, Some(1));
    assert_eq!(ex[2].expected, vec![(16, "```".to_string())]);
    assert!(parse_examples(Path::new("t.md"), "```console\nstray\n```\n").is_err());
    assert!(parse_examples(Path::new("t.md"), "```console\n$ x\n[exit 1]\nmore\n```\n").is_err());
    assert!(parse_examples(Path::new("t.md"), "```console\n$ x\n").is_err());
}
