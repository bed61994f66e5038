//! The spool files SMTP writes: the message as records, the NETDATA and PUNCH decks for IMAP and
//! local users, the `Received:` line, and the relay queue file (docs/smtp.md §5 has the layouts).
//!
//! ```text
//! records  = received-line *body-line            ; each line without its CRLF
//! body     = *(line CRLF) [line]                 ; a last line without CRLF is a record too
//! queue-file = "VMSMTPQ1" ("FROM " path) 1*("TO " path) "DATA" *record   ; one record each
//! ```

use chrono::{DateTime, Utc};
use spool::{
    cards::CARD,
    netdata::{self, Header, Recfm},
};

/// The first record of a relay queue file: magic and version.
pub const QUEUE_MAGIC: &[u8] = b"VMSMTPQ1";

/// Splits a message into its lines, without their CRLF (the records of a delivery file).
pub fn body_records(body: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(p) => {
                out.push(rest[..p].to_vec());
                rest = &rest[p + 2..];
            }
            None => {
                out.push(rest.to_vec());
                break;
            }
        }
    }
    out
}

/// A line of text fit for a header: control characters become `?`, at most 200 characters.
pub fn clean(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The `Received:` field SMTP puts at the top of each message, as two lines (the second is a
/// folded continuation).
///
/// ```text
/// Received: from HELO (SOURCE) by HOSTNAME (vmimap VM SMTP) with PROTOCOL id ID;
///         DATE
/// ```
pub fn received(
    helo: &str,
    source: &str,
    hostname: &str,
    protocol: &str,
    id: &str,
    at: DateTime<Utc>,
) -> Vec<Vec<u8>> {
    let helo = if helo.is_empty() { "unknown" } else { helo };
    vec![
        format!(
            "Received: from {} ({}) by {hostname} (vmimap VM SMTP) with {protocol} id {id};",
            clean(helo),
            clean(source)
        )
        .into_bytes(),
        format!("        {}", at.to_rfc2822()).into_bytes(),
    ]
}

/// `yyyymmddhhmmss` in UTC, NETDATA's time stamp.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

/// A NETDATA deck of `records` (format V) from `from_user` to `to_user` on `node`, named `name`.
pub fn netdata_deck(
    node: &str,
    from_user: &str,
    to_user: &str,
    name: &str,
    at: DateTime<Utc>,
    records: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    netdata::encode(
        &Header {
            from_node: node.to_string(),
            from_user: from_user.to_string(),
            to_node: node.to_string(),
            to_user: to_user.to_string(),
            time: stamp(at),
            name: name.to_string(),
            recfm: Recfm::V,
            lrecl: 0,
        },
        records,
    )
}

/// Plain 80-column cards: each record is cut into 80-byte pieces (at a UTF-8 character boundary
/// when the record is UTF-8), each piece padded with blanks; an empty record is one blank card.
pub fn punch_cards(records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut cards = Vec::new();
    for r in records {
        let mut rest: &[u8] = r;
        loop {
            let mut end = rest.len().min(CARD);
            if let Ok(s) = std::str::from_utf8(rest) {
                while end > 0 && !s.is_char_boundary(end) {
                    end -= 1;
                }
                if end == 0 {
                    end = rest.len().min(CARD);
                }
            }
            let mut card = rest[..end].to_vec();
            card.resize(CARD, b' ');
            cards.push(card);
            rest = &rest[end..];
            if rest.is_empty() {
                break;
            }
        }
    }
    cards
}

/// The records of a relay queue file.
pub fn queue_records(from: &str, to: &[String], message: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut r = Vec::with_capacity(message.len() + to.len() + 3);
    r.push(QUEUE_MAGIC.to_vec());
    r.push(format!("FROM <{from}>").into_bytes());
    for t in to {
        r.push(format!("TO <{t}>").into_bytes());
    }
    r.push(b"DATA".to_vec());
    r.extend(message.iter().cloned());
    r
}

/// A relay queue file read back: the sender, the recipients and the message's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Reverse path.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// The message's lines (with the `Received:` lines).
    pub lines: Vec<Vec<u8>>,
}

fn path_of(rec: &[u8], key: &str) -> Option<String> {
    let s = std::str::from_utf8(rec).ok()?;
    let p = s.strip_prefix(key)?;
    p.strip_prefix('<')?.strip_suffix('>').map(str::to_string)
}

/// Reads a relay queue file's records.
pub fn parse_queue(records: Vec<Vec<u8>>) -> Result<Queued, String> {
    let mut it = records.into_iter();
    if it.next().as_deref() != Some(QUEUE_MAGIC) {
        return Err("not a relay queue file (no VMSMTPQ1 record)".into());
    }
    let from = it
        .next()
        .and_then(|r| path_of(&r, "FROM "))
        .ok_or("no FROM record")?;
    let mut to = Vec::new();
    loop {
        match it.next() {
            Some(r) if r == b"DATA" => break,
            Some(r) => to.push(path_of(&r, "TO ").ok_or("a bad TO record")?),
            None => return Err("no DATA record".into()),
        }
    }
    if to.is_empty() {
        return Err("no recipients".into());
    }
    Ok(Queued {
        from,
        to,
        lines: it.collect(),
    })
}

/// Joins lines with CRLF (each line ends with one).
pub fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 2).sum());
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_crlf_only() {
        assert_eq!(
            body_records(b"a\r\nb\r\n\r\nc"),
            vec![b"a".to_vec(), b"b".to_vec(), vec![], b"c".to_vec()]
        );
        assert_eq!(body_records(b"a\r\n"), vec![b"a".to_vec()]);
        assert!(body_records(b"").is_empty());
        assert_eq!(
            join_lines(&body_records(b"x\r\n\r\ny\r\n")),
            b"x\r\n\r\ny\r\n"
        );
    }

    #[test]
    fn received_and_decks() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let r = received("cl\r\nient", "127.0.0.1", "vm.test", "ESMTP", "ID1", at);
        assert_eq!(
            r[0],
            b"Received: from cl??ient (127.0.0.1) by vm.test (vmimap VM SMTP) with ESMTP id ID1;"
        );
        assert_eq!(r[1], b"        Tue, 14 Nov 2023 22:13:20 +0000");
        assert_eq!(stamp(at), "20231114221320");
        let recs = vec![b"Subject: x".to_vec(), vec![], vec![b'y'; 170]];
        let deck = netdata_deck("VMIMAP", "SMTP", "DEMO", "DEMO MAIL", at, &recs);
        let t = netdata::decode(&deck).unwrap();
        assert_eq!(t.records, recs);
        assert_eq!(t.header.name, "DEMO MAIL");
        assert_eq!(t.header.time, "20231114221320");
        let cards = punch_cards(&recs);
        assert_eq!(cards.len(), 1 + 1 + 3);
        assert!(cards.iter().all(|c| c.len() == 80));
        let wide = "é".repeat(50).into_bytes();
        let cards = punch_cards(&[wide]);
        assert!(std::str::from_utf8(cards[0].trim_ascii_end()).is_ok());
    }

    #[test]
    fn queue_files_round_trip_and_garbage_is_refused() {
        let recs = queue_records(
            "a@b",
            &["x@far".into(), "y@far".into()],
            &[b"DATA".to_vec()],
        );
        let q = parse_queue(recs).unwrap();
        assert_eq!(q.from, "a@b");
        assert_eq!(q.to, ["x@far", "y@far"]);
        assert_eq!(q.lines, vec![b"DATA".to_vec()]);
        assert!(parse_queue(vec![b"HELO".to_vec()]).is_err());
        assert!(
            parse_queue(vec![
                QUEUE_MAGIC.to_vec(),
                b"FROM <>".to_vec(),
                b"DATA".to_vec()
            ])
            .is_err()
        );
        assert!(
            parse_queue(vec![
                QUEUE_MAGIC.to_vec(),
                b"FROM <>".to_vec(),
                b"TO <a@b>".to_vec()
            ])
            .is_err()
        );
        assert_eq!(
            parse_queue(queue_records("", &["a@b".into()], &[]))
                .unwrap()
                .from,
            ""
        );
    }
}
