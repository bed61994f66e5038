//! Maildir folders: messages in `new/` and `cur/`, flags in the `:2,` info of a file's name,
//! the internal date in the file's modification time, and Maildir++ subfolders `.Sub.Folder`.

use std::{
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

use anyhow::{Context, bail};
use imapd::store::index::flag;

/// The keyword Maildir's `P` (passed) flag stands for.
pub const FORWARDED: &str = "$Forwarded";

/// Maildir flag letters, in the (ASCII) order an info string lists them, with their IMAP flag
/// bits; `P` is the `$Forwarded` keyword.
const LETTERS: [(char, u8); 5] = [
    ('D', flag::DRAFT),
    ('F', flag::FLAGGED),
    ('R', flag::ANSWERED),
    ('S', flag::SEEN),
    ('T', flag::DELETED),
];

/// One message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirMsg {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its modification time (seconds, UTC): the internal date.
    pub date: i64,
    /// Flag bits.
    pub flags: u8,
    /// Keywords.
    pub keywords: Vec<String>,
}

/// A Maildir folder: the root (no components) or a Maildir++ subfolder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirFolder {
    /// Its folder directory.
    pub dir: PathBuf,
    /// Name components below the root (`.Sub.Folder` → `Sub`, `Folder`).
    pub sub: Vec<String>,
    /// Its messages, oldest first.
    pub msgs: Vec<MaildirMsg>,
}

/// Whether `p` is a Maildir (has `cur/` or `new/`).
pub fn is_maildir(p: &Path) -> bool {
    p.join("cur").is_dir() || p.join("new").is_dir()
}

/// Flags and keywords of a file name's `:2,` info.
pub fn parse_info(name: &str) -> (u8, Vec<String>) {
    let mut flags = 0;
    let mut kw = Vec::new();
    if let Some((_, info)) = name.rsplit_once(":2,") {
        for c in info.chars() {
            if let Some((_, b)) = LETTERS.iter().find(|(l, _)| *l == c) {
                flags |= b;
            } else if c == 'P' && !kw.iter().any(|k| k == FORWARDED) {
                kw.push(FORWARDED.to_string());
            }
        }
    }
    (flags, kw)
}

/// The `:2,` info for flags and keywords.
pub fn info(flags: u8, keywords: &[&str]) -> String {
    let mut s = String::from(":2,");
    for (l, b) in LETTERS {
        if l == 'F' && keywords.iter().any(|k| k.eq_ignore_ascii_case(FORWARDED)) {
            // `P` sorts between `F` and `R`.
            if flags & b != 0 {
                s.push('F');
            }
            s.push('P');
            continue;
        }
        if flags & b != 0 {
            s.push(l);
        }
    }
    s
}

/// A Maildir++ name level: modified UTF-7 (RFC 3501 §5.1.3), as Maildir++ names are written,
/// or UTF-8 as it stands when it is not ASCII; `None` if it is neither.
pub fn decode_level(s: &str) -> Option<String> {
    imapd::proto::utf7::decode(s).or_else(|| (!s.is_ascii()).then(|| s.to_string()))
}

fn messages(dir: &Path) -> anyhow::Result<Vec<MaildirMsg>> {
    let mut v = Vec::new();
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let md = e
                .metadata()
                .with_context(|| format!("cannot read {}", e.path().display()))?;
            if !md.is_file() {
                continue;
            }
            let date = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64);
            let (flags, keywords) = if sub == "cur" {
                parse_info(&name)
            } else {
                (0, Vec::new())
            };
            v.push(MaildirMsg {
                path: e.path(),
                size: md.len(),
                date,
                flags,
                keywords,
            });
        }
    }
    v.sort_by(|a, b| (a.date, a.path.file_name()).cmp(&(b.date, b.path.file_name())));
    Ok(v)
}

/// The Maildir at `root` and its Maildir++ subfolders, root first, then by name.
pub fn scan(root: &Path) -> anyhow::Result<Vec<MaildirFolder>> {
    if !is_maildir(root) {
        bail!(
            "{} is a directory but not a Maildir (it has neither cur/ nor new/)",
            root.display()
        );
    }
    let mut out = vec![MaildirFolder {
        dir: root.to_path_buf(),
        sub: Vec::new(),
        msgs: messages(root)?,
    }];
    let mut subs = Vec::new();
    for e in std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(inner) = name.strip_prefix('.') else {
            continue;
        };
        if inner.is_empty() || inner == "." || !is_maildir(&e.path()) {
            continue;
        }
        let mut comps = Vec::new();
        for c in inner.split('.') {
            match decode_level(c) {
                Some(d) if !d.is_empty() => comps.push(d),
                _ => bail!(
                    "{}: not a Maildir++ folder name (empty level or bad modified UTF-7)",
                    e.path().display()
                ),
            }
        }
        subs.push((comps, e.path()));
    }
    subs.sort();
    for (sub, dir) in subs {
        out.push(MaildirFolder {
            msgs: messages(&dir)?,
            dir,
            sub,
        });
    }
    Ok(out)
}

/// This host's name for unique file names (`/` and `:` written as Maildir asks).
pub fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let h = if h.is_empty() { "vmimap".into() } else { h };
    h.replace('/', "\\057").replace(':', "\\072")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_strings() {
        assert_eq!(parse_info("1.M1.host:2,FRS"), (7, vec![]));
        assert_eq!(
            parse_info("1.M1.host:2,DFPRST"),
            (31, vec![FORWARDED.to_string()])
        );
        assert_eq!(parse_info("1.M1.host"), (0, vec![]));
        assert_eq!(parse_info("1.M1.host:2,Sab"), (flag::SEEN, vec![]));
        assert_eq!(info(31, &[FORWARDED]), ":2,DFPRST");
        assert_eq!(info(flag::SEEN | flag::FLAGGED, &[]), ":2,FS");
        assert_eq!(info(flag::SEEN, &[FORWARDED, "other"]), ":2,PS");
        assert_eq!(info(0, &[]), ":2,");
        for f in 0..32u8 {
            assert_eq!(parse_info(&format!("x{}", info(f, &[]))).0, f);
        }
    }

    #[test]
    fn levels() {
        assert_eq!(decode_level("Entw&APw-rfe").unwrap(), "Entwürfe");
        assert_eq!(decode_level("A&-B").unwrap(), "A&B");
        assert_eq!(decode_level("Entwürfe").unwrap(), "Entwürfe");
        assert_eq!(decode_level("plain").unwrap(), "plain");
        assert!(decode_level("bad&").is_none());
    }
}
