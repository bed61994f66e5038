//! The executor: connects, runs setup (FORMAT.md 5.2), runs the command groups one after another
//! (5.3, 5.4), tracks the protocol state imaptest tracks (section 7) and collects the verdict.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::client::{Client, ReadError};
use super::matcher::Judge;
use super::mbox::{Mbox, MboxCursor, MboxMessage};
use super::parse::{Group, MessageCount, Script, StartState, UserSpec, parse_script_file};
use super::report::{Failure, ScriptReport, ScriptResult};
use super::tokens::{Response, Token, parse_args, render, render_bytes};

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Login name of every connection (unless a script's `user N` says otherwise).
    pub user: String,
    /// Password of every user.
    pub password: String,
    /// The test mailbox (`box=`); every mailbox whose name starts with it is deleted before each
    /// script.
    pub mailbox: String,
    /// The second user (`user2=`), for scripts with `user N: $user2`.
    pub user2: Option<String>,
    /// How long to wait for any server data before failing the script (imaptest waits forever).
    pub timeout: Duration,
    /// Print the conversation to stderr (`[name/conn-id] C: …` / `S: …`).
    pub trace: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            host: "127.0.0.1".into(),
            port: 143,
            user: std::env::var("USER").unwrap_or_else(|_| "testuser1".into()),
            password: "pass".into(),
            mailbox: "imaptest".into(),
            user2: None,
            timeout: Duration::from_secs(30),
            trace: false,
        }
    }
}

/// Connection ids are run-wide (1, 2, 3, … across all tests), like imaptest's.
static NEXT_CONN_ID: AtomicU32 = AtomicU32::new(1);

/// Parses and runs one script file.
pub fn run_script_report(cfg: &RunConfig, path: &Path) -> ScriptReport {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match parse_script_file(path) {
        Ok(script) => run_parsed(cfg, &script),
        Err(e) => ScriptReport {
            name,
            result: ScriptResult::Failed {
                reason: format!("parse error: {e}"),
            },
            failures: vec![Failure {
                group: None,
                groups: 0,
                line: e.line.unwrap_or(0),
                command: String::new(),
                tag: None,
                message: format!("parse error: {e}"),
            }],
            outputs: Vec::new(),
            log: Vec::new(),
            groups_total: 0,
            groups_finished: 0,
            extension: false,
        },
    }
}

/// Runs an already parsed script.
pub fn run_parsed(cfg: &RunConfig, script: &Script) -> ScriptReport {
    let mut ex = Exec {
        cfg,
        script,
        conns: Vec::new(),
        judge: Judge::new(script.ignore_extra_untagged),
        mbox: None,
        failures: Vec::new(),
        outputs: Vec::new(),
        log: Vec::new(),
        init_finished: false,
        cur_group: None,
        groups_finished: 0,
    };
    let skipped = ex.run();
    for c in &mut ex.conns {
        if let Some(cl) = c.client.as_mut() {
            cl.shutdown();
        }
    }
    let result = match skipped {
        Some(missing) if ex.failures.is_empty() => ScriptResult::Skipped { missing },
        _ if ex.failures.is_empty() => ScriptResult::Passed,
        _ => ScriptResult::Failed {
            reason: ex
                .failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        },
    };
    ScriptReport {
        name: script.name.clone(),
        result,
        failures: ex.failures,
        outputs: ex.outputs,
        log: ex.log,
        groups_total: script.groups.len(),
        groups_finished: ex.groups_finished,
        extension: script.is_extension(),
    }
}

/// The test ended early (the reason is already recorded).
struct Stop;

/// How setup ended when the script does not run.
enum SetupEnd {
    Stopped,
    Skipped(Vec<String>),
}

impl From<Stop> for SetupEnd {
    fn from(_: Stop) -> Self {
        SetupEnd::Stopped
    }
}

#[derive(Debug)]
struct Conn {
    client: Option<Client>,
    id: u32,
    next_tag: u32,
    user: String,
    password: String,
    caps: Vec<String>,
    postlogin_caps: bool,
    logged_in: bool,
    msg_count: u32,
    /// seq-1 → UID (0 = unknown).
    uids: Vec<u32>,
    seen_bye: bool,
    /// LOGOUT was sent at some point (a BYE is expected).
    logout_sent: bool,
    /// The command being run is a LOGOUT (imaptest's `STATE_LOGOUT`).
    logging_out: bool,
    /// The current mailbox for a bare `append`.
    mailbox: Vec<u8>,
    /// We closed the connection (protocol error or unexpected BAD).
    dead: bool,
}

impl Conn {
    fn has_cap(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c.eq_ignore_ascii_case(cap))
    }

    fn tag(&mut self) -> (u32, String) {
        let n = self.next_tag;
        self.next_tag += 1;
        (n, format!("{}.{}", self.id, n))
    }

    fn reset_view(&mut self) {
        self.msg_count = 0;
        self.uids.clear();
    }

    fn set_caps(&mut self, text: &str) {
        self.caps = text
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if self.logged_in {
            self.postlogin_caps = true;
        }
    }

    /// imaptest's state tracking of untagged responses (section 7). An error means imaptest
    /// would close the connection.
    fn track_untagged(&mut self, args: &[Token]) -> Result<Vec<String>, String> {
        let mut log = Vec::new();
        let Some(first) = args.first().and_then(Token::as_atom) else {
            return Err("Invalid untagged input".into());
        };
        let upper = String::from_utf8_lossy(first).to_ascii_uppercase();
        if let Ok(num) = upper.parse::<u32>() {
            let Some(name) = args.get(1).and_then(Token::as_atom) else {
                return Err("Invalid untagged input".into());
            };
            let name = String::from_utf8_lossy(name).to_ascii_uppercase();
            match name.as_str() {
                "EXISTS" => {
                    if num < self.msg_count {
                        return Err(format!(
                            "Message count dropped {} -> {}",
                            self.msg_count, num
                        ));
                    }
                    self.msg_count = num;
                    self.uids.resize(num as usize, 0);
                }
                "EXPUNGE" => {
                    if num == 0 {
                        return Err("Tried to expunge sequence 0".into());
                    }
                    if num > self.msg_count {
                        return Err(format!(
                            "Tried to expunge sequence {} with only {} msgs",
                            num, self.msg_count
                        ));
                    }
                    self.msg_count -= 1;
                    if (num as usize) <= self.uids.len() {
                        self.uids.remove(num as usize - 1);
                    }
                }
                "FETCH" => self.track_fetch(num, args.get(2))?,
                _ => {}
            }
            return Ok(log);
        }
        match upper.as_str() {
            "BYE" => {
                if !self.logout_sent || self.seen_bye {
                    log.push("Unexpected BYE".to_string());
                }
                self.seen_bye = true;
                self.reset_view();
            }
            "FLAGS" if args.get(1).and_then(Token::as_list).is_none() => {
                return Err("Broken FLAGS".into());
            }
            "CAPABILITY" => {
                let caps: Vec<String> = args[1..]
                    .iter()
                    .filter_map(Token::as_text)
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect();
                self.set_caps(&caps.join(" "));
            }
            "OK" | "NO" | "BAD" => {
                if upper == "BAD" {
                    log.push("BAD received".to_string());
                }
                if upper == "OK" {
                    check_resp_text_code(&args[1..])?;
                }
            }
            _ => {}
        }
        Ok(log)
    }

    fn track_fetch(&mut self, seq: u32, list: Option<&Token>) -> Result<(), String> {
        let Some(items) = list.and_then(Token::as_list) else {
            return Err("FETCH didn't return a list".into());
        };
        if items.len() % 2 != 0 {
            return Err("FETCH list has an odd number of items".into());
        }
        if seq == 0 || seq > self.msg_count {
            return Err(format!(
                "FETCH for sequence {} beyond the known EXISTS {}",
                seq, self.msg_count
            ));
        }
        for pair in items.chunks(2) {
            let Some(name) = pair[0].as_atom() else {
                return Err("FETCH item name is not an atom".into());
            };
            let name = String::from_utf8_lossy(name).to_ascii_uppercase();
            match name.as_str() {
                "UID" => {
                    let uid = pair[1]
                        .as_atom()
                        .and_then(|a| std::str::from_utf8(a).ok())
                        .and_then(|s| s.parse::<u32>().ok())
                        .filter(|u| *u > 0)
                        .ok_or_else(|| format!("Invalid UID: {}", render(&pair[1..])))?;
                    let slot = &mut self.uids[seq as usize - 1];
                    if *slot != 0 && *slot != uid {
                        return Err(format!(
                            "UID changed for sequence {seq}: {} -> {uid}",
                            *slot
                        ));
                    }
                    *slot = uid;
                }
                "FLAGS" => {
                    let Some(flags) = pair[1].as_list() else {
                        return Err("FLAGS reply isn't a list".into());
                    };
                    for f in flags {
                        let Some(a) = f.as_atom() else {
                            return Err(format!(
                                "Flag isn't an atom: {}",
                                render(std::slice::from_ref(f))
                            ));
                        };
                        if a.first() == Some(&b'\\')
                            && ![
                                &b"\\Answered"[..],
                                b"\\Flagged",
                                b"\\Deleted",
                                b"\\Seen",
                                b"\\Draft",
                                b"\\Recent",
                            ]
                            .iter()
                            .any(|s| s.eq_ignore_ascii_case(a))
                        {
                            return Err(format!(
                                "Invalid system flag: {}",
                                String::from_utf8_lossy(a)
                            ));
                        }
                    }
                }
                "ENVELOPE" if pair[1].as_list().is_none() => {
                    return Err("ENVELOPE reply isn't a list".into());
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// An untagged OK's text must start with an atom, and a `[` code must be closed with `]`.
fn check_resp_text_code(text: &[Token]) -> Result<(), String> {
    let Some(first) = text.first() else {
        return Ok(());
    };
    let Some(a) = first.as_atom() else {
        return Err("Untagged OK text doesn't start with an atom".into());
    };
    if a.first() == Some(&b'[')
        && !text
            .iter()
            .filter_map(Token::as_atom)
            .any(|t| t.contains(&b']'))
    {
        return Err("Missing ']' in resp-text-code".into());
    }
    Ok(())
}

/// `"…"` with `\` and `"` escaped (imaptest's `imap_append_string` for plain names).
pub fn quote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'"');
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
    out.push(b'"');
    out
}

/// Caps from `[CAPABILITY …]` in a response text.
fn caps_in_text(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let upper = text.to_ascii_uppercase();
    let p = upper.find("[CAPABILITY ")?;
    let rest = &text[p + 12..];
    Some(rest.split(']').next().unwrap_or("").to_string())
}

/// imaptest's `append_has_body`: does `append ARGS` carry its own message (a literal or
/// CATENATE)? ARGS is `mailbox [(flags)] ["date"]` then the body.
fn append_has_body(args: &[u8]) -> bool {
    let Ok(toks) = parse_args(args, false) else {
        return false;
    };
    if toks.is_empty() {
        return false;
    }
    let mut j = 0;
    if matches!(toks.get(j + 1), Some(Token::List(_))) {
        j += 1;
    }
    if matches!(toks.get(j + 1), Some(Token::Quoted(_))) {
        j += 1;
    }
    match toks.get(j + 1) {
        Some(Token::Literal(_) | Token::Literal8(_)) => true,
        Some(t) => t.atom_eq("catenate"),
        None => false,
    }
}

/// Rewrites every `{N}\r\n` / `~{N}\r\n` literal marker into its non-synchronizing `{N+}` form
/// (the literal data is copied as is). Returns the new text and whether it had literals.
fn nonsync_literals(text: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(text.len() + 8);
    let mut found = false;
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'{' {
            let mut j = i + 1;
            while j < text.len() && text[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 && text.get(j..j + 3) == Some(b"}\r\n") {
                let n: usize = std::str::from_utf8(&text[i + 1..j])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                found = true;
                out.extend_from_slice(&text[i..j]);
                out.extend_from_slice(b"+}\r\n");
                let end = (j + 3 + n).min(text.len());
                out.extend_from_slice(&text[j + 3..end]);
                i = end;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    (out, found)
}

/// mUTF-7 → UTF-8, then URL path escaping (`$mailbox_url`).
fn mailbox_url(name: &str) -> String {
    let mut utf8 = String::new();
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'&' {
            let end = b[i + 1..]
                .iter()
                .position(|&c| c == b'-')
                .map(|p| i + 1 + p);
            match end {
                Some(e) if e == i + 1 => {
                    utf8.push('&');
                    i = e + 1;
                }
                Some(e) => {
                    utf8.push_str(&decode_mutf7(&name[i + 1..e]));
                    i = e + 1;
                }
                None => {
                    utf8.push_str(&name[i..]);
                    break;
                }
            }
        } else {
            utf8.push(b[i] as char);
            i += 1;
        }
    }
    let mut out = String::new();
    for c in utf8.bytes() {
        if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

fn decode_mutf7(s: &str) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut units: Vec<u16> = Vec::new();
    for c in s.bytes() {
        let Some(v) = ALPHA.iter().position(|&a| a == c) else {
            continue;
        };
        bits = (bits << 6) | v as u32;
        nbits += 6;
        if nbits >= 16 {
            nbits -= 16;
            units.push(((bits >> nbits) & 0xffff) as u16);
        }
    }
    String::from_utf16_lossy(&units)
}

/// One outgoing command: parts after the first each wait for a `+` continuation.
struct Outgoing {
    n: u32,
    parts: Vec<Vec<u8>>,
    sent: usize,
}

/// Cleanup names: (LIST results, LSUB results).
type ListNames = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// A setup command's result: upper-case status, reply tokens, raw reply.
type SetupReply = (String, Vec<Token>, Vec<u8>);

struct Exec<'a> {
    cfg: &'a RunConfig,
    script: &'a Script,
    conns: Vec<Conn>,
    judge: Judge,
    mbox: Option<MboxCursor>,
    failures: Vec<Failure>,
    outputs: Vec<String>,
    log: Vec<String>,
    init_finished: bool,
    /// Index of the running group and the tag of its first command while pending.
    cur_group: Option<(usize, Option<String>)>,
    groups_finished: usize,
}

impl<'a> Exec<'a> {
    fn fail(&mut self, message: impl Into<String>) {
        let message = message.into();
        let script: &'a Script = self.script;
        let failure = match (&self.cur_group, self.init_finished) {
            (Some((gi, tag)), true) => {
                let g = &script.groups[*gi];
                let cmd = g.commands.first();
                Failure {
                    group: Some(*gi),
                    groups: script.groups.len(),
                    line: cmd.map(|c| c.line).unwrap_or(0),
                    command: cmd.map(|c| render_bytes(&c.text)).unwrap_or_default(),
                    tag: tag.clone(),
                    message,
                }
            }
            _ => Failure {
                group: None,
                groups: script.groups.len(),
                line: 0,
                command: String::new(),
                tag: None,
                message,
            },
        };
        self.failures.push(failure);
    }

    fn collect_judge_failures(&mut self) {
        for m in self.judge.take_failures() {
            self.fail(m);
        }
    }

    /// Runs setup and the groups. Returns Some(missing) when the test is skipped.
    fn run(&mut self) -> Option<Vec<String>> {
        let script = self.script;
        if script.require_user2 && self.cfg.user2.is_none() {
            return Some(vec!["user2".into()]);
        }
        if let Err(end) = self.connect_all() {
            return match end {
                SetupEnd::Skipped(m) => Some(m),
                SetupEnd::Stopped => None,
            };
        }
        match self.setup() {
            Ok(()) => {}
            Err(SetupEnd::Skipped(missing)) => {
                self.logout_all();
                return Some(missing);
            }
            Err(SetupEnd::Stopped) => return None,
        }
        self.init_finished = true;
        for gi in 0..script.groups.len() {
            if self.run_group(gi).is_err() {
                break;
            }
        }
        None
    }

    fn connect_all(&mut self) -> Result<(), SetupEnd> {
        let script = self.script;
        for i in 0..script.connections {
            let user = match script.users.get(i).cloned().flatten() {
                Some(UserSpec::Name(n)) => n,
                Some(UserSpec::User2) => self.cfg.user2.clone().unwrap_or_default(),
                None => self.cfg.user.clone(),
            };
            let id = NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed);
            let client = match Client::connect(&self.cfg.host, self.cfg.port, self.cfg.timeout) {
                Ok(mut c) => {
                    if self.cfg.trace {
                        c.set_trace(Some(format!("[{}/{}]", script.name, id)));
                    }
                    c
                }
                Err(e) => {
                    self.fail(format!(
                        "connect to {}:{} failed: {e}",
                        self.cfg.host, self.cfg.port
                    ));
                    return Err(SetupEnd::Stopped);
                }
            };
            let suffix = if i == 0 {
                String::new()
            } else {
                (i + 1).to_string()
            };
            let username = user.split('@').next().unwrap_or("").to_string();
            let domain = match user.split_once('@') {
                Some((_, d)) => d.to_string(),
                None => self.cfg.host.clone(),
            };
            let vars = &mut self.judge.vars;
            vars.set(&format!("user{suffix}"), user.as_bytes());
            vars.set(&format!("username{suffix}"), username.as_bytes());
            vars.set(&format!("domain{suffix}"), domain.as_bytes());
            vars.set(&format!("password{suffix}"), self.cfg.password.as_bytes());
            self.conns.push(Conn {
                client: Some(client),
                id,
                next_tag: 1,
                user,
                password: self.cfg.password.clone(),
                caps: Vec::new(),
                postlogin_caps: false,
                logged_in: false,
                msg_count: 0,
                uids: Vec::new(),
                seen_bye: false,
                logout_sent: false,
                logging_out: false,
                mailbox: self.cfg.mailbox.as_bytes().to_vec(),
                dead: false,
            });
        }
        self.judge.vars.set("mailbox", self.cfg.mailbox.as_bytes());
        self.judge
            .vars
            .set("mailbox_url", mailbox_url(&self.cfg.mailbox).as_bytes());
        Ok(())
    }

    fn load_mbox(&mut self) -> Result<&mut MboxCursor, Stop> {
        if self.mbox.is_none() {
            match Mbox::load(&self.script.mbox_path) {
                Ok(m) => self.mbox = Some(MboxCursor::new(m)),
                Err(e) => {
                    self.fail(format!(
                        "cannot read mbox {}: {e}",
                        self.script.mbox_path.display()
                    ));
                    return Err(Stop);
                }
            }
        }
        self.mbox.as_mut().ok_or(Stop)
    }

    fn next_message(&mut self) -> Result<MboxMessage, Stop> {
        let cur = self.load_mbox()?;
        match cur.next_message() {
            Some(m) => Ok(m),
            None => {
                let p = self.script.mbox_path.display().to_string();
                self.fail(format!("mbox {p} has no messages"));
                Err(Stop)
            }
        }
    }

    fn send(&mut self, ci: usize, data: &[u8]) -> Result<(), Stop> {
        let res = match self.conns[ci].client.as_mut() {
            Some(c) => c.send(data).map_err(|e| e.to_string()),
            None => Err("connection closed".into()),
        };
        res.map_err(|e| {
            self.fail(format!("Unexpected disconnection ({e})"));
            Stop
        })
    }

    /// Reads one response on connection `ci`; setup-time errors are failures.
    fn read_setup(&mut self, ci: usize) -> Result<(Response, Vec<u8>), Stop> {
        let res = match self.conns[ci].client.as_mut() {
            Some(c) => c.read_response(),
            None => Err(ReadError::Eof),
        };
        match res {
            Ok((resp, raw)) => {
                if let Response::Untagged(args) = &resp {
                    match self.conns[ci].track_untagged(args) {
                        Ok(log) => self.log_conn(ci, log),
                        Err(e) => {
                            self.fail(format!(
                                "Unexpected disconnection (protocol error: {e}: {})",
                                render_bytes(&raw)
                            ));
                            return Err(Stop);
                        }
                    }
                }
                Ok((resp, raw))
            }
            Err(ReadError::Eof) => {
                self.fail("Unexpected disconnection");
                Err(Stop)
            }
            Err(e) => {
                self.fail(format!("Unexpected disconnection ({e})"));
                Err(Stop)
            }
        }
    }

    fn log_conn(&mut self, ci: usize, lines: Vec<String>) {
        for l in lines {
            let c = &self.conns[ci];
            self.log.push(format!("{}[{}]: {}", c.user, c.id, l));
        }
    }

    /// Sends setup commands back to back and waits for all their tagged replies. Returns
    /// (status, rest) per command; untagged LIST/LSUB names go to `names`.
    fn setup_commands(
        &mut self,
        ci: usize,
        cmds: &[Vec<u8>],
        mut names: Option<&mut ListNames>,
    ) -> Result<Vec<SetupReply>, Stop> {
        let mut tags = Vec::new();
        let mut out = Vec::new();
        for c in cmds {
            let (_, tag) = self.conns[ci].tag();
            let mut line = tag.clone().into_bytes();
            line.push(b' ');
            line.extend_from_slice(c);
            line.extend_from_slice(b"\r\n");
            self.send(ci, &line)?;
            tags.push(tag);
            out.push(None);
        }
        while out.iter().any(Option::is_none) {
            let (resp, raw) = self.read_setup(ci)?;
            match resp {
                Response::Untagged(args) => {
                    if let Some(n) = names.as_deref_mut() {
                        collect_list_name(&args, n);
                    }
                }
                Response::Continuation(_) => {
                    self.fail(format!(
                        "Unexpected command continuation: {}",
                        render_bytes(&raw)
                    ));
                    return Err(Stop);
                }
                Response::Tagged { tag, args } => {
                    let Some(idx) = tags.iter().position(|t| *t == tag) else {
                        self.fail(format!("Unexpected tagged reply: {tag}"));
                        return Err(Stop);
                    };
                    let status = args
                        .first()
                        .and_then(Token::as_atom)
                        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
                        .unwrap_or_default();
                    out[idx] = Some((status, args, raw));
                }
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    fn setup_one(&mut self, ci: usize, cmd: &[u8], allow_no: bool) -> Result<Vec<u8>, Stop> {
        let tag = format!("{}.{}", self.conns[ci].id, self.conns[ci].next_tag);
        let mut res = self.setup_commands(ci, &[cmd.to_vec()], None)?;
        let (status, args, raw) = res.pop().ok_or(Stop)?;
        if status == "OK" || (status == "NO" && allow_no) {
            return Ok(raw);
        }
        self.fail(format!(
            "{} (tag {tag}) failed: {}",
            render_bytes(cmd),
            render(&args)
        ));
        Err(Stop)
    }

    fn setup(&mut self) -> Result<(), SetupEnd> {
        let script = self.script;
        let n = self.conns.len();
        // 1. greetings
        for ci in 0..n {
            let (resp, raw) = self.read_setup(ci)?;
            let ok = raw.len() >= 5 && raw[..5].eq_ignore_ascii_case(b"* OK ");
            let preauth = raw.len() >= 10 && raw[..10].eq_ignore_ascii_case(b"* PREAUTH ");
            if !matches!(resp, Response::Untagged(_)) || !(ok || preauth) {
                self.fail(format!("Malformed banner \"{}\"", render_bytes(&raw)));
                return Err(SetupEnd::Stopped);
            }
            if preauth {
                self.conns[ci].logged_in = true;
            }
            match caps_in_text(&raw) {
                Some(c) => self.conns[ci].set_caps(&c),
                None => {
                    self.setup_one(ci, b"CAPABILITY", false)?;
                }
            }
        }
        // 2. nonauth stops here: no login, no cleanup, no capability check
        if script.state == StartState::NonAuth {
            return Ok(());
        }
        // 3. login
        for ci in 0..n {
            if self.conns[ci].logged_in {
                continue;
            }
            let mut cmd = b"LOGIN ".to_vec();
            cmd.extend_from_slice(&quote(self.conns[ci].user.as_bytes()));
            cmd.push(b' ');
            cmd.extend_from_slice(&quote(self.conns[ci].password.as_bytes()));
            let mut res = self.setup_commands(ci, &[cmd], None)?;
            let (status, args, raw) = res.pop().ok_or(SetupEnd::Stopped)?;
            if status != "OK" {
                self.fail(format!(
                    "LOGIN as {} failed: {}",
                    self.conns[ci].user,
                    render(&args)
                ));
                return Err(SetupEnd::Stopped);
            }
            self.conns[ci].logged_in = true;
            if let Some(c) = caps_in_text(&raw) {
                self.conns[ci].set_caps(&c);
            }
        }
        // 4. capability check on connection 1
        if !self.conns[0].postlogin_caps {
            let mut res = self.setup_commands(0, &[b"CAPABILITY".to_vec()], None)?;
            let (status, _, _) = res.pop().ok_or(SetupEnd::Stopped)?;
            if status != "OK" || !self.conns[0].postlogin_caps {
                self.fail("CAPABILITY failed");
                return Err(SetupEnd::Stopped);
            }
        }
        if let Some(req) = &script.capabilities {
            let missing: Vec<String> = req
                .iter()
                .filter(|c| !self.conns[0].has_cap(c))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(SetupEnd::Skipped(missing));
            }
        }
        // 5. cleanup
        let boxname = self.cfg.mailbox.clone();
        let mut mask = boxname.as_bytes().to_vec();
        mask.push(b'*');
        let mask = quote(&mask);
        let mut list_cmd = b"LIST \"\" ".to_vec();
        list_cmd.extend_from_slice(&mask);
        let mut lsub_cmd = b"LSUB \"\" ".to_vec();
        lsub_cmd.extend_from_slice(&mask);
        let mut names = (Vec::new(), Vec::new());
        let res =
            self.setup_commands(0, &[list_cmd.clone(), lsub_cmd.clone()], Some(&mut names))?;
        for ((status, args, _), cmd) in res.iter().zip([&list_cmd, &lsub_cmd]) {
            if status != "OK" {
                self.fail(format!("{} failed: {}", render_bytes(cmd), render(args)));
                return Err(SetupEnd::Stopped);
            }
        }
        let (mut del, mut unsub) = names;
        let desc = |a: &Vec<u8>, b: &Vec<u8>| b.to_ascii_lowercase().cmp(&a.to_ascii_lowercase());
        del.sort_by(desc);
        unsub.sort_by(desc);
        let mut cmds = Vec::new();
        for d in &del {
            let mut c = b"DELETE ".to_vec();
            c.extend_from_slice(&quote(d));
            cmds.push(c);
        }
        for u in &unsub {
            let mut c = b"UNSUBSCRIBE ".to_vec();
            c.extend_from_slice(&quote(u));
            cmds.push(c);
        }
        if !cmds.is_empty() {
            let res = self.setup_commands(0, &cmds, None)?;
            for ((status, args, _), cmd) in res.iter().zip(&cmds) {
                if status != "OK" && status != "NO" {
                    self.fail(format!("{} failed: {}", render_bytes(cmd), render(args)));
                    return Err(SetupEnd::Stopped);
                }
            }
        }
        // 6. auth stops here
        if script.state == StartState::Auth {
            return Ok(());
        }
        // 7. create
        if !boxname.eq_ignore_ascii_case("INBOX") {
            let mut c = b"CREATE ".to_vec();
            c.extend_from_slice(&quote(boxname.as_bytes()));
            self.setup_one(0, &c, false)?;
        }
        if script.state == StartState::Created {
            return Ok(());
        }
        // 8. append
        let mut left = match script.messages {
            MessageCount::Count(n) => n as usize,
            MessageCount::All => usize::MAX,
        };
        while left > 0 {
            if script.messages == MessageCount::All && self.load_mbox()?.at_end() {
                break;
            }
            left -= 1;
            let msg = self.next_message()?;
            self.setup_append(0, boxname.as_bytes(), &msg)?;
        }
        if script.state == StartState::Appended {
            return Ok(());
        }
        // 9. select on connection 1, then the others
        for ci in 0..n {
            let mut c = b"SELECT ".to_vec();
            c.extend_from_slice(&quote(boxname.as_bytes()));
            self.conns[ci].reset_view();
            self.setup_one(ci, &c, false)?;
        }
        Ok(())
    }

    /// `APPEND "<box>" "<internaldate>" {size+}` (or a synchronizing literal without LITERAL+).
    fn setup_append(&mut self, ci: usize, boxname: &[u8], msg: &MboxMessage) -> Result<(), Stop> {
        let (_, tag) = self.conns[ci].tag();
        let plus = self.conns[ci].has_cap("LITERAL+");
        let mut head = tag.clone().into_bytes();
        head.extend_from_slice(b" APPEND ");
        head.extend_from_slice(&quote(boxname));
        head.push(b' ');
        head.extend_from_slice(&quote(msg.internaldate.as_bytes()));
        head.extend_from_slice(
            format!(" {{{}{}}}\r\n", msg.data.len(), if plus { "+" } else { "" }).as_bytes(),
        );
        let mut body = msg.data.clone();
        body.extend_from_slice(b"\r\n");
        if plus {
            head.extend_from_slice(&body);
            self.send(ci, &head)?;
        } else {
            self.send(ci, &head)?;
        }
        let mut body_sent = plus;
        loop {
            let (resp, raw) = self.read_setup(ci)?;
            match resp {
                Response::Untagged(_) => {}
                Response::Continuation(_) if !body_sent => {
                    self.send(ci, &body)?;
                    body_sent = true;
                }
                Response::Continuation(_) => {
                    self.fail(format!("Unexpected continuation: {}", render_bytes(&raw)));
                    return Err(Stop);
                }
                Response::Tagged { tag: t, args } => {
                    if t != tag {
                        self.fail(format!("Unexpected tagged reply: {t}"));
                        return Err(Stop);
                    }
                    if args.first().is_some_and(|a| a.atom_eq("OK")) {
                        return Ok(());
                    }
                    self.fail(format!(
                        "APPEND {} (tag {tag}) failed: {}",
                        render_bytes(boxname),
                        render(&args)
                    ));
                    return Err(Stop);
                }
            }
        }
    }

    fn logout_all(&mut self) {
        for ci in 0..self.conns.len() {
            let (_, tag) = self.conns[ci].tag();
            let Some(c) = self.conns[ci].client.as_mut() else {
                continue;
            };
            if c.send(format!("{tag} LOGOUT\r\n").as_bytes()).is_err() {
                continue;
            }
            // wait for the tagged reply (or the disconnection), ignoring everything else
            loop {
                match c.read_response() {
                    Ok((Response::Tagged { tag: t, .. }, _)) if t == tag => break,
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
    }

    /// Builds the outgoing form of one script command (after expansion).
    fn build_command(
        &mut self,
        ci: usize,
        group: &Group,
        idx: usize,
    ) -> Result<(Outgoing, String), Stop> {
        let cmd = &group.commands[idx];
        let (text, err) = self.judge.expand_command(&cmd.text);
        if let Some(e) = err {
            self.fail(e);
        }
        let (n, tag) = self.conns[ci].tag();
        let plus = self.conns[ci].has_cap("LITERAL+");
        let lower = text.to_ascii_lowercase();
        // state: LOGOUT / SELECT tracking
        let logout = cmd.line == 0 || lower == b"logout" || group.have_untagged_bye;
        self.conns[ci].logging_out = logout;
        if logout {
            self.conns[ci].logout_sent = true;
        }
        let first_word: Vec<u8> = lower.split(|&c| c == b' ').next().unwrap_or(b"").to_vec();
        if first_word == b"select" || first_word == b"examine" {
            let rest = &text[first_word.len()..];
            if let Ok(toks) = parse_args(rest, false)
                && let Some(name) = toks.first().and_then(Token::as_text)
            {
                self.conns[ci].mailbox = name.to_vec();
            }
            self.conns[ci].reset_view();
        }
        let mut head = tag.clone().into_bytes();
        head.push(b' ');
        let special = if lower == b"append" {
            Some(None)
        } else if lower.starts_with(b"append ") && !append_has_body(&text[7..]) {
            Some(Some(text[7..].to_vec()))
        } else {
            None
        };
        let parts = if let Some(args) = special {
            let msg = self.next_message()?;
            head.extend_from_slice(b"APPEND ");
            match args {
                None => {
                    let mb = self.conns[ci].mailbox.clone();
                    head.extend_from_slice(&quote(&mb));
                    head.push(b' ');
                    head.extend_from_slice(&quote(msg.internaldate.as_bytes()));
                }
                Some(a) => head.extend_from_slice(&a),
            }
            head.extend_from_slice(
                format!(" {{{}{}}}\r\n", msg.data.len(), if plus { "+" } else { "" }).as_bytes(),
            );
            let mut body = msg.data;
            body.extend_from_slice(b"\r\n");
            if plus {
                head.extend_from_slice(&body);
                vec![head]
            } else {
                vec![head, body]
            }
        } else {
            let (converted, has_literals) = nonsync_literals(&text);
            if has_literals && !plus {
                self.fail(
                    "The server does not advertise LITERAL+, which the script's literals need \
                     (imaptest aborts here)",
                );
                return Err(Stop);
            }
            head.extend_from_slice(&converted);
            head.extend_from_slice(b"\r\n");
            vec![head]
        };
        Ok((Outgoing { n, parts, sent: 0 }, tag))
    }

    /// Sends queued parts until one needs a continuation.
    fn pump(&mut self, ci: usize, queue: &mut [Outgoing], allow_one: bool) -> Result<bool, Stop> {
        let mut allow = allow_one;
        for o in queue.iter_mut() {
            while o.sent < o.parts.len() {
                if o.sent > 0 {
                    if !allow {
                        return Ok(true);
                    }
                    allow = false;
                }
                let data = std::mem::take(&mut o.parts[o.sent]);
                o.sent += 1;
                self.send(ci, &data)?;
            }
        }
        Ok(false)
    }

    fn run_group(&mut self, gi: usize) -> Result<(), Stop> {
        let script: &'a Script = self.script;
        let group = &script.groups[gi];
        let ci = group.connection;
        self.cur_group = Some((gi, None));
        if ci >= self.conns.len() {
            self.fail("Unexpected disconnection (no such connection)");
            return Err(Stop);
        }
        if self.conns[ci].dead {
            self.fail("Unexpected disconnection");
            return Err(Stop);
        }
        self.judge.begin_group(group, self.conns[ci].msg_count);

        // send all commands back to back
        let mut queue: Vec<Outgoing> = Vec::new();
        let mut pending: Vec<Option<(u32, String)>> = Vec::new();
        for idx in 0..group.commands.len() {
            let (o, tag) = self.build_command(ci, group, idx)?;
            if idx == 0 {
                self.cur_group = Some((gi, Some(tag.clone())));
            }
            pending.push(Some((o.n, tag)));
            queue.push(o);
        }
        let mut waiting_cont = self.pump(ci, &mut queue, false)?;

        while pending.iter().any(Option::is_some) {
            let res = match self.conns[ci].client.as_mut() {
                Some(c) => c.read_response(),
                None => Err(ReadError::Eof),
            };
            let (resp, raw) = match res {
                Ok(x) => x,
                Err(ReadError::Eof) => {
                    self.conns[ci].client = None;
                    if group.have_untagged_bye && self.conns[ci].seen_bye {
                        for cmd in &group.commands {
                            let any = cmd.reply.len() == 1 && cmd.reply[0].atom_eq("");
                            if !any {
                                self.fail(format!(
                                    "Command expected '{}' as tagged reply - only \"\" allowed when BYE happens",
                                    render(&cmd.reply)
                                ));
                            }
                        }
                        self.conns[ci].dead = true;
                        return self.finish_group(gi, false);
                    }
                    self.collect_judge_failures();
                    self.fail("Unexpected disconnection");
                    return Err(Stop);
                }
                Err(ReadError::Timeout) => {
                    self.collect_judge_failures();
                    self.fail(format!(
                        "Timed out after {:?} waiting for the server (imaptest would wait forever)",
                        self.cfg.timeout
                    ));
                    return Err(Stop);
                }
                Err(e) => {
                    self.collect_judge_failures();
                    self.fail(format!("Unexpected disconnection ({e})"));
                    return Err(Stop);
                }
            };
            match resp {
                Response::Continuation(_) => {
                    if waiting_cont {
                        waiting_cont = self.pump(ci, &mut queue, true)?;
                    } else {
                        self.fail(format!(
                            "Unexpected command continuation: {} (imaptest panics here)",
                            render_bytes(&raw)
                        ));
                        return Err(Stop);
                    }
                }
                Response::Untagged(args) => {
                    match self.conns[ci].track_untagged(&args) {
                        Ok(log) => self.log_conn(ci, log),
                        Err(e) => {
                            self.collect_judge_failures();
                            self.fail(format!(
                                "Unexpected disconnection (imaptest closes the connection: {e}: {})",
                                render_bytes(&raw)
                            ));
                            return Err(Stop);
                        }
                    }
                    let first_tag = pending
                        .first()
                        .and_then(|p| p.as_ref())
                        .map(|(_, t)| t.clone());
                    self.judge.untagged(
                        group,
                        &args,
                        first_tag.as_deref(),
                        self.conns[ci].logging_out,
                    );
                    self.judge.after_untagged(&args);
                    self.collect_judge_failures();
                }
                Response::Tagged { tag, args } => {
                    let Some(idx) = pending
                        .iter()
                        .position(|p| p.as_ref().is_some_and(|(_, t)| *t == tag))
                    else {
                        self.fail(format!(
                            "Unexpected disconnection (imaptest closes the connection: \
                             Unexpected tagged reply: {})",
                            render_bytes(&raw)
                        ));
                        return Err(Stop);
                    };
                    let status = args
                        .first()
                        .and_then(Token::as_atom)
                        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
                        .unwrap_or_default();
                    if !matches!(status.as_str(), "OK" | "NO" | "BAD") {
                        self.fail(format!(
                            "Unexpected disconnection (imaptest closes the connection: \
                             Broken tagged reply: {})",
                            render_bytes(&raw)
                        ));
                        return Err(Stop);
                    }
                    let cmd = &group.commands[idx];
                    if status == "BAD" && !cmd.reply.first().is_some_and(|t| t.atom_eq("bad")) {
                        let c = &self.conns[ci];
                        self.log.push(format!(
                            "{}[{}]: BAD reply for command: {}",
                            c.user,
                            c.id,
                            render_bytes(&cmd.text)
                        ));
                        self.conns[ci].dead = true;
                    }
                    self.judge.tagged(&cmd.reply, &tag, &args);
                    self.collect_judge_failures();
                    // an APPEND rejected before its continuation: drop the unsent literal
                    let n = pending[idx].as_ref().map_or(0, |p| p.0);
                    if let Some(o) = queue.iter_mut().find(|o| o.n == n)
                        && o.sent < o.parts.len()
                    {
                        o.sent = o.parts.len();
                        waiting_cont = self.pump(ci, &mut queue, false)?;
                    }
                    let lower = cmd.text.to_ascii_lowercase();
                    if status == "OK" && (lower == b"close" || lower == b"unselect") {
                        self.conns[ci].reset_view();
                    }
                    pending[idx] = None;
                    if idx == 0 {
                        self.cur_group = Some((gi, None));
                    }
                    if self.conns[ci].dead && pending.iter().any(Option::is_some) {
                        self.fail("Unexpected disconnection");
                        return Err(Stop);
                    }
                }
            }
        }
        let dead = self.conns[ci].dead;
        self.finish_group(gi, dead)
    }

    fn finish_group(&mut self, gi: usize, closed_after: bool) -> Result<(), Stop> {
        let script: &'a Script = self.script;
        let group = &script.groups[gi];
        self.cur_group = Some((gi, None));
        self.judge.end_group(group);
        self.collect_judge_failures();
        for o in &group.outputs {
            let (text, err) = self.judge.expand_command(o);
            if let Some(e) = err {
                self.fail(e);
            }
            self.outputs
                .push(String::from_utf8_lossy(&text).into_owned());
        }
        if let Some(d) = group.sleep {
            std::thread::sleep(d);
        }
        self.groups_finished += 1;
        if closed_after && gi + 1 < script.groups.len() {
            if let Some(c) = self.conns[group.connection].client.as_mut() {
                c.shutdown();
            }
            self.conns[group.connection].client = None;
            self.cur_group = Some((gi + 1, None));
            self.fail("Unexpected disconnection");
            return Err(Stop);
        }
        Ok(())
    }
}

/// Collects names from `* LIST (…) sep name` / `* LSUB …` responses during cleanup.
fn collect_list_name(args: &[Token], names: &mut ListNames) {
    let (Some(kind), Some(Token::List(_)), Some(sep), Some(name)) =
        (args.first(), args.get(1), args.get(2), args.get(3))
    else {
        return;
    };
    if sep.as_list().is_some() {
        return;
    }
    let Some(name) = name.as_astring() else {
        return;
    };
    if kind.atom_eq("LIST") {
        names.0.push(name.to_vec());
    } else if kind.atom_eq("LSUB") {
        names.1.push(name.to_vec());
    }
}
