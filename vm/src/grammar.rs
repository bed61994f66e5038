//! The lexical grammar shared by CP commands, the user directory and the configuration files, and
//! a cursor over the tokens with CP-style minimum-abbreviation matching.
//!
//! CP and its configuration files are blank-delimited: a line is a sequence of tokens, and each
//! operand is one token whose form (userid, device number, decimal, storage size…) is checked by
//! the nom parsers below.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag_no_case, take_while, take_while_m_n, take_while1},
    character::complete::{digit1, space0},
    combinator::{all_consuming, map, map_res, opt, recognize},
    multi::many0,
    sequence::{preceded, terminated},
};

/// One blank-delimited token and the 1-based column it starts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token text as typed.
    pub text: &'a str,
    /// Column of its first character (1-based).
    pub col: usize,
}

/// `token = 1*(VCHAR except blank)`
fn token(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c != ' ' && c != '\t')(i)
}

/// `line = *SP *(token *SP)`
///
/// Splits a line into tokens with their columns. Never fails: every input is some list of tokens.
pub fn tokens(line: &str) -> Vec<Token<'_>> {
    let res: IResult<&str, Vec<&str>> =
        preceded(space0, many0(terminated(token, space0))).parse(line);
    let toks = res.map(|(_, v)| v).unwrap_or_default();
    toks.into_iter()
        .map(|t| Token {
            text: t,
            col: t.as_ptr() as usize - line.as_ptr() as usize + 1,
        })
        .collect()
}

/// `decimal = 1*DIGIT`
pub fn decimal(i: &str) -> IResult<&str, u64> {
    map_res(digit1, |d: &str| d.parse::<u64>()).parse(i)
}

/// `vdev = 1*4HEXDIG`
pub fn vdev(i: &str) -> IResult<&str, u16> {
    map_res(
        take_while_m_n(1, 4, |c: char| c.is_ascii_hexdigit()),
        |h: &str| u16::from_str_radix(h, 16),
    )
    .parse(i)
}

/// `storage = decimal [ "K" / "M" / "G" / "T" ]` — a size in bytes.
pub fn storage(i: &str) -> IResult<&str, u64> {
    map(
        (
            decimal,
            opt(alt((
                tag_no_case("K"),
                tag_no_case("M"),
                tag_no_case("G"),
                tag_no_case("T"),
            ))),
        ),
        |(n, unit): (u64, Option<&str>)| {
            let mul = match unit.map(|u| u.to_ascii_uppercase()) {
                Some(u) if u == "K" => 1u64 << 10,
                Some(u) if u == "M" => 1 << 20,
                Some(u) if u == "G" => 1 << 30,
                Some(u) if u == "T" => 1 << 40,
                _ => 1,
            };
            n.saturating_mul(mul)
        },
    )
    .parse(i)
}

/// `userid = 1*8( ALPHA / DIGIT / "@" / "#" / "$" / "_" / "-" )`
pub fn userid(i: &str) -> IResult<&str, &str> {
    take_while_m_n(1, 8, |c: char| {
        c.is_ascii_alphanumeric() || "@#$_-".contains(c)
    })
    .parse(i)
}

/// `hhmmss = 2DIGIT "." 2DIGIT "." 2DIGIT` (as in SYSTEM CONFIG's TIMEZONE_DEFINITION)
pub fn hh_mm_ss(i: &str) -> IResult<&str, (u32, u32, u32)> {
    let two = |i| {
        map_res(
            take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
            |d: &str| d.parse::<u32>(),
        )
        .parse(i)
    };
    map(
        (
            two,
            nom::character::complete::char('.'),
            two,
            nom::character::complete::char('.'),
            two,
        ),
        |(h, _, m, _, s)| (h, m, s),
    )
    .parse(i)
}

/// Applies `p` to the whole of `text`; `None` unless it consumes everything.
pub fn whole<'a, O>(
    text: &'a str,
    p: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
) -> Option<O> {
    all_consuming(p).parse(text).ok().map(|(_, o)| o)
}

/// `word = 1*(ALPHA / DIGIT / "$" / "#" / "@" / "_" / "-" / "*" / ":" / "+" / ".")`
pub fn word(i: &str) -> IResult<&str, &str> {
    recognize(take_while(|c: char| {
        c.is_ascii_alphanumeric() || "$#@_-*:+.".contains(c)
    }))
    .parse(i)
}

/// Whether `typed` is an acceptable abbreviation of `name`: at least `min` characters long and a
/// prefix of the name, case-insensitively (CP's minimum-abbreviation rule).
pub fn abbrev(typed: &str, name: &str, min: usize) -> bool {
    typed.len() >= min
        && typed.len() <= name.len()
        && name.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
}

/// A cursor over the tokens of one line.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    toks: Vec<Token<'a>>,
    pos: usize,
    line: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor over the tokens of `line`.
    pub fn new(line: &'a str) -> Cursor<'a> {
        Cursor {
            toks: tokens(line),
            pos: 0,
            line,
        }
    }

    /// The next token, without consuming it.
    pub fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).map(|t| t.text)
    }

    /// Consumes and returns the next token.
    pub fn next_token(&mut self) -> Option<&'a str> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    /// Puts the last consumed token back.
    pub fn back(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// Whether all tokens are consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Consumes the next token if it abbreviates `name` (at least `min` characters).
    pub fn keyword(&mut self, name: &str, min: usize) -> bool {
        match self.peek() {
            Some(t) if abbrev(t, name, min) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// The rest of the line after the consumed tokens, as typed (for message text).
    pub fn rest(&self) -> &'a str {
        match self.toks.get(self.pos) {
            Some(t) => &self.line[t.col - 1..],
            None => "",
        }
    }

    /// All remaining tokens, consumed.
    pub fn remaining(&mut self) -> Vec<&'a str> {
        let v = self.toks[self.pos.min(self.toks.len())..]
            .iter()
            .map(|t| t.text)
            .collect();
        self.pos = self.toks.len();
        v
    }

    /// Column of the next token (1-based), or the line length + 1 at the end.
    pub fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .map_or(self.line.len() + 1, |t| t.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_columns() {
        let t = tokens("  SPOOL  PUN TO MAINT ");
        assert_eq!(
            t.iter().map(|t| (t.text, t.col)).collect::<Vec<_>>(),
            vec![("SPOOL", 3), ("PUN", 10), ("TO", 14), ("MAINT", 17)]
        );
        assert!(tokens("").is_empty());
    }

    #[test]
    fn value_parsers() {
        assert_eq!(whole("00c", vdev), Some(0xC));
        assert_eq!(whole("12345", vdev), None);
        assert_eq!(whole("64M", storage), Some(64 << 20));
        assert_eq!(whole("maint", userid), Some("maint"));
        assert_eq!(whole("toolongid", userid), None);
        assert_eq!(whole("05.30.00", hh_mm_ss), Some((5, 30, 0)));
    }

    #[test]
    fn abbreviations() {
        assert!(abbrev("q", "QUERY", 1));
        assert!(abbrev("SP", "SPOOL", 2));
        assert!(!abbrev("S", "SPOOL", 2));
        assert!(!abbrev("SPOOLX", "SPOOL", 2));
    }
}
