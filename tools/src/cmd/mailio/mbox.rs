//! mbox files, read and written as mboxrd, and the line-ending rule shared with Maildir.
//!
//! Reading: every line that begins with `From ` starts a message (the first line of the file
//! must be one); its date (asctime, UTC unless a numeric zone follows) is the message's internal
//! date. Inside a message a line `>From `, `>>From `… loses one `>`. The empty line before the
//! next `From ` line (or the end of the file) is the separator, not part of the message. The
//! file is read line by line: memory holds one message at a time.
//!
//! Writing is the exact reverse: `From sender date`, the message with every `>*From ` line
//! given one more `>`, and an empty line. So a file read and written back is the same file
//! apart from its `From ` lines.

use std::{
    borrow::Cow,
    io::{BufRead, Write},
};

use anyhow::bail;

/// One message read from an mbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMsg {
    /// Line number of its `From ` line.
    pub line: u64,
    /// The date of its `From ` line (seconds, UTC).
    pub date: i64,
    /// The message (unquoted, without the separator line), line endings as in the file.
    pub data: Vec<u8>,
    /// Bytes of the file it took, `From ` line and separator included.
    pub file_bytes: u64,
}

/// An mbox being read.
#[derive(Debug)]
pub struct Reader<R> {
    r: R,
    line: u64,
    next_from: Option<(u64, Vec<u8>)>,
    started: bool,
    crlf: bool,
    max: u64,
}

impl<R: BufRead> Reader<R> {
    /// Reads `r`; a message over `max` bytes is an error.
    pub fn new(r: R, max: u64) -> Reader<R> {
        Reader {
            r,
            line: 0,
            next_from: None,
            started: false,
            crlf: false,
            max,
        }
    }

    fn read_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        let n = self.r.read_until(b'\n', buf)?;
        if n > 0 {
            self.line += 1;
        }
        Ok(n > 0)
    }

    /// The next message; `None` at the end of the file. Errors name the line.
    pub fn next_msg(&mut self) -> anyhow::Result<Option<MboxMsg>> {
        let (line, from) = match self.next_from.take() {
            Some(f) => f,
            None if self.started => return Ok(None),
            None => {
                self.started = true;
                let mut l = Vec::new();
                if !self.read_line(&mut l)? {
                    return Ok(None);
                }
                if !l.starts_with(b"From ") {
                    bail!(
                        "line 1: not an mbox file: it does not begin with a `From ` line (it begins {:?})",
                        preview(&l)
                    );
                }
                self.crlf = l.ends_with(b"\r\n");
                (1, l)
            }
        };
        let Some(date) = parse_from_line(&from) else {
            bail!(
                "line {line}: a `From ` line without a date in asctime form (`From sender Tue Nov 26 12:00:00 2026`): {:?}",
                preview(&from)
            );
        };
        let mut data = Vec::new();
        let mut file_bytes = from.len() as u64;
        let mut l = Vec::new();
        while self.read_line(&mut l)? {
            if l.starts_with(b"From ") {
                self.next_from = Some((self.line, std::mem::take(&mut l)));
                break;
            }
            file_bytes += l.len() as u64;
            let gt = l.iter().take_while(|&&c| c == b'>').count();
            if gt > 0 && l[gt..].starts_with(b"From ") {
                data.extend_from_slice(&l[1..]);
            } else {
                data.extend_from_slice(&l);
            }
            if data.len() as u64 > self.max {
                bail!(
                    "line {line}: the message is larger than {} bytes, the largest the IMAP server takes (MAXLITERAL in IMAP CONFIG)",
                    self.max
                );
            }
        }
        let sep: &[u8] = if self.crlf { b"\r\n" } else { b"\n" };
        if data == sep || (data.ends_with(sep) && data[..data.len() - sep.len()].ends_with(b"\n")) {
            data.truncate(data.len() - sep.len());
        }
        Ok(Some(MboxMsg {
            line,
            date,
            data,
            file_bytes,
        }))
    }
}

fn preview(l: &[u8]) -> String {
    let l = &l[..l.len().min(80)];
    String::from_utf8_lossy(l)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn month(s: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(s))
        .map(|i| i as u32 + 1)
}

/// A zone: `+hhmm`/`-hhmm`, or UTC/GMT/UT/Z; seconds east of UTC.
fn zone(s: &str) -> Option<i64> {
    if ["UTC", "GMT", "UT", "Z"]
        .iter()
        .any(|z| z.eq_ignore_ascii_case(s))
    {
        return Some(0);
    }
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The date at `w[0..]`: `Wkd Mon dd hh:mm[:ss] [zone] yyyy [zone]`.
fn date_at(w: &[&str]) -> Option<i64> {
    if w.len() < 5 || !DAYS.iter().any(|d| d.eq_ignore_ascii_case(w[0])) {
        return None;
    }
    let mon = month(w[1])?;
    let day: u32 = w[2].parse().ok().filter(|d| (1..=31).contains(d))?;
    let t: Vec<&str> = w[3].split(':').collect();
    if !(2..=3).contains(&t.len()) {
        return None;
    }
    let num = |s: &str, max: i64| {
        (s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let (h, mi) = (num(t[0], 23)?, num(t[1], 59)?);
    let s = if t.len() == 3 { num(t[2], 60)? } else { 0 };
    let mut rest = &w[4..];
    let mut off = 0;
    if let Some(z) = rest.first().and_then(|z| zone(z)) {
        off = z;
        rest = &rest[1..];
    }
    let y: i64 = rest
        .first()
        .filter(|y| y.len() == 4 && y.bytes().all(|c| c.is_ascii_digit()))?
        .parse()
        .ok()?;
    if let Some(z) = rest.get(1).and_then(|z| zone(z)) {
        off = z;
    }
    if y < 1970 {
        return None;
    }
    Some(days_from_civil(y, mon, day) * 86400 + h * 3600 + mi * 60 + s - off)
}

/// The date of a `From ` line (seconds, UTC), wherever it stands after the sender.
pub fn parse_from_line(l: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(l.strip_prefix(b"From ")?).ok()?;
    let w: Vec<&str> = s.split_ascii_whitespace().collect();
    (0..w.len()).find_map(|i| date_at(&w[i..]))
}

/// A date in asctime form, UTC: `Tue Nov 26 12:00:00 2026` (the day padded with a space).
pub fn asctime(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {y}",
        DAYS[(days + 4).rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        d,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The envelope sender for a `From ` line: the message's `Return-Path` address, else
/// `MAILER-DAEMON`.
pub fn sender(msg: &[u8]) -> String {
    let end = imapd::store::folder::header_end(msg).unwrap_or(msg.len());
    for line in msg[..end].split(|&c| c == b'\n') {
        if line.len() > 12 && line[..12].eq_ignore_ascii_case(b"return-path:") {
            let v = String::from_utf8_lossy(&line[12..]);
            let v = v.trim().trim_start_matches('<').trim_end_matches('>');
            if !v.is_empty() && v.bytes().all(|c| c.is_ascii_graphic()) {
                return v.to_string();
            }
            break;
        }
    }
    "MAILER-DAEMON".to_string()
}

/// Whether every line ends with CRLF and no CR stands elsewhere (so CRLF → LF can be undone).
fn pure_crlf(d: &[u8]) -> bool {
    let mut prev_cr = false;
    for (i, &c) in d.iter().enumerate() {
        match c {
            b'\n' if !prev_cr => return false,
            b'\r' if d.get(i + 1) != Some(&b'\n') => return false,
            _ => {}
        }
        prev_cr = c == b'\r';
    }
    true
}

/// A message as the mailstore keeps it: LF line ends become CRLF when the message has no CR at
/// all; a message that has one is kept exactly as it is.
pub fn to_store(data: Vec<u8>) -> Vec<u8> {
    if data.contains(&b'\r') {
        return data;
    }
    let n = data.iter().filter(|&&c| c == b'\n').count();
    let mut out = Vec::with_capacity(data.len() + n);
    for c in data {
        if c == b'\n' {
            out.push(b'\r');
        }
        out.push(c);
    }
    out
}

/// A stored message for a file: CRLF line ends become LF when every line ends with CRLF (and no
/// other CR is in it); anything else is written as stored.
pub fn from_store(data: &[u8]) -> Cow<'_, [u8]> {
    if !data.contains(&b'\r') || !pure_crlf(data) {
        return Cow::Borrowed(data);
    }
    Cow::Owned(data.iter().copied().filter(|&c| c != b'\r').collect())
}

/// Writes one message (line ends as the file has them) as mboxrd; returns the bytes written.
pub fn write_msg(w: &mut impl Write, data: &[u8], date: i64) -> std::io::Result<u64> {
    let from = format!("From {} {}\n", sender(data), asctime(date));
    w.write_all(from.as_bytes())?;
    let mut n = from.len() as u64;
    let mut rest = data;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&c| c == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        let gt = line.iter().take_while(|&&c| c == b'>').count();
        if line[gt..].starts_with(b"From ") {
            w.write_all(b">")?;
            n += 1;
        }
        w.write_all(line)?;
        n += line.len() as u64;
        rest = &rest[end..];
    }
    if !data.is_empty() && !data.ends_with(b"\n") {
        // mbox cannot hold a message without a final line end.
        w.write_all(b"\n")?;
        n += 1;
    }
    w.write_all(b"\n")?;
    Ok(n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(b: &[u8]) -> anyhow::Result<Vec<MboxMsg>> {
        let mut r = Reader::new(b, 1 << 30);
        let mut v = Vec::new();
        while let Some(m) = r.next_msg()? {
            v.push(m);
        }
        Ok(v)
    }

    fn without_from_lines(b: &[u8]) -> Vec<&[u8]> {
        b.split_inclusive(|&c| c == b'\n')
            .filter(|l| !l.starts_with(b"From "))
            .collect()
    }

    #[test]
    fn dates() {
        let t = parse_from_line(b"From MAILER-DAEMON Mon May 20 14:17:53 2024\n").unwrap();
        assert_eq!(t, 1716214673);
        assert_eq!(asctime(t), "Mon May 20 14:17:53 2024");
        assert_eq!(asctime(0), "Thu Jan  1 00:00:00 1970");
        let z = parse_from_line(b"From a@b Mon May 20 16:17:53 2024 +0200\r\n").unwrap();
        assert_eq!(z, t);
        let z = parse_from_line(b"From - Mon May 20 14:17 2024").unwrap();
        assert_eq!(z, t - 53);
        assert_eq!(
            parse_from_line(b"From sender Tue Nov 26 12:00:00 2026"),
            Some(1795694400)
        );
        for bad in [
            &b"From nobody"[..],
            b"From x Mon May 20 25:00:00 2024",
            b"From x Mon Foo 20 14:17:53 2024",
            b"From x Mon May 20 14:17:53",
            b"Fro x Mon May 20 14:17:53 2024",
        ] {
            assert_eq!(
                parse_from_line(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        for t in [0i64, 951782400, 1795694400, 4102444799] {
            let l = format!("From x {}", asctime(t));
            assert_eq!(parse_from_line(l.as_bytes()), Some(t), "{l}");
        }
    }

    #[test]
    fn quoting_and_separators() {
        let file = b"From a Mon May 20 14:17:53 2024\nSubject: x\n\n>From here\n>>From there\n>Fromage\n\nFrom b Mon May 20 14:17:54 2024\nno final blank\nFrom c Mon May 20 14:17:55 2024\n\nFrom d Mon May 20 14:17:56 2024\nlast\n\n";
        let m = read_all(file).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(
            m[0].data,
            b"Subject: x\n\nFrom here\n>From there\n>Fromage\n".to_vec()
        );
        assert_eq!(m[0].line, 1);
        assert_eq!(m[1].data, b"no final blank\n".to_vec());
        assert_eq!(m[1].line, 8);
        assert_eq!(m[2].data, b"".to_vec());
        assert_eq!(m[3].data, b"last\n".to_vec());
        assert_eq!(
            m.iter().map(|m| m.file_bytes).sum::<u64>(),
            file.len() as u64
        );
        let mut out = Vec::new();
        for x in &m {
            write_msg(&mut out, &x.data, x.date).unwrap();
        }
        // Only the message without its separator line differs.
        let want = String::from_utf8_lossy(file).replace("no final blank\n", "no final blank\n\n");
        assert_eq!(
            without_from_lines(&out),
            without_from_lines(want.as_bytes())
        );
    }

    #[test]
    fn bad_input() {
        let e = read_all(b"Subject: not an mbox\n\nhello\n").unwrap_err();
        assert!(e.to_string().starts_with("line 1: not an mbox"), "{e}");
        let e =
            read_all(b"From a Mon May 20 14:17:53 2024\nx\n\nFrom nobody at all\ny\n").unwrap_err();
        assert!(e.to_string().starts_with("line 4: a `From ` line"), "{e}");
        assert!(read_all(b"").unwrap().is_empty());
        let mut r = Reader::new(&b"From a Mon May 20 14:17:53 2024\n0123456789\n"[..], 5);
        let e = r.next_msg().unwrap_err();
        assert!(e.to_string().contains("larger than 5 bytes"), "{e}");
    }

    #[test]
    fn line_ends() {
        assert_eq!(to_store(b"a\nb\n".to_vec()), b"a\r\nb\r\n");
        assert_eq!(from_store(b"a\r\nb\r\n"), &b"a\nb\n"[..]);
        for odd in [&b"a\r\nb\n"[..], b"a\rb\n", b"a\r\nb\r"] {
            assert_eq!(to_store(odd.to_vec()), odd);
            assert_eq!(from_store(odd), odd);
        }
        assert_eq!(from_store(b"no end"), &b"no end"[..]);
    }

    #[test]
    fn sender_from_return_path() {
        assert_eq!(
            sender(b"Return-Path: <bounce-1@example.com>\r\nSubject: x\r\n\r\nbody"),
            "bounce-1@example.com"
        );
        assert_eq!(sender(b"Return-Path: <>\r\n\r\n"), "MAILER-DAEMON");
        assert_eq!(
            sender(b"Subject: x\n\nReturn-Path: <a@b>\n"),
            "MAILER-DAEMON"
        );
    }

    /// The corpus read, stored and written back is the same file apart from its `From ` lines.
    #[test]
    fn corpus_round_trip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/corpus/small.mbox"
        );
        let Ok(file) = std::fs::read(path) else {
            eprintln!("{path} not found; skipped");
            return;
        };
        let m = read_all(&file).unwrap();
        assert_eq!(m.len(), 300);
        let mut out = Vec::new();
        for x in &m {
            let stored = to_store(x.data.clone());
            assert!(!stored.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
            write_msg(&mut out, &from_store(&stored), x.date).unwrap();
        }
        assert_eq!(without_from_lines(&out), without_from_lines(&file));
        let froms = |b: &[u8]| -> Vec<Option<i64>> {
            b.split_inclusive(|&c| c == b'\n')
                .filter(|l| l.starts_with(b"From "))
                .map(parse_from_line)
                .collect()
        };
        assert_eq!(froms(&out), froms(&file));
    }
}
