//! Punching host files and the spool's column-exact QUERY output and FILE SENT lines.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::TestSystem;

#[test]
fn punch_to_own_reader_then_query_all_is_column_exact() {
    let t = TestSystem::ipl();
    let f = t.dir.join("profile.exec");
    let long = "x".repeat(150);
    std::fs::write(&f, format!("/* a file */\nsay hello\n{long}\n")).unwrap();
    let out = t.punch("MAINT", Some("MAINT"), &f, &[]);
    assert!(out.status.success());
    let resp = String::from_utf8_lossy(&out.stdout);
    // Sent to one's own reader: one RDR FILE … SENT FROM line.
    assert_eq!(
        resp.trim_end(),
        "RDR FILE 0001 SENT FROM MAINT    PUN WAS 0001 RECS 0005 CPY  001 A NOHOLD NOKEEP"
    );
    let lines = t.cp_ok("MAINT", "Q RDR * ALL");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let header = &lines[0];
    assert_eq!(
        header,
        "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST"
    );
    assert_eq!(header.len(), 76);
    let row = format!("{:<80}", lines[1]);
    assert_eq!(&row[0..8], "MAINT   ");
    assert_eq!(&row[9..13], "0001");
    assert_eq!(&row[14..15], "A");
    assert_eq!(&row[16..19], "PUN");
    // :READ header card + 2 short lines + the 150-character line folded onto 2 cards.
    assert_eq!(&row[20..28], "00000005");
    assert_eq!(&row[29..32], "001");
    assert_eq!(&row[33..37], "NONE");
    assert_eq!(row.as_bytes()[40], b'/');
    assert_eq!(row.as_bytes()[46], b':');
    assert_eq!(row[53..62].trim(), "PROFILE");
    assert_eq!(row[63..71].trim(), "EXEC");
    assert_eq!(row[72..80].trim(), "MAINT");
    // The basic form.
    let basic = t.cp_ok("MAINT", "Q RDR *");
    assert_eq!(
        basic[0],
        "ORIGINID FILE CLASS RECORDS  CPY HOLD FORM     DEST     KEEP MSG"
    );
    assert_eq!(
        basic[1],
        "MAINT    0001 A PUN 00000005 001 NONE STANDARD OFF      OFF  OFF"
    );
    // The deck is readable and nothing was lost in folding.
    let recv = t.console(Some("MAINT"), "receive\ntype profile exec\nlogoff\n");
    assert!(
        recv.contains("File PROFILE EXEC A1 received from MAINT at VMIMAP"),
        "{recv}"
    );
    assert!(recv.contains("say hello"), "{recv}");
    assert!(recv.contains(&"x".repeat(80)), "{recv}");
    assert!(recv.contains(&"x".repeat(70)), "{recv}");
    t.shutdown();
}

#[test]
fn sender_and_receiver_see_the_file_sent_lines() {
    let t = TestSystem::ipl();
    // DEMO is logged on at a terminal that stays open while MAINT punches to it.
    let mut child = Command::new(common::vmimap_bin())
        .args(["console", "--system"])
        .arg(&t.dir)
        .args(["--user", "DEMO"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let wait_for = |pat: &str| -> String {
        loop {
            let l = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no line containing {pat:?}"));
            if l.contains(pat) {
                return l;
            }
        }
    };
    wait_for("Ready;");
    let f = t.dir.join("note.txt");
    std::fs::write(&f, "hello DEMO\n").unwrap();
    let out = t.punch("MAINT", Some("DEMO"), &f, &["--class", "B"]);
    let sender = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    assert_eq!(
        sender,
        "PUN FILE 0001 SENT TO   DEMO     RDR AS  0001 RECS 0002 CPY  001 B NOHOLD NOKEEP"
    );
    let receiver = wait_for("SENT FROM");
    assert_eq!(
        receiver,
        "RDR FILE 0001 SENT FROM MAINT    PUN WAS 0001 RECS 0002 CPY  001 B NOHOLD NOKEEP"
    );
    // A second punch from MAINT: MAINT's punch spoolids advance, DEMO's reader ids too.
    t.punch("MAINT", Some("DEMO"), &f, &[]);
    let receiver = wait_for("SENT FROM");
    assert!(
        receiver.starts_with("RDR FILE 0002 SENT FROM MAINT    PUN WAS 0002"),
        "{receiver}"
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"logoff\n").unwrap();
    drop(stdin);
    wait_for("LOGOFF AT");
    child.wait().unwrap();
    t.shutdown();
}

#[test]
fn spool_commands_manage_files() {
    let t = TestSystem::ipl();
    let f = t.dir.join("a.txt");
    std::fs::write(&f, "a\n").unwrap();
    for _ in 0..3 {
        t.punch("MAINT", Some("DEMO"), &f, &[]);
    }
    assert_eq!(t.cp_ok("DEMO", "PURGE RDR 1"), vec!["0000001 FILE  PURGED"]);
    assert_eq!(
        t.cp_ok("DEMO", "CHANGE RDR ALL CLASS C"),
        vec!["0000002 FILES CHANGED"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "ORDER RDR 3"),
        vec!["0000001 FILE  ORDERED"]
    );
    let q = t.cp_ok("DEMO", "Q RDR * ALL");
    assert!(q[1].starts_with("MAINT    0003 C"), "{q:?}");
    let tr = t.cp_ok("DEMO", "TRANSFER RDR 3 TO OPERATOR");
    assert_eq!(
        tr[0],
        "RDR FILE 0003 SENT TO   OPERATOR RDR AS  0001 RECS 0002 CPY  001 C NOHOLD NOKEEP"
    );
    assert_eq!(tr[1], "0000001 FILE  TRANSFERRED");
    assert_eq!(
        t.cp_ok("OPERATOR", "Q FILES"),
        vec!["FILES: 0001 RDR,   NO PRT,   NO PUN"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "PURGE RDR ALL"),
        vec!["0000001 FILE  PURGED"]
    );
    assert_eq!(t.cp_ok("DEMO", "Q RDR"), vec!["NO RDR FILES"]);
    assert_eq!(t.cp_ok("DEMO", "PURGE RDR ALL"), vec!["NO FILES PURGED"]);
    let (rc, l) = t.cp("DEMO", "PURGE RDR 77");
    assert_eq!(
        (rc, l[0].as_str()),
        (42, "HCPCSV042E Spoolid 0077 does not exist")
    );
    t.shutdown();
}
