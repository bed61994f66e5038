//! The behaviour of CP and CMS commands, through `vmimap cp` and console sessions: SPOOL, CLOSE,
//! CHANGE, ORDER, TRANSFER, QUERY, MSG/WNG, SET, XAUTOLOG/AUTOLOG, FORCE, DISCONNECT, console
//! spooling, LOGOFF, and the CMS commands.

mod common;

use common::{Term, TestSystem};

/// Writes a host file in the system's temporary folder and returns its path.
fn host_file(t: &TestSystem, name: &str, text: &str) -> std::path::PathBuf {
    let f = t.dir.parent().unwrap().join(name);
    std::fs::write(&f, text).unwrap();
    f
}

/// Punches `text` as host file `name` from MAINT to `to`, asserting success.
fn punch(t: &TestSystem, to: &str, name: &str, text: &str, extra: &[&str]) -> String {
    let f = host_file(t, name, text);
    let out = t.punch("MAINT", Some(to), &f, extra);
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "punch {name}: {s}");
    s
}

/// The rows (without the header) of a QUERY of a spool queue.
fn rows(lines: Vec<String>) -> Vec<String> {
    assert!(
        lines[0].starts_with("ORIGINID FILE") || lines[0].starts_with("OWNERID"),
        "{lines:?}"
    );
    lines[1..].to_vec()
}

/// A row of `Q … ALL` padded to its 80 columns.
fn col(row: &str, a: usize, b: usize) -> String {
    format!("{row:<80}")[a..b].trim_end().to_string()
}

/// Logs `user` on at a terminal and reads to the first `Ready`.
fn cms_term(t: &TestSystem, user: &str) -> Term {
    let mut term = t.term(Some(user));
    term.until_line("Ready", |l| l.starts_with("Ready;"));
    term
}

/// The lines of a CMS command's output, without the `Ready` line (which must be `Ready;`).
fn ok(lines: Vec<String>) -> Vec<String> {
    let (last, rest) = lines.split_last().unwrap();
    assert!(last.starts_with("Ready; T="), "{lines:?}");
    rest.to_vec()
}

#[test]
fn spool_options_shape_the_punch_files() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "x.txt", "first line\nsecond line\n", &[]);
    let mut demo = cms_term(&t, "DEMO");
    let got = ok(demo.cms("receive"));
    assert_eq!(
        got[1], "File X TXT A1 received from MAINT at VMIMAP",
        "{got:?}"
    );

    // Defaults.
    assert_eq!(
        ok(demo.cms("cp q v 00d")),
        vec![
            "PUN  000D CL A NOCONT NOHOLD COPY 001 READY FORM STANDARD",
            "000D TO OFF          DIST DEMO     DEST OFF",
            "000D 2540 CLOSED NOKEEP NOMSG NONAME",
            "000D SUBCHANNEL = 0003",
        ]
    );
    // CLASS, HOLD, KEEP, COPY, DIST, FORM, DEST, MSG: silent, and shown by QUERY VIRTUAL.
    assert_eq!(
        ok(demo.cms("cp spool pun class b hold keep copy 3 dist xyz form f1 dest d1 msg")),
        Vec::<String>::new()
    );
    assert_eq!(
        ok(demo.cms("cp q v pun")),
        vec![
            "PUN  000D CL B NOCONT   HOLD COPY 003 READY FORM F1",
            "000D TO OFF          DIST XYZ      DEST D1",
            "000D 2540 CLOSED KEEP MSG NONAME",
            "000D SUBCHANNEL = 0003",
        ]
    );
    // PUNCH closes the file onto DEMO's own punch queue with those attributes.
    assert_eq!(
        ok(demo.cms("punch x txt")),
        vec!["PUN FILE 0002 TO  DEMO     COPY 003 HOLD"]
    );
    let all = rows(t.cp_ok("DEMO", "Q PUN * ALL"));
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(col(&all[0], 0, 37), "DEMO     0002 B PUN 00000003 003 USER");
    assert_eq!(col(&all[0], 53, 62), "X");
    assert_eq!(col(&all[0], 63, 71), "TXT");
    assert_eq!(col(&all[0], 72, 80), "XYZ");
    assert_eq!(
        rows(t.cp_ok("DEMO", "Q PUN *")),
        vec!["DEMO     0002 B PUN 00000003 003 USER F1       D1       ON   ON"]
    );

    // A bad option changes nothing.
    let got = demo.cms("cp spool pun nohold BOGUS");
    assert_eq!(got[0], "HCPCMD003E Invalid option - BOGUS");
    assert!(got[1].starts_with("Ready(00003);"), "{got:?}");
    assert!(ok(demo.cms("cp q v 00d"))[0].contains("  HOLD"));

    // TO and FOR conflict; OFF resets either.
    let got = demo.cms("cp spool pun to maint for maint");
    assert_eq!(got[0], "HCPCMD013E Conflicting option - FOR");
    assert!(got[1].starts_with("Ready(00013);"));
    demo.cms("cp spool pun for maint");
    assert_eq!(
        ok(demo.cms("cp q v 00d"))[1],
        "000D FOR MAINT       DIST XYZ      DEST D1"
    );
    // FOR: the file stays a punch file, owned by MAINT, originated by DEMO.
    let got = ok(demo.cms("punch x txt (noheader"));
    assert_eq!(
        got,
        vec!["PUN FILE 0003 SENT TO   MAINT    PUN AS  0002 RECS 0002 CPY  003 B HOLD   KEEP"]
    );
    let maint = rows(t.cp_ok("MAINT", "Q PUN * ALL"));
    assert_eq!(
        col(&maint[0], 0, 37),
        "DEMO     0002 B PUN 00000002 003 USER"
    );
    demo.cms("cp spool pun to maint nohold nokeep class c copy 1");
    let q = ok(demo.cms("cp q v 00d"));
    assert_eq!(q[0], "PUN  000D CL C NOCONT NOHOLD COPY 001 READY FORM F1");
    assert_eq!(q[1], "000D TO MAINT    RDR DIST XYZ      DEST D1");
    // TO: the file goes to MAINT's reader with a spoolid in MAINT's space.
    let got = ok(demo.cms("punch x txt"));
    assert_eq!(
        got,
        vec!["PUN FILE 0004 SENT TO   MAINT    RDR AS  0003 RECS 0003 CPY  001 C NOHOLD NOKEEP"]
    );
    demo.cms("cp spool pun off");
    assert_eq!(
        ok(demo.cms("cp q v 00d"))[1],
        "000D TO OFF          DIST XYZ      DEST D1"
    );
    // DIST OFF goes back to the directory's distribution code.
    demo.cms("cp spool pun dist off");
    assert!(ok(demo.cms("cp q v 00d"))[1].contains("DIST DEMO "));

    // CONT: several PUNCHes make one file, closed by CLOSE (with a NAME).
    demo.cms("cp spool pun cont class a");
    assert_eq!(ok(demo.cms("punch x txt")), Vec::<String>::new());
    assert_eq!(ok(demo.cms("punch x txt")), Vec::<String>::new());
    assert_eq!(ok(demo.cms("punch x txt (noheader")), Vec::<String>::new());
    let q = ok(demo.cms("cp q v 00d"));
    assert_eq!(q[0], "PUN  000D CL A   CONT NOHOLD COPY 001 READY FORM F1");
    assert_eq!(q[2], "000D 2540 OPEN 0005 NOKEEP MSG NONAME");
    assert_eq!(
        ok(demo.cms("cp close pun name THREE DECKS")),
        vec!["PUN FILE 0005 TO  DEMO     COPY 001 NOHOLD"]
    );
    let all = rows(t.cp_ok("DEMO", "Q PUN * ALL"));
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(col(&all[1], 0, 37), "DEMO     0005 A PUN 00000008 001 NONE");
    assert_eq!(col(&all[1], 53, 62), "THREE");
    assert_eq!(col(&all[1], 63, 71), "DECKS");

    // SPOOL … NAME names the next file; NAME must be last.
    demo.cms("cp spool pun nocont name SPOOLED NAME");
    assert!(ok(demo.cms("cp q v 00d"))[2].ends_with("NAME SPOOLED NAME"));
    demo.cms("cp spool pun noname");
    assert!(ok(demo.cms("cp q v 00d"))[2].ends_with("NONAME"));

    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

#[test]
fn close_options_decide_what_the_file_becomes() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "x.txt", "one\ntwo\n", &[]);
    let mut demo = cms_term(&t, "DEMO");
    demo.cms("receive");
    demo.cms("cp spool pun cont hold");
    // Nothing open: CLOSE is silent and makes no file.
    assert_eq!(ok(demo.cms("cp close pun")), Vec::<String>::new());
    assert_eq!(t.cp_ok("DEMO", "Q PUN"), vec!["NO PUN FILES"]);
    // NAME, and NOHOLD overriding the device's HOLD for this file only.
    demo.cms("punch x txt");
    assert_eq!(
        ok(demo.cms("cp close pun nohold name CLOSED FILE")),
        vec!["PUN FILE 0002 TO  DEMO     COPY 001 NOHOLD"]
    );
    // HOLD, KEEP and DIST on the CLOSE.
    demo.cms("cp spool pun nohold");
    demo.cms("punch x txt");
    assert_eq!(
        ok(demo.cms("cp close pun hold keep dist D99")),
        vec!["PUN FILE 0003 TO  DEMO     COPY 001 HOLD"]
    );
    let all = rows(t.cp_ok("DEMO", "Q PUN * ALL"));
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(col(&all[0], 0, 37), "DEMO     0002 A PUN 00000003 001 NONE");
    assert_eq!(col(&all[0], 53, 62), "CLOSED");
    assert_eq!(col(&all[0], 63, 71), "FILE");
    assert_eq!(col(&all[1], 0, 37), "DEMO     0003 A PUN 00000003 001 USER");
    // CONT ignored PUNCH's own CLOSE, and the NAME with it.
    assert_eq!(col(&all[1], 53, 80), "                   D99");
    assert!(rows(t.cp_ok("DEMO", "Q PUN * 3"))[0].ends_with(" ON   OFF"));
    // PURGE: the data is discarded, no file appears, the device is free again.
    demo.cms("punch x txt");
    assert!(ok(demo.cms("cp q v 00d"))[2].contains("OPEN 0004"));
    assert_eq!(ok(demo.cms("cp close pun purge")), Vec::<String>::new());
    assert!(ok(demo.cms("cp q v 00d"))[2].contains("CLOSED"));
    assert_eq!(rows(t.cp_ok("DEMO", "Q PUN * ALL")).len(), 2);
    // TO: the file goes to another user's reader (and the sender's device is not changed).
    demo.cms("punch x txt");
    assert_eq!(
        ok(demo.cms("cp close pun to maint name SENT DECK")),
        vec!["PUN FILE 0005 SENT TO   MAINT    RDR AS  0002 RECS 0003 CPY  001 A NOHOLD NOKEEP"]
    );
    assert!(ok(demo.cms("cp q v 00d"))[1].starts_with("000D TO OFF "));
    let m = rows(t.cp_ok("MAINT", "Q RDR * ALL"));
    assert_eq!(col(&m[0], 0, 37), "DEMO     0002 A PUN 00000003 001 NONE");
    assert_eq!(col(&m[0], 53, 71), "SENT      DECK");
    // TO … PUN puts it in the other user's punch queue.
    demo.cms("punch x txt");
    let got = ok(demo.cms("cp close pun to maint pun"));
    assert_eq!(
        got,
        vec!["PUN FILE 0006 SENT TO   MAINT    PUN AS  0003 RECS 0003 CPY  001 A NOHOLD NOKEEP"]
    );
    assert_eq!(rows(t.cp_ok("MAINT", "Q PUN *")).len(), 1);
    // The reader: nothing open, nothing to close.
    assert_eq!(ok(demo.cms("cp close rdr")), Vec::<String>::new());
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

#[test]
fn change_sets_each_attribute() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "x.txt", "one\n", &[]);
    punch(&t, "DEMO", "y.txt", "two\n", &[]);
    let row = |id: &str| {
        let r = rows(t.cp_ok("DEMO", &format!("Q RDR * {id} ALL")));
        assert_eq!(r.len(), 1);
        format!("{:<80}", r[0])
    };
    let basic = |id: &str| rows(t.cp_ok("DEMO", &format!("Q RDR * {id}")))[0].clone();
    let change = |cmd: &str| {
        assert_eq!(
            t.cp_ok("DEMO", &format!("CHANGE RDR {cmd}")),
            vec!["0000001 FILE  CHANGED"],
            "{cmd}"
        );
    };
    assert_eq!(&row("1")[0..37], "MAINT    0001 A PUN 00000002 001 NONE");
    change("1 CLASS C");
    assert_eq!(&row("1")[14..15], "C");
    change("1 COPY 5");
    assert_eq!(&row("1")[29..32], "005");
    change("1 HOLD");
    assert_eq!(&row("1")[33..37], "USER");
    change("1 NOHOLD");
    assert_eq!(&row("1")[33..37], "NONE");
    change("1 DIST ABC");
    assert_eq!(row("1")[72..80].trim_end(), "ABC");
    change("1 NAME NEW NAME");
    assert_eq!(row("1")[53..71].trim_end(), "NEW       NAME");
    change("1 NONAME");
    assert_eq!(row("1")[53..71].trim_end(), "");
    change("1 KEEP");
    change("1 MSG");
    change("1 FORM FX");
    change("1 DEST DX");
    assert_eq!(
        basic("1"),
        "MAINT    0001 C PUN 00000002 005 NONE FX       DX       ON   ON"
    );
    change("1 NOKEEP NOMSG");
    assert!(basic("1").ends_with("OFF  OFF"));
    // Several at once, on several files; CLASS selects by class.
    assert_eq!(
        t.cp_ok("DEMO", "CHANGE RDR ALL CLASS D COPY 2 HOLD"),
        vec!["0000002 FILES CHANGED"]
    );
    assert_eq!(&row("2")[0..37], "MAINT    0002 D PUN 00000002 002 USER");
    assert_eq!(
        t.cp_ok("DEMO", "CHANGE RDR CLASS D NOHOLD"),
        vec!["0000002 FILES CHANGED"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "CHANGE RDR CLASS Q NOHOLD"),
        vec!["NO FILES CHANGED"]
    );
    // A missing file changes nothing, not even the files named before it.
    assert_eq!(
        t.cp("DEMO", "CHANGE RDR 2 9 CLASS E"),
        (
            42,
            vec!["HCPCSV042E Spoolid 0009 does not exist".to_string()]
        )
    );
    assert_eq!(&row("2")[14..15], "D");
    // The changes are durable.
    t.shutdown();
    t.reipl();
    assert_eq!(&row("1")[0..37], "MAINT    0001 D PUN 00000002 002 NONE");
    t.shutdown();
}

#[test]
fn order_and_purge_take_several_ids_once_each() {
    let t = TestSystem::ipl();
    for n in ["a.txt", "b.txt", "c.txt", "d.txt"] {
        punch(&t, "DEMO", n, "x\n", &[]);
    }
    let order = || -> Vec<String> {
        rows(t.cp_ok("DEMO", "Q RDR *"))
            .iter()
            .map(|r| r[9..13].to_string())
            .collect()
    };
    assert_eq!(order(), ["0001", "0002", "0003", "0004"]);
    assert_eq!(
        t.cp_ok("DEMO", "ORDER RDR 4 2"),
        vec!["0000002 FILES ORDERED"]
    );
    assert_eq!(order(), ["0004", "0002", "0001", "0003"]);
    assert_eq!(
        t.cp_ok("DEMO", "ORDER RDR 3"),
        vec!["0000001 FILE  ORDERED"]
    );
    assert_eq!(order(), ["0003", "0004", "0002", "0001"]);
    // A spoolid named twice is one file.
    assert_eq!(
        t.cp_ok("DEMO", "ORDER RDR 1 1"),
        vec!["0000001 FILE  ORDERED"]
    );
    assert_eq!(order(), ["0001", "0003", "0004", "0002"]);
    t.cp_ok("DEMO", "CHANGE RDR 2 CLASS B");
    assert_eq!(
        t.cp_ok("DEMO", "ORDER RDR CLASS B"),
        vec!["0000001 FILE  ORDERED"]
    );
    assert_eq!(order(), ["0002", "0001", "0003", "0004"]);
    // A missing spoolid orders nothing.
    assert_eq!(
        t.cp("DEMO", "ORDER RDR 4 9"),
        (
            42,
            vec!["HCPCSV042E Spoolid 0009 does not exist".to_string()]
        )
    );
    assert_eq!(order(), ["0002", "0001", "0003", "0004"]);
    // PURGE: several ids, a repeated id counts once, a missing one purges nothing.
    assert_eq!(
        t.cp("DEMO", "PURGE RDR 1 9"),
        (
            42,
            vec!["HCPCSV042E Spoolid 0009 does not exist".to_string()]
        )
    );
    assert_eq!(order().len(), 4);
    assert_eq!(
        t.cp_ok("DEMO", "PURGE RDR 1 1"),
        vec!["0000001 FILE  PURGED"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "PURGE RDR 2 4"),
        vec!["0000002 FILES PURGED"]
    );
    assert_eq!(order(), ["0003"]);
    assert_eq!(
        t.cp_ok("DEMO", "PURGE RDR CLASS B"),
        vec!["NO FILES PURGED"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "PURGE ALL ALL"),
        vec!["0000001 FILE  PURGED"]
    );
    assert_eq!(t.cp_ok("DEMO", "Q RDR"), vec!["NO RDR FILES"]);
    t.shutdown();
}

#[test]
fn transfer_to_and_from() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "a.txt", "a\n", &[]);
    punch(&t, "DEMO", "b.txt", "b\n", &[]);
    punch(&t, "DEMO", "c.txt", "c\n", &["--class", "K"]);
    // TO another user's reader: a new spoolid in the receiver's space, origin kept.
    assert_eq!(
        t.cp_ok("DEMO", "TRANSFER RDR 1 TO OPERATOR"),
        vec![
            "RDR FILE 0001 SENT TO   OPERATOR RDR AS  0001 RECS 0002 CPY  001 A NOHOLD NOKEEP",
            "0000001 FILE  TRANSFERRED",
        ]
    );
    let op = rows(t.cp_ok("OPERATOR", "Q RDR * ALL"));
    assert_eq!(col(&op[0], 0, 37), "MAINT    0001 A PUN 00000002 001 NONE");
    assert_eq!(col(&op[0], 53, 71), "A         TXT");
    // TO a user's punch queue; by class.
    assert_eq!(
        t.cp_ok("DEMO", "TRANSFER RDR CLASS K TO MAINT PUN"),
        vec![
            "RDR FILE 0003 SENT TO   MAINT    PUN AS  0004 RECS 0002 CPY  001 K NOHOLD NOKEEP",
            "0000001 FILE  TRANSFERRED",
        ]
    );
    assert_eq!(rows(t.cp_ok("MAINT", "Q PUN")).len(), 1);
    assert_eq!(rows(t.cp_ok("DEMO", "Q RDR")).len(), 1);
    // FROM: MAINT takes back the files it created that OPERATOR has.
    t.cp_ok("DEMO", "TRANSFER RDR 2 TO OPERATOR");
    let got = t.cp_ok("MAINT", "TRANSFER RDR ALL FROM OPERATOR");
    assert_eq!(
        got,
        vec![
            "RDR FILE 0005 SENT FROM OPERATOR RDR WAS 0001 RECS 0002 CPY  001 A NOHOLD NOKEEP",
            "RDR FILE 0006 SENT FROM OPERATOR RDR WAS 0002 RECS 0002 CPY  001 A NOHOLD NOKEEP",
            "0000002 FILES TRANSFERRED",
        ]
    );
    assert_eq!(t.cp_ok("OPERATOR", "Q RDR *"), vec!["NO RDR FILES"]);
    assert_eq!(rows(t.cp_ok("MAINT", "Q RDR *")).len(), 2);
    // A general user cannot take files it did not create, nor learn which exist.
    t.cp_ok("MAINT", "TRANSFER RDR 5 TO OPERATOR");
    assert_eq!(
        t.cp_ok("DEMO", "TRANSFER RDR ALL FROM OPERATOR"),
        vec!["NO FILES TRANSFERRED"]
    );
    assert_eq!(
        t.cp("DEMO", "TRANSFER RDR 3 FROM OPERATOR"),
        (
            42,
            vec!["HCPCSV042E Spoolid 0003 does not exist".to_string()]
        )
    );
    assert_eq!(rows(t.cp_ok("OPERATOR", "Q RDR *")).len(), 1);
    // A spoolid given twice moves once.
    assert_eq!(
        t.cp_ok("OPERATOR", "TRANSFER RDR 3 3 TO DEMO"),
        vec![
            "RDR FILE 0003 SENT TO   DEMO     RDR AS  0004 RECS 0002 CPY  001 A NOHOLD NOKEEP",
            "0000001 FILE  TRANSFERRED",
        ]
    );
    t.shutdown();
}

#[test]
fn transfer_tells_a_logged_on_receiver() {
    let t = TestSystem::ipl();
    punch(&t, "MAINT", "a.txt", "a\n", &[]);
    let mut demo = cms_term(&t, "DEMO");
    let got = t.cp_ok("MAINT", "TRANSFER RDR 1 TO DEMO");
    assert_eq!(
        got[0],
        "RDR FILE 0001 SENT TO   DEMO     RDR AS  0001 RECS 0002 CPY  001 A NOHOLD NOKEEP"
    );
    assert_eq!(
        demo.wait_for("SENT FROM"),
        "RDR FILE 0001 SENT FROM MAINT    RDR WAS 0001 RECS 0002 CPY  001 A NOHOLD NOKEEP"
    );
    // With SET IMSG OFF the arrival is not shown.
    demo.cms("cp set imsg off");
    punch(&t, "DEMO", "b.txt", "b\n", &[]);
    let got = ok(demo.cms("cp q files"));
    assert_eq!(got, vec!["FILES: 0002 RDR,   NO PRT,   NO PUN"]);
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

/// `hh:mm:ss`
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
}

/// `mm/dd/yy`
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 8
        && b[2] == b'/'
        && b[5] == b'/'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
}

#[test]
fn query_formats() {
    // Our own directory: no startup users, so the lists are exactly known.
    let t = TestSystem::ipl_with_directory(DIRECT);
    let mut demo = cms_term(&t, "DEMO");
    assert_eq!(
        t.cp_ok("MAINT", "Q NAMES"),
        vec!["DEMO     - L0001 , OPERATOR - DSC"]
    );
    assert_eq!(
        t.cp_ok("MAINT", "QUERY USERS"),
        vec!["    2 USERS,    0 DIALED,    0 NET"]
    );
    assert_eq!(t.cp_ok("MAINT", "Q USERID"), vec!["MAINT    AT VMIMAP"]);
    assert_eq!(t.cp_ok("MAINT", "Q DEMO"), vec!["DEMO     - L0001"]);
    assert_eq!(t.cp_ok("MAINT", "Q OPERATOR"), vec!["OPERATOR - DSC"]);
    assert_eq!(
        t.cp("MAINT", "Q BOB"),
        (45, vec!["HCPMSG045E BOB not logged on".to_string()])
    );
    // TIME IS hh:mm:ss zone weekday mm/dd/yy; CONNECT= hh:mm:ss VIRTCPU= … TOTCPU= …
    let time = ok(demo.cms("cp q time"));
    assert_eq!(time.len(), 2, "{time:?}");
    let w: Vec<&str> = time[0].split(' ').collect();
    assert_eq!((w[0], w[1], w[3]), ("TIME", "IS", "UTC"), "{time:?}");
    assert!(is_time(w[2]) && is_date(w[5]), "{time:?}");
    assert!(
        [
            "MONDAY",
            "TUESDAY",
            "WEDNESDAY",
            "THURSDAY",
            "FRIDAY",
            "SATURDAY",
            "SUNDAY"
        ]
        .contains(&w[4]),
        "{time:?}"
    );
    assert!(time[1].starts_with("CONNECT= "), "{time:?}");
    assert!(is_time(&time[1][9..17]), "{time:?}");
    assert_eq!(&time[1][17..], " VIRTCPU= 000:00.00 TOTCPU= 000:00.00");
    let cpl = t.cp_ok("DEMO", "Q CPLEVEL");
    assert_eq!(cpl.len(), 3);
    assert_eq!(
        cpl[0],
        "z/VM Version 7 Release 3.0, service level 2401 (64-bit)"
    );
    assert!(
        cpl[2].starts_with("IPL at ") && cpl[2].ends_with(" UTC"),
        "{cpl:?}"
    );
    assert!(
        is_date(&cpl[2][7..15]) && is_time(&cpl[2][16..24]),
        "{cpl:?}"
    );
    assert_eq!(
        t.cp_ok("DEMO", "Q FILES"),
        vec!["FILES:   NO RDR,   NO PRT,   NO PUN"]
    );
    punch(&t, "DEMO", "a.txt", "a\n", &[]);
    demo.wait_for("SENT FROM");
    assert_eq!(
        t.cp_ok("DEMO", "Q F"),
        vec!["FILES: 0001 RDR,   NO PRT,   NO PUN"]
    );
    assert_eq!(
        t.cp_ok("DEMO", "Q SET"),
        vec!["MSG ON  , WNG ON  , EMSG ON  , SMSG OFF , IMSG ON"]
    );
    // The console as QUERY VIRTUAL shows it for a connected user.
    assert_eq!(
        t.cp_ok("DEMO", "Q V CONSOLE")[0],
        "CONS 0009 ON LDEV L0001   TERM STOP"
    );
    assert_eq!(
        t.cp_ok("DEMO", "Q V 00C"),
        vec![
            "RDR  000C CL * NOCONT NOHOLD EOF READY",
            "000C 2540 CLOSED NOKEEP NORESCAN SUBCHANNEL = 0001",
        ]
    );
    // The spool queues: a class D user sees everyone's files with the owner first.
    punch(&t, "MAINT", "b.txt", "b\n", &[]);
    let sys = t.cp_ok("MAINT", "Q RDR ALL");
    assert_eq!(
        sys[0],
        "OWNERID  FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST"
    );
    assert_eq!(sys.len(), 3, "{sys:?}");
    assert!(sys[1].starts_with("DEMO     0001 A PUN"), "{sys:?}");
    assert!(sys[2].starts_with("MAINT    0002 A PUN"), "{sys:?}");
    let one = t.cp_ok("MAINT", "Q RDR DEMO");
    assert_eq!(
        one[0],
        "ORIGINID FILE CLASS RECORDS  CPY HOLD FORM     DEST     KEEP MSG"
    );
    assert_eq!(one.len(), 2);
    // Long dates move the columns after the date by five.
    let iso = t.cp_ok("DEMO", "Q RDR * 1 ALL ISODATE");
    assert_eq!(
        iso[0],
        "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE       TIME     NAME      TYPE     DIST"
    );
    let r = format!("{:<85}", iso[1]);
    assert_eq!(&r[38..39], "2");
    assert_eq!(&r[42..43], "-");
    assert!(is_time(&r[49..57]), "{r}");
    assert_eq!(r[58..67].trim_end(), "A");
    assert_eq!(r[68..76].trim_end(), "TXT");
    let full = t.cp_ok("DEMO", "Q RDR * ALL FULLDATE");
    assert_eq!(&full[1][40..41], "/");
    assert_eq!(&full[1][43..44], "/");
    // Filters.
    assert_eq!(t.cp_ok("DEMO", "Q RDR * CLASS B"), vec!["NO RDR FILES"]);
    assert_eq!(t.cp_ok("DEMO", "Q RDR * HOLD"), vec!["NO RDR FILES"]);
    assert_eq!(rows(t.cp_ok("DEMO", "Q RDR * NOHOLD")).len(), 1);
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

/// The lines before `Ready(nnnnn);`, asserting that return code.
fn failed(lines: Vec<String>, rc: i32) -> Vec<String> {
    let (last, rest) = lines.split_last().unwrap();
    let want = if rc < 0 {
        format!("Ready(-{:04}); T=", -rc)
    } else {
        format!("Ready({rc:05}); T=")
    };
    assert!(last.starts_with(&want), "wanted {want}: {lines:?}");
    rest.to_vec()
}

#[test]
fn msg_and_wng_between_two_consoles() {
    let t = TestSystem::ipl();
    let mut maint = cms_term(&t, "MAINT");
    // To a user of the directory who is not logged on (DEMO, before its terminal logs it on):
    // 045E, as for a userid that is not in the directory at all.
    assert_eq!(
        failed(maint.cms("cp msg demo hello"), 45),
        vec!["HCPMSG045E DEMO not logged on"]
    );
    let mut demo = cms_term(&t, "DEMO");
    // MSG: shown at the receiver with the sender padded to 8, text as typed; silent to the sender.
    assert_eq!(
        ok(maint.cms("cp msg demo Hello there,  DEMO!")),
        Vec::<String>::new()
    );
    assert_eq!(
        demo.wait_for("FROM"),
        "MSG FROM MAINT   : Hello there,  DEMO!"
    );
    assert_eq!(ok(demo.cms("cp m maint back at you")), Vec::<String>::new());
    assert_eq!(maint.wait_for("FROM"), "MSG FROM DEMO    : back at you");
    // WNG (class A).
    assert_eq!(
        ok(maint.cms("cp wng demo system going down")),
        Vec::<String>::new()
    );
    assert_eq!(
        demo.wait_for("FROM"),
        "WNG FROM MAINT   : system going down"
    );
    // SET MSG OFF: the sender is told 057I and gets rc 57; WNG still arrives.
    ok(demo.cms("cp set msg off"));
    assert_eq!(
        failed(maint.cms("cp msg demo are you there"), 57),
        vec!["HCPMFS057I DEMO not receiving; MSG off"]
    );
    assert_eq!(
        ok(maint.cms("cp wng demo still here")),
        Vec::<String>::new()
    );
    // DEMO's next output: the warning, and no message before it.
    let got = ok(demo.cms("cp q set"));
    assert_eq!(
        got,
        vec![
            "WNG FROM MAINT   : still here",
            "MSG OFF , WNG ON  , EMSG ON  , SMSG OFF , IMSG ON",
        ]
    );
    ok(demo.cms("cp set wng off"));
    assert_eq!(
        failed(maint.cms("cp wng demo hello"), 57),
        vec!["HCPMFS057I DEMO not receiving; WNG off"]
    );
    ok(demo.cms("cp set msg on"));
    ok(demo.cms("cp set wng on"));
    // To a userid not in the directory: 045E; to a disconnected user: 057I.
    assert_eq!(
        failed(maint.cms("cp msg nosuch hello"), 45),
        vec!["HCPMSG045E NOSUCH not logged on"]
    );
    assert_eq!(
        failed(maint.cms("cp msg operator hello"), 57),
        vec!["HCPMFS057I OPERATOR not receiving; disconnected"]
    );
    // To oneself, and to all (class A).
    assert_eq!(
        ok(maint.cms("cp msg * note to self")),
        vec!["MSG FROM MAINT   : note to self"]
    );
    assert_eq!(
        ok(maint.cms("cp msg all lunch time")),
        vec!["MSG FROM MAINT   : lunch time"]
    );
    assert_eq!(demo.wait_for("FROM"), "MSG FROM MAINT   : lunch time");
    // A general user may not message ALL.
    assert_eq!(
        failed(demo.cms("cp msg ALL hi"), 2),
        vec!["HCPCMD002E Invalid operand - ALL"]
    );
    // From the host: the message is sent as the user, who need not be logged on.
    assert_eq!(
        t.cp_ok("OPERATOR", "MSG DEMO from the host"),
        Vec::<String>::new()
    );
    assert_eq!(demo.wait_for("FROM"), "MSG FROM OPERATOR: from the host");
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    maint.send("logoff");
    maint.wait_for("LOGOFF AT");
    t.shutdown();
}

#[test]
fn set_emsg_and_imsg_change_what_is_shown_not_the_return_code() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "a.txt", "a\n", &[]);
    punch(&t, "DEMO", "b.txt", "b\n", &[]);
    t.logon_disconnected("DEMO");
    let bad = "PURGE RDR 77";
    assert_eq!(
        t.cp("DEMO", bad),
        (
            42,
            vec!["HCPCSV042E Spoolid 0077 does not exist".to_string()]
        )
    );
    t.cp_ok("DEMO", "SET EMSG CODE");
    assert_eq!(t.cp("DEMO", bad), (42, vec!["HCPCSV042E".to_string()]));
    assert_eq!(t.cp("DEMO", "XYZZY"), (1, vec!["HCPCMD001E".to_string()]));
    t.cp_ok("DEMO", "SET EMSG TEXT");
    assert_eq!(
        t.cp("DEMO", bad),
        (42, vec!["Spoolid 0077 does not exist".to_string()])
    );
    t.cp_ok("DEMO", "SET EMSG OFF");
    assert_eq!(t.cp("DEMO", bad), (42, vec![]));
    assert_eq!(t.cp("DEMO", "XYZZY"), (1, vec![]));
    assert_eq!(
        t.cp_ok("DEMO", "Q SET"),
        vec!["MSG ON  , WNG ON  , EMSG OFF , SMSG OFF , IMSG ON"]
    );
    t.cp_ok("DEMO", "SET EMSG ON");
    assert_eq!(
        t.cp("DEMO", bad).1,
        vec!["HCPCSV042E Spoolid 0077 does not exist"]
    );
    // SET IMSG OFF: the counts of PURGE, CHANGE and ORDER are not shown; the work is done.
    t.cp_ok("DEMO", "SET IMSG OFF");
    assert_eq!(
        t.cp_ok("DEMO", "CHANGE RDR 1 CLASS X"),
        Vec::<String>::new()
    );
    assert_eq!(t.cp_ok("DEMO", "ORDER RDR 2"), Vec::<String>::new());
    assert_eq!(t.cp_ok("DEMO", "PURGE RDR 2"), Vec::<String>::new());
    let left = rows(t.cp_ok("DEMO", "Q RDR *"));
    assert_eq!(left.len(), 1);
    assert!(left[0].starts_with("MAINT    0001 X PUN"), "{left:?}");
    // Errors are still shown with IMSG OFF.
    assert_eq!(t.cp("DEMO", bad).0, 42);
    t.cp_ok("DEMO", "SET IMSG ON");
    assert_eq!(
        t.cp_ok("DEMO", "PURGE RDR ALL"),
        vec!["0000001 FILE  PURGED"]
    );
    // The settings belong to the logged-on machine: a host command for a user who is not logged
    // on starts from the defaults.
    t.cp_ok("MAINT", "SET EMSG OFF");
    assert_eq!(
        t.cp("MAINT", bad).1,
        vec!["HCPCSV042E Spoolid 0077 does not exist"]
    );
    t.shutdown();
}

#[test]
fn set_emsg_in_cms_keeps_the_return_code() {
    let t = TestSystem::ipl();
    let mut demo = cms_term(&t, "DEMO");
    assert_eq!(
        failed(demo.cms("cp purge rdr 77"), 42),
        vec!["HCPCSV042E Spoolid 0077 does not exist"]
    );
    ok(demo.cms("cp set emsg off"));
    assert_eq!(
        failed(demo.cms("cp purge rdr 77"), 42),
        Vec::<String>::new()
    );
    assert_eq!(failed(demo.cms("purge rdr 77"), 42), Vec::<String>::new());
    ok(demo.cms("cp set emsg code"));
    assert_eq!(failed(demo.cms("purge rdr 77"), 42), vec!["HCPCSV042E"]);
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

/// A directory with plain-text passwords: SVC and CAROL may be XAUTOLOGged by DEMO; BOB may not.
const DIRECT: &str = "\
PROFILE IBMDFLT
 CONSOLE 0009 3215 T
 SPOOL 000C 2540 READER *
 SPOOL 000D 2540 PUNCH A
 SPOOL 000E 1403 A
USER OPERATOR OPERPW 32M 64M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 OPR191 MR
USER MAINT MAINTPW 64M 128M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0050 MNT191 MR
USER DEMO DEMOPW 32M 64M G
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 DEM191 MR
USER BOB BOBPW 32M 64M G
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 BOB191 MR
USER CAROL CAROLPW 32M 64M G
 INCLUDE IBMDFLT
 IPL CMS
 XAUTOLOG DEMO
USER SVC AUTOONLY 32M 64M G
 INCLUDE IBMDFLT
 XAUTOLOG BOB DEMO
USER DATA NOLOG 32M 64M G
 XAUTOLOG DEMO
USER TINY TINYPW 32M 64M G
 INCLUDE IBMDFLT
 SPOOLFILE MAXSPOOL 2
";

#[test]
fn host_commands_for_a_user_not_logged_on_leave_nothing_behind() {
    let t = TestSystem::ipl_with_directory(DIRECT);
    // Each command runs on a machine that exists for it alone: its settings do not last, and a
    // file it opens (SPOOL CONSOLE START) does not keep a spoolid.
    for _ in 0..3 {
        assert_eq!(t.cp_ok("TINY", "SPOOL CONSOLE START"), Vec::<String>::new());
    }
    t.cp_ok("TINY", "SPOOL PUN CLASS B HOLD");
    assert_eq!(
        t.cp_ok("TINY", "Q V 00D")[0],
        "PUN  000D CL A NOCONT NOHOLD COPY 001 READY FORM STANDARD"
    );
    // TINY may own two spool files: both arrive.
    let f = host_file(&t, "t.txt", "t\n");
    for n in 1..=2 {
        let out = t.punch("MAINT", Some("TINY"), &f, &[]);
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{s}");
        assert!(s.contains(" SENT TO   TINY     RDR AS  000"), "{n}: {s}");
    }
    // A third is refused with 439, and leaves nothing on MAINT's punch.
    let out = t.punch("MAINT", Some("TINY"), &f, &[]);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "HCPCSP439E User TINY spool fileid limit exceeded\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "vmimap: return code 439\n"
    );
    assert_eq!(rows(t.cp_ok("TINY", "Q RDR *")).len(), 2);
    t.logon_disconnected("MAINT");
    let out = t.punch("MAINT", Some("TINY"), &f, &[]);
    assert_eq!(out.status.code(), Some(255));
    assert!(t.cp_ok("MAINT", "Q V 00D")[2].contains(" CLOSED "));
    // Room again after a purge.
    t.cp_ok("TINY", "PURGE RDR ALL");
    assert!(t.punch("MAINT", Some("TINY"), &f, &[]).status.success());
    t.shutdown();
}

/// A CP command's full return code: above 255 the exit status is 255 and the code is on standard
/// error.
fn cp_rc(t: &TestSystem, user: &str, cmd: &str) -> (i32, Vec<String>) {
    let out = t.cp_full(user, cmd);
    let rc = match out.stderr.strip_prefix("vmimap: return code ") {
        Some(n) if out.code == 255 => n.trim().parse().unwrap(),
        _ => out.code,
    };
    (rc, out.lines())
}

#[test]
fn xautolog_needs_authorisation_and_autolog_a_password() {
    let t = TestSystem::ipl_with_directory(DIRECT);
    // A class G user without the target's XAUTOLOG statement is refused.
    assert_eq!(
        cp_rc(&t, "DEMO", "XAUTOLOG BOB"),
        (
            1012,
            vec!["HCPLGA1012E Not authorized: DEMO may not XAUTOLOG BOB".to_string()]
        )
    );
    assert_eq!(
        cp_rc(&t, "DEMO", "XAUTOLOG DATA"),
        (
            1012,
            vec!["HCPLGA1012E Not authorized: DATA is NOLOG".to_string()]
        )
    );
    assert_eq!(t.cp_ok("MAINT", "Q NAMES"), vec!["OPERATOR - DSC"]);
    // Named in the target's XAUTOLOG statement: accepted.
    assert_eq!(
        t.cp_ok("DEMO", "XAUTOLOG SVC"),
        vec![
            "Command accepted",
            "AUTO LOGON  ***       SVC      USERS = 2  BY DEMO",
        ]
    );
    assert_eq!(t.cp_ok("MAINT", "Q SVC"), vec!["SVC      - DSC"]);
    assert_eq!(
        t.cp("BOB", "XAUTOLOG SVC"),
        (54, vec!["HCPLGA054E Already logged on: SVC".to_string()])
    );
    assert_eq!(
        t.cp_ok("DEMO", "XAUTOLOG CAROL SYNCH")[0],
        "Command accepted"
    );
    // Class A needs no authorisation.
    assert_eq!(t.cp_ok("MAINT", "XAUTOLOG BOB")[0], "Command accepted");
    // AUTOLOG (class A/B) checks the password; an unknown user gets the same refusal.
    let refusal =
        vec!["HCPLGA050E LOGON unsuccessful--incorrect userid and/or password".to_string()];
    assert_eq!(t.cp("MAINT", "AUTOLOG DEMO WRONG"), (50, refusal.clone()));
    assert_eq!(t.cp("MAINT", "AUTOLOG DEMO"), (50, refusal.clone()));
    assert_eq!(t.cp("MAINT", "AUTOLOG NOSUCH WRONG"), (50, refusal.clone()));
    assert_eq!(t.cp("MAINT", "AUTOLOG DATA WRONG"), (50, refusal.clone()));
    assert_eq!(
        t.cp("DEMO", "AUTOLOG DEMO DEMOPW"),
        (
            1,
            vec!["HCPCMD001E Unknown CP command: AUTOLOG".to_string()]
        )
    );
    assert_eq!(
        t.cp_ok("MAINT", "AUTOLOG DEMO DEMOPW")[0],
        "Command accepted"
    );
    // Four names to a line.
    assert_eq!(
        t.cp_ok("MAINT", "Q NAMES"),
        vec![
            "BOB      - DSC , CAROL    - DSC , DEMO     - DSC , OPERATOR - DSC",
            "SVC      - DSC",
        ]
    );
    assert_eq!(
        t.cp_ok("MAINT", "Q USERS"),
        vec!["    5 USERS,    0 DIALED,    0 NET"]
    );
    // An autologged user can be reached at a terminal with its password: a reconnect.
    let out = t.console(None, "LOGON BOB\nBOBPW\nq userid\nlogoff\n");
    assert!(out.contains("RECONNECTED AT"), "{out}");
    assert!(out.contains("BOB      AT VMIMAP"), "{out}");
    let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap();
    assert!(
        log.contains("AUTO LOGON  ***       SVC      USERS = 2  BY DEMO"),
        "{log}"
    );
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn force_logs_a_console_user_off() {
    let t = TestSystem::ipl_with_directory(DIRECT);
    let mut demo = cms_term(&t, "DEMO");
    let got = t.cp_ok("MAINT", "FORCE DEMO");
    assert_eq!(
        got,
        vec!["USER DSC LOGOFF AS  DEMO     USERS = 1 FORCED BY MAINT"]
    );
    let end = demo.ended();
    let off = end
        .iter()
        .find(|l| l.starts_with("LOGOFF AT "))
        .unwrap_or_else(|| panic!("{end:?}"));
    assert!(off.ends_with(" BY SYSTEM"), "{off}");
    assert!(end.iter().any(|l| l.starts_with("CONNECT= ")), "{end:?}");
    assert_eq!(
        t.cp("MAINT", "Q DEMO"),
        (45, vec!["HCPMSG045E DEMO not logged on".to_string()])
    );
    assert_eq!(
        t.cp("MAINT", "FORCE DEMO"),
        (45, vec!["HCPMSG045E DEMO not logged on".to_string()])
    );
    // A disconnected user, with IMMED.
    t.logon_disconnected("DEMO");
    assert_eq!(t.cp_ok("MAINT", "FORCE DEMO IMMED").len(), 1);
    assert_eq!(t.cp_ok("MAINT", "Q NAMES"), vec!["OPERATOR - DSC"]);
    assert_eq!(
        t.cp("MAINT", "FORCE DEMO NOW"),
        (3, vec!["HCPCMD003E Invalid option - NOW".to_string()])
    );
    let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap();
    assert!(
        log.contains("LOGOFF AS  DEMO     USERS = 1 FORCED BY MAINT"),
        "{log}"
    );
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn disconnect_and_reconnect() {
    let t = TestSystem::ipl();
    let mut demo = cms_term(&t, "DEMO");
    demo.send("cp disconnect");
    let end = demo.ended();
    assert_eq!(
        end.iter()
            .filter(|l| l.starts_with("DISCONNECT AT "))
            .count(),
        1,
        "{end:?}"
    );
    assert_eq!(t.cp_ok("MAINT", "Q DEMO"), vec!["DEMO     - DSC"]);
    assert_eq!(
        t.cp("MAINT", "MSG DEMO hello"),
        (
            57,
            vec!["HCPMFS057I DEMO not receiving; disconnected".to_string()]
        )
    );
    // The machine kept running: a file sent meanwhile is there at reconnect.
    punch(&t, "DEMO", "a.txt", "a\n", &[]);
    let mut again = t.term(Some("DEMO"));
    let first = again.next_line().unwrap();
    assert!(first.starts_with("RECONNECTED AT "), "{first}");
    assert_eq!(ok(again.cms("q userid")), vec!["DEMO     AT VMIMAP"]);
    assert_eq!(
        ok(again.cms("cp q files")),
        vec!["FILES: 0001 RDR,   NO PRT,   NO PUN"]
    );
    // A second terminal takes the machine over; the first is told and ends.
    let mut third = t.term(Some("DEMO"));
    assert!(third.next_line().unwrap().starts_with("RECONNECTED AT "));
    let end = again.ended();
    assert!(
        end.iter()
            .any(|l| l.starts_with("Terminal taken over by L")),
        "{end:?}"
    );
    assert_eq!(ok(third.cms("q userid")), vec!["DEMO     AT VMIMAP"]);
    // End of input disconnects, as dropping the line does.
    let rest = third.close();
    assert_eq!(
        rest.iter()
            .filter(|l| l.starts_with("DISCONNECT AT "))
            .count(),
        1,
        "{rest:?}"
    );
    assert_eq!(t.cp_ok("MAINT", "Q DEMO"), vec!["DEMO     - DSC"]);
    t.shutdown();
}

#[test]
fn console_spooling_makes_con_files() {
    let t = TestSystem::ipl();
    let mut demo = cms_term(&t, "DEMO");
    ok(demo.cms("cp spool console start"));
    assert!(ok(demo.cms("cp q v cons"))[0].ends_with("TERM START"));
    ok(demo.cms("q userid"));
    let got = ok(demo.cms("cp spool console stop close"));
    assert_eq!(got, vec!["CON FILE 0001 TO  DEMO     COPY 001 NOHOLD"]);
    let all = rows(t.cp_ok("DEMO", "Q PRT * ALL"));
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(&all[0][0..19], "DEMO     0001 T CON");
    // Everything shown on the console while spooling, up to the CLOSE.
    let records: u32 = all[0][20..28].parse().unwrap();
    assert!(records >= 8, "{all:?}");
    // CLOSE without STOP: spooling goes on into a new file.
    ok(demo.cms("cp spool console start"));
    assert_eq!(
        ok(demo.cms("cp close console")),
        vec!["CON FILE 0002 TO  DEMO     COPY 001 NOHOLD"]
    );
    assert!(ok(demo.cms("cp q v 0009"))[3].contains(" OPEN 0003 "));
    ok(demo.cms("q userid"));
    assert_eq!(
        ok(demo.cms("cp spool console stop close")),
        vec!["CON FILE 0003 TO  DEMO     COPY 001 NOHOLD"]
    );
    let all = rows(t.cp_ok("DEMO", "Q PRT * ALL"));
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[2].starts_with("DEMO     0003 T CON 000000"), "{all:?}");
    assert_ne!(&all[2][20..28], "00000000", "{all:?}");
    ok(demo.cms("cp purge prt 2 3"));
    // TO *: the console file goes to DEMO's own reader, named as SPOOL says.
    ok(demo.cms("cp spool console start to * name CONSOLE LOG"));
    // CP's response to a #CP line is console output too.
    demo.send("#cp q userid");
    demo.wait_for("DEMO     AT VMIMAP");
    let got = ok(demo.cms("cp spool console stop close"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("RDR FILE 0004 SENT FROM DEMO     CON WAS 0004 RECS "),
        "{got:?}"
    );
    assert!(got[0].ends_with(" CPY  001 T NOHOLD NOKEEP"), "{got:?}");
    let got = ok(demo.cms("receive"));
    assert_eq!(
        got[1], "File CONSOLE LOG A1 received from DEMO at VMIMAP",
        "{got:?}"
    );
    // The file holds the console lines, `Ready` lines included.
    demo.send("type console log");
    assert_eq!(
        demo.until("DEMO     AT VMIMAP")
            .iter()
            .filter(|l| l.starts_with("Ready; T="))
            .count(),
        1
    );
    assert_eq!(
        ok(demo.until_line("Ready", |l| l.starts_with("Ready"))),
        Vec::<String>::new()
    );
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    // START and STOP CLOSE with nothing written in between make no file.
    t.logon_disconnected("DEMO");
    t.cp_ok("DEMO", "SPOOL CONSOLE START");
    assert_eq!(
        t.cp_ok("DEMO", "SPOOL CONSOLE STOP CLOSE"),
        Vec::<String>::new()
    );
    assert_eq!(rows(t.cp_ok("DEMO", "Q PRT * ALL")).len(), 1);
    t.shutdown();
}

#[test]
fn logoff_closes_open_spool_files() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "x.txt", "one\ntwo\n", &[]);
    let mut demo = cms_term(&t, "DEMO");
    ok(demo.cms("receive"));
    ok(demo.cms("cp spool pun cont"));
    ok(demo.cms("punch x txt"));
    ok(demo.cms("punch x txt (noheader"));
    ok(demo.cms("cp spool console start"));
    demo.send("logoff");
    let end = demo.until("LOGOFF AT");
    assert!(
        end.contains(&"PUN FILE 0002 TO  DEMO     COPY 001 NOHOLD".to_string()),
        "{end:?}"
    );
    let pun = rows(t.cp_ok("DEMO", "Q PUN * ALL"));
    assert_eq!(pun.len(), 1);
    assert_eq!(&pun[0][0..28], "DEMO     0002 A PUN 00000005");
    let prt = rows(t.cp_ok("DEMO", "Q PRT * ALL"));
    assert_eq!(prt.len(), 1, "{prt:?}");
    assert_eq!(&prt[0][0..19], "DEMO     0003 T CON");
    // Nothing was left reserved: the next spoolid follows on.
    punch(&t, "DEMO", "y.txt", "y\n", &[]);
    assert!(rows(t.cp_ok("DEMO", "Q RDR *"))[0].starts_with("MAINT    0004"));
    t.shutdown();
}

/// `Ready; T=0.01/0.01 hh:mm:ss` / `Ready(nnnnn); T=0.01/0.01 hh:mm:ss`
fn check_ready(line: &str) {
    let rest = match line.strip_prefix("Ready; ") {
        Some(r) => r,
        None => {
            let (code, r) = line
                .strip_prefix("Ready(")
                .and_then(|l| l.split_once("); "))
                .unwrap_or_else(|| panic!("not a Ready line: {line}"));
            assert_eq!(code.len(), 5, "{line}");
            assert!(code.parse::<i32>().is_ok(), "{line}");
            r
        }
    };
    let t = rest
        .strip_prefix("T=0.01/0.01 ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(is_time(t), "{line}");
}

#[test]
fn cms_commands() {
    let t = TestSystem::ipl();
    // A deck with two :READ cards, punched without a header of its own.
    let deck = format!(
        "{}\nalpha\nbeta\n{}\ngamma\n",
        format_args!(":READ  {:<8} {:<8} A1", "ONE", "DATA"),
        format_args!(":READ  {:<8} {:<8} A1", "TWO", "DATA"),
    );
    punch(&t, "DEMO", "deck.txt", &deck, &["--noheader"]);
    let mut demo = cms_term(&t, "DEMO");
    let got = demo.cms("readcard *");
    check_ready(got.last().unwrap());
    assert_eq!(
        ok(got),
        vec![
            "DMSRDC738I Record length is 80 bytes",
            "ONE DATA A1 created",
            "TWO DATA A1 created",
        ]
    );
    assert_eq!(ok(demo.cms("type one data")), vec!["alpha", "beta"]);
    assert_eq!(ok(demo.cms("TYPE TWO DATA A")), vec!["gamma"]);
    assert_eq!(ok(demo.cms("cp q rdr *")), vec!["NO RDR FILES"]);
    // LISTFILE, with the label form; FILELIST.
    assert_eq!(
        ok(demo.cms("listfile")),
        vec!["ONE      DATA     A1", "TWO      DATA     A1"]
    );
    let l = ok(demo.cms("listfile * data a (l"));
    assert_eq!(
        l[0],
        "FILENAME FILETYPE FM FORMAT LRECL       RECS     BLOCKS   DATE     TIME"
    );
    assert!(
        l[1].starts_with("ONE      DATA     A1 F         80          2          1 "),
        "{l:?}"
    );
    assert!(is_date(&l[1][56..64]) && is_time(&l[1][65..73]), "{l:?}");
    let f = ok(demo.cms("filelist two"));
    assert_eq!(
        f[0],
        "Cmd   Filename Filetype Fm Format Lrecl    Records     Blocks   Date     Time"
    );
    assert!(
        f[1].starts_with("      TWO      DATA     A1 F         80          1 "),
        "{f:?}"
    );
    assert_eq!(f.len(), 2);
    // PUNCH to one's own reader: with the :READ header card, and without.
    ok(demo.cms("cp spool punch to *"));
    assert_eq!(
        ok(demo.cms("punch one data")),
        vec!["RDR FILE 0002 SENT FROM DEMO     PUN WAS 0002 RECS 0003 CPY  001 A NOHOLD NOKEEP"]
    );
    assert_eq!(
        ok(demo.cms("punch two data a (noheader")),
        vec!["RDR FILE 0003 SENT FROM DEMO     PUN WAS 0003 RECS 0001 CPY  001 A NOHOLD NOKEEP"]
    );
    let q = rows(t.cp_ok("DEMO", "Q RDR * ALL"));
    assert_eq!(col(&q[0], 53, 71), "ONE       DATA");
    // The header card is column-exact: fn 8-15, ft 17-24, fm 26-27, volid 29-34.
    ok(demo.cms("readcard card image"));
    let card = ok(demo.cms("type card image"));
    assert_eq!(card.len(), 3);
    assert_eq!(&card[0][..34], ":READ  ONE      DATA     A1 DEM191");
    assert!(is_date(&card[0][35..43]), "{card:?}");
    assert_eq!(card[1..], ["alpha", "beta"]);
    // RECEIVE: a file that exists needs REPLACE; the reader file stays until then.
    punch(&t, "DEMO", "one.data", "new alpha\n", &[]);
    assert!(
        demo.wait_for("SENT FROM")
            .starts_with("RDR FILE 0004 SENT FROM MAINT    PUN WAS")
    );
    assert_eq!(
        failed(demo.cms("receive"), 28),
        vec!["DMSRCV169S File TWO DATA A1 already exists; specify REPLACE"]
    );
    assert_eq!(rows(t.cp_ok("DEMO", "Q RDR *")).len(), 2);
    let got = ok(demo.cms("receive * (replace"));
    assert_eq!(
        got[1], "File TWO DATA A1 received from DEMO at VMIMAP",
        "{got:?}"
    );
    assert_eq!(ok(demo.cms("type two data")), vec!["gamma"]);
    // By spoolid, to a name given.
    let got = ok(demo.cms("receive 4 new name a"));
    assert_eq!(
        got[1], "File NEW NAME A1 received from MAINT at VMIMAP",
        "{got:?}"
    );
    assert_eq!(ok(demo.cms("type new name")), vec!["new alpha"]);
    assert_eq!(
        failed(demo.cms("receive 4"), 42),
        vec!["HCPCSV042E Spoolid 0004 does not exist"]
    );
    assert_eq!(
        failed(demo.cms("receive"), 8),
        vec!["DMSRCV102S Reader empty or not ready"]
    );
    // READCARD *: a deck without :READ cards goes to READCARD CMSUT1.
    punch(&t, "DEMO", "plain.txt", "plain text\n", &["--noheader"]);
    demo.wait_for("SENT FROM");
    // A held file is not read.
    ok(demo.cms("cp change rdr 5 hold"));
    assert_eq!(
        failed(demo.cms("receive 5"), 28),
        vec!["DMSRCV201E File 0005 is held or not in your reader"]
    );
    assert_eq!(
        failed(demo.cms("readcard *"), 8),
        vec!["DMSRDC102S Reader empty or not ready"]
    );
    ok(demo.cms("cp change rdr 5 nohold"));
    assert_eq!(
        ok(demo.cms("readcard *")),
        vec![
            "DMSRDC738I Record length is 80 bytes",
            "READCARD CMSUT1 A1 created"
        ]
    );
    assert_eq!(ok(demo.cms("type readcard cmsut1")), vec!["plain text"]);
    assert_eq!(
        failed(demo.cms("readcard *"), 8),
        vec!["DMSRDC102S Reader empty or not ready"]
    );
    // ERASE.
    assert_eq!(ok(demo.cms("erase one data")), Vec::<String>::new());
    assert_eq!(
        failed(demo.cms("erase one data"), 28),
        vec!["DMSERS002E File ONE DATA A not found"]
    );
    assert_eq!(
        failed(demo.cms("listfile one data"), 28),
        vec!["DMSLST002E File not found"]
    );
    assert_eq!(
        failed(demo.cms("type one data"), 28),
        vec!["DMSTYP002E File ONE DATA A not found"]
    );
    // Operand errors.
    assert_eq!(
        failed(demo.cms("punch"), 24),
        vec!["DMSPUN054E Incomplete fileid specified"]
    );
    assert_eq!(
        failed(demo.cms("punch two data (bogus"), 24),
        vec!["DMSPUN003E Invalid option: BOGUS"]
    );
    assert_eq!(
        failed(demo.cms("listfile toolongname"), 24),
        vec!["DMSLST062E file name toolongname is longer than 8 characters"]
    );
    // CP commands, with and without the CP prefix; unknown commands.
    assert_eq!(ok(demo.cms("cp q userid")), vec!["DEMO     AT VMIMAP"]);
    assert_eq!(ok(demo.cms("q userid")), vec!["DEMO     AT VMIMAP"]);
    let got = demo.cms("FOOBAR");
    check_ready(got.last().unwrap());
    assert_eq!(failed(got, -3), vec!["Unknown CP/CMS command: FOOBAR"]);
    let got = demo.cms("cp FOOBAR");
    assert_eq!(
        failed(got, 1),
        vec!["HCPCMD001E Unknown CP command: FOOBAR"]
    );
    let got = demo.cms("");
    assert_eq!(ok(got), Vec::<String>::new());
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

#[test]
fn spool_reader_options_pick_and_keep_files() {
    let t = TestSystem::ipl();
    punch(&t, "DEMO", "a.txt", "class a\n", &[]);
    punch(&t, "DEMO", "b.txt", "class b\n", &["--class", "B"]);
    let mut demo = cms_term(&t, "DEMO");
    // CLASS: the reader reads only that class, the first such file in queue order.
    ok(demo.cms("cp spool rdr class b"));
    assert_eq!(
        ok(demo.cms("cp q v rdr"))[0],
        "RDR  000C CL B NOCONT NOHOLD EOF READY"
    );
    let got = ok(demo.cms("receive"));
    assert_eq!(
        got[1], "File B TXT A1 received from MAINT at VMIMAP",
        "{got:?}"
    );
    assert_eq!(
        failed(demo.cms("receive"), 8),
        vec!["DMSRCV102S Reader empty or not ready"]
    );
    // KEEP: a file read stays, in user hold.
    ok(demo.cms("cp spool rdr class * keep"));
    ok(demo.cms("receive"));
    let q = rows(t.cp_ok("DEMO", "Q RDR * ALL"));
    assert_eq!(q.len(), 1);
    assert_eq!(col(&q[0], 0, 37), "MAINT    0001 A PUN 00000002 001 USER");
    // HOLD: a file read stays available.
    ok(demo.cms("cp spool rdr nokeep hold"));
    assert_eq!(
        ok(demo.cms("cp change rdr 1 nohold")),
        vec!["0000001 FILE  CHANGED"]
    );
    ok(demo.cms("receive (replace"));
    let q = rows(t.cp_ok("DEMO", "Q RDR * ALL"));
    assert_eq!(col(&q[0], 0, 37), "MAINT    0001 A PUN 00000002 001 NONE");
    assert_eq!(
        ok(demo.cms("cp q v 00c"))[0],
        "RDR  000C CL * NOCONT   HOLD EOF READY"
    );
    // NOHOLD again: read and purged.
    ok(demo.cms("cp spool rdr nohold"));
    ok(demo.cms("receive (replace"));
    assert_eq!(t.cp_ok("DEMO", "Q RDR *"), vec!["NO RDR FILES"]);
    assert_eq!(ok(demo.cms("type a txt")), vec!["class a"]);
    demo.send("logoff");
    demo.wait_for("LOGOFF AT");
    t.shutdown();
}

#[test]
fn concurrent_host_punches_as_one_logged_on_user_never_mix() {
    let t = std::sync::Arc::new(TestSystem::ipl());
    // DEMO is logged on: every host punch as DEMO uses DEMO's one virtual punch.
    t.logon_disconnected("DEMO");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let t = t.clone();
            std::thread::spawn(move || {
                let mut sent = 0;
                for i in 0..8 {
                    let n = w * 8 + i + 1;
                    let mut text = format!("DECK {n}\n");
                    for l in 0..n {
                        text.push_str(&format!("{n} line {l}\n"));
                    }
                    text.push_str(&format!("END {n}\n"));
                    let f = host_file(&t, &format!("d{n}.txt"), &text);
                    let out = t.punch("DEMO", Some("MAINT"), &f, &[]);
                    let s = String::from_utf8_lossy(&out.stdout);
                    if out.status.success() {
                        assert!(s.contains(" SENT TO   MAINT "), "{s}");
                        sent += 1;
                    } else {
                        // Refused while another punch had the device: nothing was sent.
                        assert!(s.contains("punch has open file"), "{s}");
                    }
                }
                sent
            })
        })
        .collect();
    let sent: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(sent > 0);
    let files = rows(t.cp_ok("MAINT", "Q RDR * ALL"));
    assert_eq!(files.len(), sent, "{files:?}");
    for r in files {
        // Deck n: header card, DECK line, n lines, END line.
        let n: usize = col(&r, 53, 62).trim_start_matches('D').parse().unwrap();
        let recs: usize = col(&r, 20, 28).parse().unwrap();
        assert_eq!(recs, n + 3, "deck {n} mixed with another: {r}");
    }
    assert!(t.cp_ok("DEMO", "Q V 00D")[2].contains(" CLOSED "));
    t.shutdown();
}
