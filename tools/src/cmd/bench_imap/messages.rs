//! Generated test messages (2–4 KB, RFC 5322 with CRLF line ends) and a small deterministic
//! random number generator.

/// SplitMix64: deterministic, good enough to pick operations and message contents.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, s: &'a [T]) -> &'a T {
        &s[self.below(s.len() as u64) as usize]
    }
}

/// Senders (display name, address); SEARCH FROM uses the first names.
pub const SENDERS: &[(&str, &str)] = &[
    ("Alice Archer", "alice@example.com"),
    ("Bob Baker", "bob@example.org"),
    ("Carol Chandler", "carol@example.net"),
    ("Dave Dalton", "dave@example.com"),
    ("Erin Ellis", "erin@example.org"),
    ("Frank Fischer", "frank@example.net"),
    ("Grace Gordon", "grace@example.com"),
    ("Heidi Hughes", "heidi@example.org"),
    ("Ivan Ingram", "ivan@example.net"),
    ("Judy Jensen", "judy@example.com"),
    ("Mallory Moore", "mallory@example.org"),
    ("Niaj Norton", "niaj@example.net"),
    ("Olivia Owens", "olivia@example.com"),
    ("Peggy Parker", "peggy@example.org"),
    ("Rupert Reed", "rupert@example.net"),
    ("Sybil Stone", "sybil@example.com"),
];

/// Subject words; SEARCH SUBJECT uses them.
pub const SUBJECT_WORDS: &[&str] = &[
    "quarterly",
    "report",
    "meeting",
    "budget",
    "invoice",
    "release",
    "schedule",
    "review",
    "migration",
    "outage",
    "lunch",
    "travel",
    "contract",
    "draft",
    "minutes",
    "backup",
];

const BODY_WORDS: &[&str] = &[
    "the",
    "system",
    "will",
    "be",
    "restarted",
    "after",
    "backup",
    "of",
    "all",
    "volumes",
    "please",
    "review",
    "attached",
    "figures",
    "before",
    "friday",
    "and",
    "send",
    "comments",
    "to",
    "team",
    "we",
    "agreed",
    "on",
    "new",
    "schedule",
    "for",
    "migration",
    "spool",
    "reader",
    "punch",
    "printer",
    "console",
    "disk",
    "minidisk",
    "file",
    "pool",
    "server",
    "network",
    "link",
    "is",
    "down",
    "again",
    "thanks",
    "regards",
    "budget",
    "numbers",
    "look",
    "fine",
    "except",
    "travel",
];

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An RFC 5322 date for a Unix time (UTC).
fn rfc5322_date(t: u64) -> String {
    let days = t / 86400;
    let secs = t % 86400;
    // Civil from days (H. Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {d} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Message number `n` of a generated mailbox: 2,048–4,096 bytes.
pub fn message(rng: &mut Rng, n: u64) -> Vec<u8> {
    let (name, addr) = rng.pick(SENDERS);
    let subject = format!(
        "{} {} {} #{n}",
        rng.pick(SUBJECT_WORDS),
        rng.pick(SUBJECT_WORDS),
        rng.pick(SUBJECT_WORDS)
    );
    let target = 2048 + rng.below(2049) as usize;
    let mut m = format!(
        "Return-Path: <{addr}>\r\n\
         Message-ID: <{n}.{:x}@vmbench.invalid>\r\n\
         Date: {}\r\n\
         From: {name} <{addr}>\r\n\
         To: Benchmark User <bench@example.com>\r\n\
         Subject: {subject}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         Content-Transfer-Encoding: 7bit\r\n\
         \r\n",
        rng.next_u64(),
        rfc5322_date(1_700_000_000 + n * 97)
    )
    .into_bytes();
    let mut line = String::new();
    while m.len() + line.len() < target {
        let w = rng.pick(BODY_WORDS);
        if line.len() + w.len() + 1 > 72 {
            m.extend_from_slice(line.as_bytes());
            m.extend_from_slice(b"\r\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    m.extend_from_slice(line.as_bytes());
    m.extend_from_slice(b"\r\n");
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_700_000_000),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
    }

    #[test]
    fn sizes() {
        let mut r = Rng::new(1);
        for n in 0..200 {
            let m = message(&mut r, n);
            assert!((2048..=4200).contains(&m.len()), "{}", m.len());
            assert!(m.ends_with(b"\r\n"));
        }
    }
}
