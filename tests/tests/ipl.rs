//! IPL, the default system folder, QUERY NAMES, orderly shutdown and warm start.

mod common;

use std::time::{Duration, Instant};

use common::TestSystem;

#[test]
fn a_fresh_detached_ipl_is_ready_fast_and_shuts_down_cleanly() {
    common::vmimap_bin();
    let start = Instant::now();
    let t = TestSystem::ipl();
    let took = start.elapsed();
    // Measured, not a benchmark: the acceptance bound for a fresh IPL after the build.
    assert!(took < Duration::from_secs(1), "IPL took {took:?}");
    let out = &t.first_ipl_output;
    assert!(
        out.contains("HCPWRS2512I Spooling initialization is complete"),
        "{out}"
    );
    assert!(out.contains("HCPIPL9000I System VMIMAP ready"), "{out}");
    // Random passwords for the interactive users, shown once and stored only as hashes.
    assert_eq!(t.passwords.len(), 3, "{out}");
    let direct = std::fs::read_to_string(t.dir.join("USER DIRECT")).unwrap();
    for (user, pw) in &t.passwords {
        assert!(pw.len() >= 12);
        assert!(
            !direct.contains(pw.as_str()),
            "password of {user} stored in clear"
        );
        assert!(direct.contains(&format!("USER {user} $argon2id$")));
    }
    for svc in ["TCPIP", "SMTP", "IMAP", "IMAPADM", "VMSERVS"] {
        assert!(
            direct.contains(&format!("USER {svc} AUTOONLY")),
            "{svc} missing"
        );
    }
    assert!(t.dir.join("SYSTEM CONFIG").exists());
    let meta = std::fs::metadata(t.dir.join("control.sock")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let names = t.cp_ok("MAINT", "Q NAMES");
    assert!(
        names.iter().any(|l| l.contains("OPERATOR - DSC")),
        "{names:?}"
    );
    let pid = t.pid().unwrap();
    t.shutdown();
    assert!(
        !common::process_running(pid),
        "system process still running"
    );
    assert!(!t.dir.join("control.sock").exists());
    let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap();
    assert!(
        log.contains("HCPWRS2511I Spool checkpoint written"),
        "{log}"
    );
    assert!(log.contains("SYSTEM TERMINATION COMPLETE"));
}

#[test]
fn a_second_ipl_of_a_running_system_is_refused() {
    let t = TestSystem::ipl();
    let out = t.run(&["ipl", "--detach"]);
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("already IPLed"), "{text}");
    t.shutdown();
}

#[test]
fn warm_start_keeps_spoolids_order_and_attributes() {
    let t = TestSystem::ipl();
    let f = t.dir.join("deck.txt");
    std::fs::write(&f, "one\ntwo\nthree\n").unwrap();
    for _ in 0..4 {
        assert!(t.punch("MAINT", Some("DEMO"), &f, &[]).status.success());
    }
    t.cp_ok("DEMO", "CHANGE RDR 2 CLASS B HOLD");
    t.cp_ok("DEMO", "ORDER RDR 3");
    t.cp_ok("DEMO", "PURGE RDR 4");
    let before = t.cp_ok("DEMO", "Q RDR * ALL");
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before[1].starts_with("MAINT    0003 A PUN"), "{before:?}");
    assert!(
        before[3].starts_with("MAINT    0002 B PUN 00000004 001 USER"),
        "{before:?}"
    );
    t.shutdown();
    t.reipl();
    let after = t.cp_ok("DEMO", "Q RDR * ALL");
    assert_eq!(before, after);
    // The spoolid sequence continues where it was.
    let sent = t.punch("MAINT", Some("DEMO"), &f, &[]);
    let text = String::from_utf8_lossy(&sent.stdout);
    assert!(text.contains("RDR AS  0005"), "{text}");
    t.shutdown();
    let check = t.run(&["spool", "check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn a_refused_second_ipl_leaves_the_running_system_alone() {
    let t = TestSystem::ipl();
    let pid = t.pid().unwrap();
    let out = t.run(&["ipl", "--detach"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        text.contains(&format!("already IPLed (pid {pid})")),
        "{text}"
    );
    // The pid file is intact, so shutdown still waits for the right process.
    assert_eq!(t.pid(), Some(pid));
    t.shutdown();
    assert!(!common::process_running(pid));
}
