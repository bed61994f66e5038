//! CMS file identifiers: `fn ft fm`.
//!
//! ```text
//! fileid = fn SP ft [SP fm]
//! fn, ft = 1*8( ALPHA / DIGIT / "$" / "#" / "@" / "+" / "-" / ":" / "_" )
//! fm     = letter [digit]                       ; letter A-Z, mode number 0-6
//! ```

use nom::{
    IResult, Parser,
    bytes::complete::take_while_m_n,
    character::complete::{one_of, satisfy},
    combinator::{all_consuming, opt},
};

/// `name = 1*8 fileid-char`
fn name(i: &str) -> IResult<&str, &str> {
    take_while_m_n(1, 8, |c: char| {
        c.is_ascii_alphanumeric() || "$#@+-:_".contains(c)
    })
    .parse(i)
}

/// Validates and upper-cases a file name or type; the error says what is wrong.
pub fn fn_or_ft(t: &str, what: &str) -> Result<String, String> {
    if t.chars().count() > 8 {
        return Err(format!("{what} {t} is longer than 8 characters"));
    }
    all_consuming(name)
        .parse(t)
        .map(|(_, n)| n.to_ascii_uppercase())
        .map_err(|_| format!("{what} {t} contains an invalid character"))
}

/// A file mode: the access letter and an optional mode number 0-6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMode {
    /// Letter `A`–`Z`.
    pub letter: char,
    /// Mode number 0–6 (default 1).
    pub num: Option<u8>,
}

/// `fm = ALPHA [%x30-36]`
pub fn filemode(t: &str) -> Result<FileMode, String> {
    let res: IResult<&str, (char, Option<char>)> = all_consuming((
        satisfy(|c: char| c.is_ascii_alphabetic()),
        opt(one_of("0123456")),
    ))
    .parse(t);
    res.map(|(_, (l, n))| FileMode {
        letter: l.to_ascii_uppercase(),
        num: n.map(|d| d as u8 - b'0'),
    })
    .map_err(|_| format!("invalid file mode {t}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fileids() {
        assert_eq!(fn_or_ft("profile", "file name").unwrap(), "PROFILE");
        assert!(
            fn_or_ft("TOOLONGNAME", "file name")
                .unwrap_err()
                .contains("longer")
        );
        assert!(fn_or_ft("a/b", "file type").is_err());
        assert_eq!(
            filemode("a1").unwrap(),
            FileMode {
                letter: 'A',
                num: Some(1)
            }
        );
        assert!(filemode("A9").is_err());
        assert!(filemode("1").is_err());
    }
}
