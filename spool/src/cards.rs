//! Card formats: 80-byte punch records and the CMS `:READ` header card.

/// Width of a punched card.
pub const CARD: usize = 80;

/// Folds one line of text into 80-column cards, padded with blanks. A line longer than 80 bytes
/// continues on the next card (cut at a character boundary), so nothing is lost; an empty line is
/// one blank card.
pub fn fold_line(line: &str) -> Vec<Vec<u8>> {
    let mut cards = Vec::new();
    let mut rest = line;
    loop {
        let mut end = rest.len().min(CARD);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let mut card = rest.as_bytes()[..end].to_vec();
        card.resize(CARD, b' ');
        cards.push(card);
        rest = &rest[end..];
        if rest.is_empty() {
            break;
        }
    }
    cards
}

/// The fields of a CMS PUNCH header card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadCard {
    /// File name (1–8).
    pub fname: String,
    /// File type (1–8).
    pub ftype: String,
    /// File mode (letter and number, e.g. `A1`).
    pub fmode: String,
    /// Volume label of the disk the file came from (`-` for SFS).
    pub volid: String,
    /// Date last written, `mm/dd/yy`.
    pub date: String,
    /// Time last written, `hh:mm`.
    pub time: String,
}

impl ReadCard {
    /// Formats the card, column-exact (cp-cms.md §2.13): `:READ` in 1–5, fn 8–15, ft 17–24,
    /// fm 26–27, volid 29–34, date 36–43, time 46–50, blanks to column 80.
    pub fn to_card(&self) -> Vec<u8> {
        let s = format!(
            ":READ  {:<8} {:<8} {:<2} {:<6} {:<8}  {:<5}",
            trunc(&self.fname, 8),
            trunc(&self.ftype, 8),
            trunc(&self.fmode, 2),
            trunc(&self.volid, 6),
            trunc(&self.date, 8),
            trunc(&self.time, 5)
        );
        let mut card = s.into_bytes();
        card.resize(CARD, b' ');
        card
    }

    /// Parses a `:READ` card; `None` if the card is not one.
    ///
    /// ```text
    /// read-card = ":READ" 2SP fn SP ft SP fm [SP volid [SP date 2SP time]]   ; by columns
    /// ```
    pub fn parse(card: &[u8]) -> Option<ReadCard> {
        if card.len() < 7 || !card.starts_with(b":READ ") {
            return None;
        }
        let text = String::from_utf8_lossy(card);
        let col = |a: usize, b: usize| -> String {
            text.get(a.min(text.len())..b.min(text.len()))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let fname = col(7, 15);
        let ftype = col(16, 24);
        if fname.is_empty() || ftype.is_empty() {
            return None;
        }
        Some(ReadCard {
            fname,
            ftype,
            fmode: col(25, 27),
            volid: col(28, 34),
            date: col(35, 43),
            time: col(45, 50),
        })
    }
}

fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A card's text with trailing blanks removed.
pub fn card_text(card: &[u8]) -> String {
    let end = card.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    String::from_utf8_lossy(&card[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_card_is_column_exact() {
        let c = ReadCard {
            fname: "PROFILE".into(),
            ftype: "EXEC".into(),
            fmode: "A1".into(),
            volid: "MNT191".into(),
            date: "05/21/24".into(),
            time: "10:05".into(),
        };
        let card = c.to_card();
        assert_eq!(card.len(), 80);
        assert_eq!(
            card_text(&card),
            ":READ  PROFILE  EXEC     A1 MNT191 05/21/24  10:05"
        );
        assert_eq!(ReadCard::parse(&card), Some(c));
    }

    #[test]
    fn long_lines_fold_without_loss() {
        let line = "x".repeat(170);
        let cards = fold_line(&line);
        assert_eq!(cards.len(), 3);
        assert!(cards.iter().all(|c| c.len() == 80));
        let joined: String = cards.iter().map(|c| card_text(c)).collect();
        assert_eq!(joined, line);
        assert_eq!(fold_line(""), vec![vec![b' '; 80]]);
        // Multi-byte characters are never split.
        let wide = "é".repeat(50);
        let cards = fold_line(&wide);
        let joined: String = cards.iter().map(|c| card_text(c)).collect();
        assert_eq!(joined, wide);
    }
}
