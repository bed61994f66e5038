//! `vmimap import` and `vmimap export` on a stopped system: the corpus mbox in and out byte for
//! byte (apart from `From ` lines) with its From-line dates as INTERNALDATE, a Maildir with
//! flags and Maildir++ subfolders in and out, quota, and bad input — each checked through a real
//! IMAP client (Python's imaplib) after the system is IPLed again.

mod common;
mod imap_support;

use std::{
    collections::BTreeSet,
    fs::File,
    path::{Path, PathBuf},
    time::{Duration, UNIX_EPOCH},
};

use common::{HostOut, TestSystem};
use imap_support::{admin, enroll, python_json};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/small.mbox"
);

fn run(t: &TestSystem, args: &[&str]) -> HostOut {
    let out = t.run(args);
    HostOut {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(t: &TestSystem, args: &[&str]) -> HostOut {
    let out = run(t, args);
    assert_eq!(out.code, 0, "vmimap {args:?}: {out:?}");
    out
}

/// Asserts exit status 1 and an error on standard error containing every one of `words`.
fn fails(t: &TestSystem, args: &[&str], words: &[&str]) -> HostOut {
    let out = run(t, args);
    assert_eq!(out.code, 1, "vmimap {args:?} should fail: {out:?}");
    assert!(out.stderr.starts_with("vmimap: "), "{out:?}");
    for w in words {
        assert!(out.stderr.contains(w), "{w:?} missing: {out:?}");
    }
    out
}

fn without_from_lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|&c| c == b'\n')
        .filter(|l| !l.starts_with(b"From "))
        .collect()
}

/// Dates of the `From ` lines, as Python reads them (UTC seconds).
const PY_FROM_DATES: &str = r#"
import calendar, time
def from_dates(path):
    out = []
    for l in open(path, 'rb'):
        if l.startswith(b'From '):
            d = l[5:].decode().split(None, 1)[1].strip()
            out.append(calendar.timegm(time.strptime(d, '%a %b %d %H:%M:%S %Y')))
    return out
"#;

/// Folder contents as imaplib sees them: for each message its INTERNALDATE (UTC seconds),
/// FLAGS and whole text.
const PY_DUMP: &str = r#"
import imaplib, json, sys, re, calendar, time, base64
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4('127.0.0.1', port)
m.login(user, pw)
res = {'list': sorted(l.decode().rsplit(' ', 1)[1].strip('"') for l in m.list()[1])}
for box in sys.argv[4:]:
    typ, d = m.select('"%s"' % box, readonly=True)
    n = int(d[0])
    msgs = []
    if n:
        typ, d = m.fetch('1:*', '(UID INTERNALDATE FLAGS BODY.PEEK[])')
        for item in d:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            date = re.search(r'INTERNALDATE "([^"]+)"', head).group(1)
            secs = calendar.timegm(time.strptime(date[:20], '%d-%b-%Y %H:%M:%S'))
            z = date[21:]
            secs -= (1 if z[0] == '+' else -1) * (int(z[1:3]) * 3600 + int(z[3:5]) * 60)
            flags = sorted(re.search(r'FLAGS \(([^)]*)\)', head).group(1).split())
            msgs.append({'date': secs, 'flags': flags, 'body': base64.b64encode(item[1]).decode()})
    res[box] = msgs
m.logout()
print(json.dumps(res))
"#;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    date: i64,
    flags: Vec<String>,
    body: Vec<u8>,
}

struct Dump {
    list: Vec<String>,
    boxes: serde_json::Value,
}

impl Dump {
    fn msgs(&self, b: &str) -> Vec<Msg> {
        self.boxes[b]
            .as_array()
            .unwrap_or_else(|| panic!("no {b} in {}", self.boxes))
            .iter()
            .map(|m| Msg {
                date: m["date"].as_i64().unwrap(),
                flags: m["flags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
                body: b64_decode(m["body"].as_str().unwrap()),
            })
            .collect()
    }
}

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let n = chunk.iter().filter(|&&c| c != b'=').count();
        let mut v = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            v |= if c == b'=' { 0 } else { val(c) } << (18 - 6 * i);
        }
        out.extend_from_slice(&v.to_be_bytes()[1..n]);
    }
    out
}

/// IPLs the system again, dumps these folders through imaplib, and shuts it down.
fn dump(t: &TestSystem, boxes: &[&str]) -> Dump {
    t.reipl();
    let port = t.ports.imap.to_string();
    let pw = t.passwords["DEMO"].clone();
    let mut args = vec![port.as_str(), "DEMO", pw.as_str()];
    args.extend(boxes);
    let v = python_json(PY_DUMP, &args);
    t.shutdown();
    Dump {
        list: v["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
        boxes: v,
    }
}

#[test]
fn mbox_import_export_round_trip() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    let corpus = std::fs::read(CORPUS).expect("the corpus ../shared/corpus/small.mbox");
    // Not while the system runs.
    fails(
        &t,
        &["import", "--user", "demo", CORPUS],
        &[
            "is running",
            "shut it down first",
            "vmimap shutdown --system",
        ],
    );
    t.shutdown();
    let out = ok(&t, &["import", "--user", "demo", CORPUS]);
    let last = out.lines().last().unwrap().to_string();
    assert!(
        last.starts_with("imported 300 messages into INBOX (") && last.ends_with(" s"),
        "{out:?}"
    );
    // The server's view: 300 messages, INTERNALDATE from the From lines, no flags, `>From `
    // lines unquoted, every line ended by CRLF.
    let d = dump(&t, &["INBOX"]);
    let msgs = d.msgs("INBOX");
    assert_eq!(msgs.len(), 300);
    let want: Vec<i64> = serde_json::from_str::<Vec<i64>>(
        imap_support::python(
            &format!(
                "{PY_FROM_DATES}\nimport json, sys\nprint(json.dumps(from_dates(sys.argv[1])))"
            ),
            &[CORPUS],
        )
        .trim(),
    )
    .unwrap();
    assert_eq!(want.len(), 300);
    assert_eq!(msgs.iter().map(|m| m.date).collect::<Vec<_>>(), want);
    assert!(
        msgs.iter().all(|m| m.flags.is_empty()),
        "{:?}",
        msgs[0].flags
    );
    let quoted = corpus
        .split(|&c| c == b'\n')
        .filter(|l| l.starts_with(b">From "))
        .count();
    let unquoted: usize = msgs
        .iter()
        .map(|m| {
            m.body
                .split(|&c| c == b'\n')
                .filter(|l| l.starts_with(b"From "))
                .count()
        })
        .sum();
    assert!(quoted > 0);
    assert_eq!(unquoted, quoted);
    for m in &msgs {
        assert!(
            m.body
                .iter()
                .enumerate()
                .all(|(i, &c)| c != b'\n' || (i > 0 && m.body[i - 1] == b'\r')),
            "a bare LF in {:?}",
            String::from_utf8_lossy(&m.body[..80])
        );
    }

    // Back out: the same file apart from the From lines, whose dates are the same.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("out.mbox");
    let p = path.to_str().unwrap();
    let out = ok(
        &t,
        &[
            "export", "--user", "DEMO", "--folder", "INBOX", "--format", "mbox", p,
        ],
    );
    assert!(
        out.stdout
            .starts_with(&format!("exported 300 messages from INBOX to {p} (")),
        "{out:?}"
    );
    let back = std::fs::read(&path).unwrap();
    assert!(!back.contains(&b'\r'), "CR in the export");
    let (a, b) = (without_from_lines(&back), without_from_lines(&corpus));
    assert_eq!(a.len(), b.len());
    assert!(
        a == b,
        "export differs from the corpus apart from From lines"
    );
    let dates: Vec<i64> = serde_json::from_str(
        imap_support::python(
            &format!(
                "{PY_FROM_DATES}\nimport json, sys\nprint(json.dumps(from_dates(sys.argv[1])))"
            ),
            &[p],
        )
        .trim(),
    )
    .unwrap();
    assert_eq!(dates, want);
    // No overwriting, no temporary file left behind.
    fails(
        &t,
        &[
            "export", "--user", "DEMO", "--folder", "INBOX", "--format", "mbox", p,
        ],
        &["exists", "does not overwrite"],
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    // Importing the export into another folder gives the same messages.
    let out = ok(
        &t,
        &["import", "--user", "DEMO", "--folder", "Archive/2024", p],
    );
    assert!(
        out.stdout.contains("created folder Archive/2024"),
        "{out:?}"
    );
    let d = dump(&t, &["Archive/2024"]);
    assert!(d.list.contains(&"Archive/2024".to_string()), "{:?}", d.list);
    assert_eq!(d.msgs("Archive/2024"), msgs);
    // The system log says what was done.
    let log = std::fs::read_to_string(t.dir.join("logs/system.log")).unwrap();
    assert!(log.contains("vmimap import: 300 messages"), "{log}");
    assert!(log.contains("vmimap export: 300 messages"), "{log}");
}

/// A Maildir file with content, flags info and modification time.
fn mail(dir: &Path, sub: &str, name: &str, date: i64, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join(sub)).unwrap();
    let p = dir.join(sub).join(name);
    std::fs::write(&p, text).unwrap();
    File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(date as u64))
        .unwrap();
    p
}

fn body(n: u32) -> String {
    format!(
        "From: a{n}@example.com\nTo: demo@example.com\nSubject: maildir {n}\n\nline one\nFrom line two\n"
    )
}

fn flags(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn maildir_flags_subfolders_round_trip() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    t.shutdown();
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("Maildir");
    let base = 1_700_000_000i64;
    mail(&md, "cur", "1.M1P1.host:2,S", base + 1, &body(1));
    mail(&md, "cur", "2.M2P1.host:2,FS", base + 2, &body(2));
    mail(&md, "cur", "3.M3P1.host:2,RS", base + 3, &body(3));
    mail(&md, "cur", "4.M4P1.host:2,D", base + 4, &body(4));
    mail(&md, "cur", "5.M5P1.host:2,PST", base + 5, &body(5));
    mail(&md, "cur", "6.M6P1.host", base + 6, &body(6));
    mail(&md, "new", "7.M7P1.host", base + 7, &body(7));
    std::fs::create_dir_all(md.join("tmp")).unwrap();
    mail(&md, "tmp", "8.M8P1.host", base + 8, &body(8));
    let work = md.join(".Work.Projects");
    mail(&work, "cur", "9.M9P1.host:2,FRS", base + 9, &body(9));
    std::fs::create_dir_all(work.join("new")).unwrap();
    let sent = md.join(".Sent");
    mail(&sent, "cur", "10.M10P1.host:2,S", base + 10, &body(10));
    let de = md.join(".Entw&APw-rfe");
    mail(
        &de,
        "cur",
        "11.M11P1.host:2,DS",
        base + 11,
        "Subject: x\r\n\r\nCRLF as it is\r\n",
    );

    let m = md.to_str().unwrap();
    let out = ok(&t, &["import", "--user", "DEMO", m]);
    assert_eq!(
        out.lines()
            .iter()
            .filter(|l| l.starts_with("created folder"))
            .cloned()
            .collect::<BTreeSet<_>>(),
        ["created folder Entwürfe", "created folder Work/Projects"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        "{out:?}"
    );
    for l in [
        "imported 7 messages into INBOX (",
        "imported 1 messages into Sent (",
        "imported 1 messages into Work/Projects (",
        "imported 1 messages into Entwürfe (",
        "imported 10 messages into 4 folders (",
    ] {
        assert!(out.stdout.contains(l), "{l:?} missing: {out:?}");
    }
    // Clients see the name in modified UTF-7.
    let d = dump(&t, &["INBOX", "Work/Projects", "Sent", "Entw&APw-rfe"]);
    for f in ["INBOX", "Sent", "Work/Projects", "Entw&APw-rfe"] {
        assert!(d.list.iter().any(|l| l == f), "{f} not in {:?}", d.list);
    }
    let inbox = d.msgs("INBOX");
    let crlf = |n: u32| body(n).replace('\n', "\r\n").into_bytes();
    let want: Vec<Msg> = [
        (1, vec!["\\Seen"]),
        (2, vec!["\\Flagged", "\\Seen"]),
        (3, vec!["\\Answered", "\\Seen"]),
        (4, vec!["\\Draft"]),
        (5, vec!["$Forwarded", "\\Deleted", "\\Seen"]),
        (6, vec![]),
        (7, vec!["\\Recent"]),
    ]
    .into_iter()
    .map(|(n, f)| Msg {
        date: base + n as i64,
        flags: flags(&f),
        body: crlf(n),
    })
    .collect();
    // \Recent: the first session to see the messages gets it for all of them.
    let strip = |v: &[Msg]| -> Vec<Msg> {
        v.iter()
            .map(|m| Msg {
                flags: m
                    .flags
                    .iter()
                    .filter(|f| *f != "\\Recent")
                    .cloned()
                    .collect(),
                ..m.clone()
            })
            .collect()
    };
    assert_eq!(strip(&inbox), strip(&want));
    assert_eq!(
        strip(&d.msgs("Work/Projects")),
        vec![Msg {
            date: base + 9,
            flags: flags(&["\\Answered", "\\Flagged", "\\Seen"]),
            body: crlf(9)
        }]
    );
    assert_eq!(strip(&d.msgs("Sent"))[0].flags, flags(&["\\Seen"]));
    assert_eq!(
        d.msgs("Entw&APw-rfe")[0].body,
        b"Subject: x\r\n\r\nCRLF as it is\r\n".to_vec()
    );

    // Out again: cur/ files with the same contents, flags and dates.
    let out_dir = tmp.path().join("Export");
    let o = out_dir.to_str().unwrap();
    let out = ok(
        &t,
        &[
            "export", "--user", "DEMO", "--folder", "INBOX", "--format", "maildir", o,
        ],
    );
    assert!(
        out.stdout.starts_with("exported 7 messages from INBOX to "),
        "{out:?}"
    );
    assert_eq!(std::fs::read_dir(out_dir.join("new")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(out_dir.join("tmp")).unwrap().count(), 0);
    let mut got: Vec<(i64, String, String)> = std::fs::read_dir(out_dir.join("cur"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let mtime = e
                .metadata()
                .unwrap()
                .modified()
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let info = name.rsplit_once(":2,").expect("an info").1.to_string();
            (mtime, info, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    got.sort();
    let want: Vec<(i64, String, String)> = [
        (1, "S"),
        (2, "FS"),
        (3, "RS"),
        (4, "D"),
        (5, "PST"),
        (6, ""),
        (7, ""),
    ]
    .into_iter()
    .map(|(n, i)| (base + n, i.to_string(), body(n as u32)))
    .collect();
    assert_eq!(got, want);
    // Unique names: two exports of one folder do not collide in one Maildir++ tree, and
    // exporting into a non-empty directory is refused.
    fails(
        &t,
        &[
            "export", "--user", "DEMO", "--folder", "INBOX", "--format", "maildir", o,
        ],
        &["not an empty directory"],
    );
    // The export imports back with the same flags.
    let out = ok(&t, &["import", "--user", "DEMO", "--folder", "Again", o]);
    assert!(
        out.stdout.contains("imported 7 messages into Again ("),
        "{out:?}"
    );
    let d = dump(&t, &["Again"]);
    assert_eq!(strip(&d.msgs("Again")), strip(&inbox));
}

#[test]
fn bad_input_and_refusals() {
    let t = TestSystem::ipl();
    enroll(&t, "DEMO");
    t.shutdown();
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str, text: &[u8]| -> String {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let notmbox = p("notes.txt", b"Subject: not an mbox\n\nhello\n");
    fails(
        &t,
        &["import", "--user", "DEMO", &notmbox],
        &["notes.txt", "line 1: not an mbox file"],
    );
    let baddate = p(
        "bad.mbox",
        b"From a Mon May 20 14:17:53 2024\nSubject: one\n\nx\n\nFrom someone without a date\nSubject: two\n\ny\n",
    );
    fails(
        &t,
        &["import", "--user", "DEMO", &baddate],
        &["bad.mbox", "line 6:", "without a date"],
    );
    let missing = tmp.path().join("nothing.mbox");
    fails(
        &t,
        &["import", "--user", "DEMO", missing.to_str().unwrap()],
        &["cannot read", "nothing.mbox", "No such file"],
    );
    let empty_dir = tmp.path().join("plain-dir");
    std::fs::create_dir(&empty_dir).unwrap();
    fails(
        &t,
        &["import", "--user", "DEMO", empty_dir.to_str().unwrap()],
        &["not a Maildir"],
    );
    fails(
        &t,
        &["import", "--user", "NOSUCH", CORPUS],
        &["NOSUCH is not in the CP directory"],
    );
    fails(
        &t,
        &["import", "--user", "MAINT", CORPUS],
        &["MAINT is not enrolled", "vmimap admin enroll MAINT"],
    );
    fails(
        &t,
        &["import", "--user", "DEMO", "--folder", "a//b", CORPUS],
        &["invalid folder name"],
    );
    let out = tmp.path().join("x.mbox");
    fails(
        &t,
        &[
            "export",
            "--user",
            "DEMO",
            "--folder",
            "Nope",
            "--format",
            "mbox",
            out.to_str().unwrap(),
        ],
        &["DEMO has no folder Nope"],
    );
    assert!(!out.exists());
    // Nothing of the refused imports was stored; a missing --format is a usage error.
    let u = run(
        &t,
        &[
            "export",
            "--user",
            "DEMO",
            "--folder",
            "INBOX",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(u.code, 2, "{u:?}");
    let d = dump(&t, &["INBOX"]);
    assert!(d.msgs("INBOX").is_empty());
    // No system folder at all.
    let none = tmp.path().join("nosystem");
    let o = common::vmimap(&["import", "--user", "DEMO", CORPUS], &none);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("is not a system folder"), "{o:?}");
}

#[test]
fn quota_stops_import_without_counting_unstored_messages() {
    let t = TestSystem::ipl();
    let out = admin(&t, None, &["enroll", "DEMO", "60"]);
    assert_eq!(out.code, 0, "{out:?}");
    t.shutdown();
    let out = run(&t, &["import", "--user", "DEMO", CORPUS]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("DMSSFS1115E"), "{out:?}");
    assert!(out.stderr.contains("were not imported"), "{out:?}");
    let line = out
        .lines()
        .into_iter()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary: {out:?}"));
    let n: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 0 && n < 300, "{out:?}");
    let left: usize = out
        .stderr
        .split("; ")
        .last()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(n + left, 300, "{out:?}");
    // Exactly the messages reported are there.
    let d = dump(&t, &["INBOX"]);
    assert_eq!(d.msgs("INBOX").len(), n);
}
