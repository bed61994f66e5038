//! Intake: mail that arrives in the IMAP machine's reader is filed into the recipient's INBOX.
//!
//! The SMTP machine punches one NETDATA file per IMAP recipient to this machine's reader (see
//! docs/smtp.md for the convention): the header's destination userid is the recipient and the
//! data records are the message's lines. `*SPL` reports each file (those that arrived while the
//! server was down too). For each file a worker:
//!
//! 1. reads and decodes it;
//! 2. if the recipient is not enrolled, TRANSFERs the file to the recipient's own reader (so
//!    ordinary CMS users keep their mail) and logs it;
//! 3. otherwise appends the message to INBOX in one SFS work unit whose index record names the
//!    spool file (its system-wide file id), and waits until it is durable;
//! 4. only then purges the spool file.
//!
//! A crash between 3 and 4 leaves the file in the reader; when `*SPL` reports it again, the
//! INBOX already holds a message from that file, so it is only purged: nothing is filed twice
//! and nothing acknowledged by SMTP is lost.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender};
use spool::netdata;
use vm::{UserId, iucv::SplFile, system::SplClient};

use crate::{
    server::Server,
    store::{NewMsg, StoreError},
};

/// Workers filing mail at once (appends to one INBOX share fsyncs).
pub const WORKERS: usize = 4;

/// Attempts for a file whose filing fails for a passing reason (the pool restarting).
const TRIES: u32 = 5;

/// The message in a reader file: the recipient and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient userid.
    pub to: String,
    /// The message, lines joined with CRLF.
    pub data: Vec<u8>,
}

/// Reads a reader file's cards as mail: NETDATA (the SMTP convention), else plain card images
/// whose file name is the recipient (trailing blanks of each 80-column card removed).
pub fn decode(file: &SplFile, cards: &[Vec<u8>]) -> Result<Mail, String> {
    let (to, lines): (String, Vec<Vec<u8>>) = if netdata::is_netdata(cards) {
        let t = netdata::decode(cards).map_err(|e| e.to_string())?;
        let to = if t.header.to_user.is_empty() {
            file.fname.clone()
        } else {
            t.header.to_user.clone()
        };
        (to, t.records)
    } else {
        let lines = cards
            .iter()
            .map(|c| {
                let end = c.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
                c[..end].to_vec()
            })
            .collect();
        (file.fname.clone(), lines)
    };
    if to.trim().is_empty() {
        return Err("the file names no recipient".into());
    }
    if lines.iter().all(|l| l.is_empty()) {
        return Err("the file holds no message".into());
    }
    let mut data = Vec::with_capacity(lines.iter().map(|l| l.len() + 2).sum());
    for l in &lines {
        data.extend_from_slice(l);
        data.extend_from_slice(b"\r\n");
    }
    Ok(Mail {
        to: to.trim().to_ascii_uppercase(),
        data,
    })
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// Filed into INBOX as UID.
    Inbox(UserId, u32),
    /// Already there (filed before a crash); the file was only purged.
    Already(UserId),
    /// The recipient is not enrolled: transferred to this reader.
    Transferred(UserId),
    /// The file could not be used: sent back to its origin.
    Returned(UserId, String),
}

/// The intake: a channel of file ids and the workers that file them.
#[derive(Debug, Clone)]
pub struct Intake {
    tx: Sender<SplFile>,
}

impl Intake {
    /// Starts the workers.
    pub fn start(server: Arc<Server>, spl: Arc<SplClient>) -> Intake {
        let (tx, rx) = crossbeam_channel::unbounded::<SplFile>();
        for i in 0..WORKERS {
            let (server, spl, rx) = (server.clone(), spl.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("imap-intake-{i}"))
                .spawn(move || worker(&server, &spl, &rx))
                .expect("spawn intake worker");
        }
        Intake { tx }
    }

    /// Queues a file that arrived.
    pub fn arrived(&self, f: SplFile) {
        let _ = self.tx.send(f);
    }
}

fn worker(server: &Server, spl: &SplClient, rx: &Receiver<SplFile>) {
    while let Ok(f) = rx.recv() {
        if server.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let mut tries = 0;
        loop {
            tries += 1;
            match file_one(server, spl, &f) {
                Ok(done) => {
                    if server.trace.load(std::sync::atomic::Ordering::Relaxed)
                        || !matches!(done, Filed::Inbox(..))
                    {
                        server.log(&describe(&f, &done));
                    }
                    break;
                }
                Err(e) if tries < TRIES && !spl_gone(&e) => {
                    std::thread::sleep(Duration::from_millis(200 * tries as u64));
                }
                Err(e) => {
                    server.log(&format!(
                        "DTCIMA0309E Spool file {:04} (file {}) from {} left in the reader: {e}",
                        f.spoolid, f.file_id, f.origin
                    ));
                    break;
                }
            }
        }
    }
}

fn spl_gone(e: &str) -> bool {
    e.contains("severed")
}

fn describe(f: &SplFile, d: &Filed) -> String {
    match d {
        Filed::Inbox(u, uid) => format!(
            "DTCIMA0300I Spool file {:04} from {} filed in {u} INBOX as UID {uid}",
            f.spoolid, f.origin
        ),
        Filed::Already(u) => format!(
            "DTCIMA0301I Spool file {:04} from {} was already in {u} INBOX; purged",
            f.spoolid, f.origin
        ),
        Filed::Transferred(u) => format!(
            "DTCIMA0302I Spool file {:04} from {}: {u} is not enrolled; file transferred to {u}",
            f.spoolid, f.origin
        ),
        Filed::Returned(u, why) => format!(
            "DTCIMA0303W Spool file {:04} from {} returned to {u}: {why}",
            f.spoolid, f.origin
        ),
    }
}

/// Files one reader file (see the module documentation for the order of steps).
pub fn file_one(server: &Server, spl: &SplClient, f: &SplFile) -> Result<Filed, String> {
    let (file, cards) = match spl.read(f.file_id) {
        Ok(x) => x,
        // Purged or transferred meanwhile (by an operator): nothing to do.
        Err(e) if e.to_string().contains("not in the reader") => {
            return Ok(Filed::Already(f.origin.clone()));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mail = match decode(&file, &cards) {
        Ok(m) => m,
        Err(why) => {
            spl.transfer(f.file_id, &f.origin)
                .map_err(|e| e.to_string())?;
            return Ok(Filed::Returned(f.origin.clone(), why));
        }
    };
    let Ok(to) = UserId::parse(&mail.to) else {
        spl.transfer(f.file_id, &f.origin)
            .map_err(|e| e.to_string())?;
        return Ok(Filed::Returned(
            f.origin.clone(),
            format!("{} is not a userid", mail.to),
        ));
    };
    let store = &server.store;
    if !store.is_enrolled(&to) {
        let dest = to.clone();
        return match spl.transfer(f.file_id, &dest) {
            Ok(_) => Ok(Filed::Transferred(dest)),
            // Not in the directory: back to where it came from.
            Err(_) => {
                spl.transfer(f.file_id, &f.origin)
                    .map_err(|e| e.to_string())?;
                Ok(Filed::Returned(
                    f.origin.clone(),
                    format!("{to} is not in the directory"),
                ))
            }
        };
    }
    let inbox = store
        .user(&to)
        .and_then(|u| u.folder("INBOX"))
        .map_err(|e| e.to_string())?;
    if inbox.lock().has_source(f.file_id) {
        spl.purge(f.file_id).map_err(|e| e.to_string())?;
        return Ok(Filed::Already(to));
    }
    let start = Instant::now();
    let res = inbox.append(
        store.sfs(),
        vec![NewMsg {
            data: mail.data,
            flags: 0,
            keywords: Vec::new(),
            date: file.created,
            source: f.file_id,
        }],
    );
    let uids = match res {
        Ok(u) => u,
        Err(StoreError::OverQuota(why)) => {
            // The mailstore is full for this user: the mail goes to the user's own reader
            // rather than being lost or retried forever.
            spl.transfer(f.file_id, &to).map_err(|e| e.to_string())?;
            return Ok(Filed::Returned(to, why));
        }
        Err(e) => return Err(e.to_string()),
    };
    tracing::debug!(took = ?start.elapsed(), "intake append");
    spl.purge(f.file_id).map_err(|e| e.to_string())?;
    Ok(Filed::Inbox(to, uids[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spl(fname: &str) -> SplFile {
        SplFile {
            file_id: 7,
            spoolid: 1,
            origin: UserId::parse("SMTP").unwrap(),
            dev: spool::DevType::Pun,
            class: 'M',
            fname: fname.into(),
            ftype: "MAIL".into(),
            records: 0,
            tag: String::new(),
            created: 0,
            dist: String::new(),
        }
    }

    #[test]
    fn netdata_and_card_mail() {
        let h = netdata::Header {
            from_node: "VMIMAP".into(),
            from_user: "SMTP".into(),
            to_node: "VMIMAP".into(),
            to_user: "demo".into(),
            time: String::new(),
            name: "DEMO MAIL".into(),
            recfm: netdata::Recfm::V,
            lrecl: 0,
        };
        let deck = netdata::encode(&h, &[b"Subject: x".to_vec(), Vec::new(), b"body".to_vec()]);
        let m = decode(&spl("X"), &deck).unwrap();
        assert_eq!(m.to, "DEMO");
        assert_eq!(m.data, b"Subject: x\r\n\r\nbody\r\n".to_vec());
        let mut card = b"Subject: y".to_vec();
        card.resize(80, b' ');
        let m = decode(&spl("MAINT"), &[card, vec![b' '; 80], b"text".to_vec()]).unwrap();
        assert_eq!(
            (m.to.as_str(), &m.data[..]),
            ("MAINT", &b"Subject: y\r\n\r\ntext\r\n"[..])
        );
        assert!(decode(&spl(""), &[b"x".to_vec()]).is_err());
        assert!(decode(&spl("A"), &[vec![b' '; 80]]).is_err());
        let mut cut = deck.clone();
        cut.pop();
        assert!(decode(&spl("X"), &cut).is_err());
    }
}
