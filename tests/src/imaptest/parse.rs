//! The script parser (FORMAT.md sections 2 and 3, default list directives of 6.4).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::tokens::{Token, parse_args};

/// Most connections a script may use.
pub const MAX_CONNECTIONS: usize = 100;

/// Where setup leaves the connections before the script's first command (5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StartState {
    /// Greeting only, no login.
    NonAuth,
    /// Logged in; every `<box>*` mailbox deleted.
    Auth,
    /// The test mailbox created (empty).
    Created,
    /// Messages appended.
    Appended,
    /// The test mailbox selected on every connection (the default).
    Selected,
}

/// How many messages setup appends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageCount {
    /// This many, wrapping around the mbox when it has fewer.
    Count(u32),
    /// Every message of the mbox.
    All,
}

/// Who connection N logs in as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSpec {
    /// An explicit login name.
    Name(String),
    /// `$user2`: the runner's second user.
    User2,
}

/// `*`, `!` or `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existence {
    /// `*`: must be seen.
    Must,
    /// `!`: must not be seen.
    MustNot,
    /// `?`: may be seen.
    May,
}

/// One untagged expectation line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untagged {
    /// `*`, `!` or `?`.
    pub existence: Existence,
    /// The expected response without its `* ` (default directives inserted).
    pub args: Vec<Token>,
    /// Line number in the script.
    pub line: usize,
}

/// One command of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Line number of the command (0 for the automatic LOGOUT).
    pub line: usize,
    /// The `tagN` number of a pipelined command, 0 for none.
    pub tag: u32,
    /// The command text as written (literal blocks already turned into `{N}\r\n…`).
    pub text: Vec<u8>,
    /// The expected tagged reply pattern (status first).
    pub reply: Vec<Token>,
}

/// A command group: the unit of execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// 0-based connection index.
    pub connection: usize,
    /// The commands, sent back to back.
    pub commands: Vec<Command>,
    /// Untagged expectations.
    pub untagged: Vec<Untagged>,
    /// `!output` texts, printed (expanded) after the group.
    pub outputs: Vec<Vec<u8>>,
    /// `!sleep` after the group.
    pub sleep: Option<Duration>,
    /// The group has a `* bye` line.
    pub have_untagged_bye: bool,
}

/// A parsed script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The file name.
    pub name: String,
    /// The file path.
    pub path: PathBuf,
    /// `NAME.mbox` beside the script if it exists, else `default.mbox` in the same folder.
    pub mbox_path: PathBuf,
    /// `capabilities:` (Some even when empty: such a test counts as an extension test).
    pub capabilities: Option<Vec<String>>,
    /// Number of connections.
    pub connections: usize,
    /// `state:`.
    pub state: StartState,
    /// `messages:`.
    pub messages: MessageCount,
    /// `user N:` per 0-based connection index.
    pub users: Vec<Option<UserSpec>>,
    /// Some `user N` is `$user2`.
    pub require_user2: bool,
    /// `ignore_extra_untagged:` (default yes).
    pub ignore_extra_untagged: bool,
    /// The command groups, automatic LOGOUT included.
    pub groups: Vec<Group>,
}

impl Script {
    /// Whether the test counts as an extension test (has a `capabilities:` header).
    pub fn is_extension(&self) -> bool {
        self.capabilities.is_some()
    }
}

/// A parse error: `path line N: message` or `path: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The script path.
    pub path: PathBuf,
    /// The line, if the error is tied to one.
    pub line: Option<usize>,
    /// imaptest's message.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} line {}: {}", self.path.display(), l, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads and parses a script file; the mbox is looked up beside it.
pub fn parse_script_file(path: &Path) -> Result<Script, ParseError> {
    let data = std::fs::read(path).map_err(|e| ParseError {
        path: path.to_path_buf(),
        line: None,
        message: format!("open failed: {e}"),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut mbox = path.as_os_str().to_owned();
    mbox.push(".mbox");
    let mbox = PathBuf::from(mbox);
    let mbox_path = if mbox.exists() {
        mbox
    } else {
        path.parent()
            .unwrap_or_else(|| Path::new("."))
            .join("default.mbox")
    };
    parse_script(&name, path, &mbox_path, &data)
}

/// Parses a script from memory. `path` is used for messages only; `mbox_path` is recorded.
pub fn parse_script(
    name: &str,
    path: &Path,
    mbox_path: &Path,
    data: &[u8],
) -> Result<Script, ParseError> {
    let mut p = Parser {
        script: Script {
            name: name.to_string(),
            path: path.to_path_buf(),
            mbox_path: mbox_path.to_path_buf(),
            capabilities: None,
            connections: 1,
            state: StartState::Selected,
            messages: MessageCount::Count(0),
            users: Vec::new(),
            require_user2: false,
            ignore_extra_untagged: true,
            groups: Vec::new(),
        },
        pending: Vec::new(),
        ifenv: Vec::new(),
        skip: false,
    };
    let err = |line: Option<usize>, message: String| ParseError {
        path: path.to_path_buf(),
        line,
        message,
    };

    // Split into physical lines; the last one must end in LF.
    let mut lines: Vec<&[u8]> = data.split(|&c| c == b'\n').collect();
    if let Some(last) = lines.pop()
        && !last.is_empty()
    {
        return Err(err(None, "Last line doesn't end with LF".into()));
    }

    let mut header = true;
    let mut continues = false;
    let mut binary = false;
    let mut multiline: Vec<u8> = Vec::new();
    let mut start_pos = 0usize;
    let mut last_line_end = 0usize;
    let mut start_linenum = 0usize;
    for (idx, raw) in lines.iter().enumerate() {
        let linenum = idx + 1;
        let logical: Vec<u8>;
        if continues {
            if !raw.starts_with(b"}}}") {
                multiline.extend_from_slice(raw);
                last_line_end = multiline.len();
                multiline.extend_from_slice(if binary { b"\n" } else { b"\r\n" });
                continue;
            }
            multiline.truncate(last_line_end);
            let rest = &raw[3..];
            let size = multiline.len() - start_pos;
            let marker = format!("{}{{{}}}\r\n", if binary { "~" } else { "" }, size);
            multiline.splice(start_pos..start_pos, marker.into_bytes());
            if let Some((prefix, bin)) = literal_opener(rest) {
                binary = bin;
                multiline.extend_from_slice(prefix);
                start_pos = multiline.len();
                last_line_end = start_pos;
                continue;
            }
            multiline.extend_from_slice(rest);
            logical = std::mem::take(&mut multiline);
            continues = false;
        } else {
            start_linenum = linenum;
            if raw.is_empty() {
                header = false;
                continue;
            }
            if raw[0] == b'#' {
                continue;
            }
            if let Some((prefix, bin)) = literal_opener(raw) {
                binary = bin;
                multiline.clear();
                multiline.extend_from_slice(prefix);
                start_pos = multiline.len();
                last_line_end = start_pos;
                continues = true;
                continue;
            }
            logical = raw.to_vec();
        }
        let res = if header {
            p.header_line(&logical)
        } else {
            p.body_line(start_linenum, &logical)
        };
        res.map_err(|m| err(Some(linenum), m))?;
    }
    if continues {
        return Err(err(
            None,
            format!("Multiline reply at line {start_linenum} not ended"),
        ));
    }
    if p.script.groups.is_empty() {
        return Err(err(None, "No commands in file".into()));
    }
    if let Some(cmd_idx) = p.pending.iter().position(|r| r.is_none()) {
        let cmd_line = p
            .script
            .groups
            .last()
            .and_then(|g| g.commands.get(cmd_idx))
            .map(|c| c.line)
            .unwrap_or(0);
        return Err(err(
            Some(lines.len()),
            format!("Missing reply from previous command at line {cmd_line}"),
        ));
    }
    if let Some(first) = p.ifenv.first() {
        return Err(err(
            None,
            format!("!ifenv at line {} not closed with !endif", first.line),
        ));
    }
    p.flush_pending();
    let mut script = p.script;
    add_logout(&mut script);
    Ok(script)
}

/// A line ending in `{{{` (or `~{{{`) opens a literal block: returns the text before the marker.
fn literal_opener(line: &[u8]) -> Option<(&[u8], bool)> {
    let len = line.len();
    if len >= 3 && &line[len - 3..] == b"{{{" {
        if len > 3 && line[len - 4] == b'~' {
            Some((&line[..len - 4], true))
        } else {
            Some((&line[..len - 3], false))
        }
    } else {
        None
    }
}

struct IfEnv {
    line: usize,
    else_seen: bool,
    skip: bool,
}

struct Parser {
    script: Script,
    /// Expected replies of the current (last) group while it is being built; None = waiting.
    pending: Vec<Option<Vec<Token>>>,
    ifenv: Vec<IfEnv>,
    skip: bool,
}

fn parse_uint(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// C `strtoul`: the leading digits, 0 if none.
fn strtoul(s: &[u8]) -> u64 {
    let mut v: u64 = 0;
    for &c in s.iter().skip_while(|c| **c == b' ') {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    v
}

fn first_word(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == b' ') {
        Some(p) => &s[..p],
        None => s,
    }
}

/// imaptest's `test_get_cmd_reply`: an optional `tagN` and an optional status word.
/// Returns (reply, tag, rest of line).
fn get_cmd_reply(line: &[u8]) -> (Option<Vec<Token>>, u32, &[u8]) {
    let mut rest = line;
    let mut tag = 0;
    let mut arg = first_word(rest);
    if arg.len() >= 3
        && arg[..3].eq_ignore_ascii_case(b"tag")
        && let (Some(sp), Some(n)) = (rest.iter().position(|&c| c == b' '), parse_uint(&arg[3..]))
        && n > 0
    {
        rest = &rest[sp + 1..];
        tag = n;
        arg = first_word(rest);
    }
    let reply = if arg.eq_ignore_ascii_case(b"ok") {
        Some("ok")
    } else if arg.eq_ignore_ascii_case(b"no") {
        Some("no")
    } else if arg.eq_ignore_ascii_case(b"bad") {
        Some("bad")
    } else if arg == b"\"\"" {
        Some("")
    } else {
        None
    };
    match reply {
        Some(r) => {
            rest = &rest[arg.len()..];
            if rest.first() == Some(&b' ') {
                rest = &rest[1..];
            }
            (Some(vec![Token::Atom(r.as_bytes().to_vec())]), tag, rest)
        }
        None => (None, tag, rest),
    }
}

fn untagged_kind(line: &[u8]) -> Option<Existence> {
    match line.get(..2) {
        Some(b"* ") => Some(Existence::Must),
        Some(b"! ") => Some(Existence::MustNot),
        Some(b"? ") => Some(Existence::May),
        _ => None,
    }
}

impl Parser {
    fn header_line(&mut self, line: &[u8]) -> Result<(), String> {
        let colon = line
            .iter()
            .position(|&c| c == b':')
            .ok_or_else(|| "Missing ':'".to_string())?;
        let mut kend = colon;
        while kend > 0 && line[kend - 1] == b' ' {
            kend -= 1;
        }
        let key = String::from_utf8_lossy(&line[..kend]).to_ascii_lowercase();
        let mut v = &line[colon + 1..];
        while v.first() == Some(&b' ') {
            v = &v[1..];
        }
        let value = String::from_utf8_lossy(v).into_owned();
        match key.as_str() {
            "capabilities" => {
                self.script.capabilities = Some(
                    value
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            "connections" => {
                let n = if value.trim() == "n" {
                    2
                } else {
                    strtoul(v) as usize
                };
                if n == 0 || n > MAX_CONNECTIONS {
                    return Err("Too many connections".into());
                }
                self.script.connections = n;
            }
            "ignore_extra_untagged" => {
                self.script.ignore_extra_untagged = value.starts_with('y');
            }
            "messages" => {
                self.script.messages = if value == "all" {
                    MessageCount::All
                } else {
                    MessageCount::Count(strtoul(v).min(u64::from(u32::MAX)) as u32)
                };
            }
            "state" => {
                self.script.state = match value.to_ascii_lowercase().as_str() {
                    "nonauth" => StartState::NonAuth,
                    "auth" => StartState::Auth,
                    "created" => StartState::Created,
                    "appended" => StartState::Appended,
                    "selected" => StartState::Selected,
                    _ => return Err("Unknown state value".into()),
                };
            }
            k if k.starts_with("user ")
                && parse_uint(&k.as_bytes()[5..]).is_some_and(|n| n != 0) =>
            {
                let idx = parse_uint(&k.as_bytes()[5..]).unwrap_or(1) as usize;
                if idx > MAX_CONNECTIONS {
                    return Err("Too many connections".into());
                }
                let spec = if value == "$user2" || value == "${user2}" {
                    self.script.require_user2 = true;
                    UserSpec::User2
                } else {
                    UserSpec::Name(value)
                };
                if self.script.users.len() < idx {
                    self.script.users.resize(idx, None);
                }
                self.script.users[idx - 1] = Some(spec);
            }
            _ => return Err("Unknown setting".into()),
        }
        Ok(())
    }

    fn replies_pending(&self) -> usize {
        self.pending.iter().filter(|r| r.is_none()).count()
    }

    /// Moves the collected replies of the current group into its commands.
    fn flush_pending(&mut self) {
        if let Some(g) = self.script.groups.last_mut() {
            for (cmd, r) in g.commands.iter_mut().zip(self.pending.drain(..)) {
                if let Some(r) = r {
                    cmd.reply = r;
                }
            }
        }
        self.pending.clear();
    }

    fn body_line(&mut self, linenum: usize, line: &[u8]) -> Result<(), String> {
        // 1. conditionals
        let ifenv = line.strip_prefix(b"!ifenv ");
        let ifnenv = line.strip_prefix(b"!ifnenv ");
        if ifenv.is_some() || ifnenv.is_some() {
            let mut skip_block = false;
            if let Some(var) = ifenv {
                let var = String::from_utf8_lossy(var);
                skip_block = std::env::var_os(var.as_ref()).is_none();
            }
            // `!ifnenv` never skips anything in imaptest 2.3 (FORMAT.md 3.2).
            self.ifenv.push(IfEnv {
                line: linenum,
                else_seen: false,
                skip: self.skip,
            });
            if skip_block {
                self.skip = true;
            }
            return Ok(());
        }
        if line == b"!else" {
            let top = self
                .ifenv
                .last_mut()
                .ok_or_else(|| "!else without !ifenv".to_string())?;
            if top.else_seen {
                return Err("!else already seen".into());
            }
            top.else_seen = true;
            if !top.skip {
                self.skip = !self.skip;
            }
            return Ok(());
        }
        if line == b"!endif" {
            let top = self
                .ifenv
                .pop()
                .ok_or_else(|| "!endif without !ifenv".to_string())?;
            self.skip = top.skip;
            return Ok(());
        }
        if self.skip {
            return Ok(());
        }

        // 2. lines attached to the latest group
        if !self.script.groups.is_empty() {
            if let Some(v) = line.strip_prefix(b"!sleep ") {
                let d = parse_interval(v).ok_or_else(|| {
                    format!("Invalid !sleep value {}", String::from_utf8_lossy(v))
                })?;
                if let Some(g) = self.script.groups.last_mut() {
                    g.sleep = Some(d);
                }
                return Ok(());
            }
            if let Some(v) = line.strip_prefix(b"!output ") {
                if let Some(g) = self.script.groups.last_mut() {
                    g.outputs.push(v.to_vec());
                }
                return Ok(());
            }
            if let Some(existence) = untagged_kind(line) {
                return self.untagged_line(linenum, existence, &line[2..]);
            }
            if self.replies_pending() > 0 {
                let (reply, tag, _) = get_cmd_reply(line);
                if reply.is_some() {
                    return self.reply_line(tag, line);
                }
            }
        }

        // 3. command line
        if self.script.groups.is_empty() || self.replies_pending() == 0 {
            self.flush_pending();
            self.script.groups.push(Group {
                connection: 0,
                commands: Vec::new(),
                untagged: Vec::new(),
                outputs: Vec::new(),
                sleep: None,
                have_untagged_bye: false,
            });
        }
        let multi = self.script.connections > 1;
        let mut text = line;
        let mut conn_idx = None;
        if multi {
            let idx = parse_uint(first_word(text))
                .filter(|n| *n > 0)
                .ok_or_else(|| "Missing client index".to_string())? as usize;
            if idx > MAX_CONNECTIONS {
                return Err("Too many connections".into());
            }
            conn_idx = Some(idx);
            text = match text.iter().position(|&c| c == b' ') {
                Some(p) => &text[p + 1..],
                None => b"",
            };
        }
        let pending_before = self.replies_pending();
        let group = self
            .script
            .groups
            .last_mut()
            .ok_or_else(|| "internal: no group".to_string())?;
        if let Some(idx) = conn_idx {
            // imaptest 2.3 compares the 0-based index with the 1-based number here, so any
            // second command of a group fails in a multi-connection test (FORMAT.md 3.3).
            if !group.commands.is_empty() {
                return Err("All pipelined commands must use the same connection".into());
            }
            group.connection = idx - 1;
            if self.script.connections < idx {
                self.script.connections = idx;
            }
        }
        let (reply, tag, rest) = get_cmd_reply(text);
        if tag == 0 {
            if pending_before > 0 {
                return Err("Missing reply from previous command group".into());
            }
        } else if group.commands.iter().any(|c| c.tag == tag) {
            return Err("Tag reused within command group".into());
        }
        group.commands.push(Command {
            line: linenum,
            tag,
            text: rest.to_vec(),
            reply: Vec::new(),
        });
        self.pending.push(reply);
        Ok(())
    }

    fn reply_line(&mut self, tag: u32, line: &[u8]) -> Result<(), String> {
        let group = self
            .script
            .groups
            .last()
            .ok_or_else(|| "internal: no group".to_string())?;
        let idx = group
            .commands
            .iter()
            .position(|c| c.tag == tag)
            .ok_or_else(|| "Reply for unknown tag".to_string())?;
        if self.pending[idx].is_some() {
            return Err("Command already has a reply".into());
        }
        let mut args = parse_args(line, true)?;
        if tag != 0 && !args.is_empty() {
            args.remove(0);
        }
        self.pending[idx] = Some(args);
        Ok(())
    }

    fn untagged_line(
        &mut self,
        linenum: usize,
        existence: Existence,
        text: &[u8],
    ) -> Result<(), String> {
        let mut args = parse_args(text, true)?;
        let mut name: Vec<u8> = Vec::new();
        if let Some(a) = args.first().and_then(Token::as_atom) {
            name = a.to_vec();
            if a.first() == Some(&b'$') || a.first().is_some_and(u8::is_ascii_digit) {
                name = args
                    .get(1)
                    .and_then(Token::as_atom)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
            }
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        let mut ctx = DirCtx {
            parent: None,
            reply_name: name.clone(),
            prev_atom: None,
            parent_chain_idx: 0,
            chain_count: 1,
            directives: false,
        };
        handle_directives(&mut ctx, &mut args)?;
        let group = self
            .script
            .groups
            .last_mut()
            .ok_or_else(|| "internal: no group".to_string())?;
        if name.len() >= 3 && name[..3].eq_ignore_ascii_case("BYE") {
            match existence {
                Existence::Must => group.have_untagged_bye = true,
                Existence::MustNot => {}
                Existence::May => return Err("? BYE not currently supported".into()),
            }
        }
        group.untagged.push(Untagged {
            existence,
            args,
            line: linenum,
        });
        Ok(())
    }
}

/// Dovecot time syntax: a number and a unit (`500ms`, `2s`, `1 min`); a bare 0 is allowed.
pub fn parse_interval(v: &[u8]) -> Option<Duration> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim().to_ascii_lowercase();
    let ms = match unit.as_str() {
        "" if n == 0 => 0,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => n,
        "s" | "sec" | "secs" | "second" | "seconds" => n.checked_mul(1000)?,
        "m" | "min" | "mins" | "minute" | "minutes" => n.checked_mul(60_000)?,
        "h" | "hour" | "hours" => n.checked_mul(3_600_000)?,
        "d" | "day" | "days" => n.checked_mul(86_400_000)?,
        "w" | "week" | "weeks" => n.checked_mul(604_800_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// imaptest's `list_directives_context`.
struct DirCtx<'a> {
    parent: Option<&'a DirCtx<'a>>,
    /// The untagged reply name (e.g. `fetch`); lower-cased below the top level.
    reply_name: String,
    /// The last atom before this list (lower-cased).
    prev_atom: Option<String>,
    /// Index of this list in its parent (modulo the parent's chain size).
    parent_chain_idx: usize,
    chain_count: usize,
    directives: bool,
}

fn is_directive(t: &Token) -> bool {
    t.as_atom().is_some_and(|a| a.starts_with(b"$!"))
}

/// Validates explicit directives, inserts the defaults of 6.4 into lists without any, and
/// recurses into sublists.
fn handle_directives(ctx: &mut DirCtx<'_>, list: &mut Vec<Token>) -> Result<(), String> {
    for t in list.iter() {
        let Some(a) = t.as_atom() else { break };
        let Some(d) = a.strip_prefix(b"$!") else {
            break;
        };
        if let Some(rest) = d.strip_prefix(b"unordered") {
            if rest.is_empty() {
            } else if let Some(k) = rest.strip_prefix(b"=").and_then(parse_uint)
                && k > 0
            {
                ctx.chain_count = k as usize;
            } else {
                return Err("Broken $!unordered directive".into());
            }
        } else if d == b"ordered"
            || d == b"noextra"
            || d == b"extra"
            || d.starts_with(b"ignore=")
            || d.starts_with(b"ban=")
        {
        } else {
            return Err(format!("Unknown directive: {}", String::from_utf8_lossy(a)));
        }
        ctx.directives = true;
    }
    if !ctx.directives {
        add_default_directives(ctx, list);
    }
    let directive_count = list.iter().take_while(|t| is_directive(t)).count();
    if ctx.chain_count > 1 && !(list.len() - directive_count).is_multiple_of(ctx.chain_count) {
        return Err(format!(
            "Invalid list argument count, chain size={}",
            ctx.chain_count
        ));
    }
    let parent: &DirCtx<'_> = ctx;
    let mut prev_atom: Option<String> = None;
    for (i, t) in list.iter_mut().enumerate() {
        if let Some(a) = t.as_atom() {
            prev_atom = Some(String::from_utf8_lossy(a).to_ascii_lowercase());
        }
        let Token::List(sub) = t else { continue };
        let mut subctx = DirCtx {
            parent: Some(parent),
            reply_name: parent.reply_name.to_ascii_lowercase(),
            prev_atom: prev_atom.clone(),
            parent_chain_idx: if parent.chain_count == 1 {
                i
            } else {
                i % parent.chain_count
            },
            chain_count: 1,
            directives: false,
        };
        handle_directives(&mut subctx, sub)?;
    }
    Ok(())
}

fn add_default_directives(ctx: &DirCtx<'_>, list: &mut Vec<Token>) {
    let Some(parent) = ctx.parent else { return };
    let top_level_parent = parent.parent.is_none() && parent.parent_chain_idx == 0;
    let insert = |list: &mut Vec<Token>, ds: &[&str]| {
        for d in ds {
            list.insert(0, Token::Atom(d.as_bytes().to_vec()));
        }
    };
    match ctx.reply_name.as_str() {
        "list" | "lsub" if top_level_parent && ctx.parent_chain_idx == 1 => {
            insert(list, &["$!unordered"]);
        }
        "status" if top_level_parent && ctx.parent_chain_idx == 2 => {
            insert(list, &["$!unordered=2"]);
        }
        "fetch" => {
            if top_level_parent && ctx.parent_chain_idx == 2 {
                insert(list, &["$!unordered=2"]);
            } else if let Some(gp) = parent.parent
                && gp.parent.is_none()
                && gp.parent_chain_idx == 0
                && parent.parent_chain_idx == 2
                && ctx.prev_atom.as_deref() == Some("flags")
            {
                insert(
                    list,
                    &[
                        "$!unordered",
                        "$!noextra",
                        "$!ignore=\\recent",
                        "$!ignore=$HasAttachment",
                        "$!ignore=$HasNoAttachment",
                    ],
                );
            }
        }
        _ => {}
    }
}

/// Adds the automatic `LOGOUT` group unless some command is `logout` or a group has `* bye`.
fn add_logout(script: &mut Script) {
    let has_logout = script.groups.iter().any(|g| {
        g.have_untagged_bye
            || g.commands
                .iter()
                .any(|c| c.text.eq_ignore_ascii_case(b"logout"))
    });
    if has_logout {
        return;
    }
    script.groups.push(Group {
        connection: 0,
        commands: vec![Command {
            line: 0,
            tag: 0,
            text: b"logout".to_vec(),
            reply: vec![Token::Atom(b"ok".to_vec())],
        }],
        untagged: Vec::new(),
        outputs: Vec::new(),
        sleep: None,
        have_untagged_bye: false,
    });
}
