//! The TCP/IP stack machine: NETSTAT (by `SMSG TCPIP NETSTAT` and the CMS command), the restart
//! of a server it autologs, and a bad `PROFILE TCPIP`.

mod common;

use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use common::{TestSystem, console::Console};

/// NETSTAT's four header lines.
const HEADER: [&str; 4] = [
    "VM TCP/IP Netstat Level 730",
    "Active Transmission Blocks",
    "User Id  Conn     Local Socket           Foreign Socket         State",
    "-------- ----     ------------           --------------         -----",
];

/// Connects to the IMAP port and reads the greeting; the connection and the greeting.
fn imap_client(port: u16) -> (TcpStream, String) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to IMAP");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = String::new();
    BufReader::new(s.try_clone().unwrap())
        .read_line(&mut line)
        .expect("IMAP greeting");
    (s, line)
}

/// Whether the IMAP port accepts a connection that is greeted with `* OK`.
fn imap_greets(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok_and(|s| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("* OK")
    })
}

/// Checks a NETSTAT report: the header, then IMAP's connection from `client` (a local port of
/// this host) to the IMAP port, then IMAP listening on both its ports, and nothing else.
fn assert_report(lines: &[String], t: &TestSystem, client: u16) {
    assert!(lines.len() >= 4, "{lines:?}");
    assert_eq!(lines[..4], HEADER, "{lines:?}");
    let rows: Vec<Vec<&str>> = lines[4..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let imap_at = format!("127.0.0.1..{}", t.ports.imap);
    let client_at = format!("127.0.0.1..{client}");
    let conn: Vec<_> = rows
        .iter()
        .filter(|r| r.last() == Some(&"Established"))
        .collect();
    assert_eq!(conn.len(), 1, "one connection expected: {lines:?}");
    let c = conn[0];
    assert_eq!(
        (c[0], c[2], c[3]),
        ("IMAP", imap_at.as_str(), client_at.as_str()),
        "{lines:?}"
    );
    assert!(c[1].parse::<u32>().is_ok_and(|n| n > 1000), "{lines:?}");
    let mut listen: Vec<Vec<&str>> = rows
        .iter()
        .filter(|r| r.last() == Some(&"Listen"))
        .cloned()
        .collect();
    listen.sort();
    let imaps_at = format!("127.0.0.1..{}", t.ports.imaps);
    let smtp_at = format!("127.0.0.1..{}", t.ports.smtp);
    let mut want = vec![
        vec!["IMAP", imap_at.as_str(), "*..*", "Listen"],
        vec!["IMAP", imaps_at.as_str(), "*..*", "Listen"],
        vec!["SMTP", smtp_at.as_str(), "*..*", "Listen"],
    ];
    want.sort();
    assert_eq!(listen, want, "{lines:?}");
    assert_eq!(rows.len(), 4, "{lines:?}");
    // The connection comes before the listeners, and the columns are under their headings.
    assert!(lines[4].ends_with("Established"), "{lines:?}");
    let state = HEADER[2].find("State").unwrap();
    for l in &lines[4..] {
        assert!(l.get(state..).is_some_and(|s| !s.starts_with(' ')), "{l:?}");
        assert_eq!(&l[state - 1..state], " ", "{l:?}");
    }
}

/// The texts of the messages TCPIP sends to a console session (without `MSG FROM TCPIP   : `),
/// read until `done` says they are complete (30 s at most).
fn tcpip_msgs(
    c: &mut Console,
    first: Vec<String>,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let mut got = Vec::new();
    let take = |lines: Vec<String>, got: &mut Vec<String>| {
        for l in lines {
            if let Some(text) = l.strip_prefix("MSG FROM TCPIP   : ") {
                got.push(text.to_string());
            }
        }
    };
    take(first, &mut got);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(&got) {
        assert!(
            Instant::now() < deadline,
            "TCPIP's answer is incomplete: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        // An empty line gives CMS's ready line, and whatever arrived meanwhile.
        take(c.enter("").unwrap(), &mut got);
    }
    got
}

/// A report is complete when both listeners are in it.
fn both_listeners(lines: &[String]) -> bool {
    lines.iter().filter(|l| l.ends_with("Listen")).count() >= 3
}

#[test]
fn smsg_tcpip_netstat_shows_listeners_and_connections() {
    let t = TestSystem::ipl();
    let (client, greeting) = imap_client(t.ports.imap);
    assert!(greeting.starts_with("* OK"), "{greeting:?}");
    let client_port = client.local_addr().unwrap().port();
    let mut maint = t.session("MAINT");
    let first = maint.enter("SMSG TCPIP NETSTAT").unwrap();
    let report = tcpip_msgs(&mut maint, first, both_listeners);
    assert_report(&report, &t, client_port);
    // The same with an operand NETSTAT knows; one it does not is refused in one line.
    let first = maint.enter("smsg tcpip netstat conn").unwrap();
    let report = tcpip_msgs(&mut maint, first, both_listeners);
    assert_report(&report, &t, client_port);
    let first = maint.enter("SMSG TCPIP NETSTAT GATE").unwrap();
    let got = tcpip_msgs(&mut maint, first, |l| !l.is_empty());
    assert_eq!(got, ["DTCNET002E Unsupported NETSTAT operand: GATE"]);
    let first = maint.enter("SMSG TCPIP HELLO").unwrap();
    let got = tcpip_msgs(&mut maint, first, |l| !l.is_empty());
    assert_eq!(got, ["DTCSMG003E Unknown request: HELLO"]);
    // When the client goes, so does its line.
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let first = maint.enter("SMSG TCPIP NETSTAT").unwrap();
        let report = tcpip_msgs(&mut maint, first, both_listeners);
        if !report.iter().any(|l| l.ends_with("Established")) {
            assert_eq!(report.len(), 7, "{report:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed connection stays: {report:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.assert_healthy();
}

#[test]
fn cms_netstat_shows_the_same_report() {
    let t = TestSystem::ipl();
    let (client, greeting) = imap_client(t.ports.imap);
    assert!(greeting.starts_with("* OK"), "{greeting:?}");
    let client_port = client.local_addr().unwrap().port();
    let mut demo = t.session("DEMO");
    let (rc, lines) = demo.cms("NETSTAT").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert_report(&lines, &t, client_port);
    let (rc, lines) = demo.cms("netstat allconn").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert_report(&lines, &t, client_port);
    // The same lines as TCPIP's answer to SMSG.
    let first = demo.enter("SMSG TCPIP NETSTAT").unwrap();
    let smsg = tcpip_msgs(&mut demo, first, both_listeners);
    assert_eq!(smsg, lines);
    // Bad operands: 24; NETSTAT has no abbreviation (NETSTA goes to CP, which does not know it).
    let (rc, lines) = demo.cms("NETSTAT CONN EXTRA").unwrap();
    assert_eq!(
        (rc, lines),
        (
            24,
            vec!["DTCNET002E Unsupported NETSTAT operand: EXTRA".to_string()]
        )
    );
    let (rc, lines) = demo.cms("NETSTA").unwrap();
    assert_eq!(
        (rc, lines),
        (-3, vec!["Unknown CP/CMS command: NETSTA".to_string()])
    );
    drop(client);
    t.assert_healthy();
}

#[test]
fn a_forced_server_is_restarted_by_tcpip() {
    let t = TestSystem::ipl();
    assert!(imap_greets(t.ports.imap));
    let console = t.dir.join("logs/TCPIP.console");
    let log = std::fs::read_to_string(&console).unwrap();
    assert!(
        log.contains("DTCIPI001I TCP/IP stack ready; home address 127.0.0.1"),
        "{log}"
    );
    assert!(log.contains("DTCRUN003I IMAP autologged"), "{log}");
    assert!(!log.contains("DTCRUN004I"), "{log}");
    let forced = t.cp_ok("MAINT", "FORCE IMAP");
    assert_eq!(forced.len(), 1, "{forced:?}");
    assert!(
        forced[0].starts_with("USER DSC LOGOFF AS  IMAP     USERS = ")
            && forced[0].ends_with(" FORCED BY MAINT"),
        "{forced:?}"
    );
    let start = Instant::now();
    // TCPIP notices, says so on its console, and XAUTOLOGs IMAP again.
    let log = loop {
        let log = std::fs::read_to_string(&console).unwrap();
        if log.contains("DTCRUN004I Restarting IMAP (1 of 5)") {
            break log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no restart after 15 s:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!log.contains("DTCRUN006E"), "{log}");
    // IMAP is logged on and serves its port again.
    loop {
        let (rc, q) = t.cp("MAINT", "QUERY IMAP");
        if rc == 0 && imap_greets(t.ports.imap) {
            assert_eq!(q, ["IMAP     - DSC"]);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "IMAP not back after 15 s: {rc} {q:?}\n{}",
            std::fs::read_to_string(&console).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The TLS port accepts connections too.
    assert!(TcpStream::connect(("127.0.0.1", t.ports.imaps)).is_ok());
    // NETSTAT shows IMAP listening on both ports again, once each (beside SMTP's listener).
    let mut demo = t.session("DEMO");
    let (rc, lines) = demo.cms("NETSTAT").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert_eq!(lines[..4], HEADER);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("IMAP ") && l.ends_with("Listen"))
            .count(),
        2,
        "{lines:?}"
    );
    let log = std::fs::read_to_string(&console).unwrap();
    assert!(log.contains("DTCRUN003I IMAP autologged"), "{log}");
    assert!(!log.contains("DTCRUN007W"), "{log}");
    t.assert_healthy();
}

/// Kills a system that a test IPLed itself, if the test leaves it running.
struct Running(PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.0.join("vmimap.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        if let Some(pid) = pid.filter(|p| common::process_running(*p)) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

/// `vmimap cp --user USER -- COMMAND` on a folder: (exit status, output lines).
fn cp(dir: &Path, user: &str, command: &str) -> (i32, Vec<String>) {
    let out = common::vmimap(&["cp", "--user", user, "--", command], dir);
    (out.code, out.lines())
}

#[test]
fn a_bad_profile_stops_the_stack_with_a_line_numbered_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vmsys");
    let ports = common::write_network_config(&dir);
    let profile = dir.join("PROFILE TCPIP");
    let good = std::fs::read_to_string(&profile).unwrap();
    // The IMAP port's line, with a letter in its number.
    let bad = good.replace(
        &format!("  {} TCP IMAP\n", ports.imap),
        &format!("  {}x TCP IMAP\n", ports.imap),
    );
    assert_ne!(bad, good);
    let line = bad.lines().position(|l| l.contains('x')).unwrap() + 1;
    std::fs::write(&profile, &bad).unwrap();
    let out = common::vmimap(&["ipl", "--detach"], &dir);
    let _running = Running(dir.clone());
    // The system comes up without its stack; the operator is told why, with the line.
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let msg = format!(
        "HCPGIR1030E Guest program of TCPIP ended with an error: PROFILE TCPIP line {line}: \
         PORT: invalid port number {}x (1-65535)",
        ports.imap
    );
    assert!(out.stdout.contains(&msg), "{}", out.stdout);
    // TCPIP is logged off (perhaps a moment after IPL said the system was ready).
    let start = Instant::now();
    let log = loop {
        let log = std::fs::read_to_string(dir.join("logs/system.log")).unwrap();
        if log.contains("USER DSC LOGOFF AS  TCPIP") {
            break log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "TCPIP not logged off:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(log.contains(&msg), "{log}");
    // No stack, so no IMAP, and NETSTAT says so.
    assert_eq!(
        cp(&dir, "MAINT", "QUERY TCPIP"),
        (45, vec!["HCPMSG045E TCPIP not logged on".to_string()])
    );
    assert_eq!(cp(&dir, "MAINT", "QUERY IMAP").0, 45);
    assert!(TcpStream::connect(("127.0.0.1", ports.imap)).is_err());
    let mut demo = Console::open(&dir, "DEMO").unwrap();
    let (rc, lines) = demo.cms("NETSTAT").unwrap();
    assert_eq!(
        (rc, lines),
        (
            36,
            vec!["DTCNET001E ENETDOWN: the TCP/IP stack is not running".to_string()]
        )
    );
    // Corrected, the stack starts with XAUTOLOG and starts IMAP.
    std::fs::write(&profile, &good).unwrap();
    let (rc, l) = cp(&dir, "MAINT", "XAUTOLOG TCPIP");
    assert_eq!(rc, 0, "{l:?}");
    let start = Instant::now();
    while !imap_greets(ports.imap) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "IMAP not serving 30 s after XAUTOLOG TCPIP"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (rc, lines) = demo.cms("NETSTAT").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    drop(demo);
    let out = common::vmimap(&["shutdown"], &dir);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
