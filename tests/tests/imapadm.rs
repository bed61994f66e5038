//! IMAPADM, the IMAP administrator exit: requests by SMSG and by deck, from authorised and
//! unauthorised users, malformed requests, the audit log in SFS, and the AUTOENROLL policy at IPL.

mod common;
mod imap_support;
mod smtp_support;

use common::TestSystem;
use imap_support::{Imap, admin};
use smtp_support::{reader, smsg_timed, wait_for};

/// `SMSG IMAPADM text` as `user` through the control socket: the MSG lines that came back (up
/// to 30 s for the first, then until 1.5 s pass without one).
fn smsg(t: &TestSystem, user: &str, text: &str) -> Vec<String> {
    smsg_timed(t, user, "IMAPADM", text, 30_000, 1500)
}

/// Asserts the answer's last line begins with `id`; returns the answer.
fn ends_with(lines: Vec<String>, id: &str) -> Vec<String> {
    assert!(
        lines.last().is_some_and(|l| l.starts_with(id)),
        "expected the answer to end with {id}: {lines:?}"
    );
    lines
}

/// Enrols IMAPADM in VMSYSU again as MAINT, the pool's administrator (the default DMSPARMS
/// enrols it at first IPL).
fn enroll_imapadm_in_vmsysu(t: &TestSystem) {
    let mut con = t.session("MAINT");
    let (rc, l) = con.cms("ENROLL USER IMAPADM VMSYSU:").unwrap();
    assert_eq!(rc, 0, "{l:?}");
}

/// Takes IMAPADM's file space (and so its audit log) away.
fn delete_imapadm_from_vmsysu(t: &TestSystem) {
    let mut con = t.session("MAINT");
    let (rc, l) = con.cms("DELETE USER IMAPADM VMSYSU:").unwrap();
    assert_eq!(rc, 0, "{l:?}");
}

/// A new system: IMAPADM is enrolled in VMSYSU by the default DMSPARMS and can audit.
fn system() -> TestSystem {
    TestSystem::ipl()
}

/// The audit log, typed by MAINT (VMSYSU's administrator).
fn audit_log(t: &TestSystem) -> Vec<String> {
    let mut con = t.session("MAINT");
    let (rc, l) = con.cms("ACCESS VMSYSU:IMAPADM.AUDIT B").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    let (rc, l) = con.cms("TYPE IMAPADM AUDITLOG B").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    l.into_iter().filter(|l| !l.starts_with("Ready")).collect()
}

/// Asserts one audit line holds every one of `parts`.
fn audited(log: &[String], parts: &[&str]) {
    assert!(
        log.iter().any(|l| parts.iter().all(|p| l.contains(p))),
        "no audit line with {parts:?}:\n{}",
        log.join("\n")
    );
}

/// IMAPADM's console log.
fn console(t: &TestSystem) -> String {
    std::fs::read_to_string(t.dir.join("logs/IMAPADM.console")).unwrap_or_default()
}

/// What the IMAP server says about `user` (`vmimap admin query USER`).
fn imap_query(t: &TestSystem, user: &str) -> String {
    admin(t, None, &["query", user]).stdout
}

/// Punches `text` as `user` to IMAPADM (no :READ card).
fn punch_deck(t: &TestSystem, user: &str, name: &str, text: &str) {
    let f = t.dir.parent().unwrap().join(name);
    std::fs::write(&f, text).unwrap();
    let out = t.punch(user, Some("IMAPADM"), &f, &["--noheader"]);
    assert!(out.status.success(), "{out:?}");
}

/// Waits for `IMAPADM RESULT` in `user`'s reader, RECEIVEs it and returns its lines.
fn result_file(t: &TestSystem, user: &str) -> Vec<String> {
    wait_for(30, "the IMAPADM RESULT file", || {
        reader(t, user)
            .iter()
            .any(|l| l.contains("IMAPADM") && l.contains("RESULT"))
            .then_some(())
    });
    let mut con = t.session(user);
    let (rc, l) = con.cms("RECEIVE").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    let (rc, l) = con.cms("TYPE IMAPADM RESULT A").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    let (rc, _) = con.cms("ERASE IMAPADM RESULT A").unwrap();
    assert_eq!(rc, 0);
    l.into_iter().filter(|l| !l.starts_with("Ready")).collect()
}

#[test]
fn smsg_requests_of_an_authorised_user_are_done_answered_and_audited() {
    let t = TestSystem::ipl();
    // Without its file space IMAPADM cannot audit, so it does nothing.
    delete_imapadm_from_vmsysu(&t);
    let l = ends_with(smsg(&t, "MAINT", "ENROLL DEMO"), "DTCADM0107E");
    assert!(l[0].contains("the request was not done"), "{l:?}");
    assert!(imap_query(&t, "DEMO").contains("DTCIMA0104E"));
    enroll_imapadm_in_vmsysu(&t);

    let l = ends_with(smsg(&t, "MAINT", "enroll demo 300"), "DTCADM0010I");
    assert!(
        l.iter()
            .any(|x| x.starts_with("DTCIMA0001I User DEMO enrolled with 300 blocks")),
        "{l:?}"
    );
    assert!(l.last().unwrap().contains("ENROLL DEMO 300 done"), "{l:?}");
    // The effect: DEMO logs in over IMAP and has an INBOX.
    let pw = t.passwords["DEMO"].clone();
    let mut c = Imap::login(t.ports.imap, "demo", "DEMO", &pw);
    c.ok("SELECT INBOX");
    drop(c);

    let l = ends_with(smsg(&t, "MAINT", "LIST"), "DTCADM0010I");
    assert!(
        l.iter()
            .any(|x| x.contains("DEMO") && x.contains("300 blocks")),
        "{l:?}"
    );
    assert!(
        l.iter().any(|x| x.starts_with("DTCIMA0003I 1 users")),
        "{l:?}"
    );
    // `vmimap admin list` asks the IMAP server the same; `vmimap admin quota` changes the space.
    let out = admin(&t, None, &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("DTCIMA0003I 1 users enrolled"),
        "{out:?}"
    );
    let out = admin(&t, None, &["quota", "DEMO", "450"]);
    assert!(
        out.stdout
            .contains("DTCIMA0009I User DEMO now has 450 blocks"),
        "{out:?}"
    );

    let l = ends_with(smsg(&t, "MAINT", "QUO DEMO 500"), "DTCADM0010I");
    assert!(l.iter().any(|x| x.starts_with("DTCIMA0009I")), "{l:?}");
    assert!(imap_query(&t, "DEMO").contains("of 500 blocks"));

    // Errors of the IMAP server come back with a DTCADM error at the end.
    let l = ends_with(smsg(&t, "MAINT", "ENROLL DEMO"), "DTCADM0101E");
    assert!(l.iter().any(|x| x.starts_with("DTCIMA0103E")), "{l:?}");
    let l = ends_with(smsg(&t, "MAINT", "ENROLL NOSUCH"), "DTCADM0101E");
    assert!(l.iter().any(|x| x.starts_with("DTCIMA0102E")), "{l:?}");
    // Requests IMAPADM itself refuses.
    ends_with(smsg(&t, "MAINT", "FROBNICATE DEMO"), "DTCADM0103E");
    ends_with(smsg(&t, "MAINT", "QUOTA DEMO"), "DTCADM0104E");
    ends_with(smsg(&t, "MAINT", "ENROLL DEMO 1 2"), "DTCADM0104E");
    ends_with(smsg(&t, "MAINT", "HELP"), "DTCADM0011I");

    let l = ends_with(smsg(&t, "MAINT", "DELETE DEMO"), "DTCADM0010I");
    assert!(l.iter().any(|x| x.starts_with("DTCIMA0002I")), "{l:?}");
    assert!(imap_query(&t, "DEMO").contains("DTCIMA0104E"));

    let log = audit_log(&t);
    audited(&log, &["MAINT", "SMSG", "ENROLL DEMO 300 => DTCIMA0001I"]);
    audited(&log, &["MAINT", "SMSG", "LIST => DTCIMA0003I"]);
    audited(&log, &["MAINT", "SMSG", "QUOTA DEMO 500 => DTCIMA0009I"]);
    audited(&log, &["MAINT", "SMSG", "ENROLL DEMO => DTCIMA0103E"]);
    audited(&log, &["MAINT", "SMSG", "FROBNICATE DEMO => DTCADM0103E"]);
    audited(&log, &["MAINT", "SMSG", "DELETE DEMO => DTCIMA0002I"]);
    // The request that came before the audit log was available was not logged (nor done).
    assert_eq!(log.len(), 10, "{}", log.join("\n"));
    // Every line begins with the date and time.
    for l in &log {
        let w: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(w[0].len(), 10, "{l}");
        assert_eq!(w[1].len(), 8, "{l}");
    }
    t.assert_healthy();
}

#[test]
fn smsg_requests_of_an_unauthorised_user_are_refused_and_audited() {
    let t = system();
    ends_with(smsg(&t, "DEMO", "ENROLL DEMO"), "DTCADM0102E");
    ends_with(smsg(&t, "DEMO", "LIST"), "DTCADM0102E");
    // Even a malformed request is refused as unauthorised, not parsed.
    ends_with(smsg(&t, "OPERATOR", "junk request"), "DTCADM0102E");
    assert!(imap_query(&t, "DEMO").contains("DTCIMA0104E"));
    let log = audit_log(&t);
    audited(
        &log,
        &["DEMO", "SMSG", "ENROLL DEMO => REFUSED DTCADM0102E"],
    );
    audited(&log, &["DEMO", "SMSG", "LIST => REFUSED"]);
    audited(&log, &["OPERATOR", "SMSG", "junk request => REFUSED"]);
    let con = console(&t);
    assert!(
        con.contains("DTCADM0112W Request from DEMO by SMSG refused"),
        "{con}"
    );
    t.assert_healthy();
}

#[test]
fn a_deck_from_maint_is_run_card_by_card_and_answered_with_a_result_file() {
    let t = system();
    punch_deck(
        &t,
        "MAINT",
        "adm.deck",
        "* enrol two users\nENROLL DEMO 700\nENROLL OPERATOR\n\nLIST\nFROBNICATE\nQUOTA DEMO many\n\
         QUOTA DEMO 800\nDELETE OPERATOR\n",
    );
    let r = result_file(&t, "MAINT");
    let text = r.join("\n");
    assert!(r[0].starts_with("IMAPADM result for deck"), "{text}");
    assert!(r[0].contains("from MAINT"), "{text}");
    for want in [
        "   2 ENROLL DEMO 700",
        "     DTCIMA0001I User DEMO enrolled with 700 blocks",
        "     DTCADM0010I ENROLL DEMO 700 done",
        "   3 ENROLL OPERATOR",
        "   5 LIST",
        "     DTCIMA0003I 2 users enrolled",
        "   6 FROBNICATE",
        "     DTCADM0103E Unknown request FROBNICATE",
        "   7 QUOTA DEMO many",
        "     DTCADM0104E Invalid request: many is not a number of blocks",
        "   8 QUOTA DEMO 800",
        "     DTCADM0010I QUOTA DEMO 800 done",
        "   9 DELETE OPERATOR",
        "7 requests, 5 done, 2 failed",
    ] {
        assert!(
            r.iter().any(|l| l.starts_with(want)),
            "{want:?} missing:\n{text}"
        );
    }
    assert!(imap_query(&t, "DEMO").contains("of 800 blocks"));
    assert!(imap_query(&t, "OPERATOR").contains("DTCIMA0104E"));
    // The deck is gone from IMAPADM's reader.
    wait_for(10, "the deck to be purged", || {
        reader(&t, "IMAPADM").is_empty().then_some(())
    });
    let log = audit_log(&t);
    audited(&log, &["MAINT", "DECK", "ENROLL DEMO 700 => DTCIMA0001I"]);
    audited(&log, &["MAINT", "DECK", "FROBNICATE => DTCADM0103E"]);
    audited(&log, &["MAINT", "DECK", "DELETE OPERATOR => DTCIMA0002I"]);
    assert!(console(&t).contains("DTCADM0005I"), "{}", console(&t));

    // A deck of comments only is answered too.
    punch_deck(&t, "MAINT", "empty.deck", "* nothing\n\n");
    let r = result_file(&t, "MAINT");
    assert!(
        r.iter().any(|l| l.starts_with("DTCADM0111E")),
        "{}",
        r.join("\n")
    );
    t.assert_healthy();
}

#[test]
fn a_deck_from_an_unauthorised_user_is_not_run_and_the_refusal_is_audited() {
    let t = system();
    punch_deck(&t, "DEMO", "mine.deck", "ENROLL DEMO 99999\nLIST\n");
    let r = result_file(&t, "DEMO");
    let text = r.join("\n");
    assert!(
        r.iter()
            .any(|l| l.starts_with("DTCADM0102E DEMO is not authorized")),
        "{text}"
    );
    assert!(
        r.iter().any(|l| l == "1 requests, 0 done, 1 failed"),
        "{text}"
    );
    assert!(imap_query(&t, "DEMO").contains("DTCIMA0104E"));
    let log = audit_log(&t);
    audited(
        &log,
        &["DEMO", "DECK", "deck of 2 cards => REFUSED DTCADM0102E"],
    );
    assert!(
        console(&t).contains("DTCADM0112W Request from DEMO by DECK"),
        "{}",
        console(&t)
    );
    t.assert_healthy();
}

#[test]
fn autoenroll_enrols_the_policy_users_at_ipl() {
    let t = system();
    std::fs::write(
        t.dir.join("IMAPADM CONFIG"),
        "/* written by a test */\nAUTHORIZE MAINT\nAUTOENROLL USERS DEMO NOSUCH\nAUTOENROLL CLASS C\n\
         BLOCKS 400\n",
    )
    .unwrap();
    // MAINT is enrolled already: it is left as it is.
    ends_with(smsg(&t, "MAINT", "ENROLL MAINT 50"), "DTCADM0010I");
    t.shutdown();
    t.reipl();
    wait_for(30, "AUTOENROLL to finish", || {
        console(&t).contains("DTCADM0004I").then_some(())
    });
    let con = console(&t);
    assert!(
        con.contains("DTCADM0004I AUTOENROLL done: 2 enrolled, 1 already enrolled, 1 failed"),
        "{con}"
    );
    assert!(
        con.contains("DTCADM0114W AUTOENROLL of NOSUCH failed"),
        "{con}"
    );
    assert!(imap_query(&t, "DEMO").contains("of 400 blocks"));
    assert!(imap_query(&t, "OPERATOR").contains("of 400 blocks"));
    assert!(imap_query(&t, "MAINT").contains("of 50 blocks"));
    let log = audit_log(&t);
    audited(
        &log,
        &["IMAPADM", "AUTOENROLL", "ENROLL DEMO 400 => DTCIMA0001I"],
    );
    audited(
        &log,
        &[
            "IMAPADM",
            "AUTOENROLL",
            "ENROLL OPERATOR 400 => DTCIMA0001I",
        ],
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("AUTOENROLL") && l.contains("MAINT 400"))
    );
    t.assert_healthy();
}

#[test]
fn a_bad_imapadm_config_stops_imapadm_with_the_line() {
    let t = system();
    std::fs::write(
        t.dir.join("IMAPADM CONFIG"),
        "AUTHORIZE MAINT\nTIMEOUT never\n",
    )
    .unwrap();
    t.cp_ok("MAINT", "FORCE IMAPADM");
    let out = t.cp_full("MAINT", "XAUTOLOG IMAPADM");
    assert_eq!(out.code, 0, "{out:?}");
    wait_for(10, "the error in the operator's log", || {
        let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap_or_default();
        (log.contains("IMAPADM CONFIG line 2") && log.contains("TIMEOUT: never is not a number"))
            .then_some(())
    });
    t.assert_healthy();
}
