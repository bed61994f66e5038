//! Matching server responses against expectations (FORMAT.md section 6), independent of any
//! connection so that it can be tested with hand-written response lines.
//!
//! [`Judge`] keeps the variables of a test and the per-group state (which untagged lines are
//! satisfied, best near-matches, extras) and produces imaptest's failure messages.

use std::collections::HashMap;

use super::parse::{Existence, Group};
use super::tokens::{Token, render};

/// "Matched completely" (imaptest's `UINT_MAX`); other values count matched tokens.
pub const FULL: usize = usize::MAX;

/// The variables of a test; they last for the whole test, across groups and connections.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    map: HashMap<Vec<u8>, Vec<u8>>,
    /// Names bound while matching the current response line (reverted when it is rejected).
    added: Vec<Vec<u8>>,
}

impl Vars {
    /// The value of a variable.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.map.get(name.as_bytes()).map(Vec::as_slice)
    }

    /// Binds a variable.
    pub fn set(&mut self, name: &str, value: &[u8]) {
        self.map.insert(name.as_bytes().to_vec(), value.to_vec());
    }

    /// Unbinds a variable.
    pub fn remove(&mut self, name: &str) {
        self.map.remove(name.as_bytes());
    }
}

fn is_var_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `str_to_uint32`: all digits, no overflow.
fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// imaptest compares C strings, so text ends at the first NUL byte.
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// Matching state of one test.
#[derive(Clone, Debug, Default)]
pub struct Judge {
    /// The test's variables.
    pub vars: Vars,
    /// The relative sequence map of the current group: initial sequence → current one, 0 =
    /// expunged.
    pub seqmap: Vec<u32>,
    /// `ignore_extra_untagged`.
    pub ignore_extra_untagged: bool,
    found: Vec<bool>,
    maybes: Vec<(usize, String)>,
    mismatch_count: usize,
    first_extra: Option<String>,
    failures: Vec<String>,
}

impl Judge {
    /// A judge with no variables bound.
    pub fn new(ignore_extra_untagged: bool) -> Judge {
        Judge {
            ignore_extra_untagged,
            ..Judge::default()
        }
    }

    /// Resets the per-group state; the sequence map becomes 1..=`known_count`.
    pub fn begin_group(&mut self, group: &Group, known_count: u32) {
        self.found = vec![false; group.untagged.len()];
        self.maybes = vec![(0, String::new()); group.untagged.len()];
        self.mismatch_count = 0;
        self.first_extra = None;
        self.seqmap = (1..=known_count).collect();
    }

    /// Records a failure of the current group.
    pub fn fail(&mut self, msg: impl Into<String>) {
        self.failures.push(msg.into());
    }

    /// The failures recorded since the last call.
    pub fn take_failures(&mut self) -> Vec<String> {
        std::mem::take(&mut self.failures)
    }

    fn relative_seq(&self, seq: u32) -> Vec<u8> {
        if seq == 0 {
            return b"<zero seq>".to_vec();
        }
        match self.seqmap.get(seq as usize - 1) {
            None => b"<out of range>".to_vec(),
            Some(0) => b"<expunged>".to_vec(),
            Some(n) => n.to_string().into_bytes(),
        }
    }

    /// Expands a command or `!output` text (6.5). On an unbound variable or a missing `}` the
    /// expansion stops there: the text so far is returned together with the failure message.
    pub fn expand_command(&self, line: &[u8]) -> (Vec<u8>, Option<String>) {
        self.expand_all(line, false)
    }

    /// Expands a pattern for display: unbound variables become `$`.
    pub fn expand_for_display(&self, line: &[u8]) -> Vec<u8> {
        self.expand_all(line, true).0
    }

    fn expand_all(&self, line: &[u8], skip_uninitialized: bool) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::with_capacity(line.len());
        let len = line.len();
        let mut i = 0;
        while i < len {
            if line[i] != b'$' || i + 1 == len {
                out.push(line[i]);
                i += 1;
                continue;
            }
            i += 1;
            if line[i] == b'$' {
                out.push(b'$');
                i += 1;
            } else if line[i] == b'!' {
                // directives are dropped up to the next space
                while i + 1 < len && line[i + 1] != b' ' {
                    i += 1;
                }
                i += 1;
            } else {
                let name: &[u8];
                if line[i] == b'{' {
                    let Some(p) = line[i + 1..].iter().position(|&c| c == b'}') else {
                        return (out, Some("Missing '}'".into()));
                    };
                    name = &line[i + 1..i + 1 + p];
                    i = i + 1 + p + 1;
                } else {
                    let st = i;
                    while i < len && is_var_char(line[i]) {
                        i += 1;
                    }
                    name = &line[st..i];
                }
                if let Some(seq) = parse_u32(name) {
                    out.extend_from_slice(&self.relative_seq(seq));
                } else if let Some(v) = self.vars.map.get(name) {
                    out.extend_from_slice(v);
                } else if skip_uninitialized {
                    out.push(b'$');
                } else {
                    return (
                        out,
                        Some(format!(
                            "Uninitialized variable: {}",
                            String::from_utf8_lossy(name)
                        )),
                    );
                }
            }
        }
        (out, None)
    }

    fn bind(&mut self, name: &[u8], value: &[u8]) {
        self.vars.map.insert(name.to_vec(), value.to_vec());
        self.vars.added.push(name.to_vec());
    }

    /// imaptest's `test_expand_input`: matches pattern text against one response token's text,
    /// binding unbound variables. Returns the expanded pattern, or None on a mismatch.
    fn expand_input(&mut self, pat: &[u8], input: &[u8]) -> Option<Vec<u8>> {
        let mut s = 0usize;
        let mut inp = 0usize;
        let mut out = Vec::new();
        while s < pat.len() {
            if pat[s] != b'$' || at(pat, s + 1) == b'$' {
                if pat[s] == b'$' {
                    s += 1;
                }
                if !at(pat, s).eq_ignore_ascii_case(&at(input, inp)) {
                    return None;
                }
                inp += 1;
                out.push(pat[s]);
                s += 1;
                continue;
            }
            s += 1;
            let name: Vec<u8>;
            if at(pat, s) == b'{' {
                let p = pat[s + 1..].iter().position(|&c| c == b'}')?;
                name = pat[s + 1..s + 1 + p].to_vec();
                s = s + 1 + p + 1;
            } else {
                let st = s;
                while s < pat.len() && is_var_char(pat[s]) {
                    s += 1;
                }
                name = pat[st..s].to_vec();
            }
            let value: Vec<u8> = if let Some(seq) = parse_u32(&name) {
                self.relative_seq(seq)
            } else if let Some(v) = (!name.is_empty())
                .then(|| self.vars.map.get(&name).cloned())
                .flatten()
            {
                v
            } else {
                // Unbound: take characters up to the one equal to the next pattern character.
                let stop = if at(pat, s) != b'$' {
                    at(pat, s)
                } else {
                    let sub = self.expand_input(&pat[s..], input.get(inp..).unwrap_or_default())?;
                    at(&sub, 0)
                };
                let mut p = inp;
                while p < input.len() && !input[p].eq_ignore_ascii_case(&stop) {
                    p += 1;
                }
                let v = input.get(inp..p).unwrap_or_default().to_vec();
                if !name.is_empty() {
                    self.bind(&name, &v);
                }
                v
            };
            out.extend_from_slice(&value);
            for &c in &value {
                if at(input, inp) != c {
                    return None;
                }
                inp += 1;
            }
        }
        Some(out)
    }

    /// imaptest's `test_imap_match_args`: returns [`FULL`] on a match, else the number of tokens
    /// matched before the mismatch. `max` limits the number of pattern tokens compared; `prefix`
    /// allows extra response tokens and makes a final text token a prefix match.
    pub fn match_args(&mut self, pat: &[Token], args: &[Token], max: usize, prefix: bool) -> usize {
        let mut ret = 0usize;
        let mut i = 0usize;
        let mut max = max;
        while i < pat.len() && max > 0 {
            let arg = args.get(i);
            match &pat[i] {
                Token::Nil(_) => {
                    if !matches!(arg, Some(Token::Nil(_))) {
                        return ret;
                    }
                }
                Token::List(ml) => {
                    let Some(Token::List(al)) = arg else {
                        return ret;
                    };
                    let sub = self.match_list(ml, al);
                    if sub != FULL {
                        return ret.saturating_add(sub);
                    }
                }
                text_tok => {
                    let mtext = text_tok.as_astring().unwrap_or_default();
                    if mtext == b"$" && matches!(arg, Some(Token::List(_))) {
                        // a bare "$" also skips a whole list
                    } else {
                        // FORMAT.md 6.3: the response token may be an atom, a string, a literal
                        // or NIL (compared as its text).
                        let Some(astr) = arg.and_then(Token::as_text) else {
                            return ret;
                        };
                        let astr = cstr(astr);
                        let Some(mstr) = self.expand_input(cstr(mtext), astr) else {
                            return ret;
                        };
                        let ok = if prefix && i + 1 == pat.len() {
                            astr.len() >= mstr.len()
                                && astr[..mstr.len()].eq_ignore_ascii_case(&mstr)
                        } else {
                            astr.eq_ignore_ascii_case(&mstr)
                        };
                        if !ok {
                            return ret;
                        }
                    }
                }
            }
            ret += 1;
            i += 1;
            max -= 1;
        }
        if prefix || i >= args.len() || max == 0 {
            FULL
        } else {
            ret
        }
    }

    /// imaptest's `test_imap_match_list`: directives at the start of the pattern list decide
    /// ordered/unordered matching, chains, extras, ignores and bans.
    pub fn match_list(&mut self, pat: &[Token], args: &[Token]) -> usize {
        let mut unordered = false;
        let mut chain = 1usize;
        let mut noextra: i32 = -1;
        let mut ignores: Vec<Vec<u8>> = Vec::new();
        let mut bans: Vec<Vec<u8>> = Vec::new();
        let mut k = 0;
        while let Some(a) = pat.get(k).and_then(Token::as_atom) {
            let Some(d) = a.strip_prefix(b"$!") else {
                break;
            };
            if let Some(rest) = d.strip_prefix(b"unordered") {
                unordered = true;
                if noextra == -1 {
                    noextra = 0;
                }
                if let Some(n) = rest.strip_prefix(b"=") {
                    let digits: Vec<u8> = n
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .copied()
                        .collect();
                    chain = parse_u32(&digits).unwrap_or(0) as usize;
                }
            } else if d == b"ordered" {
                unordered = false;
            } else if d == b"extra" {
                noextra = 0;
            } else if d == b"noextra" {
                noextra = 1;
            } else if let Some(v) = d.strip_prefix(b"ignore=") {
                ignores.push(v.to_vec());
            } else if let Some(v) = d.strip_prefix(b"ban=") {
                bans.push(v.to_vec());
            } else {
                // the parser rejects unknown directives
                return 0;
            }
            k += 1;
        }
        if noextra == -1 {
            noextra = 1;
        }
        let pat = &pat[k..];
        if !unordered {
            return self.match_args(pat, args, FULL, false);
        }
        let chain = chain.max(1);
        if !args.len().is_multiple_of(chain) {
            return 0;
        }
        let mut matched = vec![false; args.len()];
        let mut ret = 0usize;
        let mut j = 0;
        while j < pat.len() {
            let mut found = false;
            let mut i = 0;
            while i < args.len() {
                if self.match_args(&pat[j..], &args[i..], chain, false) == FULL {
                    matched[i] = true;
                    found = true;
                    break;
                }
                i += chain;
            }
            if !found {
                return ret;
            }
            ret += 1;
            j += chain;
        }
        let unmatched = (0..args.len())
            .step_by(chain)
            .filter(|&i| !matched[i])
            .filter_map(|i| args[i].as_astring());
        if noextra > 0 {
            for s in unmatched {
                if !ignores.iter().any(|ig| ig.eq_ignore_ascii_case(cstr(s))) {
                    return ret;
                }
            }
        } else if !bans.is_empty() {
            for s in unmatched {
                if bans.iter().any(|b| b.eq_ignore_ascii_case(cstr(s))) {
                    return ret;
                }
            }
        }
        FULL
    }

    /// Matches one response against one pattern line; on a mismatch the bindings made while
    /// trying are reverted. Returns [`FULL`] or the near-match count.
    pub fn match_line(&mut self, pat: &[Token], args: &[Token], prefix: bool) -> usize {
        self.vars.added.clear();
        let n = self.match_args(pat, args, FULL, prefix);
        if n != FULL {
            for name in std::mem::take(&mut self.vars.added) {
                self.vars.map.remove(&name);
            }
        }
        self.vars.added.clear();
        n
    }

    /// Handles one untagged response of the group's connection (6.2). `first_tag` is the tag of
    /// the group's first command while that command is pending (the value of `$tag`);
    /// `logging_out` tells whether the connection has sent LOGOUT.
    pub fn untagged(
        &mut self,
        group: &Group,
        args: &[Token],
        first_tag: Option<&str>,
        logging_out: bool,
    ) {
        if group.untagged.is_empty() && (self.ignore_extra_untagged || logging_out) {
            return;
        }
        let prefix = args.first().is_some_and(|t| {
            t.atom_eq("ok") || t.atom_eq("no") || t.atom_eq("bad") || t.atom_eq("bye")
        });
        self.vars.added.clear();
        let mut found_some = false;
        for (i, ut) in group.untagged.iter().enumerate() {
            if self.found.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Some(t) = first_tag {
                self.vars.set("tag", t.as_bytes());
            }
            let n = self.match_args(&ut.args, args, FULL, prefix);
            if first_tag.is_some() {
                self.vars.remove("tag");
            }
            if n == FULL {
                if ut.existence == Existence::MustNot {
                    self.fail(format!(
                        "Unexpected untagged match (script line {}):\n   Match: {}\n   Reply: {}",
                        ut.line,
                        render(&ut.args),
                        render(args)
                    ));
                    return;
                }
                if let Some(f) = self.found.get_mut(i) {
                    *f = true;
                }
                found_some = true;
                self.vars.added.clear();
                continue;
            }
            if let Some(m) = self.maybes.get_mut(i)
                && m.0 < n
            {
                *m = (n, render(args));
            }
            for name in std::mem::take(&mut self.vars.added) {
                self.vars.map.remove(&name);
            }
        }
        if !found_some {
            self.mismatch_count += 1;
            if !self.ignore_extra_untagged && self.first_extra.is_none() {
                self.first_extra = Some(render(args));
            }
        }
    }

    /// Updates the relative sequence map for `* N EXPUNGE` (call after [`Judge::untagged`]).
    pub fn after_untagged(&mut self, args: &[Token]) {
        let (Some(a0), Some(a1)) = (args.first(), args.get(1)) else {
            return;
        };
        let Some(n) = a0.as_atom() else { return };
        if !a1.atom_eq("EXPUNGE") {
            return;
        }
        let seq: u32 = n
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |v, &c| {
                v.saturating_mul(10).saturating_add(u32::from(c - b'0'))
            });
        if seq == 0 || seq as usize > self.seqmap.len() {
            return;
        }
        for s in self.seqmap.iter_mut().skip(seq as usize - 1) {
            if *s >= seq {
                if *s == seq {
                    *s = 0;
                } else {
                    *s -= 1;
                }
            }
        }
    }

    /// Checks a tagged reply against the command's expected reply (prefix mode, `$tag` bound).
    /// Returns whether it matched; a mismatch is recorded as a failure.
    pub fn tagged(&mut self, expected: &[Token], tag: &str, args: &[Token]) -> bool {
        self.vars.set("tag", tag.as_bytes());
        self.vars.added.clear();
        let n = self.match_args(expected, args, FULL, true);
        self.vars.remove("tag");
        self.vars.added.clear();
        if n != FULL {
            self.fail(format!(
                "Expected tagged reply '{}', got '{}'",
                render(expected),
                render(args)
            ));
            return false;
        }
        true
    }

    /// Judges one group against hand-written server responses, without a connection. The
    /// group's commands get the tags `T1`, `T2`, … by position; a response line `T1 OK …` is the
    /// tagged reply to the first command. `known_count` is the message count the connection knows
    /// when the group starts (for `$N`). Returns the group's failure messages, including
    /// "Missing reply" for commands that got no tagged reply.
    pub fn simulate_group(
        &mut self,
        group: &Group,
        known_count: u32,
        responses: &[&[u8]],
    ) -> Vec<String> {
        self.begin_group(group, known_count);
        let tags: Vec<String> = (1..=group.commands.len())
            .map(|i| format!("T{i}"))
            .collect();
        let mut pending = vec![true; group.commands.len()];
        for raw in responses {
            match super::tokens::parse_response(raw) {
                Err(e) => self.fail(format!(
                    "Unexpected disconnection (error parsing input: {e}: {})",
                    super::tokens::render_bytes(raw)
                )),
                Ok(super::tokens::Response::Continuation(_)) => {}
                Ok(super::tokens::Response::Untagged(args)) => {
                    let first = (pending.first() == Some(&true)).then(|| tags[0].as_str());
                    self.untagged(group, &args, first, false);
                    self.after_untagged(&args);
                }
                Ok(super::tokens::Response::Tagged { tag, args }) => {
                    match tags.iter().position(|t| *t == tag) {
                        Some(i) => {
                            self.tagged(&group.commands[i].reply, &tag, &args);
                            pending[i] = false;
                        }
                        None => self.fail(format!("Unexpected tagged reply: {tag}")),
                    }
                }
            }
        }
        for (i, p) in pending.iter().enumerate() {
            if *p {
                self.fail(format!("Missing reply for command {}", tags[i]));
            }
        }
        self.end_group(group);
        self.take_failures()
    }

    /// The end-of-group checks: missing `*` lines and (in strict mode) extra responses.
    pub fn end_group(&mut self, group: &Group) {
        let missing: Vec<usize> = group
            .untagged
            .iter()
            .enumerate()
            .filter(|(i, ut)| {
                ut.existence == Existence::Must && !self.found.get(*i).copied().unwrap_or(false)
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(&first) = missing.first() {
            let ut = &group.untagged[first];
            let unexpanded = render(&ut.args);
            let expanded = String::from_utf8_lossy(&self.expand_for_display(unexpanded.as_bytes()))
                .into_owned();
            let best = self
                .maybes
                .get(first)
                .map(|m| m.1.clone())
                .unwrap_or_default();
            self.fail(format!(
                "Missing {} untagged replies ({} mismatches)\n   - first unexpanded (script line {}): {}\n   - first expanded: {}\n   - best match: {}",
                missing.len(),
                self.mismatch_count,
                ut.line,
                unexpanded,
                expanded,
                best
            ));
        }
        if let Some(first) = self.first_extra.take() {
            self.fail(format!(
                "{} unexpected untagged replies received, first: {}",
                self.mismatch_count, first
            ));
        }
    }
}
