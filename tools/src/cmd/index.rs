//! `vmimap index check|migrate|dump [--system DIR] [--user U] [--folder F]`: the folder indexes of
//! a stopped system's mailstore (docs/index.md).
//!
//! The tool opens the mailstore pool's storage itself, as the file pool server does at IPL (log
//! replay, a torn last entry cut off), holding the system folder's lock and the pool's lock so
//! that no IPL can start meanwhile, and works as the pool's administrator (IMAP).
//!
//! `migrate` rewrites each version-1 index as a version-2 index in one SFS work unit (the new
//! file replaces the old one in the catalog, and the unit reaches the log as one checksummed
//! entry), so after a crash every folder is wholly old or wholly new, and running it again
//! converts what is left.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{File, OpenOptions},
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, anyhow, bail};
use imapd::{
    config::{Config, IMAP_CONFIG},
    store::{
        folders::{FolderList, LIST_FILE, dir_name},
        index::{self, INDEX_FILE, MSG_TYPE, v1},
        names,
    },
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vm::{
    UserId,
    sfs::{
        Content, DirPath, DmsError, Format, Pool, PoolConfig,
        parms::{DMSPARMS, default_text, parse},
        pool::PoolOptions,
        server::DEFAULT_MAILPOOL,
    },
};

/// The IMAP server's userid: the mailstore pool's administrator.
const IMAP_USER: &str = "IMAP";

/// `vmimap index [OPTIONS] COMMAND`: the options may come before or after the command.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    #[command(flatten)]
    opts: Opts,
    #[command(subcommand)]
    what: IndexCmd,
}

/// `vmimap index …`.
#[derive(Debug, clap::Subcommand)]
pub enum IndexCmd {
    /// Report each folder's index version and consistency; changes nothing. Exit status 0:
    /// every folder consistent and current; 2: consistent, some folders still need `migrate`;
    /// 1: problems found.
    Check,
    /// Convert version-1 folder indexes to the current version, in place, each folder in one SFS
    /// work unit; folders already converted are left alone, so it may be run again after any
    /// interruption.
    Migrate {
        /// No progress bar and no line per folder (the summary only).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print folder indexes record by record.
    Dump,
}

/// Which system, users and folders.
#[derive(Debug, clap::Args, Clone)]
pub struct Opts {
    /// The system folder (the system must be shut down).
    #[arg(
        long,
        value_name = "DIR",
        env = "VMIMAP_SYSTEM",
        default_value = "vmsys",
        global = true
    )]
    system: PathBuf,
    /// Only this user.
    #[arg(long, global = true)]
    user: Option<String>,
    /// Only this folder (by its IMAP name, UTF-8; INBOX in any case).
    #[arg(long, global = true)]
    folder: Option<String>,
}

/// Runs a subcommand.
pub fn run(a: IndexArgs) -> anyhow::Result<ExitCode> {
    match a.what {
        IndexCmd::Check => check(&a.opts),
        IndexCmd::Migrate { quiet } => migrate(&a.opts, quiet),
        IndexCmd::Dump => dump(&a.opts),
    }
}

/// The mailstore pool of a stopped system, opened by this process.
struct Store {
    pool: Pool,
    who: UserId,
    _system_lock: File,
}

/// One folder of one user.
struct Target {
    user: UserId,
    name: String,
    id: u32,
    uidvalidity: u32,
    dir: DirPath,
}

impl Target {
    fn label(&self) -> String {
        format!("{} {} ({})", self.user, self.name, dir_name(self.id))
    }
}

fn records(recs: Vec<Vec<u8>>) -> Content {
    Content::Records {
        format: Format::V,
        records: recs,
    }
}

impl Store {
    fn open(dir: &Path) -> anyhow::Result<Store> {
        if !dir.join("USER DIRECT").exists() {
            bail!("{} is not a system folder", dir.display());
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))
            .with_context(|| format!("cannot open {}", dir.join(".lock").display()))?;
        if lock.try_lock().is_err() {
            let pid = std::fs::read_to_string(dir.join("vmimap.pid")).unwrap_or_default();
            bail!(
                "the system in {} is running{}; shut it down first (vmimap shutdown)",
                dir.display(),
                match pid.trim() {
                    "" => String::new(),
                    p => format!(" (pid {p})"),
                }
            );
        }
        let pool_name = match std::fs::read_to_string(dir.join(IMAP_CONFIG)) {
            Ok(t) => {
                Config::parse(&t, &dir.join(IMAP_CONFIG))
                    .map_err(|e| anyhow!("{e}"))?
                    .pool
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DEFAULT_MAILPOOL.to_string(),
            Err(e) => return Err(e).context(format!("cannot read {IMAP_CONFIG}")),
        };
        let parms_path = dir.join(DMSPARMS);
        let text = match std::fs::read_to_string(&parms_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => default_text(DEFAULT_MAILPOOL),
            Err(e) => return Err(e).context(format!("cannot read {DMSPARMS}")),
        };
        let cfg: PoolConfig = parse(&text, &parms_path)
            .map_err(|e| anyhow!("{e}"))?
            .into_iter()
            .find(|c| c.name.as_str().eq_ignore_ascii_case(&pool_name))
            .ok_or_else(|| anyhow!("{DMSPARMS} defines no file pool {pool_name}"))?;
        let storage = pool_dir(dir, cfg.name.as_str()).ok_or_else(|| {
            anyhow!(
                "the mailstore pool {pool_name} has no storage in {}",
                dir.join("dasd").display()
            )
        })?;
        let who = cfg
            .admins
            .iter()
            .find(|a| a.as_str() == IMAP_USER)
            .or(cfg.admins.first())
            .cloned()
            .ok_or_else(|| anyhow!("the file pool {pool_name} has no administrator"))?;
        let pool = Pool::open(&storage, cfg, PoolOptions::default()).map_err(|e| match e {
            DmsError::Storage(m) if m.contains("in use") => anyhow!(
                "the mailstore pool {pool_name} is in use; shut the system down first (vmimap shutdown)"
            ),
            e => anyhow!("cannot open the mailstore pool {pool_name}: {e}"),
        })?;
        Ok(Store {
            pool,
            who,
            _system_lock: lock,
        })
    }

    fn read_records(&self, dir: &DirPath, f: (&str, &str)) -> anyhow::Result<Vec<Vec<u8>>> {
        let (_, content) = self
            .pool
            .read_file(&self.who, dir, f.0, f.1)
            .map_err(|e| anyhow!("{} {} in {}: {e}", f.0, f.1, dir.display()))?;
        match content {
            Content::Records { records, .. } => Ok(records),
            Content::Stream(_) => {
                bail!("{} {} in {} is not a record file", f.0, f.1, dir.display())
            }
        }
    }

    /// The folders chosen, in user and name order.
    fn targets(&self, o: &Opts) -> anyhow::Result<(Vec<Target>, Vec<String>)> {
        let only_user = o
            .user
            .as_deref()
            .map(|u| UserId::parse(u).map_err(|e| anyhow!("--user {u}: {e}")))
            .transpose()?;
        let only_folder = o
            .folder
            .as_deref()
            .map(|f| names::normalise(f).map_err(|e| anyhow!("--folder {f}: {e}")))
            .transpose()?;
        let mut users: Vec<UserId> = self
            .pool
            .query_enroll(&self.who)
            .map_err(|e| anyhow!("{e}"))?
            .into_iter()
            .map(|l| l.user)
            .filter(|u| only_user.as_ref().is_none_or(|o| o == u))
            .collect();
        users.sort();
        if let Some(u) = &only_user
            && users.is_empty()
        {
            bail!("{u} is not enrolled in the mailstore");
        }
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for user in users {
            let top = DirPath::top(user.clone());
            let recs = match self
                .pool
                .read_file(&self.who, &top, LIST_FILE.0, LIST_FILE.1)
            {
                Ok((_, Content::Records { records, .. })) => records,
                Ok(_) => {
                    problems.push(format!("{user}: the folder list is not a record file"));
                    continue;
                }
                Err(DmsError::FileNotFound(_)) => continue,
                Err(e) => {
                    problems.push(format!("{user}: folder list: {e}"));
                    continue;
                }
            };
            let list = match FolderList::decode(&recs) {
                Ok(l) => l,
                Err(b) => {
                    problems.push(format!("{user}: folder list: {}", b.0));
                    continue;
                }
            };
            if only_folder.is_none() {
                // Folder directories the list does not name.
                let known: BTreeSet<String> =
                    list.folders.values().map(|e| dir_name(e.id)).collect();
                if let Ok(l) = self.pool.list(&self.who, &top) {
                    for d in l.subdirs {
                        if !known.contains(&d) {
                            problems
                                .push(format!("{user}: directory {d} is not in the folder list"));
                        }
                    }
                }
            }
            let mut any = false;
            for e in list.folders.values() {
                if only_folder.as_ref().is_some_and(|f| f != &e.name) {
                    continue;
                }
                any = true;
                out.push(Target {
                    user: user.clone(),
                    name: e.name.clone(),
                    id: e.id,
                    uidvalidity: e.uidvalidity,
                    dir: top.child(&dir_name(e.id)),
                });
            }
            if let Some(f) = &only_folder
                && !any
                && only_user.is_some()
            {
                bail!("{user} has no folder {f}");
            }
        }
        if let Some(f) = &only_folder
            && out.is_empty()
        {
            bail!("no user has a folder {f}");
        }
        Ok((out, problems))
    }
}

/// The storage folder of pool `name`: `dasd/<server>/<POOL>/` holding a `log/` folder.
fn pool_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    let servers = std::fs::read_dir(dir.join("dasd")).ok()?;
    let mut found: Vec<PathBuf> = servers
        .flatten()
        .map(|s| s.path().join(name))
        .filter(|p| p.join("log").is_dir())
        .collect();
    found.sort();
    found.into_iter().next()
}

/// What one folder's check found.
struct FolderReport {
    version: Option<u16>,
    messages: usize,
    uidnext: u32,
    highest_modseq: u64,
    problems: Vec<String>,
}

fn check_folder(s: &Store, t: &Target) -> FolderReport {
    let mut r = FolderReport {
        version: None,
        messages: 0,
        uidnext: 0,
        highest_modseq: 0,
        problems: Vec::new(),
    };
    let recs = match s.read_records(&t.dir, INDEX_FILE) {
        Ok(x) => x,
        Err(e) => {
            r.problems.push(format!("index: {e}"));
            return r;
        }
    };
    let l = match index::replay_any(&recs) {
        Ok((v, l)) => {
            r.version = Some(v);
            l
        }
        Err(b) => {
            r.version = recs.first().and_then(|h| index::version_of(h).ok());
            r.problems.push(format!("index: {}", b.0));
            return r;
        }
    };
    r.messages = l.msgs.len();
    r.uidnext = l.uidnext;
    r.highest_modseq = l.highest_modseq;
    if l.uidvalidity != t.uidvalidity {
        r.problems.push(format!(
            "UIDVALIDITY {} in the index, {} in the folder list",
            l.uidvalidity, t.uidvalidity
        ));
    }
    if let Some(m) = l
        .msgs
        .iter()
        .find(|m| m.modseq == 0 || m.modseq > l.highest_modseq)
    {
        r.problems.push(format!(
            "UID {} has MODSEQ {} (HIGHESTMODSEQ {})",
            m.uid, m.modseq, l.highest_modseq
        ));
    }
    let files = match s.pool.list(&s.who, &t.dir) {
        Ok(l) => l.files,
        Err(e) => {
            r.problems.push(format!("directory: {e}"));
            return r;
        }
    };
    let mut on_disk: BTreeMap<u32, u64> = BTreeMap::new();
    for f in files {
        if (f.fname.as_str(), f.ftype.as_str()) == INDEX_FILE {
            continue;
        }
        match u32::from_str_radix(&f.fname, 16) {
            Ok(uid) if f.ftype == MSG_TYPE && f.fname == index::msg_name(uid) => {
                on_disk.insert(uid, f.bytes);
            }
            _ => r
                .problems
                .push(format!("unexpected file {} {}", f.fname, f.ftype)),
        }
    }
    for m in &l.msgs {
        match on_disk.remove(&m.uid) {
            None => r.problems.push(format!(
                "UID {}: message file {} MAIL is missing",
                m.uid,
                index::msg_name(m.uid)
            )),
            Some(b) if b != m.size => r.problems.push(format!(
                "UID {}: message file has {b} bytes, the index says {}",
                m.uid, m.size
            )),
            Some(_) => {}
        }
    }
    for uid in on_disk.keys() {
        r.problems.push(format!(
            "message file {} MAIL is not in the index",
            index::msg_name(*uid)
        ));
    }
    r
}

fn check(o: &Opts) -> anyhow::Result<ExitCode> {
    let s = Store::open(&o.system)?;
    let (targets, problems) = s.targets(o)?;
    let mut by_version: BTreeMap<u16, usize> = BTreeMap::new();
    let mut bad_folders = 0;
    for t in &targets {
        let r = check_folder(&s, t);
        if let Some(v) = r.version {
            *by_version.entry(v).or_default() += 1;
        }
        let version = r
            .version
            .map_or("unreadable".to_string(), |v| format!("version {v}"));
        let modseq = match r.version {
            Some(v) if v >= 2 => format!(" highestmodseq {}", r.highest_modseq),
            _ => String::new(),
        };
        println!(
            "{}: {version}, {} messages, uidnext {}{modseq}, {}",
            t.label(),
            r.messages,
            r.uidnext,
            if r.problems.is_empty() {
                "consistent"
            } else {
                "PROBLEMS"
            }
        );
        if !r.problems.is_empty() {
            bad_folders += 1;
        }
        for p in r.problems {
            println!("  problem: {p}");
        }
    }
    for p in &problems {
        println!("problem: {p}");
    }
    let versions: Vec<String> = by_version
        .iter()
        .map(|(v, n)| format!("{n} at version {v}"))
        .collect();
    println!(
        "{} folders checked: {}; {} with problems",
        targets.len(),
        if versions.is_empty() {
            "none readable".to_string()
        } else {
            versions.join(", ")
        },
        bad_folders
    );
    let old: usize = by_version
        .iter()
        .filter(|(v, _)| **v < index::VERSION)
        .map(|(_, n)| n)
        .sum();
    if !problems.is_empty() || bad_folders > 0 {
        return Ok(ExitCode::from(1));
    }
    if old > 0 {
        println!(
            "{old} folders have an old index version; the IMAP server refuses them until `vmimap index migrate` converts them"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn dump(o: &Opts) -> anyhow::Result<ExitCode> {
    let s = Store::open(&o.system)?;
    let (targets, problems) = s.targets(o)?;
    let mut out = std::io::stdout().lock();
    let mut bad = !problems.is_empty();
    for p in &problems {
        println!("problem: {p}");
    }
    for t in &targets {
        let recs = match s.read_records(&t.dir, INDEX_FILE) {
            Ok(r) => r,
            Err(e) => {
                bad = true;
                let _ = writeln!(out, "== {}: {e}", t.label());
                continue;
            }
        };
        let version = recs.first().and_then(|h| index::version_of(h).ok());
        let _ = writeln!(
            out,
            "== {}: {} records, version {}",
            t.label(),
            recs.len(),
            version.map_or("unknown".to_string(), |v| v.to_string())
        );
        let lines = match version {
            Some(v1::VERSION) => v1::describe(&recs),
            Some(index::VERSION) => index::describe(&recs),
            _ => {
                bad = true;
                vec!["unknown index format".to_string()]
            }
        };
        for l in lines {
            bad |= l.starts_with("bad ");
            if writeln!(out, "{l}").is_err() {
                // The reader went away (`| head`).
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Converts one folder in one work unit; the number of messages, or `None` when it is already
/// current.
fn migrate_folder(s: &Store, t: &Target) -> anyhow::Result<Option<usize>> {
    let recs = s.read_records(&t.dir, INDEX_FILE)?;
    let h = recs.first().ok_or_else(|| anyhow!("the index is empty"))?;
    let v = index::version_of(h).map_err(|b| anyhow!("{}", b.0))?;
    if v == index::VERSION {
        return Ok(None);
    }
    if v != v1::VERSION {
        bail!("index version {v} is not one this converter knows");
    }
    let (old, new) = v1::convert(&recs).map_err(|b| anyhow!("version-1 index: {}", b.0))?;
    let content = records(new);
    let (pool, who, dir) = (&s.pool, &s.who, &t.dir);
    // One work unit: the new index replaces the old one in the catalog, and the unit reaches
    // the log as one entry: after a crash the folder has one index or the other.
    pool.commit(|tx| {
        let data = pool.stage_content(&content)?;
        pool.put_in(tx, who, dir, INDEX_FILE.0, INDEX_FILE.1, data, false)
    })
    .map_err(|e| anyhow!("{e}"))?;
    // Read it back as the server will.
    let back = s.read_records(dir, INDEX_FILE)?;
    let l = index::replay(&back).map_err(|b| anyhow!("converted index: {}", b.0))?;
    if l.msgs != old.msgs || l.uidvalidity != old.uidvalidity || l.uidnext != old.uidnext {
        bail!("the converted index does not read back as written");
    }
    Ok(Some(l.msgs.len()))
}

fn migrate(o: &Opts, quiet: bool) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let s = Store::open(&o.system)?;
    let (targets, problems) = s.targets(o)?;
    for p in &problems {
        eprintln!("vmimap: problem: {p}");
    }
    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b =
            ProgressBar::with_draw_target(Some(targets.len() as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} folders {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    // Lines go to standard output as they happen; a reader that goes away (`| head`) stops
    // the lines, not the conversion.
    let say = |line: String| {
        if quiet {
        } else if bar.is_hidden() {
            let _ = writeln!(std::io::stdout(), "{line}");
        } else {
            bar.println(line);
        }
    };
    let (mut converted, mut current, mut messages, mut failed) = (0usize, 0usize, 0usize, 0usize);
    for t in &targets {
        bar.set_message(t.label());
        match migrate_folder(&s, t) {
            Ok(Some(n)) => {
                converted += 1;
                messages += n;
                say(format!(
                    "{}: version 1 -> {}, {n} messages",
                    t.label(),
                    index::VERSION
                ));
            }
            Ok(None) => current += 1,
            Err(e) => {
                failed += 1;
                eprintln!("vmimap: {}: {e:#}", t.label());
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // A catalog snapshot, so the next open need not replay the conversion's log.
    if converted > 0
        && let Err(e) = s.pool.checkpoint()
    {
        eprintln!("vmimap: catalog snapshot failed (the log keeps everything): {e}");
    }
    let _ = writeln!(
        std::io::stdout(),
        "{converted} folders converted ({messages} messages), {current} already at version {}, {failed} failed, in {:.2} s",
        index::VERSION,
        start.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 || !problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
