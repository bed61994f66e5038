//! Bad input of every kind — privileged commands from a general user, wrong passwords, broken
//! configuration files, bad operands, huge lines, binary garbage on the control socket, unknown
//! userids — gets CP's specific refusal, and never hurts the running system.

mod common;

use common::{DEFAULT_CONFIG, Raw, TestSystem, vmimap};

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// The `userid - term` entries of QUERY NAMES for these users (blanks squeezed).
fn logged_on(t: &TestSystem, users: &[&str]) -> Vec<String> {
    t.cp_ok("MAINT", "Q NAMES")
        .iter()
        .flat_map(|l| l.split(" , "))
        .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|e| users.iter().any(|u| e.split(' ').next() == Some(*u)))
        .collect()
}

/// The JSON replies of a raw exchange.
fn replies(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("reply {l:?} is not JSON: {e}")))
        .collect()
}

#[test]
fn a_class_g_user_sees_privileged_commands_as_unknown() {
    let t = TestSystem::ipl();
    for (cmd, word) in [
        ("FORCE", "FORCE"),
        ("FORCE MAINT", "FORCE"),
        ("SHUTDOWN", "SHUTDOWN"),
        ("WNG MAINT hello", "WNG"),
        ("AUTOLOG MAINT x", "AUTOLOG"),
        ("XYZZY", "XYZZY"),
        ("XYZZY PLUGH", "XYZZY"),
    ] {
        let (rc, lines) = t.cp("DEMO", cmd);
        assert_eq!(
            (rc, lines),
            (1, vec![format!("HCPCMD001E Unknown CP command: {word}")]),
            "DEMO: {cmd}"
        );
    }
    // The same commands are known to a class A user: FORCE of a user who is not logged on.
    let (rc, lines) = t.cp("MAINT", "FORCE DEMO");
    assert_eq!(
        (rc, lines),
        (45, vec!["HCPMSG045E DEMO not logged on".to_string()])
    );
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn logon_refusal_is_the_same_for_a_wrong_password_and_an_unknown_userid() {
    let t = TestSystem::ipl();
    let refusal = "HCPLGA050E LOGON unsuccessful--incorrect userid and/or password";
    // Password on the LOGON line.
    let wrong_pw = t.console(None, "LOGON DEMO notthepassword\nLOGOFF\n");
    let no_user = t.console(None, "LOGON NOSUCH notthepassword\nLOGOFF\n");
    assert!(wrong_pw.contains(refusal), "{wrong_pw}");
    assert!(!wrong_pw.contains("LOGON AT"), "{wrong_pw}");
    assert_eq!(wrong_pw, no_user);
    // Password at the prompt.
    let wrong_pw = t.console(None, "LOGON DEMO\nnotthepassword\nLOGOFF\n");
    let no_user = t.console(None, "LOGON NOSUCH\nnotthepassword\nLOGOFF\n");
    assert!(wrong_pw.contains("Enter your password:"), "{wrong_pw}");
    assert!(wrong_pw.contains(refusal), "{wrong_pw}");
    assert_eq!(wrong_pw, no_user);
    // A userid that cannot be one, and a user who may not log on with a password at all.
    let bad_id = t.console(None, "LOGON TOOLONGUSERID x\nLOGON IMAP x\nLOGOFF\n");
    assert_eq!(bad_id.matches(refusal).count(), 2, "{bad_id}");
    // Nobody got logged on by all that (IMAP runs, autologged by TCPIP, not by a console).
    assert_eq!(logged_on(&t, &["DEMO", "NOSUCH"]), Vec::<String>::new());
    // The right password logs on, at the prompt and on the LOGON line.
    let pw = &t.passwords["DEMO"];
    let ok = t.console(None, &format!("logon demo\n{pw}\nq userid\nlogoff\n"));
    assert!(!ok.contains(refusal), "{ok}");
    assert!(ok.contains("LOGON AT "), "{ok}");
    assert!(ok.contains("DEMO     AT VMIMAP"), "{ok}");
    assert!(ok.contains("LOGOFF AT "), "{ok}");
    let ok = t.console(None, &format!("LOGON DEMO {pw}\nlogoff\n"));
    assert!(ok.contains("LOGON AT "), "{ok}");
    // Wrong first, right second, at the same terminal.
    let ok = t.console(
        None,
        &format!("LOGON DEMO wrong\nLOGON DEMO {pw}\nlogoff\n"),
    );
    assert_eq!(ok.matches(refusal).count(), 1, "{ok}");
    assert!(ok.contains("LOGON AT "), "{ok}");
    // Other commands before LOGON.
    let before = t.console(None, "QUERY NAMES\nLOGOFF\n");
    assert!(
        before.contains("HCPCFC015E Command not valid before LOGON: QUERY"),
        "{before}"
    );
    t.assert_healthy();
    t.shutdown();
}

/// A directory for folders the tests write themselves (plain-text passwords).
const DIRECT: &str = "\
* USER DIRECT written by a test
PROFILE IBMDFLT
 CONSOLE 0009 3215 T
 SPOOL 000C 2540 READER *
 SPOOL 000D 2540 PUNCH A
 SPOOL 000E 1403 A
USER OPERATOR OPERPW 32M 64M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 OPR191 MR
USER DEMO DEMOPW 32M 64M G
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 DEM191 MR
";

/// `text` with line `n` (1-based) replaced.
fn break_line(text: &str, n: usize, with: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[n - 1] = with;
    lines.join("\n") + "\n"
}

/// IPLs a folder that must fail; returns everything printed.
fn failed_ipl(dir: &std::path::Path) -> String {
    let out = vmimap(&["ipl", "--detach"], dir);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert_ne!(out.code, 0, "IPL succeeded: {text}");
    assert!(!dir.join("vmimap.pid").exists(), "{text}");
    assert!(!dir.join("control.sock").exists(), "{text}");
    text
}

#[test]
fn configuration_errors_stop_the_ipl_and_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vmsys");
    // USER DIRECT line 14 (DEMO's MDISK) with a bad access mode.
    common::write_system_folder(
        &dir,
        &break_line(DIRECT, 14, " MDISK 0191 3390 0001 0010 DEM191 QQ"),
        DEFAULT_CONFIG,
    );
    let text = failed_ipl(&dir);
    assert!(
        text.contains("USER DIRECT line 14: invalid MDISK mode QQ"),
        "{text}"
    );
    // Another kind of error on another line: an unknown statement in an entry.
    std::fs::write(dir.join("USER DIRECT"), break_line(DIRECT, 9, " IPL")).unwrap();
    let text = failed_ipl(&dir);
    assert!(
        text.contains("USER DIRECT line 9: IPL program name missing"),
        "{text}"
    );
    // A userid defined twice names both lines.
    std::fs::write(
        dir.join("USER DIRECT"),
        break_line(DIRECT, 11, "USER OPERATOR X 32M 64M G"),
    )
    .unwrap();
    let text = failed_ipl(&dir);
    assert!(
        text.contains("USER DIRECT line 11: userid OPERATOR already defined on line 7"),
        "{text}"
    );
    // Not text at all.
    std::fs::write(dir.join("USER DIRECT"), garbage(4096, 7)).unwrap();
    let text = failed_ipl(&dir);
    assert!(text.contains("USER DIRECT: cannot read"), "{text}");
    // SYSTEM CONFIG line 3 with a bad time zone direction.
    std::fs::write(dir.join("USER DIRECT"), DIRECT).unwrap();
    std::fs::write(
        dir.join("SYSTEM CONFIG"),
        break_line(DEFAULT_CONFIG, 3, "Timezone_Definition UTC North 00.00.00"),
    )
    .unwrap();
    let text = failed_ipl(&dir);
    assert!(
        text.contains("SYSTEM CONFIG line 3: EAST or WEST expected"),
        "{text}"
    );
    std::fs::write(
        dir.join("SYSTEM CONFIG"),
        break_line(DEFAULT_CONFIG, 5, "Spool_Limits Maxrecords lots"),
    )
    .unwrap();
    let text = failed_ipl(&dir);
    assert!(text.contains("SYSTEM CONFIG line 5: "), "{text}");
    // Repaired (SYSTEM CONFIG removed: IPL writes the default one beside our USER DIRECT), the
    // same folder IPLs: a failed IPL leaves nothing in the way.
    std::fs::remove_file(dir.join("SYSTEM CONFIG")).unwrap();
    let out = vmimap(&["ipl", "--detach"], &dir);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(dir.join("SYSTEM CONFIG").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("USER DIRECT")).unwrap(),
        DIRECT
    );
    let t_names = vmimap(&["cp", "--user", "DEMO", "Q", "NAMES"], &dir);
    assert!(
        t_names.stdout.starts_with("OPERATOR - DSC"),
        "{}",
        t_names.stdout
    );
    let logon = vmimap(&["cp", "--user", "DEMO", "Q", "USERID"], &dir);
    assert_eq!(logon.stdout, "DEMO     AT VMIMAP\n");
    let out = vmimap(&["shutdown"], &dir);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn bad_operands_get_their_messages_and_return_codes() {
    let t = TestSystem::ipl();
    let cases: &[(&str, i32, &str)] = &[
        ("SPOOL PUN BOGUS", 3, "HCPCMD003E Invalid option - BOGUS"),
        ("SPOOL PUN", 26, "HCPCMD026E Operand missing or invalid"),
        ("SPOOL PUN COPY 0", 2, "HCPCMD002E Invalid operand - 0"),
        ("SPOOL PUN COPY 256", 2, "HCPCMD002E Invalid operand - 256"),
        ("SPOOL PUN CLASS AB", 2, "HCPCMD002E Invalid operand - AB"),
        (
            "SPOOL PUN CLASS",
            26,
            "HCPCMD026E Operand missing or invalid",
        ),
        (
            "SPOOL PUN TO NOSUCH",
            53,
            "HCPCMD053E NOSUCH not in CP directory",
        ),
        (
            "SPOOL PUN TO TOOLONGUSERID",
            20,
            "HCPCMD020E Userid missing or invalid",
        ),
        (
            "SPOOL PUN TO MAINT FOR MAINT",
            13,
            "HCPCMD013E Conflicting option - FOR",
        ),
        ("SPOOL PUN NAME A B C", 3, "HCPCMD003E Invalid option - C"),
        (
            "SPOOL 0FFF HOLD",
            40,
            "HCPCMD040E Device 0FFF does not exist",
        ),
        (
            "SPOOL XYZ HOLD",
            22,
            "HCPCMD022E A virtual device number was not supplied or it was invalid",
        ),
        ("SPOOL RDR COPY 2", 3, "HCPCMD003E Invalid option - COPY"),
        ("Q V 0FFF", 40, "HCPCMD040E Device 0FFF does not exist"),
        ("Q V 00D EXTRA", 3, "HCPCMD003E Invalid option - EXTRA"),
        ("Q", 26, "HCPCMD026E Operand missing or invalid"),
        ("Q NAMES EXTRA", 3, "HCPCMD003E Invalid option - EXTRA"),
        ("Q RDR * 0", 2, "HCPCMD002E Invalid operand - 0"),
        ("Q RDR * 12", 42, "HCPCSV042E Spoolid 0012 does not exist"),
        ("Q RDR MAINT", 2, "HCPCMD002E Invalid operand - MAINT"),
        ("Q RDR * CLASS", 26, "HCPCMD026E Operand missing or invalid"),
        ("PURGE RDR 77", 42, "HCPCSV042E Spoolid 0077 does not exist"),
        ("PURGE RDR 10000", 2, "HCPCMD002E Invalid operand - 10000"),
        ("PURGE RDR", 26, "HCPCMD026E Operand missing or invalid"),
        ("PURGE BOGUS", 2, "HCPCMD002E Invalid operand - BOGUS"),
        (
            "PURGE MAINT RDR ALL",
            2,
            "HCPCMD002E Invalid operand - MAINT",
        ),
        ("CHANGE RDR 1", 26, "HCPCMD026E Operand missing or invalid"),
        ("CHANGE RDR 1 BOGUS", 3, "HCPCMD003E Invalid option - BOGUS"),
        (
            "CHANGE RDR 1 CLASS",
            26,
            "HCPCMD026E Operand missing or invalid",
        ),
        (
            "CHANGE RDR 1 COPY 999",
            2,
            "HCPCMD002E Invalid operand - 999",
        ),
        (
            "CHANGE RDR 1 CLASS B",
            42,
            "HCPCSV042E Spoolid 0001 does not exist",
        ),
        ("ORDER RDR ALL", 2, "HCPCMD002E Invalid operand - ALL"),
        ("ORDER ALL 1", 2, "HCPCMD002E Invalid operand - ALL"),
        (
            "TRANSFER RDR 1 TO NOSUCH",
            53,
            "HCPCMD053E NOSUCH not in CP directory",
        ),
        (
            "TRANSFER RDR 1",
            26,
            "HCPCMD026E Operand missing or invalid",
        ),
        (
            "TRANSFER RDR 1 TO MAINT",
            42,
            "HCPCSV042E Spoolid 0001 does not exist",
        ),
        ("CLOSE 0FFF", 40, "HCPCMD040E Device 0FFF does not exist"),
        ("CLOSE PUN BOGUS", 3, "HCPCMD003E Invalid option - BOGUS"),
        (
            "CLOSE PUN TO NOSUCH",
            53,
            "HCPCMD053E NOSUCH not in CP directory",
        ),
        ("MSG NOSUCH hello", 45, "HCPMSG045E NOSUCH not logged on"),
        ("MSG MAINT hello", 45, "HCPMSG045E MAINT not logged on"),
        ("MSG OPERATOR", 26, "HCPCMD026E Operand missing or invalid"),
        ("SET MSG MAYBE", 2, "HCPCMD002E Invalid operand - MAYBE"),
        ("SET EMSG", 26, "HCPCMD026E Operand missing or invalid"),
        (
            "XAUTOLOG NOSUCH",
            53,
            "HCPCMD053E NOSUCH not in CP directory",
        ),
        ("XAUTOLOG", 20, "HCPCMD020E Userid missing or invalid"),
        ("LOGOFF NOW", 3, "HCPCMD003E Invalid option - NOW"),
        ("DISCONNECT NOW", 3, "HCPCMD003E Invalid option - NOW"),
    ];
    for (cmd, rc, line) in cases {
        let (got_rc, lines) = t.cp("DEMO", cmd);
        assert_eq!(
            (got_rc, lines),
            (*rc, vec![line.to_string()]),
            "DEMO: {cmd}"
        );
    }
    // Control characters in an operand are not echoed raw.
    let (rc, lines) = t.cp("DEMO", "SPOOL PUN \u{7}\u{1b}[2J");
    assert_eq!(
        (rc, lines),
        (3, vec!["HCPCMD003E Invalid option - ..[2J".to_string()])
    );
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn huge_lines_are_refused_clearly() {
    let t = TestSystem::ipl();
    let huge = "Q".repeat(10_000);
    // A host CP command: CP's longest line, and the return code on standard error.
    let out = t.cp_full("DEMO", &huge);
    assert_eq!(out.code, 255);
    assert_eq!(
        out.stdout,
        "HCPCMD1015E Command line longer than 240 characters\n"
    );
    assert_eq!(out.stderr, "vmimap: return code 1015\n");
    // At a CMS console: CMS refuses it, CP too when it is a #CP line; the session goes on.
    let cms = t.console(
        Some("DEMO"),
        &format!("{huge}\n#CP {huge}\nCP {huge}\nq userid\nlogoff\n"),
    );
    assert_eq!(
        cms.matches("DMSCMS1001E Command line longer than 1024 characters")
            .count(),
        2,
        "{cms}"
    );
    assert_eq!(cms.matches("Ready(00024);").count(), 2, "{cms}");
    assert!(
        cms.contains("HCPCMD1015E Command line longer than 240 characters"),
        "{cms}"
    );
    assert!(cms.contains("DEMO     AT VMIMAP"), "{cms}");
    assert!(cms.contains("LOGOFF AT"), "{cms}");
    // At the LOGON prompt: the echo of the command is cut short.
    let pre = t.console(None, &format!("{huge}\nLOGON {huge}\nLOGOFF\n"));
    assert!(
        pre.contains(
            "HCPCFC015E Command not valid before LOGON: QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ...\n"
        ),
        "{pre}"
    );
    assert!(
        pre.contains("HCPLGA050E LOGON unsuccessful--incorrect userid and/or password"),
        "{pre}"
    );
    assert!(
        pre.len() < 2000,
        "a huge line was echoed: {} bytes",
        pre.len()
    );
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn garbage_on_the_control_socket_is_refused_and_harmless() {
    let t = TestSystem::ipl();
    let error_then_close = |bytes: &[u8]| -> String {
        let (text, closed) = Raw::connect(&t).exchange_until_closed(bytes);
        assert!(closed, "connection left open after {:?}", &text);
        let r = replies(&text);
        assert_eq!(r.len(), 1, "{text}");
        let e = r[0]["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {text}"));
        assert!(!e.is_empty());
        e.to_string()
    };
    // 100 KiB of random bytes (newlines included, invalid UTF-8).
    let e = error_then_close(&garbage(100 << 10, 0x9e37_79b9_7f4a_7c15));
    assert!(e.contains("not UTF-8"), "{e}");
    // Valid UTF-8 that is not JSON, JSON that is not a request, a request without its operands.
    let e = error_then_close(b"hello there\n");
    assert!(e.contains("not a valid request"), "{e}");
    let e = error_then_close(b"[1,2,3]\n");
    assert!(e.contains("not a valid request"), "{e}");
    let e = error_then_close(b"{\"op\":\"format\",\"disk\":\"all\"}\n");
    assert!(e.contains("not a valid request"), "{e}");
    let e = error_then_close(b"{\"op\":\"cp\",\"user\":\"MAINT\"}\n");
    assert!(e.contains("not a valid request"), "{e}");
    // Console input without a console.
    let e = error_then_close(b"{\"op\":\"line\",\"text\":\"q names\"}\n");
    assert!(e.contains("console session first"), "{e}");
    // A console session, then garbage: the error, and the user is left disconnected.
    let mut session = b"{\"op\":\"console\",\"user\":\"DEMO\"}\n".to_vec();
    session.extend(garbage(100 << 10, 42));
    let (text, closed) = Raw::connect(&t).exchange_until_closed(&session);
    assert!(closed, "{text}");
    assert!(
        text.contains("\"error\":\"request is not UTF-8 text\""),
        "{text}"
    );
    assert!(text.contains("LOGON AT"), "{text}");
    assert_eq!(logged_on(&t, &["DEMO"]), vec!["DEMO - DSC"]);
    // Control characters inside a well-formed request are just bad operands.
    let (text, _) = Raw::connect(&t).exchange_until_closed(
        b"{\"op\":\"cp\",\"user\":\"MAINT\",\"command\":\"Q \\u0000\\u0007\"}\n",
    );
    let r = replies(&text);
    assert_eq!(r[0]["rc"], 2, "{text}");
    assert_eq!(
        r[0]["lines"][0], "HCPCMD002E Invalid operand - ..",
        "{text}"
    );
    // Still alive and answering.
    assert_eq!(t.cp("MAINT", "Q USERS").0, 0);
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn unknown_and_invalid_userids_on_host_commands() {
    let t = TestSystem::ipl();
    let out = t.cp_full("NOSUCH", "Q NAMES");
    assert_eq!(out.code, 53);
    assert_eq!(out.stdout, "HCPCMD053E NOSUCH not in CP directory\n");
    let out = t.cp_full("TOOLONGUSERID", "Q NAMES");
    assert_eq!(out.code, 20);
    assert_eq!(out.stdout, "HCPCMD020E Userid missing or invalid\n");
    let out = t.cp_full("BAD/ID", "Q NAMES");
    assert_eq!(out.code, 20);
    // Userids are not case-sensitive.
    assert_eq!(t.cp_ok("demo", "Q USERID"), vec!["DEMO     AT VMIMAP"]);
    // Consoles: refused before anything is logged on.
    let con = t.console(Some("NOSUCH"), "q names\n");
    assert_eq!(con, "vmimap: HCPCMD053E NOSUCH not in CP directory\n");
    let con = t.console(Some("TOOLONGUSERID"), "q names\n");
    assert_eq!(con, "vmimap: HCPCMD020E Userid missing or invalid\n");
    let out = vmimap(&["console", "--user", "NOSUCH"], &t.dir);
    assert_eq!(out.code, 2);
    // Punching to or as an unknown user.
    let f = t.dir.join("x.txt");
    std::fs::write(&f, "x\n").unwrap();
    let out = t.punch("MAINT", Some("NOSUCH"), &f, &[]);
    assert_eq!(out.status.code(), Some(53));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "HCPCMD053E NOSUCH not in CP directory\n"
    );
    let out = t.punch("NOSUCH", Some("MAINT"), &f, &[]);
    assert_eq!(out.status.code(), Some(53));
    // Nothing was sent or logged on by any of it.
    assert_eq!(t.cp_ok("MAINT", "Q RDR *"), vec!["NO RDR FILES"]);
    assert_eq!(logged_on(&t, &["NOSUCH", "DEMO"]), Vec::<String>::new());
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn after_a_barrage_of_bad_input_the_system_is_still_healthy() {
    let t = TestSystem::ipl();
    let huge = "X".repeat(10_000);
    for cmd in [
        "FORCE OPERATOR",
        "XYZZY",
        "SPOOL PUN BOGUS",
        "Q V 0FFF",
        &huge,
    ] {
        assert_ne!(t.cp("DEMO", cmd).0, 0, "{cmd}");
    }
    let _ = t.console(None, "LOGON DEMO wrong\nLOGON NOSUCH wrong\nLOGOFF\n");
    let _ = t.console(
        Some("DEMO"),
        &format!("{huge}\nCP SPOOL PUN BOGUS\n\u{0}\u{7f}\nlogoff\n"),
    );
    for seed in 1..=4 {
        let _ = Raw::connect(&t).exchange_until_closed(&garbage(100 << 10, seed));
    }
    let _ = t.cp("NOSUCH", "Q NAMES");
    let _ = t.cp("TOOLONGUSERID", "Q NAMES");
    assert_eq!(logged_on(&t, &["DEMO"]), Vec::<String>::new());
    assert_eq!(logged_on(&t, &["OPERATOR"]), vec!["OPERATOR - DSC"]);
    t.assert_healthy();
    t.shutdown();
    let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap();
    assert!(log.contains("SYSTEM TERMINATION COMPLETE"), "{log}");
}
