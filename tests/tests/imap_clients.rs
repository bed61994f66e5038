//! Real IMAP clients against a freshly IPLed system: Python's imaplib and curl log in with a
//! user's CP directory password (plain with STARTTLS and implicit TLS), and exercise the
//! mailbox commands; the answers are checked byte for byte.
//!
//! Sessions between two connections (unsolicited FETCH/EXPUNGE/EXISTS, IDLE latency) are in
//! imap_sessions.rs, restarts in imap_durability.rs, the administrator interface in
//! imap_admin.rs, the conformance scripts in imap_conformance.rs.

mod common;
mod imap_support;

use imap_support::{
    Imap, b64_decode, b64_encode, code_in, curl, curl_ok, flags_of, message, python_json, quote,
    system_with_demo,
};
use serde_json::Value;

/// Logs in over plain+STARTTLS (verifying the system's certificate) and implicit TLS
/// (unverified); prints what it saw as JSON.
const PY_LOGIN: &str = r#"
import imaplib, json, ssl, sys
host, port, tlsport, user, pw, cafile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
out = {}

m = imaplib.IMAP4(host, port)
out['plain_caps'] = sorted(m.capabilities)
ctx = ssl.create_default_context(cafile=cafile)
typ, data = m.starttls(ssl_context=ctx)
out['starttls'] = typ
out['tls_caps'] = sorted(m.capabilities)
out['cipher'] = m.sock.version()
typ, data = m.login(user, pw)
out['login'] = [typ, [d.decode() for d in data]]
typ, data = m.select('INBOX')
out['select'] = [typ, [d.decode() for d in data]]
out['uidvalidity'] = m.response('UIDVALIDITY')[1][0].decode()
typ, data = m.search(None, 'ALL')
out['search'] = [typ, [d.decode() for d in data]]
typ, data = m.list()
out['list'] = sorted(d.decode() for d in data)
out['logout'] = m.logout()[0]

s = imaplib.IMAP4_SSL(host, tlsport, ssl_context=ssl._create_unverified_context())
out['ssl_caps'] = sorted(s.capabilities)
typ, data = s.login(user, pw)
out['ssl_login'] = typ
typ, data = s.select('INBOX', readonly=True)
out['ssl_select'] = [typ, [d.decode() for d in data]]
typ, data = s.status('INBOX', '(MESSAGES UNSEEN UIDNEXT)')
out['ssl_status'] = [typ, [d.decode() for d in data]]
s.logout()
print(json.dumps(out))
"#;

#[test]
fn enrolled_user_logs_in_with_directory_password_over_starttls_and_tls() {
    let (t, pw) = system_with_demo();
    let cert = t.dir.join("tls/imapd.crt");
    let (imap, imaps) = (t.ports.imap.to_string(), t.ports.imaps.to_string());

    // Python imaplib.
    let v = python_json(
        PY_LOGIN,
        &[
            "127.0.0.1",
            &imap,
            &imaps,
            "DEMO",
            &pw,
            cert.to_str().unwrap(),
        ],
    );
    let caps = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    assert!(caps("plain_caps").contains(&"STARTTLS".into()), "{v}");
    assert!(caps("plain_caps").contains(&"IMAP4REV1".into()), "{v}");
    assert_eq!(v["starttls"], "OK", "{v}");
    assert!(
        !caps("tls_caps").contains(&"STARTTLS".into()),
        "STARTTLS still offered after STARTTLS: {v}"
    );
    assert!(v["cipher"].as_str().unwrap().starts_with("TLSv1."), "{v}");
    assert_eq!(v["login"][0], "OK", "{v}");
    assert_eq!(
        v["select"],
        serde_json::json!(["OK", ["0"]]),
        "empty INBOX: {v}"
    );
    assert!(
        v["uidvalidity"].as_str().unwrap().parse::<u32>().unwrap() > 0,
        "{v}"
    );
    assert_eq!(v["search"], serde_json::json!(["OK", [""]]), "{v}");
    let list: Vec<&str> = v["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(list.iter().any(|l| l.ends_with("\"/\" INBOX")), "{list:?}");
    for special in ["\\Sent", "\\Drafts", "\\Trash", "\\Junk"] {
        assert!(
            list.iter().any(|l| l.contains(special)),
            "no {special} folder: {list:?}"
        );
    }
    assert_eq!(v["logout"], "BYE", "{v}");
    assert!(!caps("ssl_caps").contains(&"STARTTLS".into()), "{v}");
    assert_eq!(v["ssl_login"], "OK", "{v}");
    assert_eq!(v["ssl_select"], serde_json::json!(["OK", ["0"]]), "{v}");
    let status = v["ssl_status"][1][0].as_str().unwrap();
    assert!(
        status.contains("MESSAGES 0")
            && status.contains("UNSEEN 0")
            && status.contains("UIDNEXT 1"),
        "{status}"
    );

    // curl: plain port with STARTTLS required (-k: self-signed), then implicit TLS verified
    // against the system's certificate.
    let user = format!("DEMO:{pw}");
    let starttls = curl_ok(&[
        "--ssl-reqd",
        "-k",
        "-u",
        &user,
        &format!("imap://127.0.0.1:{imap}/INBOX"),
        "-X",
        "EXAMINE INBOX",
    ]);
    let text = String::from_utf8_lossy(&starttls);
    assert!(text.contains("* 0 EXISTS"), "{text}");
    assert!(text.contains("[UIDVALIDITY "), "{text}");
    let tls = curl_ok(&[
        "--cacert",
        cert.to_str().unwrap(),
        "-u",
        &user,
        &format!("imaps://127.0.0.1:{imaps}/INBOX"),
        "-X",
        "EXAMINE INBOX",
    ]);
    let text = String::from_utf8_lossy(&tls);
    assert!(text.contains("* 0 EXISTS"), "{text}");
    // A search of the empty INBOX finds nothing.
    let search = curl_ok(&[
        "-k",
        "-u",
        &user,
        &format!("imaps://127.0.0.1:{imaps}/INBOX?ALL"),
    ]);
    assert_eq!(String::from_utf8_lossy(&search).trim_end(), "* SEARCH");
    t.assert_healthy();
}

#[test]
fn login_refused_for_wrong_password_unknown_and_unenrolled_users() {
    let t = common::TestSystem::ipl();
    let port = t.ports.imap;
    let demo_pw = t.passwords["DEMO"].clone();
    let maint_pw = t.passwords["MAINT"].clone();

    // Before enrolment DEMO's right password does not open a mailbox.
    let mut c = Imap::connect(port, "pre-enrol");
    let r = c.cmd(&format!("LOGIN DEMO {}", quote(&demo_pw)));
    assert_eq!(r.status(), "NO", "not enrolled yet: {}", c.dump());

    imap_support::enroll(&t, "DEMO");

    let cases = [
        (
            "DEMO wrong password",
            "DEMO",
            "not-the-password".to_string(),
        ),
        ("DEMO password with a suffix", "DEMO", format!("{demo_pw}x")),
        ("DEMO empty password", "DEMO", String::new()),
        ("MAINT not enrolled", "MAINT", maint_pw.clone()),
        ("unknown user", "NOSUCHU", demo_pw.clone()),
        ("userid too long", "DEMODEMODEMO", demo_pw.clone()),
        ("AUTOONLY machine", "IMAP", demo_pw.clone()),
    ];
    let mut refusals = Vec::new();
    for (what, user, pw) in &cases {
        let mut c = Imap::connect(port, what);
        let r = c.cmd(&format!("LOGIN {user} {}", quote(pw)));
        assert_eq!(r.status(), "NO", "{what}: {}", c.dump());
        // Still not authenticated: a SELECT is refused.
        let r2 = c.cmd("SELECT INBOX");
        assert_ne!(
            r2.status(),
            "OK",
            "{what}: SELECT after refused login\n{}",
            c.dump()
        );
        // The refusal text does not tell unknown users from wrong passwords.
        refusals.push(r.tagged.split_once(" NO ").unwrap().1.to_string());
        c.logout();
    }
    assert!(
        refusals.windows(2).all(|w| w[0] == w[1]),
        "refusals differ (they tell who exists): {refusals:?}"
    );

    // AUTHENTICATE PLAIN is refused the same way.
    let mut c = Imap::connect(port, "auth-plain");
    let b64 = b64_encode(format!("\0MAINT\0{maint_pw}").as_bytes());
    let r = c.cmd(&format!("AUTHENTICATE PLAIN {b64}"));
    assert_eq!(r.status(), "NO", "{}", c.dump());
    let b64 = b64_encode(format!("\0DEMO\0{demo_pw}").as_bytes());
    let r = c.cmd(&format!("AUTHENTICATE PLAIN {b64}"));
    assert!(r.ok(), "{}", c.dump());
    c.logout();

    // The right password for the enrolled user works (and the session then works).
    let mut c = Imap::login(port, "demo", "DEMO", &demo_pw);
    let r = c.ok("SELECT INBOX");
    assert!(
        r.lines().contains(&"* 0 EXISTS".to_string()),
        "{}",
        c.dump()
    );
    c.logout();
    // Userids are case-insensitive, as on CP.
    Imap::login(port, "demo lower", "demo", &demo_pw).logout();

    // curl: exit 67 (login denied) for a wrong password and for MAINT; 0 for DEMO.
    for (user, pw) in [("DEMO", "wrong"), ("MAINT", maint_pw.as_str())] {
        let out = curl(&[
            "-k",
            "-u",
            &format!("{user}:{pw}"),
            &format!("imaps://127.0.0.1:{}/INBOX", t.ports.imaps),
            "-X",
            "EXAMINE INBOX",
        ]);
        assert_eq!(
            out.status.code(),
            Some(67),
            "{user}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    curl_ok(&[
        "--ssl-reqd",
        "-k",
        "-u",
        &format!("DEMO:{demo_pw}"),
        &format!("imap://127.0.0.1:{port}/INBOX"),
        "-X",
        "EXAMINE INBOX",
    ]);
    t.assert_healthy();
}

/// imaplib: create, append, select, fetch, store, search, copy, move, expunge and IDLE (IDLE by
/// raw lines on imaplib's socket; a second imaplib connection appends). Every step records the
/// server lines it read.
const PY_MAILBOX: &str = r#"
import imaplib, json, sys, base64
host, port, user, pw, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
msgs = [open(f"{d}/m{i}.eml", "rb").read() for i in range(1, 5)]

class Rec(imaplib.IMAP4):
    lines = []
    def readline(self):
        l = super().readline()
        self.lines.append(l.decode('latin-1').rstrip('\r\n'))
        return l

def s(x):
    if isinstance(x, bytes): return x.decode('latin-1')
    if isinstance(x, (tuple, list)): return [s(e) for e in x]
    return x

out = {}
m = Rec(host, port)
m.login(user, pw)
def step(name, res):
    typ, data = res
    out[name] = {'typ': typ, 'data': s(data), 'lines': Rec.lines}
    Rec.lines = []
    return res

step('create', m.create('Archive'))
step('append1', m.append('INBOX', r'(\Seen)', None, msgs[0]))
step('append2', m.append('INBOX', None, None, msgs[1]))
step('append3', m.append('INBOX', r'(\Flagged $Work)', None, msgs[2]))
step('select', m.select('INBOX'))
step('fetch_meta', m.fetch('1:3', '(UID FLAGS RFC822.SIZE)'))
bodies = []
for i in (1, 2, 3):
    typ, data = m.fetch(str(i), '(BODY.PEEK[])')
    bodies.append(base64.b64encode(data[0][1]).decode())
out['bodies'] = bodies
step('flags_after_peek', m.fetch('1:3', '(FLAGS)'))
step('store', m.store('2', '+FLAGS', r'(\Answered)'))
step('store_silent', m.store('3', '+FLAGS.SILENT', r'(\Draft)'))
step('search_flagged', m.search(None, 'FLAGGED'))
step('search_unseen', m.search(None, 'UNSEEN'))
step('search_subject', m.search(None, 'SUBJECT', '"second message"'))
step('search_body', m.uid('SEARCH', 'BODY', 'pineapple'))
step('search_keyword', m.search(None, 'KEYWORD', '$Work'))
step('search_or', m.search(None, 'OR', 'ANSWERED', 'SEEN'))
step('copy', m.copy('1', 'Archive'))
uid2 = out['fetch_meta']['data'][1].split()[2]
step('move', m.uid('MOVE', uid2, 'Archive'))
step('after_move', m.fetch('1:*', '(UID FLAGS)'))
step('delete', m.store('1', '+FLAGS', r'(\Deleted)'))
step('expunge', m.expunge())
step('after_expunge', m.fetch('1:*', '(UID FLAGS)'))

# IDLE on m; the second connection appends.
tag = m._new_tag()
m.send(tag + b' IDLE\r\n')
cont = m.readline()
m2 = imaplib.IMAP4(host, port)
m2.login(user, pw)
out['idle_append'] = s(m2.append('INBOX', None, None, msgs[3]))
idle = []
while True:
    l = m.readline().decode('latin-1').rstrip('\r\n')
    idle.append(l)
    if l.endswith('EXISTS'):
        break
m.send(b'DONE\r\n')
while True:
    l = m.readline().decode('latin-1').rstrip('\r\n')
    idle.append(l)
    if l.startswith(tag.decode() + ' '):
        break
del m.tagged_commands[tag]
out['idle'] = {'cont': cont.decode('latin-1').rstrip('\r\n'), 'lines': idle}
Rec.lines = []
step('after_idle', m.fetch('1:*', '(UID FLAGS)'))
typ, data = m.fetch('2', '(BODY.PEEK[])')
out['idle_body'] = base64.b64encode(data[0][1]).decode()
m2.logout()

step('select_archive', m.select('Archive'))
step('archive_meta', m.fetch('1:*', '(UID FLAGS)'))
ab = []
for i in (1, 2):
    typ, data = m.fetch(str(i), '(BODY.PEEK[])')
    ab.append(base64.b64encode(data[0][1]).decode())
out['archive_bodies'] = ab
step('status_inbox', m.status('INBOX', '(MESSAGES UIDNEXT UNSEEN)'))
m.logout()
print(json.dumps(out))
"#;

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
        .collect()
}

fn b64(v: &Value) -> Vec<u8> {
    b64_decode(v.as_str().unwrap())
}

#[test]
fn imaplib_and_curl_mailbox_commands() {
    let (t, pw) = system_with_demo();
    let tmp = tempfile::tempdir().unwrap();
    let msgs = [
        message("first message", "Hello from the first message.\r\nSecond line."),
        message("second message", "A pineapple in the second body."),
        // Long lines, 8-bit, a line with a lone dot and a trailing space: bytes come back as sent.
        format!(
            "From: Bob <bob@example.org>\r\nSubject: third\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\u{fc}\u{df}e \u{2014} {}\r\n.\r\ntrailing space \r\n",
            "x".repeat(900)
        )
        .into_bytes(),
        message("fourth message", "Arrives during IDLE."),
    ];
    for (i, m) in msgs.iter().enumerate() {
        std::fs::write(tmp.path().join(format!("m{}.eml", i + 1)), m).unwrap();
    }
    let port = t.ports.imap.to_string();
    let v = python_json(
        PY_MAILBOX,
        &[
            "127.0.0.1",
            &port,
            "DEMO",
            &pw,
            tmp.path().to_str().unwrap(),
        ],
    );
    let typ = |k: &str| v[k]["typ"].as_str().unwrap_or_default().to_string();
    let data = |k: &str| strs(&v[k]["data"]);
    let lines = |k: &str| strs(&v[k]["lines"]);
    let ctx = || serde_json::to_string_pretty(&v).unwrap();

    assert_eq!(typ("create"), "OK", "{}", ctx());
    // APPENDUID: one UIDVALIDITY, UIDs 1, 2, 3.
    let mut uidvalidity = String::new();
    for (i, k) in ["append1", "append2", "append3"].iter().enumerate() {
        assert_eq!(typ(k), "OK", "{}", ctx());
        let au = code_in(&data(k)[0], "APPENDUID").unwrap_or_else(|| panic!("{}", ctx()));
        if i == 0 {
            uidvalidity = au[0].clone();
        }
        assert_eq!(
            au,
            vec![uidvalidity.clone(), (i + 1).to_string()],
            "{}",
            ctx()
        );
    }
    // SELECT.
    assert_eq!(data("select"), vec!["3"], "{}", ctx());
    let sel = lines("select");
    for want in [
        "* 3 EXISTS".to_string(),
        format!("* OK [UIDVALIDITY {uidvalidity}] UIDs valid"),
        "* OK [UIDNEXT 4] Predicted next UID".to_string(),
    ] {
        assert!(sel.contains(&want), "SELECT lacks {want:?}: {sel:?}");
    }
    assert!(sel.iter().any(|l| l.contains("[UNSEEN 2]")), "{sel:?}");
    assert!(
        sel.iter()
            .any(|l| l.starts_with("* OK [PERMANENTFLAGS (") && l.contains("\\*")),
        "{sel:?}"
    );
    assert!(
        sel.iter()
            .any(|l| l.starts_with("* FLAGS (") && l.contains("$Work")),
        "FLAGS lacks the keyword: {sel:?}"
    );
    assert!(sel.last().unwrap().contains("OK [READ-WRITE]"), "{sel:?}");

    // FETCH metadata: UIDs, flags as appended, sizes of the bytes.
    let meta = data("fetch_meta");
    let want_flags = ["\\Seen", "", "\\Flagged $Work"];
    assert_eq!(meta.len(), 3, "{meta:?}");
    for (i, l) in meta.iter().enumerate() {
        let n = i + 1;
        assert!(l.starts_with(&format!("{n} (")), "{l}");
        assert!(l.contains(&format!("UID {n}")), "{l}");
        assert!(l.contains(&format!("RFC822.SIZE {}", msgs[i].len())), "{l}");
        let mut want: Vec<&str> = want_flags[i].split_whitespace().collect();
        want.sort();
        assert_eq!(flags_of(l), want, "message {n}: {l}");
    }
    // BODY.PEEK[] gives the bytes appended, and does not set \Seen.
    for (i, b) in v["bodies"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            b64(b),
            msgs[i],
            "message {} bytes differ:\n{}",
            i + 1,
            String::from_utf8_lossy(&b64(b))
        );
    }
    let after_peek = data("flags_after_peek");
    assert!(
        !after_peek[1].contains("\\Seen"),
        "PEEK set \\Seen: {after_peek:?}"
    );

    // STORE: the new flags come back; .SILENT gives no FETCH.
    assert_eq!(typ("store"), "OK");
    let st = data("store");
    assert_eq!(st.len(), 1, "{}", ctx());
    assert!(st[0].starts_with("2 (FLAGS ("), "{st:?}");
    assert_eq!(flags_of(&st[0]), vec!["\\Answered"], "{st:?}");
    assert_eq!(typ("store_silent"), "OK");
    assert!(
        !lines("store_silent").iter().any(|l| l.contains("FETCH")),
        "{:?}",
        lines("store_silent")
    );

    // SEARCH.
    assert_eq!(data("search_flagged"), vec!["3"]);
    assert_eq!(data("search_unseen"), vec!["2 3"]);
    assert_eq!(data("search_subject"), vec!["2"]);
    assert_eq!(data("search_body"), vec!["2"], "UID SEARCH BODY");
    assert_eq!(data("search_keyword"), vec!["3"]);
    assert_eq!(data("search_or"), vec!["1 2"]);

    // COPY: COPYUID with Archive's UIDVALIDITY, source UID 1 -> 1.
    assert_eq!(typ("copy"), "OK", "{}", ctx());
    let cu = code_in(&data("copy")[0], "COPYUID").unwrap_or_else(|| panic!("{}", ctx()));
    assert_eq!(cu[1..], ["1", "1"], "{cu:?}");
    let archive_validity = cu[0].clone();
    // MOVE: COPYUID (untagged OK or tagged) 2 -> 2, and an EXPUNGE of message 2.
    assert_eq!(typ("move"), "OK", "{}", ctx());
    let mv = lines("move");
    let copyuid = mv
        .iter()
        .find_map(|l| code_in(l, "COPYUID"))
        .unwrap_or_else(|| panic!("MOVE without COPYUID: {mv:?}"));
    assert_eq!(
        copyuid,
        vec![archive_validity.clone(), "2".into(), "2".into()]
    );
    assert!(mv.contains(&"* 2 EXPUNGE".to_string()), "{mv:?}");
    let after_move = data("after_move");
    assert_eq!(after_move.len(), 2, "{after_move:?}");
    assert!(after_move[0].contains("UID 1 ") && after_move[1].contains("UID 3 "));

    // EXPUNGE of message 1 (\Deleted).
    assert!(data("delete")[0].contains("\\Deleted"), "{}", ctx());
    assert_eq!(typ("expunge"), "OK");
    assert!(
        lines("expunge").contains(&"* 1 EXPUNGE".to_string()),
        "{}",
        ctx()
    );
    let after = data("after_expunge");
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(
        after[0].starts_with("1 (") && after[0].contains("UID 3"),
        "{after:?}"
    );

    // IDLE: continuation, then "* 2 EXISTS" for the other connection's APPEND, then OK.
    let idle = &v["idle"];
    assert!(idle["cont"].as_str().unwrap().starts_with('+'), "{idle}");
    let il = strs(&idle["lines"]);
    assert!(il.contains(&"* 2 EXISTS".to_string()), "{il:?}");
    assert!(il.last().unwrap().contains(" OK"), "{il:?}");
    let ia = strs(&v["idle_append"][1]);
    assert_eq!(
        code_in(&ia[0], "APPENDUID").unwrap(),
        vec![uidvalidity.clone(), "4".into()]
    );
    let after_idle = data("after_idle");
    assert_eq!(after_idle.len(), 2, "{after_idle:?}");
    assert!(after_idle[1].contains("UID 4"), "{after_idle:?}");
    assert_eq!(b64(&v["idle_body"]), msgs[3]);

    // Archive: the copied and the moved message, flags kept, bytes unchanged.
    assert_eq!(data("select_archive"), vec!["2"]);
    let am = data("archive_meta");
    assert!(
        am[0].contains("UID 1") && am[0].contains("\\Seen"),
        "{am:?}"
    );
    assert!(
        am[1].contains("UID 2") && am[1].contains("\\Answered"),
        "{am:?}"
    );
    let ab = v["archive_bodies"].as_array().unwrap();
    assert_eq!(b64(&ab[0]), msgs[0]);
    assert_eq!(b64(&ab[1]), msgs[1]);
    let st = data("status_inbox")[0].clone();
    assert!(
        st.contains("MESSAGES 2") && st.contains("UIDNEXT 5") && st.contains("UNSEEN 2"),
        "{st}"
    );

    // curl: the message by UID (UID 3 is the third message, still in INBOX) byte for byte, a
    // LIST with the new folder, and the moved message fetched from Archive.
    let user = format!("DEMO:{pw}");
    let url = |path: &str| format!("imap://127.0.0.1:{port}/{path}");
    let got = curl_ok(&["-u", &user, &url("INBOX;UID=3")]);
    assert_eq!(
        got,
        msgs[2],
        "curl INBOX;UID=3:\n{}",
        String::from_utf8_lossy(&got)
    );
    let got = curl_ok(&["-u", &user, &url("Archive;UID=2")]);
    assert_eq!(got, msgs[1]);
    // Sections: the text (after the blank line) and one header field.
    let got = curl_ok(&["-u", &user, &url("INBOX;UID=4;SECTION=TEXT")]);
    let split = imap_support::find(&msgs[3], b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got, &msgs[3][split..]);
    let got = curl_ok(&[
        "-u",
        &user,
        &url("INBOX;UID=4;SECTION=HEADER.FIELDS%20(SUBJECT)"),
    ]);
    assert_eq!(got, b"Subject: fourth message\r\n\r\n");
    let list = String::from_utf8(curl_ok(&["-u", &user, &url("")])).unwrap();
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    for want in ["INBOX", "Archive", "Sent", "Drafts", "Trash", "Junk"] {
        assert!(names.contains(&want), "LIST lacks {want}: {list}");
    }
    assert!(list.lines().all(|l| l.starts_with("* LIST (")), "{list}");
    // A UID that does not exist: curl fails rather than giving bytes.
    let out = curl(&["-u", &user, &url("INBOX;UID=99")]);
    assert!(
        !out.status.success() || out.stdout.is_empty(),
        "UID 99: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    t.assert_healthy();
}

/// Commands pipelined behind STARTTLS in plaintext are discarded, not run before or after the
/// handshake (the STARTTLS command-injection class of bugs, CVE-2011-0411 and kin); STARTTLS is
/// offered once and refused after TLS is up and on the TLS port.
const PY_STARTTLS: &str = r#"
import json, socket, ssl, sys, time
port, tlsport = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl._create_unverified_context()
def read_until(sock, tag):
    data = b''
    sock.settimeout(10)
    while not any(l.startswith(tag + b' ') for l in data.split(b'\r\n')):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode('latin-1')
out = {}
s = socket.create_connection(('127.0.0.1', port))
s.settimeout(10)
out['greeting'] = s.recv(4096).decode()
s.sendall(b'a STARTTLS\r\nb CAPABILITY\r\nc LOGIN DEMO x\r\n')
out['starttls'] = read_until(s, b'a')
t = ctx.wrap_socket(s)
t.sendall(b'd NOOP\r\n')
out['after_tls'] = read_until(t, b'd')
t.sendall(b'e STARTTLS\r\n')
out['second_starttls'] = read_until(t, b'e')
t.close()
u = ctx.wrap_socket(socket.create_connection(('127.0.0.1', tlsport)))
u.settimeout(10)
out['tls_greeting'] = u.recv(4096).decode()
u.sendall(b'f STARTTLS\r\n')
out['tls_port_starttls'] = read_until(u, b'f')
u.close()
print(json.dumps(out))
"#;

#[test]
fn starttls_discards_pipelined_plaintext() {
    let (t, _) = system_with_demo();
    let v = python_json(
        PY_STARTTLS,
        &[&t.ports.imap.to_string(), &t.ports.imaps.to_string()],
    );
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    assert!(s("greeting").starts_with("* OK"), "{v}");
    assert_eq!(s("starttls"), "a OK Begin TLS negotiation now\r\n", "{v}");
    // Only d's answer arrives over TLS: b and c were discarded.
    let after = s("after_tls");
    assert!(
        !after.contains("b ") && !after.contains("c ") && !after.contains("CAPABILITY"),
        "plaintext pipelined after STARTTLS was executed: {after:?}"
    );
    assert!(after.starts_with("d OK"), "{after:?}");
    let second = s("second_starttls");
    assert!(
        second.starts_with("e BAD") || second.starts_with("e NO"),
        "second STARTTLS: {second:?}"
    );
    assert!(!s("tls_greeting").contains("STARTTLS"), "{v}");
    let on_tls = s("tls_port_starttls");
    assert!(
        on_tls.starts_with("f BAD") || on_tls.starts_with("f NO"),
        "STARTTLS on the TLS port: {on_tls:?}"
    );
    t.assert_healthy();
}

#[test]
fn failed_logins_end_the_session() {
    let (t, pw) = system_with_demo();
    let mut c = Imap::connect(t.ports.imap, "guesser");
    for i in 1..=3 {
        let tag = c.send(&format!("LOGIN DEMO guess{i}"));
        let r = c.finish(&tag);
        assert_eq!(r.status(), "NO", "{}", c.dump());
        if i == 3 {
            // IMAP CONFIG's MAXLOGINFAILS (3 by default): BYE and the connection closes.
            assert!(
                r.lines().iter().any(|l| l.starts_with("* BYE")),
                "no BYE after 3 failed logins\n{}",
                c.dump()
            );
            assert!(c.try_read_resp().is_none(), "still open\n{}", c.dump());
        }
    }
    // Another connection may still log in.
    Imap::login(t.ports.imap, "owner", "DEMO", &pw).logout();
    t.assert_healthy();
}
