//! `vmimap import --user U PATH [--folder F] [--quiet] [--system DIR]`: an mbox file or a Maildir
//! (with its Maildir++ subfolders) into a user's folders, through the IMAP server's own store.
//!
//! The input is read twice: first to check all of it (a malformed mbox is refused before any
//! message is stored, naming the line), then to store it in batches, each one work unit made
//! durable before it counts as imported.

use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Instant,
};

use anyhow::{Context, anyhow, bail};
use imapd::store::{Folder, NewMsg, StoreError, UserStore, index::flag, names};

use super::{grouped, maildir, mbox, offline, progress};

/// Messages in one work unit at most.
const BATCH_MSGS: usize = 256;
/// Bytes in one work unit at most (a larger message goes alone).
const BATCH_BYTES: usize = 8 << 20;

/// What `vmimap import` was asked.
#[derive(Debug, Clone)]
pub struct Opts {
    /// The user.
    pub user: String,
    /// The mbox file or Maildir.
    pub path: PathBuf,
    /// The folder (default INBOX).
    pub folder: Option<String>,
    /// No progress bar.
    pub quiet: bool,
}

/// Flags an mbox message's `Status:` and `X-Status:` header fields give (as mutt, Thunderbird
/// and Pine write them): `R` in Status is `\Seen`; `A`, `F`, `T` and `D` in X-Status are
/// `\Answered`, `\Flagged`, `\Draft` and `\Deleted`.
pub fn status_flags(msg: &[u8]) -> u8 {
    let end = imapd::store::folder::header_end(msg).unwrap_or(msg.len());
    let mut f = 0;
    for line in msg[..end].split(|&c| c == b'\n') {
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"status") {
            if value.contains(&b'R') {
                f |= flag::SEEN;
            }
        } else if name.eq_ignore_ascii_case(b"x-status") {
            for (c, b) in [
                (b'A', flag::ANSWERED),
                (b'F', flag::FLAGGED),
                (b'T', flag::DRAFT),
                (b'D', flag::DELETED),
            ] {
                if value.contains(&c) {
                    f |= b;
                }
            }
        }
    }
    f
}

/// One folder's share of the input.
#[derive(Debug)]
struct Target {
    name: String,
    source: Source,
    count: u64,
    bytes: u64,
}

#[derive(Debug)]
enum Source {
    Mbox(PathBuf),
    Maildir(Vec<maildir::MaildirMsg>),
}

/// A message ready to store and where it came from (for messages).
struct Item {
    msg: NewMsg,
    what: String,
}

/// What was stored in one folder.
#[derive(Debug, Default)]
struct Tally {
    msgs: u64,
    bytes: u64,
}

/// Why an import stopped early.
struct Stopped {
    what: String,
    error: String,
}

/// Checks the whole input and makes the plan: the folders and their messages.
fn plan(path: &Path, target: &str, max: u64) -> anyhow::Result<Vec<Target>> {
    let md = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if md.is_dir() {
        let mut out = Vec::new();
        for f in maildir::scan(path)? {
            let name = if f.sub.is_empty() {
                target.to_string()
            } else if target == "INBOX" {
                // Maildir++: the subfolders of INBOX's Maildir are top-level folders.
                f.sub.join("/")
            } else {
                format!("{target}/{}", f.sub.join("/"))
            };
            let name = names::normalise(&name)
                .map_err(|e| anyhow!("{}: no folder name for it: {e}", f.dir.display()))?;
            if let Some(m) = f.msgs.iter().find(|m| m.size > max) {
                bail!(
                    "{}: the message is larger than {max} bytes, the largest the IMAP server takes (MAXLITERAL in IMAP CONFIG)",
                    m.path.display()
                );
            }
            out.push(Target {
                name,
                count: f.msgs.len() as u64,
                bytes: f.msgs.iter().map(|m| m.size).sum(),
                source: Source::Maildir(f.msgs),
            });
        }
        return Ok(out);
    }
    let mut r = mbox::Reader::new(BufReader::with_capacity(1 << 20, File::open(path)?), max);
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(m) = r
        .next_msg()
        .with_context(|| format!("{}", path.display()))?
    {
        count += 1;
        bytes += m.file_bytes;
    }
    Ok(vec![Target {
        name: target.to_string(),
        source: Source::Mbox(path.to_path_buf()),
        count,
        bytes,
    }])
}

/// Stores a batch in one unit; when the space runs out, as many of it as fit one by one.
/// Returns how many were stored, and why the rest were not.
fn store_batch(
    folder: &Folder,
    user: &UserStore,
    batch: &mut Vec<Item>,
) -> (usize, usize, Option<Stopped>) {
    let msgs: Vec<NewMsg> = batch.iter().map(|i| i.msg.clone()).collect();
    let bytes = |items: &[Item]| items.iter().map(|i| i.msg.data.len()).sum::<usize>();
    let res = match folder.append(user.sfs(), msgs) {
        Ok(_) => (batch.len(), bytes(batch), None),
        Err(StoreError::OverQuota(_)) if batch.len() > 1 => {
            let mut done = 0;
            let mut stopped = None;
            for it in batch.iter() {
                match folder.append(user.sfs(), vec![it.msg.clone()]) {
                    Ok(_) => done += 1,
                    Err(e) => {
                        stopped = Some(Stopped {
                            what: it.what.clone(),
                            error: e.to_string(),
                        });
                        break;
                    }
                }
            }
            (done, bytes(&batch[..done]), stopped)
        }
        Err(e) => (
            0,
            0,
            Some(Stopped {
                what: batch[0].what.clone(),
                error: e.to_string(),
            }),
        ),
    };
    batch.clear();
    res
}

/// Feeds messages into batches and stores them.
struct Loader<'a> {
    off: &'a offline::Offline,
    user: &'a UserStore,
    folder: Arc<Folder>,
    batch: Vec<Item>,
    batch_bytes: usize,
    tally: Tally,
    pb: &'a indicatif::ProgressBar,
}

impl Loader<'_> {
    /// Adds a message; stores the batch when it is full. `Err` when storing failed.
    fn add(&mut self, item: Item, file_bytes: u64) -> Result<(), Stopped> {
        let n = item.msg.data.len();
        if !self.batch.is_empty()
            && (self.batch.len() >= BATCH_MSGS || self.batch_bytes + n > BATCH_BYTES)
        {
            self.flush()?;
        }
        self.batch.push(item);
        self.batch_bytes += n;
        self.pb.inc(file_bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let (done, bytes, stopped) = store_batch(&self.folder, self.user, &mut self.batch);
        self.batch_bytes = 0;
        self.tally.msgs += done as u64;
        self.tally.bytes += bytes as u64;
        self.pb
            .set_message(format!("{} messages", grouped(self.tally.msgs)));
        if let Some(s) = stopped {
            return Err(s);
        }
        if self.off.stopping() {
            return Err(Stopped {
                what: "the next message".into(),
                error: "interrupted".into(),
            });
        }
        Ok(())
    }
}

/// Reads one Maildir message file.
fn maildir_item(m: &maildir::MaildirMsg) -> Result<Item, Stopped> {
    let data = std::fs::read(&m.path).map_err(|e| Stopped {
        what: m.path.display().to_string(),
        error: format!("cannot read: {e}"),
    })?;
    Ok(Item {
        msg: NewMsg {
            data: mbox::to_store(data),
            flags: m.flags,
            keywords: m.keywords.clone(),
            date: m.date,
            source: 0,
        },
        what: m.path.display().to_string(),
    })
}

/// Stores one folder's messages.
fn load(loader: &mut Loader<'_>, t: &Target, max: u64) -> Result<(), Stopped> {
    match &t.source {
        Source::Maildir(msgs) => {
            for m in msgs {
                let item = maildir_item(m)?;
                loader.add(item, m.size)?;
            }
        }
        Source::Mbox(path) => {
            let bad = |e: &dyn std::fmt::Display| Stopped {
                what: path.display().to_string(),
                error: e.to_string(),
            };
            let f = File::open(path).map_err(|e| bad(&e))?;
            let mut r = mbox::Reader::new(BufReader::with_capacity(1 << 20, f), max);
            while let Some(m) = r.next_msg().map_err(|e| bad(&e))? {
                let flags = status_flags(&m.data);
                let item = Item {
                    msg: NewMsg {
                        data: mbox::to_store(m.data),
                        flags,
                        keywords: Vec::new(),
                        date: m.date,
                        source: 0,
                    },
                    what: format!("the message at line {} of {}", m.line, path.display()),
                };
                loader.add(item, m.file_bytes)?;
            }
        }
    }
    loader.flush()
}

/// Runs `vmimap import`.
pub fn run(dir: &Path, o: Opts) -> anyhow::Result<ExitCode> {
    offline::check_stopped(dir)?;
    let cfg = offline::imap_config(dir)?;
    let user = offline::directory_user(dir, &o.user)?;
    let target = names::normalise(o.folder.as_deref().unwrap_or("INBOX"))
        .map_err(|e| anyhow!("invalid folder name: {e}"))?;
    let targets = plan(&o.path, &target, cfg.max_literal)?;
    let total_msgs: u64 = targets.iter().map(|t| t.count).sum();
    let total_bytes: u64 = targets.iter().map(|t| t.bytes).sum();
    let off = offline::Offline::open(dir, &cfg.pool, "import")?;
    let u = off.user(&user)?;
    let start = Instant::now();
    let pb = progress(total_bytes, o.quiet);
    let mut done: Vec<(String, Tally, f64)> = Vec::new();
    let mut stopped = None;
    for t in &targets {
        if u.entry(&t.name).is_none() {
            match u.create(&t.name, 0) {
                Ok(()) | Err(StoreError::Exists(_)) => {
                    pb.suspend(|| println!("created folder {}", t.name));
                }
                Err(e) => bail!("cannot create folder {}: {e}", t.name),
            }
        }
        let folder = u
            .folder(&t.name)
            .map_err(|e| anyhow!("cannot open folder {}: {e}", t.name))?;
        let t0 = Instant::now();
        let mut loader = Loader {
            off: &off,
            user: &u,
            folder,
            batch: Vec::new(),
            batch_bytes: 0,
            tally: Tally::default(),
            pb: &pb,
        };
        let res = load(&mut loader, t, cfg.max_literal);
        let tally = std::mem::take(&mut loader.tally);
        off.log(&format!(
            "vmimap import: {} messages ({} bytes) for {user} into {} from {}",
            tally.msgs,
            tally.bytes,
            t.name,
            o.path.display()
        ));
        done.push((t.name.clone(), tally, t0.elapsed().as_secs_f64()));
        if let Err(s) = res {
            stopped = Some(s);
            break;
        }
    }
    pb.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    drop(u);
    off.close();
    for (name, t, secs) in &done {
        println!(
            "imported {} messages into {name} ({} bytes) in {secs:.1} s",
            grouped(t.msgs),
            grouped(t.bytes)
        );
    }
    let n: u64 = done.iter().map(|d| d.1.msgs).sum();
    if done.len() > 1 {
        let b: u64 = done.iter().map(|d| d.1.bytes).sum();
        println!(
            "imported {} messages into {} folders ({} bytes) in {elapsed:.1} s",
            grouped(n),
            done.len(),
            grouped(b)
        );
    }
    match stopped {
        None => Ok(ExitCode::SUCCESS),
        Some(s) if s.error == "interrupted" => {
            eprintln!(
                "vmimap: import interrupted; {} of {} messages were not imported",
                grouped(total_msgs - n),
                grouped(total_msgs)
            );
            Ok(ExitCode::from(130))
        }
        Some(s) => {
            let left = total_msgs - n;
            eprintln!(
                "vmimap: import stopped: {}: {}; {} of {} messages were not imported (the stopped one and those after it)",
                s.what,
                s.error,
                grouped(left),
                grouped(total_msgs)
            );
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_headers() {
        assert_eq!(status_flags(b"Status: RO\nX-Status: AF\n\nStatus: D\n"), 7);
        assert_eq!(status_flags(b"Status: O\n\n"), 0);
        assert_eq!(
            status_flags(b"x-status: DT\r\n\r\n"),
            flag::DELETED | flag::DRAFT
        );
        assert_eq!(status_flags(b"Subject: Status: R\n\n"), 0);
    }
}
