//! Request decks: a file in IMAPADM's reader holds one request per card (or per record of a
//! NETDATA file, as SENDFILE makes). Blank cards and cards beginning with `*` are comments.
//!
//! ```text
//! deck = [read-card] *card       ; a :READ card from CMS PUNCH is skipped
//! card = request / "*" *CHAR / *SP
//! ```
//!
//! Each request runs as the deck's origin (CP's origin of the spool file) and is audited as
//! `DECK spoolid`. The answer is a result file, `IMAPADM RESULT`, sent to the origin's reader:
//! each request with its number and the lines it got, then a summary. A card that is not a
//! request gets its error line and the rest of the deck still runs. A deck from a user
//! AUTHORIZE does not name is not run: the result file holds the refusal, and the refusal is
//! audited once. The deck is purged when its result file is sent.

use spool::{
    Queue,
    cards::{ReadCard, card_text},
    netdata,
};
use vm::{UserId, iucv::SplFile, system::SplClient, system::spoolops::CloseOpts};

use super::{
    audit::clean,
    messages::{self as m},
    service::Service,
};
use crate::smtp::{deck::punch_cards, spooler::Spooler};

/// The lines of a deck: (card number, text) of every card that is not a comment; `Err` when a
/// NETDATA file does not decode.
pub fn deck_lines(cards: &[Vec<u8>]) -> Result<Vec<(usize, String)>, String> {
    let texts: Vec<String> = if netdata::is_netdata(cards) {
        netdata::decode(cards)
            .map_err(|e| format!("the NETDATA file does not decode: {e}"))?
            .records
            .iter()
            .map(|r| String::from_utf8_lossy(r).trim_end().to_string())
            .collect()
    } else {
        let skip = usize::from(cards.first().is_some_and(|c| ReadCard::parse(c).is_some()));
        cards[skip..].iter().map(|c| card_text(c)).collect()
    };
    Ok(texts
        .into_iter()
        .enumerate()
        .filter(|(_, t)| {
            let t = t.trim();
            !t.is_empty() && !t.starts_with('*')
        })
        .map(|(i, t)| (i + 1, t))
        .collect())
}

/// Handles one reader file; returns when it is dealt with.
pub fn process(service: &Service, spl: &SplClient, spooler: &Spooler, f: &SplFile) {
    let (file, cards) = match spl.read(f.file_id) {
        Ok(x) => x,
        Err(e) => {
            if !e.to_string().contains("not in the reader") {
                service
                    .log(&m::unreadable(f.spoolid, f.origin.as_str(), &e.to_string()).to_string());
            }
            return;
        }
    };
    let origin = file.origin.clone();
    let via = format!("DECK {:04}", file.spoolid);
    let mut out = vec![format!(
        "IMAPADM result for deck {:04} ({} {}) from {}",
        file.spoolid, file.fname, file.ftype, origin
    )];
    let mut n = 0;
    let mut failed = 0;
    if !service.cfg.is_authorized(&origin) {
        let a = service.run(&origin, &via, &format!("deck of {} cards", cards.len()));
        out.extend(a.lines);
        n = 1;
        failed = 1;
    } else {
        match deck_lines(&cards) {
            Err(why) => {
                let msg = m::invalid(&why);
                if let Err(e) = service
                    .audit
                    .record(&origin, &via, "(deck)", &msg.to_string())
                {
                    service.log(&m::audit_failed(&e).to_string());
                }
                out.push(msg.to_string());
                n = 1;
                failed = 1;
            }
            Ok(lines) if lines.is_empty() => {
                let msg = m::empty_deck(file.spoolid);
                if let Err(e) = service
                    .audit
                    .record(&origin, &via, "(deck)", &msg.to_string())
                {
                    service.log(&m::audit_failed(&e).to_string());
                }
                out.push(msg.to_string());
                failed = 1;
            }
            Ok(lines) => {
                for (no, text) in lines {
                    n += 1;
                    out.push(format!("{no:>4} {}", clean(&text)));
                    let a = service.run(&origin, &via, &text);
                    if a.failed {
                        failed += 1;
                    }
                    out.extend(a.lines.into_iter().map(|l| format!("     {l}")));
                }
            }
        }
    }
    out.push(format!(
        "{n} requests, {} done, {failed} failed",
        n - failed.min(n)
    ));
    match send(service, spooler, &origin, file.spoolid, &out) {
        Ok(()) => service.log(&m::deck_done(file.spoolid, origin.as_str(), n, failed).to_string()),
        Err(e) => service.log(&m::result_not_sent(file.spoolid, origin.as_str(), &e).to_string()),
    }
    if let Err(e) = spl.purge(f.file_id) {
        service.log(&m::purge_failed(file.spoolid, &e.to_string()).to_string());
    }
}

/// Sends the result file to `to`: plain cards named `IMAPADM RESULT`, tagged with the deck's
/// spoolid.
fn send(
    service: &Service,
    spooler: &Spooler,
    to: &UserId,
    spoolid: u16,
    lines: &[String],
) -> Result<(), String> {
    let records: Vec<Vec<u8>> = lines.iter().map(|l| l.clone().into_bytes()).collect();
    spooler
        .send(
            punch_cards(&records),
            &CloseOpts {
                to: Some((to.clone(), Queue::Rdr)),
                class: Some(service.cfg.result_class),
                name: Some(("IMAPADM".into(), "RESULT".into())),
                tag: Some(format!("DECK {spoolid:04}")),
                ..Default::default()
            },
        )
        .map(|_| ())
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
    fn cards_become_numbered_requests() {
        let d = cards(&["* a comment", "ENROLL DEMO", "", "  LIST  ", "bogus"]);
        assert_eq!(
            deck_lines(&d).unwrap(),
            [
                (2, "ENROLL DEMO".to_string()),
                (4, "  LIST".to_string()),
                (5, "bogus".to_string())
            ]
        );
        let mut with_read = vec![
            ReadCard {
                fname: "ADM".into(),
                ftype: "DECK".into(),
                fmode: "A1".into(),
                volid: "MNT191".into(),
                date: "01/01/26".into(),
                time: "10:00".into(),
            }
            .to_card(),
        ];
        with_read.extend(cards(&["LIST"]));
        assert_eq!(deck_lines(&with_read).unwrap(), [(1, "LIST".to_string())]);
        assert!(deck_lines(&[]).unwrap().is_empty());
        let recs = vec![b"LIST".to_vec(), b"ENROLL X".to_vec()];
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let nd = crate::smtp::deck::netdata_deck("S", "MAINT", "IMAPADM", "ADM DECK", at, &recs);
        assert_eq!(deck_lines(&nd).unwrap().len(), 2);
        assert!(deck_lines(&nd[..nd.len() - 1]).is_err());
    }
}
