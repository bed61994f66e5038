//! The shared IMAP conformance suite (Dovecot imaptest scripts, read from
//! `../shared/imap-conformance/scripts` or `$IMAP_CONFORMANCE_DIR`, never copied here) run with
//! the `system_tests::imaptest` runner against a freshly IPLed system, logged in as DEMO with
//! its directory password.

mod common;
mod imap_support;

use std::time::{Duration, Instant};

use imap_support::{Imap, system_with_demo};
use system_tests::imaptest::{
    ENV_DIR, RunConfig, ScriptResult, Summary, run_script_report, script_paths, scripts_dir,
};

#[test]
fn imap_conformance_scripts_all_pass() {
    let dir = scripts_dir().unwrap_or_else(|| match std::env::var(ENV_DIR) {
        Ok(v) => panic!(
            "the IMAP conformance scripts folder is missing: {ENV_DIR}={v} is not a folder \
             (nor has a scripts/ folder)"
        ),
        Err(_) => panic!(
            "the IMAP conformance scripts folder is missing: expected \
             ../shared/imap-conformance/scripts beside the repository, or set {ENV_DIR}"
        ),
    });
    let paths = script_paths(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance scripts in {}: {e}",
            dir.display()
        )
    });
    assert!(
        !paths.is_empty(),
        "no conformance scripts in {}",
        dir.display()
    );

    let (t, pw) = system_with_demo();
    // What the server advertises after login, to judge skips.
    let mut c = Imap::login(t.ports.imap, "capability", "DEMO", &pw);
    let r = c.ok("CAPABILITY");
    let caps: Vec<String> = r
        .lines()
        .iter()
        .find_map(|l| l.strip_prefix("* CAPABILITY "))
        .unwrap_or_else(|| panic!("no CAPABILITY\n{}", c.dump()))
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    c.logout();

    let cfg = RunConfig {
        host: "127.0.0.1".into(),
        port: t.ports.imap,
        user: "DEMO".into(),
        password: pw,
        timeout: Duration::from_secs(10),
        ..RunConfig::default()
    };
    let started = Instant::now();
    let reports: Vec<_> = paths.iter().map(|p| run_script_report(&cfg, p)).collect();
    let summary = Summary::of(&reports);
    let mut problems = Vec::new();
    for r in &reports {
        match &r.result {
            ScriptResult::Passed => {}
            ScriptResult::Failed { reason } => {
                eprintln!("FAIL {}: {reason}", r.name);
                problems.push(format!("{} failed:\n{reason}", r.name));
            }
            ScriptResult::Skipped { missing } => {
                eprintln!("SKIP {}: missing {}", r.name, missing.join(" "));
                let advertised: Vec<&String> = missing
                    .iter()
                    .filter(|m| caps.contains(&m.to_ascii_uppercase()))
                    .collect();
                if !advertised.is_empty() || missing.is_empty() {
                    problems.push(format!(
                        "{} skipped although the server advertises {advertised:?} (missing {missing:?})",
                        r.name
                    ));
                }
            }
        }
    }
    eprintln!(
        "conformance: {} passed / {} ({} skipped, {} failed) in {:.1} s\n{summary}",
        summary.passed,
        summary.total,
        summary.skipped,
        summary.failed,
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{} of {} conformance scripts did not pass:\n{}",
        problems.len(),
        summary.total,
        problems.join("\n")
    );
    assert_eq!(summary.passed + summary.skipped, paths.len());
    t.assert_healthy();
}
