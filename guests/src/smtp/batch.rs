//! Batch SMTP: a deck in SMTP's reader is run as an SMTP dialogue, with the same [`Session`] as
//! a TCP connection (vm-mail.md §3.4).
//!
//! ```text
//! deck       = punch-deck / netdata-deck
//! punch-deck = [read-card] *card                   ; a card is one line, trailing blanks cut
//! netdata-deck = NETDATA file                      ; each record is one line, any length
//! lines      = *("VERB" SP ("ON"/"OFF") / "TICK" SP number)  "HELO"/"EHLO" … ["QUIT"]
//! ```
//!
//! Before anything runs the deck is checked whole: a NETDATA file that does not decode (cut
//! short, damaged), a deck with no lines, a record holding a CR, LF or NUL, or a deck that
//! ends inside a message body (DATA without its `.` line) is *malformed*: nothing of it is
//! delivered, it is sent back to its origin's reader, and the origin gets a report by mail.
//!
//! Otherwise the lines are run; a missing QUIT is implied. The response file (every command and
//! reply) goes back to the origin when VERB ON was given; when any reply was 4xx or 5xx an error
//! report is mailed to the sender of the last valid MAIL FROM (if local, else the origin). The
//! deck is then purged. The origin is CP's origin of the spool file — for a PUNCH deck the
//! MAIL FROM user when that is a local user (z/OS's rule).

use std::sync::{Arc, atomic::Ordering};

use spool::{
    Queue,
    cards::{ReadCard, card_text},
    netdata,
};
use vm::{UserId, iucv::SplFile, system::SplClient, system::spoolops::CloseOpts};

use super::{
    addr,
    deck::punch_cards,
    server::{Server, ServerMta},
    session::{Origin, Session},
    stats::Stats,
};

/// A deck read and checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Deck {
    /// The lines.
    pub lines: Vec<Vec<u8>>,
    /// Whether it came as NETDATA.
    pub netdata: bool,
}

/// Reads a deck's cards as lines and checks it (see the module documentation); `Err` says why
/// it is malformed.
pub fn read_deck(cards: &[Vec<u8>]) -> Result<Deck, String> {
    let (lines, netdata) = if netdata::is_netdata(cards) {
        let t = netdata::decode(cards).map_err(|e| e.to_string())?;
        (t.records, true)
    } else {
        let mut cards = cards;
        if cards.first().is_some_and(|c| ReadCard::parse(c).is_some()) {
            cards = &cards[1..];
        }
        let lines = cards
            .iter()
            .map(|c| card_text(c).into_bytes())
            .collect::<Vec<_>>();
        (lines, false)
    };
    if lines
        .iter()
        .all(|l| l.iter().all(|b| b.is_ascii_whitespace()))
    {
        return Err("the file holds no commands".into());
    }
    let mut in_data = false;
    let mut data_line = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!(
                "line {} holds a CR, LF or NUL character (not a text file)",
                i + 1
            ));
        }
        let t = String::from_utf8_lossy(l);
        let t = t.trim();
        if in_data {
            if t == "." {
                in_data = false;
            }
        } else if t.eq_ignore_ascii_case("DATA") {
            in_data = true;
            data_line = i + 1;
        } else if t.eq_ignore_ascii_case("QUIT") {
            break;
        }
    }
    if in_data {
        return Err(format!(
            "the mail body begun by DATA on line {data_line} has no ending '.' line (the file is cut short)"
        ));
    }
    Ok(Deck { lines, netdata })
}

/// What running a deck gave.
#[derive(Debug)]
pub struct Ran {
    /// The session afterwards (transcript, VERB, TICK, last sender, errors).
    pub session: Session,
    /// Lines after QUIT that were not run.
    pub ignored: usize,
}

/// Runs a checked deck as a dialogue from `origin`.
pub fn run_deck(server: &Arc<Server>, deck: &Deck, origin: Origin) -> Ran {
    let mut s = Session::new(Arc::new(ServerMta(server.clone())), origin);
    let mut out = Vec::new();
    s.greet(&mut out);
    let mut ignored = 0;
    for l in &deck.lines {
        if s.closed() {
            if !l.iter().all(|b| b.is_ascii_whitespace()) {
                ignored += 1;
            }
            continue;
        }
        // A blank card outside a message is nothing; inside one it is an empty line.
        if !s.in_data() && l.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let mut line = l.clone();
        line.extend_from_slice(b"\r\n");
        out.clear();
        s.input(&line, &mut out);
    }
    if !s.closed() {
        s.transcript.push("(end of file: QUIT implied)".into());
        out.clear();
        s.input(b"QUIT\r\n", &mut out);
    }
    Ran {
        session: s,
        ignored,
    }
}

/// Handles one batch file from SMTP's reader; returns when it is dealt with.
pub fn process(server: &Arc<Server>, spl: &SplClient, f: &SplFile) {
    Stats::bump(&server.stats.decks);
    let (file, cards) = match spl.read(f.file_id) {
        Ok(x) => x,
        Err(e) => {
            if !e.to_string().contains("not in the reader") {
                server.log(&format!(
                    "DTCSMT043E Batch SMTP file {:04} from {} cannot be read: {e}",
                    f.spoolid, f.origin
                ));
            }
            return;
        }
    };
    let deck = match read_deck(&cards) {
        Ok(d) => d,
        Err(why) => return malformed(server, spl, &file, &why),
    };
    let origin = Origin::Batch {
        user: file.origin.clone(),
        spoolid: file.spoolid,
    };
    let ran = run_deck(server, &deck, origin);
    let s = &ran.session;
    let mut transcript = s.transcript.clone();
    if ran.ignored > 0 {
        transcript.push(format!("({} lines after QUIT not run)", ran.ignored));
    }
    // Who the response goes to.
    let back = if deck.netdata {
        file.origin.clone()
    } else {
        s.last_sender
            .as_deref()
            .and_then(|a| addr::local_sender(&server.cfg, a))
            .filter(|u| server.vm.in_directory(u))
            .unwrap_or_else(|| file.origin.clone())
    };
    if s.verbose {
        respond(server, &back, &file, s.tick.as_deref(), &transcript);
    }
    if s.had_error {
        let mut lines = vec![
            format!(
                "Batch SMTP spool file {:04} ({} {}) from {} had errors.",
                file.spoolid, file.fname, file.ftype, file.origin
            ),
            format!("{} message(s) were delivered. The dialogue:", s.delivered),
            String::new(),
        ];
        lines.extend(transcript.iter().map(|l| format!("  {l}")));
        let subject = format!("Batch SMTP errors in spool file {:04}", file.spoolid);
        match s.last_sender.as_deref() {
            Some(a)
                if addr::local_sender(&server.cfg, a)
                    .is_some_and(|u| server.vm.in_directory(&u)) =>
            {
                server.mail_report(a, &subject, &lines)
            }
            _ => report_origin(server, &file.origin, &subject, &lines),
        }
    }
    server.log(&format!(
        "DTCSMT040I Batch SMTP file {:04} from {} done: {} message(s) delivered{}",
        file.spoolid,
        file.origin,
        s.delivered,
        if s.had_error { ", with errors" } else { "" }
    ));
    if let Err(e) = spl.purge(f.file_id) {
        server.log(&format!(
            "DTCSMT044E Batch SMTP file {:04} could not be purged: {e}",
            f.spoolid
        ));
    }
}

fn report_origin(server: &Server, u: &UserId, subject: &str, lines: &[String]) {
    let address = format!(
        "{}@{}",
        u.as_str().to_ascii_lowercase(),
        server.cfg.hostname
    );
    server.report_to_user(u, &address, subject, lines);
}

/// A malformed deck: reported, sent back to its origin, nothing delivered.
fn malformed(server: &Arc<Server>, spl: &SplClient, file: &SplFile, why: &str) {
    Stats::bump(&server.stats.bad_decks);
    let back = spl.transfer(file.file_id, &file.origin).is_ok();
    server.log(&format!(
        "DTCSMT041E Batch SMTP file {:04} from {} is malformed: {why}; nothing was delivered; {}",
        file.spoolid,
        file.origin,
        if back {
            "the file was returned to its origin"
        } else {
            "the file was left in the reader"
        }
    ));
    let lines = vec![
        format!(
            "Batch SMTP spool file {:04} ({} {}) was not processed:",
            file.spoolid, file.fname, file.ftype
        ),
        format!("  {why}"),
        String::new(),
        "Nothing in it was delivered.".to_string(),
        if back {
            "The file was returned to your reader.".to_string()
        } else {
            "The file is still in SMTP's reader.".to_string()
        },
    ];
    report_origin(
        server,
        &file.origin,
        &format!("Batch SMTP spool file {:04} not processed", file.spoolid),
        &lines,
    );
}

/// Sends the response file (VERB ON) to `to`: plain cards, named `SMTP RESPONSE`, tagged with
/// the TICK number when one was given.
fn respond(server: &Server, to: &UserId, file: &SplFile, tick: Option<&str>, lines: &[String]) {
    let mut records: Vec<Vec<u8>> = vec![
        format!(
            "Batch SMTP response for spool file {:04} from {}{}",
            file.spoolid,
            file.origin,
            tick.map(|t| format!(", TICK {t}")).unwrap_or_default()
        )
        .into_bytes(),
    ];
    records.extend(lines.iter().map(|l| l.clone().into_bytes()));
    let r = server.spooler.send(
        punch_cards(&records),
        &CloseOpts {
            to: Some((to.clone(), Queue::Rdr)),
            class: Some(server.cfg.local_class),
            name: Some(("SMTP".into(), "RESPONSE".into())),
            tag: tick.map(|t| format!("TICK {t}")),
            ..Default::default()
        },
    );
    if let Err(e) = r {
        server.log(&format!(
            "DTCSMT042E Response file for batch SMTP file {:04} not sent to {to}: {e}",
            file.spoolid
        ));
    }
}

/// Starts the batch reader thread: it takes files from `rx` until the channel closes.
pub fn start(
    server: Arc<Server>,
    spl: Arc<SplClient>,
    rx: crossbeam_channel::Receiver<SplFile>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("smtp-batch".into())
        .spawn(move || {
            while let Ok(f) = rx.recv() {
                process(&server, &spl, &f);
                server.batch_waiting.fetch_sub(1, Ordering::Relaxed);
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(lines: &[&str]) -> Vec<Vec<u8>> {
        lines
            .iter()
            .flat_map(|l| spool::cards::fold_line(l))
            .collect()
    }

    #[test]
    fn decks_are_checked_whole() {
        let good = cards(&[
            "HELO h",
            "MAIL FROM:<a@b>",
            "RCPT TO:<c@d>",
            "DATA",
            "hi",
            ".",
            "QUIT",
        ]);
        let d = read_deck(&good).unwrap();
        assert!(!d.netdata);
        assert_eq!(d.lines[0], b"HELO h");
        let cut = cards(&["HELO h", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "hi"]);
        assert!(read_deck(&cut).unwrap_err().contains("DATA on line 4"));
        assert!(
            read_deck(&cards(&["", "  "]))
                .unwrap_err()
                .contains("no commands")
        );
        let mut nul = good.clone();
        nul[4][1] = 0;
        assert!(read_deck(&nul).unwrap_err().contains("NUL"));
        // Lines after QUIT are not looked at.
        let after = cards(&["HELO h", "QUIT", "DATA"]);
        assert!(read_deck(&after).is_ok());
        // A :READ card from CMS PUNCH is not a line.
        let mut with_read = vec![
            ReadCard {
                fname: "X".into(),
                ftype: "BSMTP".into(),
                fmode: "A1".into(),
                volid: "MNT191".into(),
                date: "01/01/26".into(),
                time: "10:00".into(),
            }
            .to_card(),
        ];
        with_read.extend(good.clone());
        assert_eq!(read_deck(&with_read).unwrap().lines.len(), 7);
        // NETDATA: records are lines; a deck cut short is refused.
        let recs: Vec<Vec<u8>> = ["HELO h", "QUIT"]
            .iter()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let nd = super::super::deck::netdata_deck("S", "MAINT", "SMTP", "X NOTE", at, &recs);
        assert!(read_deck(&nd).unwrap().netdata);
        assert!(read_deck(&nd[..nd.len() - 1]).is_err());
    }
}
