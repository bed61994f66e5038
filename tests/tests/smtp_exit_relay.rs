//! The SMTP command exit program (answers, a hang, a crash, garbage), relaying through a smart
//! host (a small SMTP server in this test) with retry while it is down, and `SMSG SMTP`.

mod common;
mod imap_support;
mod smtp_support;

use std::time::Duration;

use common::TestSystem;
use imap_support::enroll;
use smtp_support::{
    SinkServer, Smtp, inbox, reader, restart_smtp, smsg, smtp_console, split_received, wait_for,
};

/// Sends one message over SMTP; the reply to each recipient and to DATA.
fn send(t: &TestSystem, from: &str, to: &[&str], body: &str) -> (Vec<String>, String) {
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO exit.test");
    let m = c.last(&format!("MAIL FROM:<{from}>"));
    assert!(m.starts_with("250"), "{m}");
    let rcpts: Vec<String> = to
        .iter()
        .map(|a| c.last(&format!("RCPT TO:<{a}>")))
        .collect();
    let d = c.last("DATA");
    if !d.starts_with("354") {
        return (rcpts, d);
    }
    c.send(format!("{body}\r\n.\r\n").as_bytes());
    let r = c.reply().pop().unwrap_or_default();
    c.cmd("QUIT");
    (rcpts, r)
}

/// Writes an exit script into the system folder; its path.
fn script(t: &TestSystem, name: &str, body: &str) -> String {
    let p = t.dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

#[test]
fn the_exit_program_decides_and_a_failing_one_falls_back() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    // An exit that refuses one sender, sends mail for "ops" to OPERATOR's reader, refuses
    // "spam", hangs for "slow", crashes for "crash", babbles for "junk", and leaves the rest
    // to the built-in exit. Every question it gets is logged to a file.
    let log = t.dir.join("exit.log");
    let exit = script(
        &t,
        "exit.sh",
        &format!(
            r#"read q
echo "$q" >> {}
case "$q" in
  "MAIL <blocked@"*) echo "REJECT 550 You may not send here";;
  RCPT*"<ops@"*) echo "LOCAL OPERATOR";;
  RCPT*"<spam@"*) echo "REJECT 553 No spam";;
  RCPT*"<slow@"*) sleep 30; echo DEFAULT;;
  RCPT*"<crash@"*) kill -9 $$;;
  RCPT*"<junk@"*) echo "IMAP";;
  *) echo DEFAULT;;
esac"#,
            log.display()
        ),
    );
    restart_smtp(&t, &format!("EXIT {exit}\nEXITTIMEOUT 2\n"));
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO exit.test");
    assert_eq!(
        c.cmd("MAIL FROM:<blocked@x.example>"),
        ["550 5.7.1 You may not send here"]
    );
    drop(c);
    let (r, d) = send(
        &t,
        "a@x.example",
        &[
            "ops@vmimap",
            "spam@vmimap",
            "demo@vmimap",
            "slow@vmimap",
            "crash@vmimap",
            "junk@vmimap",
        ],
        "Subject: through the exit\r\n\r\nhello",
    );
    assert!(r[0].starts_with("250"), "{r:?}");
    assert_eq!(r[1], "553 5.7.1 No spam");
    assert!(r[2].starts_with("250"), "{r:?}");
    // slow, crash, junk: the exit failed; the built-in exit decides (no such users: 550).
    for x in &r[3..] {
        assert!(x.starts_with("550 5.1.1"), "{r:?}");
    }
    assert_eq!(d, "250 2.0.0 Mail Delivered");
    inbox(&t, "DEMO", &pw, 1);
    wait_for(10, "the mail in OPERATOR's reader", || {
        (!reader(&t, "OPERATOR").is_empty()).then_some(())
    });
    let questions = std::fs::read_to_string(&log).unwrap();
    assert!(
        questions.contains("MAIL <a@x.example> TCP 127.0.0.1\n"),
        "{questions}"
    );
    assert!(
        questions.contains("RCPT <a@x.example> <demo@vmimap> TCP 127.0.0.1\n"),
        "{questions}"
    );
    assert!(
        questions.contains("DATA <a@x.example> 2 TCP 127.0.0.1\n"),
        "{questions}"
    );
    let console = smtp_console(&t);
    for why in [
        "no answer within 2 seconds",
        "ended without answering",
        "unrecognised answer",
    ] {
        assert!(
            console.contains("DTCSMT030W") && console.contains(why),
            "{why} not logged: {console}"
        );
    }
    // The exit's failures did not lose the mail to a real user either.
    let (r, d) = send(
        &t,
        "a@x.example",
        &["demo@vmimap"],
        "Subject: again\r\n\r\nx",
    );
    assert!(r[0].starts_with("250"));
    assert_eq!(d, "250 2.0.0 Mail Delivered");
    assert!(
        split_received(&inbox(&t, "DEMO", &pw, 2)[1])
            .1
            .starts_with(b"Subject: again")
    );
    t.assert_healthy();
}

#[test]
fn a_missing_exit_program_falls_back_too() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let pw = t.passwords["DEMO"].clone();
    restart_smtp(&t, "EXIT /nonexistent/smtpexit\n");
    let (r, d) = send(
        &t,
        "a@x.example",
        &["demo@vmimap"],
        "Subject: no exit\r\n\r\nx",
    );
    assert!(r[0].starts_with("250"), "{r:?}");
    assert_eq!(d, "250 2.0.0 Mail Delivered");
    inbox(&t, "DEMO", &pw, 1);
    assert!(smtp_console(&t).contains("cannot start /nonexistent/smtpexit"));
}

#[test]
fn relaying_goes_only_to_the_smart_host_and_is_retried_while_it_is_down() {
    let t = TestSystem::ipl();
    // No smart host: other domains are refused.
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO relay.test");
    c.cmd("MAIL FROM:<a@x.example>");
    assert!(c.last("RCPT TO:<b@far.example>").starts_with("550 5.7.1"));
    drop(c);
    // A smart host that is down: the mail is queued (250), QUEU shows it, and it is sent when
    // the host comes up.
    let port = common::free_port();
    restart_smtp(
        &t,
        &format!("SMARTHOST 127.0.0.1:{port}\nRETRYINT 1 SECONDS\n"),
    );
    let (r, d) = send(
        &t,
        "maint@vmimap",
        &["b@far.example", "refuse@far.example"],
        "Subject: relayed\r\n\r\n..dot\r\nbody",
    );
    assert!(r.iter().all(|x| x.starts_with("250")), "{r:?}");
    assert_eq!(d, "250 2.0.0 Mail Delivered");
    // QUEU shows it (once *SPL has told SMTP of the queue file, a moment after the 250).
    let q = wait_for(10, "QUEU to show the queued mail", || {
        let (mut c, _) = Smtp::connect(t.ports.smtp);
        let q = c.cmd("QUEU");
        q.iter()
            .any(|l| l.contains("Retry Queue: 1 mail for the smart host"))
            .then_some(q)
    });
    assert!(
        q.iter()
            .any(|l| l.contains("<maint@vmimap> to b@far.example refuse@far.example")),
        "{q:?}"
    );
    let queued = reader(&t, "SMTP");
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(
        queued[0].contains("RELAY") && queued[0].contains("QUEUE"),
        "{queued:?}"
    );
    wait_for(10, "a retry to be logged", || {
        smtp_console(&t).contains("DTCSMT051W").then_some(())
    });
    let sink = SinkServer::start(port);
    let got = wait_for(20, "the smart host to get the mail", || {
        let g = sink.got.lock().unwrap();
        (!g.is_empty()).then(|| g[0].clone())
    });
    assert_eq!(got.from, "maint@vmimap");
    assert_eq!(got.to, ["b@far.example"]);
    let (received, rest) = split_received(&got.data);
    assert!(
        received.starts_with("Received: from exit.test"),
        "{received}"
    );
    assert_eq!(rest, b"Subject: relayed\r\n\r\n.dot\r\nbody\r\n");
    // The queue file is purged; the refused recipient is reported to the local sender.
    wait_for(10, "the queue to empty", || {
        reader(&t, "SMTP").is_empty().then_some(())
    });
    wait_for(10, "the report to MAINT", || {
        reader(&t, "MAINT")
            .iter()
            .any(|l| l.contains("SMTP") && l.contains("MAIL"))
            .then_some(())
    });
    // A client that may not relay is refused even with a smart host.
    restart_smtp(
        &t,
        &format!("SMARTHOST 127.0.0.1:{port}\nRELAYCLIENTS 10.0.0.0/8\n"),
    );
    let (mut c, _) = Smtp::connect(t.ports.smtp);
    c.cmd("EHLO relay.test");
    c.cmd("MAIL FROM:<a@x.example>");
    assert_eq!(
        c.last("RCPT TO:<b@far.example>"),
        "550 5.7.1 Relaying denied for your address"
    );
    t.assert_healthy();
}

#[test]
fn smsg_smtp_answers_its_administrators_only() {
    let t = TestSystem::ipl();
    let help = smsg(&t, "MAINT", "SMTP", "HELP");
    assert!(
        help.iter()
            .any(|l| l.contains("DTCSMT110I") && l.contains("QUEUES")),
        "{help:?}"
    );
    let stats = smsg(&t, "MAINT", "SMTP", "stats");
    assert!(
        stats
            .iter()
            .any(|l| l.starts_with("DTCSMT131I Connections: ")),
        "{stats:?}"
    );
    let q = smsg(&t, "MAINT", "SMTP", "QUEUES");
    assert!(q.iter().any(|l| l.contains("Retry Queue: 0")), "{q:?}");
    assert_eq!(
        smsg(&t, "MAINT", "SMTP", "TRACE"),
        ["DTCSMT140I Tracing of deliveries is on"]
    );
    let (r, d) = send(
        &t,
        "a@x.example",
        &["operator@vmimap"],
        "Subject: traced\r\n\r\nx",
    );
    assert!(r[0].starts_with("250") && d.starts_with("250"));
    wait_for(5, "a trace line", || {
        smtp_console(&t).contains("DTCSMT010I").then_some(())
    });
    assert_eq!(
        smsg(&t, "MAINT", "SMTP", "NOTRACE"),
        ["DTCSMT141I Tracing of deliveries is off"]
    );
    let bad = smsg(&t, "MAINT", "SMTP", "FROBNICATE");
    assert!(bad[0].starts_with("DTCSMT102E"), "{bad:?}");
    // DEMO is not in SMSGAUTHLIST.
    let refused = smsg(&t, "DEMO", "SMTP", "STATS");
    assert_eq!(
        refused,
        ["DTCSMT101E You are not authorized to issue SMTP commands"]
    );
    assert!(smtp_console(&t).contains("DTCSMT101E SMSG from DEMO refused"));
    // SHUTDOWN ends SMTP; TCPIP restarts it.
    let bye = smsg(&t, "MAINT", "SMTP", "SHUTDOWN");
    assert!(bye[0].starts_with("DTCSMT150I"), "{bye:?}");
    wait_for(20, "SMTP to end and be restarted", || {
        (smtp_console(&t).matches("DTCSMT001I").count() >= 2).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    t.assert_healthy();
}
