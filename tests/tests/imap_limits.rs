//! The IMAP server's limits, each set in IMAP CONFIG before IPL: MAXLITERAL, MAXLINE,
//! MAXUSERCONNECTIONS, MAXCONNECTIONS, LOGINTIMEOUT, MAXLOGINFAILS and LOGINDELAY; memory
//! under failed logins; STARTTLS (pipelined plaintext is not executed) and REQUIRETLS.
//!
//! The TLS side is Python's `ssl` module in a subprocess (the server's certificate is the
//! self-signed one first start makes, so the client does not verify it).

mod common;

use std::{
    thread,
    time::{Duration, Instant},
};

use common::{
    TestSystem,
    imapline::{ImapConn, python, status_of},
};

fn tagged_status(r: &[common::imapline::Resp], tag: &str) -> String {
    r.iter()
        .rev()
        .find_map(|r| r.tagged().filter(|x| x.0 == tag).map(|x| x.1.to_string()))
        .unwrap_or_else(|| panic!("no tagged response for {tag}: {r:?}"))
}

#[test]
fn literal_over_maxliteral_is_refused_and_a_line_over_maxline_is_bad() {
    let t = TestSystem::ipl_with_imap_config("MAXLITERAL 1K\nMAXLINE 1K\n");
    t.enroll("DEMO");
    let pw = t.passwords["DEMO"].clone();
    let port = t.ports.imap;
    let mut c = ImapConn::login(port, "DEMO", &pw);

    // A synchronizing literal one byte over the limit: tagged NO [TOOBIG], no go-ahead; the
    // client sends nothing more of the command and the session goes on.
    for (tag, ann) in [
        ("a1", "APPEND INBOX {1025}"),
        ("a2", "APPEND INBOX ~{1025}"),
        ("a3", "APPEND INBOX {99999999999}"),
        ("a4", "LOGIN {4294967296}"),
    ] {
        c.send(format!("{tag} {ann}\r\n").as_bytes()).unwrap();
        let r = c.until_tagged(tag);
        assert!(
            !r.iter().any(|r| r.is_continuation()),
            "{ann}: go-ahead for a literal over MAXLITERAL: {r:?}"
        );
        let last = r.last().unwrap();
        assert!(
            last.first.starts_with(&format!("{tag} NO [TOOBIG]")),
            "{ann}: {r:?}"
        );
        let r = c.command("n", "NOOP");
        assert_eq!(status_of(&r, "n").0, "OK", "session after {ann}: {r:?}");
    }

    // Exactly MAXLITERAL is accepted: the go-ahead, then OK.
    let body = "x".repeat(1024 - 40);
    let msg = format!("Subject: exactly at the limit\r\n\r\n{body}");
    let msg = format!("{msg}{}", "y".repeat(1024 - msg.len()));
    assert_eq!(msg.len(), 1024);
    c.send(b"b1 APPEND INBOX {1024}\r\n").unwrap();
    let go = c.read_resp().unwrap().unwrap();
    assert!(go.is_continuation(), "{go:?}");
    c.send(format!("{msg}\r\n").as_bytes()).unwrap();
    let r = c.until_tagged("b1");
    assert_eq!(tagged_status(&r, "b1"), "OK", "{r:?}");

    // A line of exactly MAXLINE bytes (CRLF included) is read; one byte more is BAD, and the
    // session goes on. A literal announced at the end of a line that is too long is not one.
    let pad = |total: usize, tail: &str| {
        let head = "l1 SELECT \"";
        let fill = total - head.len() - tail.len() - 2;
        format!("{head}{}{tail}\r\n", "m".repeat(fill))
    };
    let line = pad(1024, "\"");
    assert_eq!(line.len(), 1024);
    c.send(line.as_bytes()).unwrap();
    let r = c.until_tagged("l1");
    assert_eq!(
        tagged_status(&r, "l1"),
        "NO",
        "a line of MAXLINE bytes: {r:?}"
    );
    // (A NOOP follows each, so that a missing tagged answer shows instead of hanging.)
    let mut failures = Vec::new();
    for (what, line) in [
        ("one byte over", pad(1025, "\"")),
        ("far over", pad(100_000, "\"")),
        ("over, with a literal announced", pad(1100, "\" {5}")),
    ] {
        c.send(line.as_bytes()).unwrap();
        c.send(b"n NOOP\r\n").unwrap();
        let r = c.until_tagged("n");
        assert!(
            !r.iter().any(|r| r.is_continuation()),
            "{what}: go-ahead: {r:?}"
        );
        assert_eq!(
            tagged_status(&r, "n"),
            "OK",
            "session after a line {what}: {r:?}"
        );
        assert!(
            r.iter()
                .any(|r| r.first.contains("BAD") && r.first.contains("too long")),
            "{what}: no BAD: {r:?}"
        );
        if !r.iter().any(|r| r.first.starts_with("l1 BAD")) {
            failures.push(format!(
                "C: l1 SELECT \"mmm…\" ({} bytes, {what})\nS: {}\n   (no tagged l1 response: a client waits for it forever)",
                line.len(),
                r.iter().map(|r| r.first.clone()).collect::<Vec<_>>().join("\nS: ")
            ));
        }
    }
    // A long line in the middle of a command (after a literal) ends that command with BAD.
    c.send(b"l2 SEARCH TEXT {3}\r\n").unwrap();
    assert!(c.read_resp().unwrap().unwrap().is_continuation());
    let mut rest = b"abc ".to_vec();
    rest.extend(std::iter::repeat_n(b'z', 2000));
    rest.extend_from_slice(b"\r\n");
    c.send(&rest).unwrap();
    let r = c.until_tagged("l2");
    assert_eq!(tagged_status(&r, "l2"), "BAD", "{r:?}");
    let r = c.command("n", "NOOP");
    assert_eq!(status_of(&r, "n").0, "OK", "{r:?}");

    // A non-synchronizing literal over the limit cannot be refused: BYE, and the connection
    // closes.
    for ann in ["APPEND INBOX {1025+}", "APPEND INBOX ~{4294967296+}"] {
        let mut c = ImapConn::login(port, "DEMO", &pw);
        c.send(format!("z {ann}\r\n").as_bytes()).unwrap();
        let (got, closed) = c.until_closed(Duration::from_secs(10));
        assert!(closed, "{ann}: connection still open: {got:?}");
        assert!(
            got.iter().any(|r| r.is_bye()),
            "{ann}: closed without BYE: {got:?}"
        );
        assert!(!got.iter().any(|r| r.is_continuation()), "{got:?}");
    }
    // Also before login.
    let mut c2 = ImapConn::connect(port);
    c2.send(b"z LOGIN {2000+}\r\n").unwrap();
    let (got, closed) = c2.until_closed(Duration::from_secs(10));
    assert!(closed && got.iter().any(|r| r.is_bye()), "{got:?}");

    let r = c.command("n", "NOOP");
    assert_eq!(status_of(&r, "n").0, "OK", "{r:?}");
    t.assert_healthy();
    t.shutdown();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn connections_beyond_the_limits_are_refused() {
    let t = TestSystem::ipl_with_imap_config("MAXCONNECTIONS 6\nMAXUSERCONNECTIONS 2\n");
    t.enroll("DEMO");
    t.enroll("MAINT");
    let pw = t.passwords["DEMO"].clone();
    let mpw = t.passwords["MAINT"].clone();
    let port = t.ports.imap;

    // Two sessions for DEMO; the third login is refused with NO [LIMIT], and that connection
    // stays usable before login.
    let c1 = ImapConn::login(port, "DEMO", &pw);
    let c2 = ImapConn::login(port, "DEMO", &pw);
    let mut c3 = ImapConn::connect(port);
    let r = c3.command("a", &format!("LOGIN DEMO {pw}"));
    let (st, text) = status_of(&r, "a");
    assert_eq!(st, "NO", "third session for DEMO: {r:?}");
    assert!(text.starts_with("[LIMIT]"), "{r:?}");
    let r = c3.command("b", "NOOP");
    assert_eq!(status_of(&r, "b").0, "OK", "{r:?}");
    // The limit is per user: MAINT logs in.
    let c4 = ImapConn::login(port, "MAINT", &mpw);
    // Sessions in all: c1..c4, and two more connections make six.
    let c5 = ImapConn::connect(port);
    let c6 = ImapConn::connect(port);
    // The seventh is refused at connect.
    let mut c7 = ImapConn::connect_raw(port);
    let (got, closed) = c7.until_closed(Duration::from_secs(10));
    assert!(
        got.first()
            .is_some_and(|r| r.first.starts_with("* BYE [LIMIT]")),
        "seventh connection: {got:?}"
    );
    assert!(closed, "seventh connection left open: {got:?}");
    assert_eq!(got.len(), 1, "{got:?}");
    // The implicit-TLS port counts too: a TCP connection there is closed at once (no TLS).
    let mut c8 = ImapConn::connect_raw(t.ports.imaps);
    let (_, closed) = c8.until_closed(Duration::from_secs(10));
    assert!(closed, "eighth connection (TLS port) left open");

    // When one goes, a new connection is admitted, and DEMO may log in again.
    drop(c1);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut c9 = loop {
        let mut c = ImapConn::connect_raw(port);
        let g = c.read_resp().unwrap().unwrap();
        if g.first.starts_with("* OK") {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "no connection admitted after one closed: {g:?}"
        );
        thread::sleep(Duration::from_millis(100));
    };
    let r = c9.command("a", &format!("LOGIN DEMO {pw}"));
    assert_eq!(status_of(&r, "a").0, "OK", "{r:?}");
    drop((c2, c3, c4, c5, c6, c9));
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn login_timeout_ends_idle_unauthenticated_connections_only() {
    let t = TestSystem::ipl_with_imap_config("LOGINTIMEOUT 2\n");
    t.enroll("DEMO");
    let pw = t.passwords["DEMO"].clone();
    let port = t.ports.imap;

    // Each kind of idle unauthenticated connection is ended with BYE, well within 10 s: one
    // that sends nothing, one stuck in the middle of a line, one stuck in a literal, one that
    // asked for STARTTLS and never shakes hands.
    let kinds: [(&str, &[u8]); 4] = [
        ("silent", b""),
        ("half a line", b"a LOG"),
        ("a literal that never comes", b"a LOGIN {5}\r\nDE"),
        ("STARTTLS without a handshake", b"a STARTTLS\r\n"),
    ];
    let handles: Vec<_> = kinds
        .iter()
        .map(|&(what, bytes)| {
            let mut c = ImapConn::connect(port);
            thread::spawn(move || {
                let started = Instant::now();
                c.send(bytes).unwrap();
                let (got, closed) = c.until_closed(Duration::from_secs(15));
                (what, started.elapsed(), got, closed)
            })
        })
        .collect();
    // Meanwhile a logged-in session idles for 3 s and is still there.
    let mut a = ImapConn::login(port, "DEMO", &pw);
    thread::sleep(Duration::from_secs(3));
    let r = a.command("n", "NOOP");
    assert_eq!(
        status_of(&r, "n").0,
        "OK",
        "logged-in session after 3 s idle: {r:?}"
    );
    for h in handles {
        let (what, took, got, closed) = h.join().unwrap();
        assert!(closed, "{what}: still open after {took:?}: {got:?}");
        assert!(
            took < Duration::from_secs(10),
            "{what}: kept open for {took:?}"
        );
        assert!(
            took >= Duration::from_millis(1500),
            "{what}: closed after only {took:?}"
        );
        if what != "STARTTLS without a handshake" {
            assert!(
                got.iter().any(|r| r.is_bye()),
                "{what}: no BYE before closing: {got:?}"
            );
        }
        eprintln!("{what}: closed after {took:?}");
    }
    // Activity keeps an unauthenticated connection: NOOP every second for 4 s.
    let mut c = ImapConn::connect(port);
    for i in 0..4 {
        thread::sleep(Duration::from_secs(1));
        let r = c.command(&format!("k{i}"), "NOOP");
        assert_eq!(status_of(&r, &format!("k{i}")).0, "OK", "{r:?}");
    }
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn failed_logins_are_delayed_and_end_the_session_at_maxloginfails() {
    let t = TestSystem::ipl_with_imap_config("MAXLOGINFAILS 3\nLOGINDELAY 1\n");
    t.enroll("DEMO");
    let pw = t.passwords["DEMO"].clone();
    let port = t.ports.imap;

    let mut c = ImapConn::connect(port);
    let attempts = [
        ("f1", "LOGIN DEMO wrong".to_string()),
        // AUTHENTICATE PLAIN "\0DEMO\0wrong"
        ("f2", "AUTHENTICATE PLAIN AERFTU8Ad3Jvbmc=".to_string()),
        ("f3", "LOGIN NOSUCHUSER wrong".to_string()),
    ];
    for (i, (tag, cmd)) in attempts.iter().enumerate() {
        let started = Instant::now();
        c.send(format!("{tag} {cmd}\r\n").as_bytes()).unwrap();
        let r = c.until_tagged(tag);
        let took = started.elapsed();
        eprintln!("failed login {}: {took:?}", i + 1);
        assert!(
            took >= Duration::from_millis(900),
            "failure {} answered after {took:?}",
            i + 1
        );
        let last = r.last().unwrap();
        assert!(
            last.first
                .starts_with(&format!("{tag} NO [AUTHENTICATIONFAILED]")),
            "{r:?}"
        );
        if i < 2 {
            assert!(
                !r.iter().any(|r| r.is_bye()),
                "BYE after {} failures: {r:?}",
                i + 1
            );
        } else {
            assert!(
                r.iter().any(|r| r.is_bye()),
                "no BYE after the third failure: {r:?}"
            );
        }
    }
    let (got, closed) = c.until_closed(Duration::from_secs(10));
    assert!(closed, "still open after MAXLOGINFAILS: {got:?}");

    // The count is per session: a new connection logs in with the right password.
    let mut c = ImapConn::connect(port);
    let started = Instant::now();
    let r = c.command("g", &format!("LOGIN DEMO {pw}"));
    assert_eq!(status_of(&r, "g").0, "OK", "{r:?}");
    eprintln!("successful login: {:?}", started.elapsed());
    t.assert_healthy();
    t.shutdown();
}

#[test]
fn failed_logins_keep_memory_bounded() {
    let t = TestSystem::ipl();
    t.enroll("DEMO");
    let port = t.ports.imap;
    // Warm up: one failed login, so lazily made things (the dummy hash) exist.
    let mut c = ImapConn::connect(port);
    let r = c.command("w", "LOGIN DEMO wrong");
    assert_eq!(status_of(&r, "w").0, "NO");
    drop(c);
    thread::sleep(Duration::from_millis(300));
    let before = t.rss_kib();
    // 8 clients, each with 3 sessions of 2 failed logins: 48 failures.
    let handles: Vec<_> = (0..8)
        .map(|k| {
            thread::spawn(move || {
                for s in 0..3 {
                    let mut c = ImapConn::connect(port);
                    for i in 0..2 {
                        let tag = format!("c{k}s{s}i{i}");
                        let r = c.command(&tag, "LOGIN DEMO wrong");
                        assert_eq!(status_of(&r, &tag).0, "NO", "{r:?}");
                    }
                }
            })
        })
        .collect();
    let mut peak = before;
    while handles.iter().any(|h| !h.is_finished()) {
        peak = peak.max(t.rss_kib());
        thread::sleep(Duration::from_millis(20));
    }
    for h in handles {
        h.join().unwrap();
    }
    thread::sleep(Duration::from_secs(1));
    let after = t.rss_kib();
    eprintln!(
        "RSS around 48 failed logins: before {before} KiB, peak {peak} KiB, after {after} KiB (growth {} KiB)",
        after as i64 - before as i64
    );
    t.assert_healthy();
    t.shutdown();
    assert!(
        after < before + 64 * 1024,
        "48 failed logins grew the server from {before} KiB to {after} KiB (peak {peak} KiB)"
    );
}

/// Python: a plain connection, "a STARTTLS\r\nb NOOP\r\n" in one write, then TLS.
const STARTTLS_PY: &str = r#"
import socket, ssl, sys, time
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
def line():
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        b += c
    return b
print("GREETING", line())
s.sendall(b"a STARTTLS\r\nb NOOP\r\n")
while True:
    l = line()
    print("PLAIN", l)
    if not l or l.startswith(b"a "):
        break
# Anything more in plaintext (an answer to b) would be here within half a second.
s.settimeout(0.5)
try:
    extra = s.recv(4096, socket.MSG_PEEK)
    print("EXTRA", extra)
except socket.timeout:
    pass
s.settimeout(10)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
f = t.makefile("rb")
def cmd(tag, text):
    t.sendall(tag + b" " + text + b"\r\n")
    while True:
        l = f.readline()
        print("TLS", l)
        if not l or l.startswith(tag + b" "):
            return l
cmd(b"c", b"CAPABILITY")
cmd(b"d", b"LOGIN " + user.encode() + b" " + pw.encode())
cmd(b"e", b"NOOP")
cmd(b"g", b"LOGOUT")
"#;

#[test]
fn starttls_does_not_run_plaintext_pipelined_behind_it() {
    let t = TestSystem::ipl();
    t.enroll("DEMO");
    let pw = t.passwords["DEMO"].clone();
    let (code, out, err) = python(STARTTLS_PY, &[&t.ports.imap.to_string(), "DEMO", &pw]);
    assert_eq!(code, 0, "python failed:\n{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("PLAIN b'a OK")), "{out}");
    assert!(
        !lines.iter().any(|l| l.starts_with("EXTRA")),
        "plaintext after the STARTTLS OK:\n{out}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("b'b ") || l.contains("b\"b ")),
        "the command pipelined behind STARTTLS was answered:\n{out}"
    );
    let tls: Vec<&&str> = lines.iter().filter(|l| l.starts_with("TLS")).collect();
    assert!(tls.iter().any(|l| l.starts_with("TLS b'c OK")), "{out}");
    assert!(
        tls.iter()
            .any(|l| l.starts_with("TLS b'* CAPABILITY") && !l.contains("STARTTLS")),
        "STARTTLS still offered under TLS:\n{out}"
    );
    assert!(tls.iter().any(|l| l.starts_with("TLS b'd OK")), "{out}");
    assert!(tls.iter().any(|l| l.starts_with("TLS b'e OK")), "{out}");
    t.assert_healthy();
    t.shutdown();
}

/// Python: with REQUIRETLS YES, the plain port before and after STARTTLS, and the TLS port.
const REQUIRETLS_PY: &str = r#"
import base64, socket, ssl, sys
port, tlsport, user, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
class Conn:
    def __init__(self, sock, label, greeting):
        self.s, self.label = sock, label
        self.f = sock.makefile("rb")
        if greeting:
            print(self.label, "GREETING", self.f.readline())
    def cmd(self, tag, text):
        self.s.sendall(tag + b" " + text + b"\r\n")
        while True:
            l = self.f.readline()
            print(self.label, l)
            if not l or l.startswith(tag + b" "):
                return l
plain = socket.create_connection(("127.0.0.1", port))
plain.settimeout(10)
# Plain: read lines byte by byte (no buffering ahead of the TLS handshake).
def line():
    b = b""
    while not b.endswith(b"\n"):
        c = plain.recv(1)
        if not c:
            break
        b += c
    return b
def pcmd(tag, text):
    plain.sendall(tag + b" " + text + b"\r\n")
    while True:
        l = line()
        print("PLAIN", l)
        if not l or l.startswith(tag + b" "):
            return l
print("PLAIN GREETING", line())
pcmd(b"a", b"CAPABILITY")
pcmd(b"b", b"LOGIN " + user.encode() + b" " + pw.encode())
ir = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
pcmd(b"b2", b"AUTHENTICATE PLAIN " + ir)
pcmd(b"b3", b"SELECT INBOX")
pcmd(b"c", b"STARTTLS")
t = Conn(ctx.wrap_socket(plain), "STARTTLS", False)
t.s.settimeout(10)
t.cmd(b"d", b"CAPABILITY")
t.cmd(b"e", b"LOGIN " + user.encode() + b" " + pw.encode())
t.cmd(b"f", b"SELECT INBOX")
t.cmd(b"g", b"LOGOUT")
raw = socket.create_connection(("127.0.0.1", tlsport))
raw.settimeout(10)
i = Conn(ctx.wrap_socket(raw), "IMAPS", True)
i.cmd(b"h", b"CAPABILITY")
i.cmd(b"j", b"AUTHENTICATE PLAIN " + ir)
i.cmd(b"k", b"LOGOUT")
"#;

#[test]
fn requiretls_disables_login_until_starttls() {
    let t = TestSystem::ipl_with_imap_config("REQUIRETLS YES\n");
    t.enroll("DEMO");
    let pw = t.passwords["DEMO"].clone();
    let (code, out, err) = python(
        REQUIRETLS_PY,
        &[
            &t.ports.imap.to_string(),
            &t.ports.imaps.to_string(),
            "DEMO",
            &pw,
        ],
    );
    assert_eq!(code, 0, "python failed:\n{out}\n{err}");
    let has = |prefix: &str| out.lines().any(|l| l.starts_with(prefix));
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{out}"))
            .to_string()
    };
    // Plain, before STARTTLS: LOGINDISABLED, no AUTH=PLAIN, in the greeting and CAPABILITY.
    for l in [line("PLAIN GREETING"), line("PLAIN b'* CAPABILITY")] {
        assert!(l.contains("LOGINDISABLED") && l.contains("STARTTLS"), "{l}");
        assert!(!l.contains("AUTH=PLAIN"), "{l}");
    }
    assert!(has("PLAIN b'b NO [PRIVACYREQUIRED]"), "{out}");
    assert!(has("PLAIN b'b2 NO [PRIVACYREQUIRED]"), "{out}");
    assert!(has("PLAIN b'b3 BAD"), "{out}");
    assert!(has("PLAIN b'c OK"), "{out}");
    // After STARTTLS: AUTH=PLAIN, no LOGINDISABLED, login works.
    let cap = line("STARTTLS b'* CAPABILITY");
    assert!(
        cap.contains("AUTH=PLAIN") && !cap.contains("LOGINDISABLED"),
        "{cap}"
    );
    assert!(
        !cap["STARTTLS ".len()..].contains("STARTTLS"),
        "STARTTLS offered under TLS: {cap}"
    );
    assert!(has("STARTTLS b'e OK"), "{out}");
    assert!(has("STARTTLS b'f OK"), "{out}");
    // The TLS port: login works from the start.
    let cap = line("IMAPS b'* CAPABILITY");
    assert!(
        cap.contains("AUTH=PLAIN") && !cap.contains("LOGINDISABLED"),
        "{cap}"
    );
    assert!(has("IMAPS b'j OK"), "{out}");
    t.assert_healthy();
    t.shutdown();
}
