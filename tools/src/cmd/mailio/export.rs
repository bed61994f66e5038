//! `vmimap export --user U --folder F --format mbox|maildir PATH [--quiet] [--system DIR]`: one
//! folder's messages to a new mbox file (mboxrd) or a new Maildir.
//!
//! An mbox is written to `PATH.vmimap-tmp`, made durable and renamed, so PATH is complete or
//! absent. A Maildir's messages go through `tmp/` into `cur/` as Maildir delivery does, each
//! made durable first, named uniquely with their flags (`:2,FLAGS`) and dated with their
//! internal date.

use std::{
    fs::{self, File},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant, UNIX_EPOCH},
};

use anyhow::{Context, anyhow, bail};
use imapd::store::{StoreError, names};

use super::{grouped, maildir, mbox, offline, progress};

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One mbox file (mboxrd).
    Mbox,
    /// A Maildir (cur/, new/, tmp/).
    Maildir,
}

/// What `vmimap export` was asked.
#[derive(Debug, Clone)]
pub struct Opts {
    /// The user.
    pub user: String,
    /// The folder.
    pub folder: String,
    /// mbox or Maildir.
    pub format: Format,
    /// Where to write.
    pub path: PathBuf,
    /// No progress bar.
    pub quiet: bool,
}

/// One message to write.
struct Item {
    uid: u32,
    flags: u8,
    keywords: Vec<String>,
    date: i64,
    size: u64,
}

fn sync_dir(p: &Path) -> std::io::Result<()> {
    File::open(p)?.sync_all()
}

/// Checks that PATH can be written without overwriting anything.
fn check_path(o: &Opts) -> anyhow::Result<()> {
    let p = &o.path;
    match o.format {
        Format::Mbox => {
            if p.exists() {
                bail!("{} exists; export does not overwrite files", p.display());
            }
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                bail!("{} is not a directory", parent.display());
            }
        }
        Format::Maildir => {
            if p.exists()
                && (!p.is_dir()
                    || fs::read_dir(p)
                        .with_context(|| format!("cannot read {}", p.display()))?
                        .next()
                        .is_some())
            {
                bail!(
                    "{} exists and is not an empty directory; export writes a new Maildir",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

/// Runs `vmimap export`.
pub fn run(dir: &Path, o: Opts) -> anyhow::Result<ExitCode> {
    offline::check_stopped(dir)?;
    let cfg = offline::imap_config(dir)?;
    let user = offline::directory_user(dir, &o.user)?;
    let name = names::normalise(&o.folder).map_err(|e| anyhow!("invalid folder name: {e}"))?;
    check_path(&o)?;
    let off = offline::Offline::open(dir, &cfg.pool, "export")?;
    let u = off.user(&user)?;
    let folder = match u.folder(&name) {
        Ok(f) => f,
        Err(StoreError::NoMailbox(_)) => bail!("{user} has no folder {name}"),
        Err(e) => bail!("cannot open folder {name}: {e}"),
    };
    let (uidvalidity, items) = {
        let st = folder.lock();
        let items: Vec<Item> = st
            .msgs
            .iter()
            .map(|m| Item {
                uid: m.uid,
                flags: m.flags,
                keywords: st.keyword_names(m.keywords).map(str::to_string).collect(),
                date: m.date,
                size: m.size,
            })
            .collect();
        (st.uidvalidity, items)
    };
    let start = Instant::now();
    let pb = progress(items.iter().map(|i| i.size).sum(), o.quiet);
    let read = |uid: u32| -> anyhow::Result<Option<Vec<u8>>> {
        folder
            .read(u.sfs(), uid)
            .map_err(|e| anyhow!("cannot read message UID {uid} of {name}: {e}"))
    };
    let (mut n, mut bytes) = (0u64, 0u64);
    match o.format {
        Format::Mbox => {
            let mut tmp = o.path.clone().into_os_string();
            tmp.push(".vmimap-tmp");
            let tmp = PathBuf::from(tmp);
            let res = (|| -> anyhow::Result<()> {
                let f = File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                let mut w = BufWriter::with_capacity(1 << 20, f);
                for it in &items {
                    let Some(data) = read(it.uid)? else { continue };
                    bytes += mbox::write_msg(&mut w, &mbox::from_store(&data), it.date)
                        .with_context(|| format!("cannot write {}", tmp.display()))?;
                    n += 1;
                    pb.inc(it.size);
                }
                let f = w.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                fs::rename(&tmp, &o.path)?;
                let parent = o
                    .path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                sync_dir(parent)?;
                Ok(())
            })();
            if let Err(e) = res {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Format::Maildir => {
            let host = maildir::hostname();
            for sub in ["tmp", "new", "cur"] {
                fs::create_dir_all(o.path.join(sub))
                    .with_context(|| format!("cannot create {}", o.path.join(sub).display()))?;
            }
            for it in &items {
                let Some(data) = read(it.uid)? else { continue };
                let kws: Vec<&str> = it.keywords.iter().map(String::as_str).collect();
                let base = format!("{}.V{uidvalidity:x}U{:010}.{host}", it.date, it.uid);
                let tmp = o.path.join("tmp").join(&base);
                let cur = o
                    .path
                    .join("cur")
                    .join(format!("{base}{}", maildir::info(it.flags, &kws)));
                let body = mbox::from_store(&data);
                let mut f = File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                f.write_all(&body)
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                f.set_modified(UNIX_EPOCH + Duration::from_secs(it.date.max(0) as u64))?;
                f.sync_all()?;
                fs::rename(&tmp, &cur)?;
                bytes += body.len() as u64;
                n += 1;
                pb.inc(it.size);
            }
            sync_dir(&o.path.join("cur"))?;
            sync_dir(&o.path)?;
        }
    }
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    off.log(&format!(
        "vmimap export: {n} messages ({bytes} bytes) of {user} from {name} to {}",
        o.path.display()
    ));
    drop(folder);
    drop(u);
    off.close();
    println!(
        "exported {} messages from {name} to {} ({} bytes) in {secs:.1} s",
        grouped(n),
        o.path.display(),
        grouped(bytes)
    );
    Ok(ExitCode::SUCCESS)
}
