//! A conformance runner for IMAP test scripts in Dovecot's imaptest format.
//!
//! The scripts (and their `NAME.mbox` / `default.mbox` messages) are not part of this
//! repository: they are read at run time from `$IMAP_CONFORMANCE_DIR` (either the
//! `imap-conformance` folder or its `scripts/` folder) or from `../shared/imap-conformance/scripts`
//! beside the repository root; see [`scripts_dir`]. The specification followed here is
//! `imap-conformance/FORMAT.md`, which describes imaptest 2.3 (`src/test-parser.c`,
//! `src/test-exec.c`) including the quirks that change verdicts.
//!
//! ```no_run
//! use system_tests::imaptest::{RunConfig, run_dir, scripts_dir};
//! let cfg = RunConfig { port: 31143, user: "testuser1".into(), ..RunConfig::default() };
//! for (name, result) in run_dir(&cfg, &scripts_dir().unwrap()) {
//!     println!("{name}: {result:?}");
//! }
//! ```
//!
//! # How the modules map FORMAT.md
//!
//! * **§1 Invocation and discovery** — [`run_dir`] runs every entry not starting with `.` and
//!   not ending in `.mbox`, sorted byte-wise, skipping subdirectories; [`run_script`] runs one
//!   file. `NAME.mbox` beside a script, else `default.mbox` in its folder, gives the messages
//!   ([`parse::parse_script_file`]). Unlike imaptest, a parse error fails that script only
//!   instead of aborting the whole run.
//! * **§2, §3 File structure and syntax** — [`parse`]: header keys (`capabilities`,
//!   `connections` incl. `n`, `state`, `messages`, `user N`, `ignore_extra_untagged`), body line
//!   kinds in imaptest's order (conditionals; `!sleep`/`!output`/`*`/`!`/`?`/reply lines attached
//!   to the latest group; commands), `[CONN] [tagN] [STATUS] TEXT` command lines, command groups
//!   and pipelining, `{{{ … }}}` / `~{{{ … }}}` literal blocks (CRLF- resp. LF-joined, replaced by
//!   `{N}\r\n` / `~{N}\r\n`), and imaptest's parse errors, including the 2.3 quirks (`!ifnenv`
//!   never skips; any group of two commands in a multi-connection test is an error; `tag2 ok
//!   noop` inside an open pipeline is a reply line). The automatic final `LOGOUT` group (line 0)
//!   is added unless a command is `logout` or a group has `* bye`.
//! * **§4 Token model** — [`tokens`]: one parser for expectations and server responses, atoms
//!   with any character, `)` ending an atom only inside a list, NIL keeping its text, literals
//!   and literal8 as strings.
//! * **§5.1, §5.2 Connections and setup** — [`exec`]: all connections are opened first and get
//!   run-wide ids (tags are `<id>.<n>`); greeting (`* OK`/`* PREAUTH`, `CAPABILITY` when the
//!   greeting has none); `nonauth` stops there (the `capabilities:` header is not enforced, as
//!   in imaptest 2.3); quoted `LOGIN`; post-login capability check on connection 1 (skip);
//!   cleanup with `LIST`/`LSUB "" "<box>*"` then `DELETE`/`UNSUBSCRIBE` sorted descending,
//!   ignoring NO; `CREATE`; `APPEND "<box>" "<internaldate>" {n+}` from the [`mbox`] cursor
//!   (wrapping around; `all` = to the end); `SELECT` on connection 1 then the others. Setup
//!   responses are never matched.
//! * **§5.3, §5.4 Running groups** — groups run strictly in sequence; only the group's
//!   connection is read, so other connections see changes in their next group; commands are
//!   `$`-expanded and sent back to back; the special `append` forms take the next mbox message;
//!   literals are sent as `{N+}`; BYE/LOGOUT/disconnect rules (a `* bye` group may end with
//!   the disconnection if every command expects `""`).
//! * **§6 Matching** — [`matcher::Judge`]: tagged replies in prefix mode with `$tag` bound;
//!   untagged responses tried against the group's lines in file order (`!` → "Unexpected
//!   untagged match", `*`/`?` marked satisfied, one response may satisfy several lines,
//!   bindings of a rejected attempt reverted); missing `*` lines and, with
//!   `ignore_extra_untagged: no`, extras reported at group end; argument matching (counts equal
//!   except in prefix mode; `$` wildcard incl. whole lists; bound variables case-sensitive,
//!   unbound ones taking characters up to the next pattern character); list directives
//!   `$!unordered[=K]`, `$!ordered`, `$!noextra`, `$!extra`, `$!ignore=X`, `$!ban=X` and the
//!   defaults for LIST/LSUB flags, STATUS and FETCH lists and FETCH FLAGS, which the parser
//!   inserts exactly where imaptest does; variables, predefined ones (`$user`, `$username`,
//!   `$domain`, `$password`, `$mailbox`, `$mailbox_url`, suffixed for connection k ≥ 2) and
//!   relative sequence numbers `$N` kept up to date by `* N EXPUNGE`.
//! * **§7 Built-in protocol checks** — [`exec`] tracks EXISTS/EXPUNGE counts, UIDs, FETCH
//!   framing and flags, resp-text codes, tags; a violation fails the test as "Unexpected
//!   disconnection", as imaptest closes the connection. An unexpected tagged BAD closes the
//!   connection after the group's checks, so the next group fails.
//! * **§8 Reporting** — [`report`]: [`ScriptResult`] (passed / failed with every failure
//!   message, each carrying the expected and actual lines / skipped with the missing
//!   capabilities) and [`Summary`] with imaptest's "individual commands failed" counts.
//!
//! Deliberate differences from imaptest: a read timeout ([`RunConfig::timeout`]) instead of
//! hanging forever; a FETCH beyond EXISTS, a non-APPEND continuation or missing LITERAL+ fail
//! the script instead of crashing or aborting the run; server literals are not limited to
//! 32 KiB; skipped scripts are reported as skipped (imaptest counts them as passed). As
//! FORMAT.md says, a NIL response token is compared as the text `NIL` against a pattern atom or
//! string (Dovecot's `imap_arg_get_astring`, which imaptest calls there, rejects NIL, so
//! imaptest itself may be stricter in that corner). Text comparisons stop at a NUL byte, as
//! imaptest's C strings do.

pub mod client;
pub mod exec;
pub mod matcher;
pub mod mbox;
pub mod parse;
pub mod report;
pub mod tokens;

use std::path::{Path, PathBuf};

pub use exec::{RunConfig, run_parsed, run_script_report};
pub use parse::{ParseError, Script, parse_script, parse_script_file};
pub use report::{Failure, ScriptReport, ScriptResult, Summary};

/// Environment variable naming the conformance folder (or its `scripts/` folder).
pub const ENV_DIR: &str = "IMAP_CONFORMANCE_DIR";

/// The scripts folder: `$IMAP_CONFORMANCE_DIR/scripts` or `$IMAP_CONFORMANCE_DIR` when set,
/// else `../shared/imap-conformance/scripts` relative to the repository root. None if it does
/// not exist.
pub fn scripts_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(ENV_DIR) {
        let d = PathBuf::from(d);
        let sub = d.join("scripts");
        if sub.is_dir() {
            return Some(sub);
        }
        return d.is_dir().then_some(d);
    }
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let d = repo_root.join("../shared/imap-conformance/scripts");
    d.is_dir().then_some(d)
}

/// The test files of a folder, as imaptest picks them: entries not starting with `.` and not
/// ending in `.mbox`, sorted byte-wise, subdirectories skipped.
pub fn script_paths(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(".mbox") {
            continue;
        }
        if entry.path().is_dir() {
            continue;
        }
        paths.push(entry.path());
    }
    paths.sort_by(|a, b| {
        a.file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .cmp(&b.file_name().map(|n| n.as_encoded_bytes().to_vec()))
    });
    Ok(paths)
}

/// Runs one script file.
pub fn run_script(cfg: &RunConfig, script: &Path) -> ScriptResult {
    run_script_report(cfg, script).result
}

/// Runs every script of a folder; returns (file name, verdict) in run order. A folder that
/// cannot be read gives an empty list.
pub fn run_dir(cfg: &RunConfig, dir: &Path) -> Vec<(String, ScriptResult)> {
    run_dir_reports(cfg, dir)
        .into_iter()
        .map(|r| (r.name, r.result))
        .collect()
}

/// Like [`run_dir`], with the full reports.
pub fn run_dir_reports(cfg: &RunConfig, dir: &Path) -> Vec<ScriptReport> {
    script_paths(dir)
        .unwrap_or_default()
        .iter()
        .map(|p| run_script_report(cfg, p))
        .collect()
}
