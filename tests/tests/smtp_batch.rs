//! Batch SMTP and the CMS mail commands: decks punched to SMTP's reader (with `vmimap punch`
//! and from CMS), NOTE and SENDFILE, RECEIVE of NETDATA; malformed and truncated decks.

mod common;
mod imap_support;
mod smtp_support;

use common::TestSystem;
use imap_support::enroll;
use smtp_support::{inbox, reader, smtp_console, split_received, wait_for};

/// Punches `lines` as MAINT to SMTP with `vmimap punch --noheader`.
fn punch_deck(t: &TestSystem, name: &str, lines: &str) {
    let f = t.dir.parent().unwrap().join(name);
    std::fs::write(&f, lines).unwrap();
    let out = t.punch("MAINT", Some("SMTP"), &f, &["--noheader"]);
    assert!(out.status.success(), "{out:?}");
}

/// The reader files of `user` whose NAME TYPE are `name type`.
fn files_named(t: &TestSystem, user: &str, name: &str, ty: &str) -> Vec<String> {
    reader(t, user)
        .into_iter()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.get(9..11) == Some(&[name, ty][..])
        })
        .collect()
}

#[test]
fn a_deck_punched_by_maint_reaches_the_inbox_and_verb_returns_the_responses() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    punch_deck(
        &t,
        "deck.txt",
        "VERB ON\nTICK 17\nHELO vmimap\nMAIL FROM:<maint@vmimap>\nRCPT TO:<demo@vmimap.localdomain>\n\
         DATA\nSubject: batch\n\nfirst\n..dotted\n\n.\nQUIT\n",
    );
    let got = inbox(&t, "DEMO", &pw, 1);
    let (received, body) = split_received(&got[0]);
    assert!(
        received.contains("spool file")
            && received.contains("from MAINT at VMIMAP")
            && received.contains("with BSMTP"),
        "{received}"
    );
    assert_eq!(body, b"Subject: batch\r\n\r\nfirst\r\n.dotted\r\n\r\n");
    // VERB ON: the response file goes back to MAINT (the MAIL FROM user), tagged with TICK.
    let resp = wait_for(10, "the response file", || {
        let f = files_named(&t, "MAINT", "SMTP", "RESPONSE");
        (!f.is_empty()).then_some(f)
    });
    assert_eq!(resp.len(), 1);
    let mut con = t.session("MAINT");
    let (rc, lines) = con.cms("RECEIVE").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    let (_, typed) = con.cms("TYPE SMTP RESPONSE").unwrap();
    assert!(typed[0].contains("TICK 17"), "{typed:?}");
    for want in [
        "250 2.0.0 Verbose mode ON",
        "250 2.0.0 TICK 17 OK",
        "250 2.0.0 Mail Delivered",
        "221 2.0.0 vmimap.localdomain closing connection",
    ] {
        assert!(typed.iter().any(|l| l == want), "{want} missing: {typed:?}");
    }
    // No errors: no report, and the deck is gone from SMTP's reader.
    assert!(files_named(&t, "MAINT", "SMTP", "MAIL").is_empty());
    assert!(reader(&t, "SMTP").is_empty());
    t.assert_healthy();
}

#[test]
fn errors_in_a_deck_are_mailed_to_the_sender_and_quit_is_implied() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    // No VERB, no QUIT; one good recipient and one unknown one.
    punch_deck(
        &t,
        "errs.txt",
        "HELO vmimap\nMAIL FROM:<maint@vmimap>\nRCPT TO:<nobody@vmimap>\nRCPT TO:<demo@vmimap>\nDATA\nSubject: partly\n\nhi\n.\n",
    );
    inbox(&t, "DEMO", &pw, 1);
    // MAINT is not an IMAP user: the report arrives in its reader, from SMTP.
    wait_for(10, "the error report", || {
        let f = files_named(&t, "MAINT", "SMTP", "MAIL");
        (!f.is_empty()).then_some(())
    });
    assert!(files_named(&t, "MAINT", "SMTP", "RESPONSE").is_empty());
    let mut con = t.session("MAINT");
    let (rc, _) = con.cms("RECEIVE").unwrap();
    assert_eq!(rc, 0);
    let (_, typed) = con.cms("TYPE SMTP MAIL").unwrap();
    let text = typed.join("\n");
    assert!(
        text.contains("Subject: Batch SMTP errors in spool file"),
        "{text}"
    );
    assert!(text.contains("550 5.1.1 <nobody> User unknown"), "{text}");
    assert!(text.contains("(end of file: QUIT implied)"), "{text}");
    assert!(text.contains("1 message(s) were delivered"), "{text}");
}

#[test]
fn malformed_and_truncated_decks_are_returned_and_nothing_is_delivered() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    // Cut short inside the message body.
    punch_deck(
        &t,
        "cut.txt",
        "HELO vmimap\nMAIL FROM:<maint@vmimap>\nRCPT TO:<demo@vmimap>\nDATA\nSubject: cut\n\nthe end is miss",
    );
    // Nothing but blank cards.
    punch_deck(&t, "blank.txt", "\n\n\n");
    wait_for(15, "both decks back in MAINT's reader", || {
        (files_named(&t, "MAINT", "CUT", "TXT").len() == 1
            && files_named(&t, "MAINT", "BLANK", "TXT").len() == 1
            && files_named(&t, "MAINT", "SMTP", "MAIL").len() == 2)
            .then_some(())
    });
    assert!(reader(&t, "SMTP").is_empty());
    let log = smtp_console(&t);
    assert!(
        log.contains("DTCSMT041E") && log.contains("has no ending '.' line"),
        "{log}"
    );
    assert!(log.contains("holds no commands"), "{log}");
    // A good mail afterwards is the only one in the INBOX.
    punch_deck(
        &t,
        "good.txt",
        "HELO vmimap\nMAIL FROM:<maint@vmimap>\nRCPT TO:<demo@vmimap>\nDATA\nSubject: good\n\nok\n.\nQUIT\n",
    );
    let got = inbox(&t, "DEMO", &pw, 1);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(inbox(&t, "DEMO", &pw, 1).len(), 1);
    assert!(split_received(&got[0]).1.starts_with(b"Subject: good"));
    t.assert_healthy();
}

#[test]
fn note_and_sendfile_from_cms_and_receive_gets_them_back() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    let mut maint = t.session("MAINT");
    // NOTE to an IMAP user: into the INBOX through SMTP.
    let (rc, lines) = maint.cms("NOTE demo Hello from CMS").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Note sent to demo@vmimap by SMTP on ")),
        "{lines:?}"
    );
    let got = inbox(&t, "DEMO", &pw, 1);
    let (_, m) = split_received(&got[0]);
    let m = String::from_utf8_lossy(&m).into_owned();
    assert!(
        m.contains("From: maint@vmimap\r\n") && m.contains("To: demo@vmimap\r\n"),
        "{m}"
    );
    assert!(m.contains("Subject: Note from MAINT\r\n"), "{m}");
    assert!(m.ends_with("\r\n\r\nHello from CMS\r\n"), "{m}");
    // NOTE from a file with its own headers, to OPERATOR (not an IMAP user): the reader.
    for l in [
        "Subject: From a file",
        "",
        ".a line with a dot",
        &"long line ".repeat(20),
    ] {
        let (rc, out) = maint
            .cms(&format!("EXECIO 1 DISKW LETTER TEXT A (STRING {l}"))
            .unwrap();
        assert_eq!(rc, 0, "{out:?}");
    }
    let (rc, lines) = maint.cms("NOTE operator (FILE LETTER TEXT A").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    // SENDFILE a file to OPERATOR.
    let (rc, _) = maint
        .cms("EXECIO 1 DISKW PLAN DATA A (STRING line one")
        .unwrap();
    assert_eq!(rc, 0);
    let (rc, lines) = maint.cms("SENDFILE PLAN DATA A TO OPERATOR").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("File PLAN DATA A1 sent to OPERATOR at VMIMAP on ")),
        "{lines:?}"
    );
    // Bad operands.
    let (rc, lines) = maint.cms("SENDFILE PLAN DATA A TO NOSUCHU").unwrap();
    assert_eq!(rc, 45, "{lines:?}");
    let (rc, lines) = maint.cms("SENDFILE NONE DATA A TO OPERATOR").unwrap();
    assert_eq!(rc, 28, "{lines:?}");
    let (rc, lines) = maint.cms("NOTE operator").unwrap();
    assert_eq!(rc, 24, "{lines:?}");
    wait_for(15, "two files in OPERATOR's reader", || {
        (reader(&t, "OPERATOR").len() == 2).then_some(())
    });
    // The note travels through SMTP and the file goes straight to the reader, so either may
    // arrive first: RECEIVE both, in reader order.
    let mut op = t.session("OPERATOR");
    let mut received = Vec::new();
    for _ in 0..2 {
        let (rc, lines) = op.cms("RECEIVE").unwrap();
        assert_eq!(rc, 0, "{lines:?}");
        received.extend(lines);
    }
    for want in [
        "File MAINT MAIL A1 received from MAINT at VMIMAP",
        "File PLAN DATA A1 received from MAINT at VMIMAP",
    ] {
        assert!(
            received.iter().any(|l| l.starts_with(want)),
            "{want}: {received:?}"
        );
    }
    let (_, typed) = op.cms("TYPE MAINT MAIL").unwrap();
    let body = typed.join("\n");
    assert!(
        body.contains("Subject: From a file\nDate: ") || body.contains("\nSubject: From a file\n"),
        "{body}"
    );
    assert!(!body.contains("Subject: Note from MAINT"), "{body}");
    assert!(body.contains("\n.a line with a dot\n"), "{body}");
    assert!(
        body.contains(&"long line ".repeat(20).trim_end().to_string()),
        "{body}"
    );
    let (_, typed) = op.cms("TYPE PLAN DATA").unwrap();
    assert_eq!(typed, ["line one"]);
    t.assert_healthy();
}

#[test]
fn a_deck_sent_by_sendfile_is_batch_smtp_too() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    let mut maint = t.session("MAINT");
    let long = "z".repeat(150);
    for l in [
        "HELO vmimap",
        "MAIL FROM:<maint@vmimap>",
        "RCPT TO:<demo@vmimap>",
        "DATA",
        "Subject: netdata deck",
        "",
        long.as_str(),
        ".",
        "QUIT",
    ] {
        let (rc, _) = maint
            .cms(&format!("EXECIO 1 DISKW MAIL BSMTP A (STRING {l}"))
            .unwrap();
        assert_eq!(rc, 0);
    }
    let (rc, lines) = maint.cms("SENDFILE MAIL BSMTP A SMTP").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    let got = inbox(&t, "DEMO", &pw, 1);
    // NETDATA keeps a line of any length.
    assert_eq!(
        split_received(&got[0]).1,
        format!("Subject: netdata deck\r\n\r\n{long}\r\n").into_bytes()
    );
}
