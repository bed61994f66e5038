//! The SMTP server over TCP: real clients (Python's smtplib, a raw socket) send mail through
//! the TCPIP stack to SMTP, which spools it to the IMAP machine; the message is then read back
//! from the INBOX with imaplib, byte for byte apart from SMTP's `Received:` field. Bad input is
//! refused with clear replies and never half delivered; SMTP is never an open relay.

mod common;
mod imap_support;
mod smtp_support;

use common::TestSystem;
use imap_support::{curl_ok, enroll, python};
use smtp_support::{Smtp, inbox, reader, split_received, wait_for};

/// smtplib: send `msg` from `from` to `to` (a list, comma-separated), optionally after
/// STARTTLS; prints the refused dict.
const SEND: &str = r#"
import smtplib, ssl, sys
port, tls, frm, to, body = int(sys.argv[1]), sys.argv[2] == 'tls', sys.argv[3], sys.argv[4].split(','), sys.argv[5]
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.test')
if tls:
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo('client.test')
print(s.sendmail(frm, to, body.encode().replace(b'\n', b'\r\n')))
s.quit()
"#;

#[test]
fn smtplib_mail_reaches_the_inbox_plain_and_with_starttls() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    let port = t.ports.smtp.to_string();
    let m1 = "From: maint@vmimap\nTo: demo@vmimap.localdomain\nSubject: plain\n\nfirst line\n.starts with a dot\n\ntrailing  \n";
    let m2 = "From: a@b.example\nSubject: =?utf-8?q?tls?=\n\nover TLS \u{e9}\n";
    let out = python(
        SEND,
        &[
            &port,
            "plain",
            "maint@vmimap",
            "demo@vmimap.localdomain",
            m1,
        ],
    );
    assert_eq!(out.trim(), "{}");
    let out = python(SEND, &[&port, "tls", "a@b.example", "DEMO@VMIMAP", m2]);
    assert_eq!(out.trim(), "{}");
    let got = inbox(&t, "DEMO", &pw, 2);
    assert_eq!(got.len(), 2);
    for (m, sent, proto) in [(&got[0], m1, "ESMTP"), (&got[1], m2, "ESMTPS")] {
        let (received, rest) = split_received(m);
        assert!(
            received.starts_with("Received: from client.test ([127.0.0.1]) by vmimap.localdomain (vmimap VM SMTP) with "),
            "{received}"
        );
        assert!(
            received.contains(&format!(" with {proto} id ")),
            "{received}"
        );
        assert_eq!(
            String::from_utf8_lossy(&rest),
            sent.replace('\n', "\r\n"),
            "the message changed on the way"
        );
    }
    // curl (STARTTLS required) reads the same bytes.
    let user = format!("DEMO:{pw}");
    for (i, m) in got.iter().enumerate() {
        let url = format!(
            "imap://127.0.0.1:{}/INBOX;MAILINDEX={}",
            t.ports.imap,
            i + 1
        );
        let body = curl_ok(&["--ssl-reqd", "-k", "-u", &user, &url]);
        assert_eq!(
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(m),
            "curl and imaplib differ on message {}",
            i + 1
        );
    }
    // Nothing is left in IMAP's reader: the intake filed both.
    wait_for(10, "IMAP's reader to be empty", || {
        reader(&t, "IMAP").is_empty().then_some(())
    });
    t.assert_healthy();
}

#[test]
fn the_spool_file_to_imap_follows_the_intake_contract() {
    // IMAPSERVER names another machine (MAINT, a CMS user), so the file stays in its reader
    // and can be looked at: NETDATA from SMTP, named USERID MAIL, class M, tagged with the
    // address as given.
    let t = TestSystem::ipl();
    smtp_support::restart_smtp(&t, "IMAPSERVER MAINT\n");
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO me.test");
    assert!(c.last("MAIL FROM:<x@y.example>").starts_with("250"));
    assert!(
        c.last("RCPT TO:<Demo@vmimap.localdomain>")
            .starts_with("250")
    );
    assert!(c.last("DATA").starts_with("354"));
    c.send(b"Subject: contract\r\n\r\nbody\r\n.\r\n");
    assert_eq!(c.reply(), ["250 2.0.0 Mail Delivered"]);
    c.cmd("QUIT");
    let files = reader(&t, "MAINT");
    let f: Vec<&str> = files
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.get(9..11) == Some(&["DEMO", "MAIL"][..]))
        .unwrap_or_else(|| panic!("no DEMO MAIL in MAINT's reader: {files:?}"));
    // ORIGINID FILE CLASS … : from SMTP, class M, a punch file.
    assert_eq!((f[0], f[2], f[3]), ("SMTP", "M", "PUN"), "{f:?}");
    let mut con = t.session("MAINT");
    let (rc, lines) = con.cms("RECEIVE * DEMO MAIL A (REPLACE").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("File DEMO MAIL A1 received from SMTP at VMIMAP")),
        "{lines:?}"
    );
    let (_, typed) = con.cms("TYPE DEMO MAIL A").unwrap();
    assert!(typed[0].starts_with("Received: from me.test ([127.0.0.1]) by vmimap.localdomain"));
    assert_eq!(typed[2..], ["Subject: contract", "", "body"]);
    t.assert_healthy();
}

#[test]
fn mail_for_a_user_who_is_not_enrolled_goes_to_the_reader() {
    let t = TestSystem::ipl();
    let port = t.ports.smtp.to_string();
    let out = python(
        SEND,
        &[
            &port,
            "plain",
            "demo@vmimap",
            "operator@vmimap",
            "Subject: hello\n\nfor the operator\n",
        ],
    );
    assert_eq!(out.trim(), "{}");
    let files = wait_for(10, "a file in OPERATOR's reader", || {
        let r = reader(&t, "OPERATOR");
        (!r.is_empty()).then_some(r)
    });
    let w: Vec<&str> = files[0].split_whitespace().collect();
    assert_eq!(w.get(9..11), Some(&["DEMO", "MAIL"][..]), "{files:?}");
    let mut con = t.session("OPERATOR");
    let (rc, lines) = con.cms("RECEIVE").unwrap();
    assert_eq!(rc, 0, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l == "File DEMO MAIL A1 received from DEMO at VMIMAP"),
        "{lines:?}"
    );
    let (_, typed) = con.cms("TYPE DEMO MAIL").unwrap();
    assert_eq!(typed[2..], ["Subject: hello", "", "for the operator"]);
}

#[test]
fn bad_input_gets_clear_replies_and_nothing_half_delivered() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    let (mut c, greeting) = Smtp::connect(t.ports.smtp);
    assert!(
        greeting[0].starts_with("220 vmimap.localdomain ESMTP"),
        "{greeting:?}"
    );
    // Commands out of order, unknown ones, bad syntax.
    assert!(c.last("MAIL FROM:<a@b.example>").starts_with("503 5.5.1"));
    assert!(c.last("XYZZY").starts_with("500 5.5.1"));
    let ehlo = c.cmd("EHLO bad.test");
    assert!(ehlo.contains(&"250-SIZE 524288".to_string()), "{ehlo:?}");
    assert!(ehlo.contains(&"250-STARTTLS".to_string()), "{ehlo:?}");
    assert!(c.last("MAIL FROM:nobrackets").starts_with("501"));
    assert!(c.last("RCPT TO:<demo@vmimap>").starts_with("503 5.5.1"));
    // Over-size: by SIZE at MAIL, and while receiving DATA.
    assert!(
        c.last("MAIL FROM:<a@b.example> SIZE=600000")
            .starts_with("552 5.3.4")
    );
    assert!(c.last("MAIL FROM:<a@b.example>").starts_with("250"));
    assert!(c.last("RCPT TO:<demo@vmimap>").starts_with("250"));
    assert!(c.last("DATA").starts_with("354"));
    let line = format!("{}\r\n", "x".repeat(998));
    for _ in 0..600 {
        c.send(line.as_bytes());
    }
    c.send(b".\r\n");
    assert_eq!(c.reply(), ["552 5.3.4 Mail file too large"]);
    // Unknown local users and other domains (no smart host): never an open relay.
    assert!(c.last("MAIL FROM:<a@b.example>").starts_with("250"));
    assert!(
        c.last("RCPT TO:<nosuchuser@vmimap.localdomain>")
            .starts_with("550 5.1.1")
    );
    assert!(
        c.last("RCPT TO:<first.last@vmimap>")
            .starts_with("550 5.1.1")
    );
    assert!(
        c.last("RCPT TO:<someone@example.com>")
            .starts_with("550 5.7.1")
    );
    assert!(c.last("DATA").starts_with("554 5.5.1"));
    // A bare LF and a NUL in the body are refused.
    for body in [
        &b"Subject: x\r\n\r\nbare\nlf\r\n.\r\n"[..],
        b"Subject: y\r\n\r\nnul\0here\r\n.\r\n",
    ] {
        assert!(c.last("RSET").starts_with("250"));
        assert!(c.last("MAIL FROM:<a@b.example>").starts_with("250"));
        assert!(c.last("RCPT TO:<demo@vmimap>").starts_with("250"));
        assert!(c.last("DATA").starts_with("354"));
        c.send(body);
        let r = c.reply();
        assert!(r[0].starts_with("554 5.6.0"), "{r:?}");
    }
    // An overlong command line; VRFY and EXPN are off.
    c.send(format!("NOOP {}\r\n", "y".repeat(5000)).as_bytes());
    assert_eq!(c.reply(), ["500 5.5.2 Line too long"]);
    assert!(c.last("VRFY demo").starts_with("252"));
    assert!(c.last("EXPN demo").starts_with("502"));
    assert!(c.last("QUIT").starts_with("221"));
    // 10,000 recipients pipelined: at most MAXRECIPIENTS are taken, the rest get 452, and the
    // server ends the session after too many errors without falling over.
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO many.test");
    let mut burst = String::from("MAIL FROM:<a@b.example>\r\n");
    for i in 0..10_000 {
        burst.push_str(&format!("RCPT TO:<demo{i}@vmimap>\r\n"));
    }
    let writer = {
        let mut w = c.wr.try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = w.write_all(burst.as_bytes());
        })
    };
    let mut codes = std::collections::BTreeMap::new();
    loop {
        let r = c.reply();
        let Some(l) = r.last() else { break };
        *codes.entry(l[..3].to_string()).or_insert(0) += 1;
        if l.starts_with("421") {
            break;
        }
    }
    let _ = writer.join();
    // demoN are not users: every RCPT is refused (550) until the error limit ends it (421).
    assert_eq!(codes.get("421"), Some(&1), "{codes:?}");
    assert!(codes.get("550").is_some_and(|n| *n >= 90), "{codes:?}");
    // The same with real recipients: 100 are accepted, then 452.
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO many.test");
    assert!(c.last("MAIL FROM:<a@b.example>").starts_with("250"));
    let mut burst = String::new();
    for _ in 0..150 {
        burst.push_str("RCPT TO:<demo@vmimap>\r\n");
    }
    c.send(burst.as_bytes());
    let replies: Vec<String> = (0..150).map(|_| c.reply().pop().unwrap()).collect();
    assert_eq!(replies.iter().filter(|r| r.starts_with("250")).count(), 100);
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.starts_with("452 4.5.3"))
            .count(),
        50
    );
    // A disconnect in the middle of DATA delivers nothing.
    assert!(c.last("DATA").starts_with("354"));
    c.send(b"Subject: cut off\r\n\r\nhalf a mess");
    drop(c);
    // One good message, to see that it is the only one.
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("HELO ok.test");
    assert!(c.last("MAIL FROM:<a@b.example>").starts_with("250"));
    assert!(c.last("RCPT TO:<demo@vmimap>").starts_with("250"));
    assert!(c.last("RCPT TO:<DEMO@localhost>").starts_with("250"));
    assert!(c.last("DATA").starts_with("354"));
    c.send(b"Subject: the only one\r\n\r\nok\r\n.\r\n");
    assert_eq!(c.reply(), ["250 2.0.0 Mail Delivered"]);
    c.cmd("QUIT");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let got = inbox(&t, "DEMO", &pw, 1);
    assert_eq!(got.len(), 1, "more than the one good message was delivered");
    assert!(
        split_received(&got[0])
            .1
            .starts_with(b"Subject: the only one")
    );
    t.assert_healthy();
}

#[test]
fn an_idle_client_is_disconnected() {
    let t = TestSystem::ipl();
    smtp_support::restart_smtp(&t, "INACTIVE 10\n");
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("HELO idle.test");
    let start = std::time::Instant::now();
    let r = c.reply();
    assert!(r[0].starts_with("421 4.4.2"), "{r:?}");
    assert!(start.elapsed() >= std::time::Duration::from_secs(8));
    assert!(c.closed());
}

/// EHLO advertises the extensions the server has; IBM's QUEU, VERB and TICK answer over TCP too,
/// and their syntax errors get 501.
#[test]
fn ehlo_extensions_and_the_ibm_commands() {
    let t = TestSystem::ipl();
    let (mut c, greeting) = Smtp::connect(t.ports.smtp);
    assert!(greeting[0].starts_with("220 "), "{greeting:?}");
    let ehlo = c.cmd("EHLO me.test");
    for ext in [
        "PIPELINING",
        "SIZE 524288",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
    ] {
        assert!(
            ehlo.iter().any(|l| l[4..].eq_ignore_ascii_case(ext)),
            "{ext} missing: {ehlo:?}"
        );
    }
    let queu = c.cmd("QUEU");
    assert!(queu.iter().all(|l| l.starts_with("250")), "{queu:?}");
    assert!(
        queu.iter()
            .any(|l| l.contains("Spool Queue: 0 mail being spooled to readers")),
        "{queu:?}"
    );
    assert_eq!(c.cmd("QUEU SOON"), ["501 5.5.4 Syntax: QUEU [DATE]"]);
    assert_eq!(c.cmd("VERB ON"), ["250 2.0.0 Verbose mode ON"]);
    assert_eq!(c.cmd("VERB MAYBE"), ["501 5.5.4 Syntax: VERB ON|OFF"]);
    assert_eq!(c.cmd("TICK 42"), ["250 2.0.0 TICK 42 OK"]);
    assert_eq!(
        c.cmd("TICK 1234567890"),
        ["501 5.5.4 Syntax: TICK number (1 to 9 digits)"]
    );
    assert!(c.last("QUIT").starts_with("221"));
}
