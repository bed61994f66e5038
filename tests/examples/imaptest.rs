//! Runs imaptest-format conformance scripts against an IMAP server.
//!
//! ```text
//! cargo run -p system-tests --example imaptest -- --host H --port P --user U --pass P \
//!     [--script PATH | --dir PATH] [--box NAME] [--user2 U] [--timeout SECS] [--verbose] [--trace]
//! ```
//!
//! Without `--script`/`--dir` it runs the folder from `IMAP_CONFORMANCE_DIR`, else
//! `../shared/imap-conformance/scripts` beside the repository. Prints `PASS name`,
//! `FAIL name: reason` or `SKIP name: missing X` per script, then a summary; exits with 1 if a
//! script failed (2 on a usage error). `--verbose` also prints what imaptest only logs;
//! `--trace` prints the whole conversation to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use system_tests::imaptest::{
    RunConfig, ScriptReport, ScriptResult, Summary, run_script_report, script_paths, scripts_dir,
};

const USAGE: &str = "usage: imaptest --host H --port P --user U --pass P [--script PATH | --dir PATH] \
[--box NAME] [--user2 U] [--timeout SECS] [--verbose] [--trace]";

fn main() -> ExitCode {
    let mut cfg = RunConfig::default();
    let mut script: Option<PathBuf> = None;
    let mut dir: Option<PathBuf> = None;
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--verbose" || a == "-v" {
            verbose = true;
            continue;
        }
        if a == "--trace" {
            cfg.trace = true;
            continue;
        }
        if a == "--help" || a == "-h" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        let Some(v) = args.next() else {
            eprintln!("{a} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        match a.as_str() {
            "--host" => cfg.host = v,
            "--port" => match v.parse() {
                Ok(p) => cfg.port = p,
                Err(_) => {
                    eprintln!("bad port {v}");
                    return ExitCode::from(2);
                }
            },
            "--user" => cfg.user = v,
            "--pass" | "--password" => cfg.password = v,
            "--box" | "--mailbox" => cfg.mailbox = v,
            "--user2" => cfg.user2 = Some(v),
            "--timeout" => match v.parse() {
                Ok(s) => cfg.timeout = Duration::from_secs(s),
                Err(_) => {
                    eprintln!("bad timeout {v}");
                    return ExitCode::from(2);
                }
            },
            "--script" => script = Some(PathBuf::from(v)),
            "--dir" => dir = Some(PathBuf::from(v)),
            _ => {
                eprintln!("unknown option {a}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let paths = match (script, dir) {
        (Some(s), _) => vec![s],
        (None, Some(d)) => match script_paths(&d) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot read {}: {e}", d.display());
                return ExitCode::from(2);
            }
        },
        (None, None) => {
            let Some(d) = scripts_dir() else {
                eprintln!("no scripts: set IMAP_CONFORMANCE_DIR or pass --dir / --script\n{USAGE}");
                return ExitCode::from(2);
            };
            match script_paths(&d) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("cannot read {}: {e}", d.display());
                    return ExitCode::from(2);
                }
            }
        }
    };

    let mut reports: Vec<ScriptReport> = Vec::new();
    for p in &paths {
        let r = run_script_report(&cfg, p);
        match &r.result {
            ScriptResult::Passed => println!("PASS {}", r.name),
            ScriptResult::Failed { reason } => {
                let mut lines = reason.lines();
                println!("FAIL {}: {}", r.name, lines.next().unwrap_or(""));
                for l in lines {
                    println!("    {l}");
                }
            }
            ScriptResult::Skipped { missing } => {
                println!("SKIP {}: missing {}", r.name, missing.join(" "))
            }
        }
        if verbose {
            for l in &r.log {
                println!("    log: {l}");
            }
        }
        for o in &r.outputs {
            println!("    output: {o}");
        }
        reports.push(r);
    }
    let summary = Summary::of(&reports);
    println!("{summary}");
    if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
