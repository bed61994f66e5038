//! The imaptest FETCH scripts, run against this module.
//!
//! The scripts and their mailboxes are read at test time from the shared conformance folder
//! (`../shared/imap-conformance/scripts` beside the workspace; they are not part of this
//! repository). For every `fetch` command of the FETCH scripts, the items this module answers
//! (BODY[…], BINARY[…], BINARY.SIZE, RFC822*, ENVELOPE, BODY, BODYSTRUCTURE) are built from the
//! mbox message and matched against the script's `*` lines the way imaptest matches them
//! (FORMAT.md §4, §6): tokens compared without case, `$name` bound on first use and then
//! compared exactly, FETCH items as unordered pairs with extras allowed. `!` lines must not
//! match. Items this module does not produce (FLAGS, UID, INTERNALDATE) are left out of the
//! comparison.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{Message, partial};
use crate::proto::section::{Section, SectionText};
use crate::proto::write::Out;

/// The scripts whose expectations are checked.
const SCRIPTS: &[&str] = &[
    "fetch",
    "fetch-body",
    "fetch-body-mime",
    "fetch-body-message-rfc822",
    "fetch-body-message-rfc822-mime",
    "fetch-bodystructure",
    "fetch-envelope",
    "fetch-binary-mime",
    "fetch-binary-mime-base64",
    "fetch-binary-mime-qp",
];

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/imap-conformance/scripts")
}

/// A token of imaptest's model: atoms, strings (quoted, literal, literal8), NIL, lists.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Atom(Vec<u8>),
    Str(Vec<u8>),
    Nil,
    List(Vec<Tok>),
}

fn tokenize(s: &[u8]) -> Vec<Tok> {
    let mut pos = 0;
    seq(s, &mut pos, false)
}

fn seq(s: &[u8], pos: &mut usize, in_list: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    while *pos < s.len() {
        let c = s[*pos];
        if c == b' ' {
            *pos += 1;
            continue;
        }
        if c == b')' && in_list {
            *pos += 1;
            return out;
        }
        if c == b'(' {
            *pos += 1;
            out.push(Tok::List(seq(s, pos, true)));
            continue;
        }
        if c == b'"' {
            *pos += 1;
            let mut v = Vec::new();
            while *pos < s.len() && s[*pos] != b'"' {
                if s[*pos] == b'\\' {
                    *pos += 1;
                }
                if let Some(&b) = s.get(*pos) {
                    v.push(b);
                }
                *pos += 1;
            }
            *pos += 1;
            out.push(Tok::Str(v));
            continue;
        }
        if let Some(lit) = literal(s, pos) {
            out.push(Tok::Str(lit));
            continue;
        }
        let start = *pos;
        while *pos < s.len() && s[*pos] != b' ' && !(in_list && s[*pos] == b')') {
            *pos += 1;
        }
        let a = s[start..*pos].to_vec();
        out.push(if a.eq_ignore_ascii_case(b"NIL") {
            Tok::Nil
        } else {
            Tok::Atom(a)
        });
    }
    out
}

/// `{n}CRLF…` or `~{n}CRLF…` at `pos`.
fn literal(s: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let mut p = *pos;
    if s.get(p) == Some(&b'~') {
        p += 1;
    }
    if s.get(p) != Some(&b'{') {
        return None;
    }
    let digits = s[p + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let close = p + 1 + digits;
    if digits == 0 || s.get(close..close + 3) != Some(b"}\r\n") {
        return None;
    }
    let n: usize = std::str::from_utf8(&s[p + 1..close]).ok()?.parse().ok()?;
    let start = close + 3;
    let v = s.get(start..start + n)?.to_vec();
    *pos = start + n;
    Some(v)
}

/// The text a token stands for when compared with a pattern atom or string.
fn text(t: &Tok) -> Option<&[u8]> {
    match t {
        Tok::Atom(a) | Tok::Str(a) => Some(a),
        Tok::Nil => Some(b"NIL"),
        Tok::List(_) => None,
    }
}

fn is_var(a: &[u8]) -> Option<String> {
    let name = a.strip_prefix(b"$")?;
    (!name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_'))
        .then(|| String::from_utf8_lossy(name).into_owned())
}

fn matches(p: &Tok, r: &Tok, vars: &mut HashMap<String, Vec<u8>>) -> bool {
    match p {
        Tok::Atom(a) if a == b"$" => true,
        Tok::Atom(a) if is_var(a).is_some() => {
            let name = is_var(a).unwrap_or_default();
            let Some(rt) = text(r) else { return false };
            match vars.get(&name) {
                Some(v) => v == rt,
                None => {
                    vars.insert(name, rt.to_vec());
                    true
                }
            }
        }
        Tok::Atom(a) | Tok::Str(a) => {
            matches!(r, Tok::Atom(_) | Tok::Str(_) | Tok::Nil)
                && text(r).is_some_and(|rt| rt.eq_ignore_ascii_case(a))
        }
        Tok::Nil => *r == Tok::Nil,
        Tok::List(pl) => {
            let Tok::List(rl) = r else { return false };
            if pl.first() == Some(&Tok::Atom(b"$!unordered".to_vec())) && pl.len() == 1 {
                return true;
            }
            pl.len() == rl.len() && pl.iter().zip(rl).all(|(p, r)| matches(p, r, vars))
        }
    }
}

/// Whether a FETCH item (pattern chain name) is one this module produces.
fn ours(name: &Tok) -> bool {
    let Some(n) = text(name) else { return false };
    let n = String::from_utf8_lossy(n).to_ascii_lowercase();
    !["flags", "uid", "internaldate", "modseq"].contains(&n.as_str())
}

/// Matches `N FETCH (items)` with the items as unordered pairs, extras allowed. Returns false
/// if no item of ours is in the pattern (nothing to check) or a pair is not found.
fn fetch_matches(pattern: &[Tok], resp: &[Tok], vars: &mut HashMap<String, Vec<u8>>) -> bool {
    let (
        [Tok::Atom(pn), Tok::Atom(pf), Tok::List(pl)],
        [Tok::Atom(rn), Tok::Atom(rf), Tok::List(rl)],
    ) = (pattern, resp)
    else {
        return false;
    };
    if !pn.eq_ignore_ascii_case(rn) || !pf.eq_ignore_ascii_case(rf) {
        return false;
    }
    let mut trial = vars.clone();
    for chain in pl.chunks(2) {
        if !ours(&chain[0]) {
            continue;
        }
        let found = rl.chunks(2).any(|rc| {
            let mut t = trial.clone();
            let ok =
                rc.len() == chain.len() && chain.iter().zip(rc).all(|(p, r)| matches(p, r, &mut t));
            if ok {
                trial = t;
            }
            ok
        });
        if !found {
            return false;
        }
    }
    *vars = trial;
    true
}

/// The messages of an mbox file: From_ lines separate them, LF becomes CRLF.
fn mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&c| c == b'\n') {
        if line.starts_with(b"From ") {
            msgs.push(Vec::new());
            continue;
        }
        let Some(m) = msgs.last_mut() else { continue };
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        m.extend_from_slice(body);
        if line.ends_with(b"\n") {
            m.extend_from_slice(b"\r\n");
        }
    }
    msgs
}

/// One step of a script: a command and the untagged lines that follow it.
#[derive(Debug, Default)]
struct Step {
    line: usize,
    command: String,
    expect: Vec<(bool, Vec<u8>)>,
}

/// The script's body as logical lines (literal blocks resolved), then grouped into steps.
fn steps(script: &[u8]) -> (HashMap<String, String>, Vec<Step>) {
    let lines: Vec<&[u8]> = script.split(|&c| c == b'\n').collect();
    let mut i = 0;
    let mut headers = HashMap::new();
    while i < lines.len() && !lines[i].is_empty() {
        let l = String::from_utf8_lossy(lines[i]);
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        i += 1;
    }
    let mut out: Vec<Step> = Vec::new();
    while i < lines.len() {
        let first = i;
        let mut logical: Vec<u8> = Vec::new();
        let mut cur = lines[i].to_vec();
        i += 1;
        loop {
            let (marker, binary) = if cur.ends_with(b"~{{{") {
                (4, true)
            } else if cur.ends_with(b"{{{") {
                (3, false)
            } else {
                logical.extend_from_slice(&cur);
                break;
            };
            logical.extend_from_slice(&cur[..cur.len() - marker]);
            let mut content: Vec<&[u8]> = Vec::new();
            while i < lines.len() && !lines[i].starts_with(b"}}}") {
                content.push(lines[i]);
                i += 1;
            }
            let joined = content.join(if binary { &b"\n"[..] } else { &b"\r\n"[..] });
            let prefix = if binary { "~" } else { "" };
            logical.extend_from_slice(format!("{prefix}{{{}}}\r\n", joined.len()).as_bytes());
            logical.extend_from_slice(&joined);
            cur = lines.get(i).map_or(Vec::new(), |l| l[3..].to_vec());
            i += 1;
        }
        if logical.is_empty() || logical.starts_with(b"#") {
            continue;
        }
        if let Some(rest) = logical.strip_prefix(b"* ") {
            if let Some(s) = out.last_mut() {
                s.expect.push((true, rest.to_vec()));
            }
        } else if let Some(rest) = logical.strip_prefix(b"! ") {
            if let Some(s) = out.last_mut() {
                s.expect.push((false, rest.to_vec()));
            }
        } else {
            let l = String::from_utf8_lossy(&logical).into_owned();
            let mut words = l.splitn(2, ' ');
            let w = words.next().unwrap_or("");
            let command = if ["ok", "no", "bad"].contains(&w.to_ascii_lowercase().as_str()) {
                words.next().unwrap_or("").to_string()
            } else {
                l.clone()
            };
            out.push(Step {
                line: first + 1,
                command,
                expect: Vec::new(),
            });
        }
    }
    (headers, out)
}

/// A FETCH item request: name, section text, partial.
struct Item {
    name: String,
    section: Option<String>,
    partial: Option<(u64, Option<u64>)>,
}

/// Splits `(a b[x (y z)]<1.2> c)` or `a` into items.
fn items(spec: &str) -> Vec<Item> {
    let s = spec.trim();
    let s = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(s);
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'[' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut section = None;
        let mut part = None;
        if i < b.len() && b[i] == b'[' {
            let close = s[i..].find(']').map_or(b.len(), |c| i + c);
            section = Some(s[i + 1..close].to_string());
            i = (close + 1).min(b.len());
            if i < b.len() && b[i] == b'<' {
                let end = s[i..].find('>').map_or(b.len(), |c| i + c);
                let (o, c) = s[i + 1..end]
                    .split_once('.')
                    .unwrap_or((&s[i + 1..end], ""));
                part = Some((o.parse().unwrap_or(0), c.parse().ok()));
                i = (end + 1).min(b.len());
            }
        }
        out.push(Item {
            name,
            section,
            partial: part,
        });
    }
    out
}

/// `1.2.header.fields (a b)` → Section.
fn section(spec: &str) -> Section {
    let mut part = Vec::new();
    let mut rest = spec;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        part.push(rest[..digits].parse().unwrap_or(0));
        rest = &rest[digits..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    let lower = rest.to_ascii_lowercase();
    let text = if lower.is_empty() {
        SectionText::Whole
    } else if lower == "header" {
        SectionText::Header
    } else if lower == "text" {
        SectionText::Text
    } else if lower == "mime" {
        SectionText::Mime
    } else {
        let not = lower.starts_with("header.fields.not");
        let names = rest
            .split_once('(')
            .map(|(_, n)| n.trim_end_matches(')'))
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        SectionText::HeaderFields { not, names }
    };
    Section { part, text }
}

/// The FETCH response for `items` of message number `n`.
fn respond(n: usize, msg: &[u8], items: &[Item]) -> Vec<u8> {
    let m = Message::parse(msg);
    let mut out = Out::new();
    out.num(n as u64).text(" FETCH (");
    let mut first = true;
    let mut sep = |out: &mut Out| {
        if !first {
            out.sp();
        }
        first = false;
    };
    for it in items {
        let name = it.name.as_str();
        match name {
            "envelope" | "full" | "all" | "fast" => {
                sep(&mut out);
                if name != "envelope" {
                    out.text("RFC822.SIZE ").num(m.rfc822_size());
                    if name == "fast" {
                        continue;
                    }
                    out.sp();
                }
                out.text("ENVELOPE ");
                m.envelope(&mut out);
                if name == "full" {
                    out.text(" BODY ");
                    m.body_structure(&mut out, false);
                }
            }
            "body" | "bodystructure" if it.section.is_none() => {
                sep(&mut out);
                out.text(if name == "body" {
                    "BODY "
                } else {
                    "BODYSTRUCTURE "
                });
                m.body_structure(&mut out, name == "bodystructure");
            }
            "rfc822" | "rfc822.header" | "rfc822.text" => {
                let text = match name {
                    "rfc822" => SectionText::Whole,
                    "rfc822.header" => SectionText::Header,
                    _ => SectionText::Text,
                };
                let data = m
                    .section(&Section {
                        part: Vec::new(),
                        text,
                    })
                    .unwrap_or_default();
                sep(&mut out);
                out.text(&name.to_ascii_uppercase()).sp().string(&data);
            }
            "rfc822.size" => {
                sep(&mut out);
                out.text("RFC822.SIZE ").num(m.rfc822_size());
            }
            "body" | "body.peek" => {
                let sec = section(it.section.as_deref().unwrap_or(""));
                let data = m.section(&sec).unwrap_or_default();
                sep(&mut out);
                out.text("BODY[").text(&sec.echo()).text("]");
                let data = match it.partial {
                    Some((o, c)) => {
                        out.text(&format!("<{o}>"));
                        partial(&data, o, c)
                    }
                    None => &data[..],
                };
                out.sp().string(data);
            }
            "binary" | "binary.peek" | "binary.size" => {
                let sec = section(it.section.as_deref().unwrap_or(""));
                let numbers = sec
                    .part
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(".");
                sep(&mut out);
                if name == "binary.size" {
                    let size = m.binary_size(&sec.part).unwrap_or(0);
                    out.text(&format!("BINARY.SIZE[{numbers}] ")).num(size);
                    continue;
                }
                let data = m.binary(&sec.part).unwrap_or_default();
                out.text(&format!("BINARY[{numbers}]"));
                let data = match it.partial {
                    Some((o, c)) => {
                        out.text(&format!("<{o}>"));
                        partial(&data, o, c)
                    }
                    None => &data[..],
                };
                out.sp();
                if data.contains(&0) {
                    out.literal8(data);
                } else {
                    out.string(data);
                }
            }
            _ => {}
        }
    }
    out.close();
    out.buf
}

/// Message numbers of a sequence set (`1`, `1:*`, `*`, `3:1`, `1,3`) over `count` messages.
fn seq_set(s: &str, count: usize) -> Vec<usize> {
    let num = |x: &str| {
        if x == "*" {
            count
        } else {
            x.parse().unwrap_or(0)
        }
    };
    let mut out = Vec::new();
    for range in s.split(',') {
        let (a, b) = range.split_once(':').unwrap_or((range, range));
        let (a, b) = (num(a), num(b));
        out.extend(a.min(b)..=a.max(b));
    }
    out.retain(|&n| n >= 1 && n <= count);
    out
}

/// Runs one script; returns the failures and the number of lines checked.
fn run(name: &str) -> (Vec<String>, usize) {
    let dir = scripts_dir();
    let script = std::fs::read(dir.join(name)).unwrap_or_default();
    let (headers, steps) = steps(&script);
    let mbox_path = dir.join(format!("{name}.mbox"));
    let mbox_path = if mbox_path.exists() {
        mbox_path
    } else {
        dir.join("default.mbox")
    };
    let mut msgs = mbox(&std::fs::read(mbox_path).unwrap_or_default());
    if let Some(n) = headers
        .get("messages")
        .and_then(|m| m.parse::<usize>().ok())
    {
        msgs.truncate(n);
    }
    let mut vars = HashMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for step in &steps {
        let mut words = step.command.splitn(3, ' ');
        let (Some(verb), Some(set), Some(spec)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        if !verb.eq_ignore_ascii_case("fetch") {
            continue;
        }
        let its = items(spec);
        let raw_responses: Vec<Vec<u8>> = seq_set(set, msgs.len())
            .into_iter()
            .map(|n| respond(n, &msgs[n - 1], &its))
            .collect();
        let responses: Vec<Vec<Tok>> = raw_responses.iter().map(|r| tokenize(r)).collect();
        for (positive, line) in &step.expect {
            let pattern = tokenize(line);
            let has_ours =
                matches!(&pattern[..], [_, _, Tok::List(l)] if l.chunks(2).any(|c| ours(&c[0])));
            if !has_ours {
                continue;
            }
            checked += 1;
            let hit = responses
                .iter()
                .any(|r| fetch_matches(&pattern, r, &mut vars));
            if hit != *positive {
                failures.push(format!(
                    "{name} line {}: {} `{}`\n  expected {}: {}\n  got: {}",
                    step.line,
                    if *positive { "missing" } else { "unexpected" },
                    step.command,
                    if *positive { "*" } else { "!" },
                    String::from_utf8_lossy(line),
                    raw_responses
                        .iter()
                        .map(|r| String::from_utf8_lossy(r).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n       ")
                ));
            }
        }
    }
    (failures, checked)
}

#[test]
fn imaptest_fetch_scripts() {
    if !scripts_dir().join("fetch-body").exists() {
        eprintln!(
            "conformance scripts not found at {}; skipped",
            scripts_dir().display()
        );
        return;
    }
    let mut failures = Vec::new();
    let mut total = 0;
    for name in SCRIPTS {
        let (f, checked) = run(name);
        assert!(
            checked > 0 || *name == "fetch",
            "{name}: nothing was checked"
        );
        total += checked;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} of {total} expectations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} FETCH expectations matched");
}

#[test]
fn the_matcher_itself() {
    let mut vars = HashMap::new();
    let p = tokenize(b"1 fetch (body[header.fields (from)] {3}\r\nabc flags ())");
    let r = tokenize(b"1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] \"ABC\")");
    assert!(fetch_matches(&p, &r, &mut vars));
    let p = tokenize(b"1 fetch (rfc822.header $h)");
    let r = tokenize(b"1 FETCH (RFC822.HEADER \"Abc\")");
    assert!(fetch_matches(&p, &r, &mut vars));
    let p = tokenize(b"1 fetch (body[header] $h)");
    assert!(!fetch_matches(
        &p,
        &tokenize(b"1 FETCH (BODY[HEADER] \"abc\")"),
        &mut vars
    ));
    assert!(fetch_matches(
        &p,
        &tokenize(b"1 FETCH (BODY[HEADER] \"Abc\")"),
        &mut vars
    ));
    let p = tokenize(b"1 fetch (envelope (NIL \"x\"))");
    assert!(!fetch_matches(
        &p,
        &tokenize(b"1 FETCH (ENVELOPE (\"NIL\" \"x\"))"),
        &mut vars
    ));
    assert_eq!(seq_set("1:*", 3), [1, 2, 3]);
    assert_eq!(seq_set("3:1", 3), [1, 2, 3]);
}

/// Runs the SEARCH scripts' header and body searches through the helpers SEARCH will use:
/// FROM/TO/CC/BCC against [`Message::address_text`], HEADER against
/// [`Message::header_values_raw`], BODY against [`Message::text_body_decoded`] and TEXT
/// against that plus [`Message::headers_decoded`], all as case-insensitive substrings.
#[test]
fn imaptest_search_scripts_through_helpers() {
    if !scripts_dir().join("search-addresses").exists() {
        return;
    }
    let mut checked = 0;
    for name in ["search-addresses", "search-body"] {
        let (_, steps) = steps(&std::fs::read(scripts_dir().join(name)).unwrap_or_default());
        let data = std::fs::read(scripts_dir().join(format!("{name}.mbox"))).unwrap_or_default();
        let msgs = mbox(&data);
        let parsed: Vec<Message<'_>> = msgs.iter().map(|m| Message::parse(m)).collect();
        for step in &steps {
            let words: Vec<&str> = step.command.split(' ').collect();
            let found: Vec<usize> = match words.as_slice() {
                ["search", key, value] => {
                    let key = key.to_ascii_lowercase();
                    let value = value.to_ascii_lowercase();
                    (1..=parsed.len())
                        .filter(|&n| {
                            let m = &parsed[n - 1];
                            let body = m.text_body_decoded().to_lowercase();
                            match key.as_str() {
                                "from" | "to" | "cc" | "bcc" => m
                                    .address_text(&key)
                                    .iter()
                                    .any(|t| t.to_lowercase().contains(&value)),
                                "body" => body.contains(&value),
                                "text" => {
                                    body.contains(&value)
                                        || m.headers_decoded().to_lowercase().contains(&value)
                                }
                                _ => false,
                            }
                        })
                        .collect()
                }
                ["search", "header", field, "\"\""] => (1..=parsed.len())
                    .filter(|&n| !parsed[n - 1].header_values_raw(field).is_empty())
                    .collect(),
                _ => continue,
            };
            let want: Vec<usize> = step
                .expect
                .iter()
                .filter_map(|(_, l)| {
                    String::from_utf8_lossy(l).strip_prefix("search").map(|s| {
                        s.split_whitespace()
                            .filter_map(|n| n.parse().ok())
                            .collect::<Vec<usize>>()
                    })
                })
                .next()
                .unwrap_or_default();
            assert_eq!(found, want, "{name} line {}: {}", step.line, step.command);
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} searches checked");
}

/// The same messages with bare LF line ends have the same structure and the same text (once
/// line ends are made CRLF again).
#[test]
fn bare_lf_messages_parse_alike() {
    if !scripts_dir().join("fetch-body-mime.mbox").exists() {
        return;
    }
    let mut seen = 0;
    for name in SCRIPTS
        .iter()
        .map(|s| format!("{s}.mbox"))
        .chain(["default.mbox".into()])
    {
        let Ok(data) = std::fs::read(scripts_dir().join(&name)) else {
            continue;
        };
        for crlf in mbox(&data) {
            let lf: Vec<u8> = crlf.iter().copied().filter(|&c| c != b'\r').collect();
            let (a, b) = (Message::parse(&crlf), Message::parse(&lf));
            let (na, nb) = (a.numbered(), b.numbered());
            assert_eq!(
                na.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                nb.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                "{name}"
            );
            for ((path, ia), (_, ib)) in na.iter().zip(&nb) {
                let (pa, pb) = (&a.parts()[*ia], &b.parts()[*ib]);
                assert_eq!(pa.content(), pb.content(), "{name} {path:?}");
                let strip = |v: &[u8]| {
                    v.iter()
                        .copied()
                        .filter(|&c| c != b'\r')
                        .collect::<Vec<u8>>()
                };
                for text in [SectionText::Whole, SectionText::Mime] {
                    let s = Section {
                        part: path.clone(),
                        text,
                    };
                    assert_eq!(
                        a.section(&s).map(|v| strip(&v)),
                        b.section(&s).map(|v| strip(&v)),
                        "{name} {path:?}"
                    );
                }
                let (ba, bb) = (a.binary(path), b.binary(path));
                assert_eq!(
                    ba.map(|v| strip(&v)),
                    bb.map(|v| strip(&v)),
                    "{name} {path:?}"
                );
                seen += 1;
            }
            let mut oa = Out::new();
            let mut ob = Out::new();
            a.envelope(&mut oa);
            b.envelope(&mut ob);
            assert_eq!(oa.buf, ob.buf, "{name}");
        }
    }
    assert!(seen > 20);
}
