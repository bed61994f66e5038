//! The IMAP argument productions this server parses itself (nom 8), for the commands
//! imap-codec does not parse in full: LIST-EXTENDED, MULTIAPPEND and ESEARCH's RETURN options.
//! Input is the whole command as received, literals inline after their announcement.
//!
//! ```text
//! astring   = 1*ASTRING-CHAR / string
//! string    = quoted / literal
//! quoted    = DQUOTE *(QUOTED-CHAR / "\" quoted-specials) DQUOTE
//! literal   = "{" number ["+"] "}" CRLF *CHAR8          ; literal8 = "~" literal (BINARY)
//! list-mailbox = 1*list-char / string                   ; list-char = ATOM-CHAR / "%" / "*" / "]"
//! flag-list = "(" [flag *(SP flag)] ")"
//! flag      = "\" atom / atom
//! date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
//! ```

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, tag_no_case, take, take_while, take_while1},
    character::complete::{char, digit1},
    combinator::{map, map_res, opt, recognize},
    multi::separated_list0,
    sequence::{delimited, preceded},
};

use super::write::{is_astring_char, is_atom_char};

/// A parse result over bytes.
pub type Res<'a, O> = IResult<&'a [u8], O>;

/// `SP`
pub fn sp(i: &[u8]) -> Res<'_, ()> {
    map(char(' '), |_| ()).parse(i)
}

/// `number` (at most 19 digits, so it fits a u64).
pub fn number(i: &[u8]) -> Res<'_, u64> {
    map_res(digit1, |d: &[u8]| {
        if d.len() > 19 {
            return Err(());
        }
        std::str::from_utf8(d)
            .map_err(|_| ())?
            .parse::<u64>()
            .map_err(|_| ())
    })
    .parse(i)
}

/// `quoted`
pub fn quoted(i: &[u8]) -> Res<'_, Vec<u8>> {
    let (mut i, _) = char('"').parse(i)?;
    let mut out = Vec::new();
    loop {
        match i.first() {
            None => {
                return Err(nom::Err::Error(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Char,
                )));
            }
            Some(b'"') => return Ok((&i[1..], out)),
            Some(b'\\') => match i.get(1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    i = &i[2..];
                }
                _ => {
                    return Err(nom::Err::Error(nom::error::Error::new(
                        i,
                        nom::error::ErrorKind::Escaped,
                    )));
                }
            },
            Some(b'\r' | b'\n' | 0) => {
                return Err(nom::Err::Error(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Char,
                )));
            }
            Some(&c) => {
                out.push(c);
                i = &i[1..];
            }
        }
    }
}

/// `literal` or `literal8`: (bytes, is literal8).
pub fn literal_any(i: &[u8]) -> Res<'_, (Vec<u8>, bool)> {
    let (i, eight) = opt(char('~')).parse(i)?;
    let (i, n) = delimited(char('{'), number, (opt(char('+')), char('}'))).parse(i)?;
    let (i, _) = alt((tag("\r\n"), tag("\n"))).parse(i)?;
    if n > i.len() as u64 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Eof,
        )));
    }
    let (i, data) = take(n as usize).parse(i)?;
    Ok((i, (data.to_vec(), eight.is_some())))
}

/// `literal` (not literal8).
pub fn literal(i: &[u8]) -> Res<'_, Vec<u8>> {
    let (rest, (d, eight)) = literal_any(i)?;
    if eight {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )));
    }
    Ok((rest, d))
}

/// `string`
pub fn string(i: &[u8]) -> Res<'_, Vec<u8>> {
    alt((quoted, literal)).parse(i)
}

/// `astring`
pub fn astring(i: &[u8]) -> Res<'_, Vec<u8>> {
    alt((
        map(take_while1(is_astring_char), |b: &[u8]| b.to_vec()),
        string,
    ))
    .parse(i)
}

/// `atom`
pub fn atom(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_atom_char).parse(i)
}

/// `list-mailbox`
pub fn list_mailbox(i: &[u8]) -> Res<'_, Vec<u8>> {
    alt((
        map(
            take_while1(|c| is_atom_char(c) || c == b'%' || c == b'*' || c == b']'),
            |b: &[u8]| b.to_vec(),
        ),
        string,
    ))
    .parse(i)
}

/// `flag` as written (`\Seen`, `$Label`).
pub fn flag(i: &[u8]) -> Res<'_, String> {
    map(recognize((opt(char('\\')), atom)), |b: &[u8]| {
        String::from_utf8_lossy(b).into_owned()
    })
    .parse(i)
}

/// `flag-list`
pub fn flag_list(i: &[u8]) -> Res<'_, Vec<String>> {
    delimited(char('('), separated_list0(sp, flag), char(')')).parse(i)
}

fn month(i: &[u8]) -> Res<'_, u32> {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (rest, m) = take(3usize).parse(i)?;
    match M.iter().position(|x| x.as_bytes().eq_ignore_ascii_case(m)) {
        Some(p) => Ok((rest, p as u32 + 1)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

fn digits(n: usize) -> impl Fn(&[u8]) -> Res<'_, u32> {
    move |i| {
        let (rest, d) = take(n).parse(i)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Digit,
            )));
        }
        Ok((rest, std::str::from_utf8(d).unwrap().parse().unwrap()))
    }
}

/// `date-time`, as seconds since the epoch.
pub fn date_time(i: &[u8]) -> Res<'_, i64> {
    let start = i;
    let (i, _) = char('"').parse(i)?;
    let (i, day) = alt((preceded(char(' '), digits(1)), digits(2), digits(1))).parse(i)?;
    let (i, _) = char('-').parse(i)?;
    let (i, mon) = month(i)?;
    let (i, _) = char('-').parse(i)?;
    let (i, year) = digits(4)(i)?;
    let (i, _) = sp(i)?;
    let (i, h) = digits(2)(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, m) = digits(2)(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, s) = digits(2)(i)?;
    let (i, _) = sp(i)?;
    let (i, sign) = alt((char('+'), char('-'))).parse(i)?;
    let (i, zh) = digits(2)(i)?;
    let (i, zm) = digits(2)(i)?;
    let (i, _) = char('"').parse(i)?;
    let bad = || nom::Err::Error(nom::error::Error::new(start, nom::error::ErrorKind::Verify));
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, mon, day).ok_or_else(bad)?;
    let t = date.and_hms_opt(h, m, s).ok_or_else(bad)?;
    if zh > 23 || zm > 59 {
        return Err(bad());
    }
    let off = (zh * 3600 + zm * 60) as i64;
    let secs = t.and_utc().timestamp() - if sign == '+' { off } else { -off };
    Ok((i, secs))
}

/// One message of APPEND: flags, date, data, literal8.
pub type AppendPart = (Vec<String>, Option<i64>, Vec<u8>, bool);

/// `append-message = [SP flag-list] [SP date-time] SP (literal / literal8)` (after the mailbox).
pub fn append_message(i: &[u8]) -> Res<'_, AppendPart> {
    let (i, flags) = opt(preceded(sp, flag_list)).parse(i)?;
    let (i, date) = opt(preceded(sp, date_time)).parse(i)?;
    let (i, _) = sp(i)?;
    let (i, (data, eight)) = literal_any(i)?;
    Ok((i, (flags.unwrap_or_default(), date, data, eight)))
}

/// `mbox-or-pat = list-mailbox / patterns`; `patterns = "(" list-mailbox *(SP list-mailbox) ")"`.
/// Returns the patterns and whether the parenthesised form was used.
pub fn mbox_or_pat(i: &[u8]) -> Res<'_, (Vec<Vec<u8>>, bool)> {
    alt((
        map(
            delimited(char('('), separated_list0(sp, list_mailbox), char(')')),
            |v| (v, true),
        ),
        map(list_mailbox, |m| (vec![m], false)),
    ))
    .parse(i)
}

/// A parenthesised list of options, each an atom possibly followed by a parenthesised argument
/// (`STATUS (MESSAGES UNSEEN)`); returned as (name upper-cased, raw argument).
pub fn option_list(i: &[u8]) -> Res<'_, Vec<(String, Option<Vec<String>>)>> {
    delimited(
        char('('),
        separated_list0(
            sp,
            (
                map(
                    take_while1(|c| is_atom_char(c) && c != b'('),
                    |b: &[u8]| String::from_utf8_lossy(b).to_ascii_uppercase(),
                ),
                opt(preceded(
                    sp,
                    delimited(
                        char('('),
                        separated_list0(
                            sp,
                            map(atom, |b: &[u8]| {
                                String::from_utf8_lossy(b).to_ascii_uppercase()
                            }),
                        ),
                        char(')'),
                    ),
                )),
            ),
        ),
        char(')'),
    )
    .parse(i)
}

/// `search-return-opts = SP "RETURN" SP "(" [opt *(SP opt)] ")"`, after the command name.
pub fn search_return(i: &[u8]) -> Res<'_, Vec<String>> {
    preceded(
        (sp, tag_no_case("RETURN"), sp),
        delimited(
            char('('),
            separated_list0(
                sp,
                map(atom, |b: &[u8]| {
                    String::from_utf8_lossy(b).to_ascii_uppercase()
                }),
            ),
            char(')'),
        ),
    )
    .parse(i)
}

/// The end of a command: optional spaces would be an error, so only CRLF or LF.
pub fn eol(i: &[u8]) -> Res<'_, ()> {
    map(alt((tag("\r\n"), tag("\n"))), |_| ()).parse(i)
}

/// Skips a run of atom characters (for error recovery in tests).
pub fn skip_atom(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(is_atom_char).parse(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_dates() {
        assert_eq!(astring(b"INBOX rest").unwrap().1, b"INBOX".to_vec());
        assert_eq!(astring(b"\"a \\\"b\\\"\"").unwrap().1, b"a \"b\"".to_vec());
        assert_eq!(
            astring(b"{3}\r\nabcdef").unwrap(),
            (&b"def"[..], b"abc".to_vec())
        );
        assert!(astring(b"{30}\r\nabc").is_err());
        assert!(quoted(b"\"a\rb\"").is_err());
        assert_eq!(
            literal_any(b"~{2+}\r\n\0\x01").unwrap().1,
            (vec![0, 1], true)
        );
        assert_eq!(
            date_time(b"\"17-Jul-1996 02:44:25 -0700\"").unwrap().1,
            837_596_665
        );
        assert_eq!(
            date_time(b"\" 1-Jan-2000 00:00:00 +0000\"").unwrap().1,
            946_684_800
        );
        assert!(date_time(b"\"31-Feb-2000 00:00:00 +0000\"").is_err());
        assert_eq!(
            flag_list(b"(\\Seen $Work)").unwrap().1,
            vec!["\\Seen", "$Work"]
        );
        let (rest, m) = append_message(b" (\\Seen) {3+}\r\nabc {2}\r\nxy\r\n").unwrap();
        assert_eq!(m, (vec!["\\Seen".into()], None, b"abc".to_vec(), false));
        let (_, m2) = append_message(rest).unwrap();
        assert_eq!(m2.2, b"xy".to_vec());
        assert_eq!(
            option_list(b"(CHILDREN STATUS (MESSAGES UNSEEN))")
                .unwrap()
                .1,
            vec![
                ("CHILDREN".into(), None),
                (
                    "STATUS".into(),
                    Some(vec!["MESSAGES".into(), "UNSEEN".into()])
                )
            ]
        );
        assert_eq!(
            search_return(b" RETURN (MIN COUNT) ALL").unwrap(),
            (&b" ALL"[..], vec!["MIN".into(), "COUNT".into()])
        );
        assert_eq!(
            mbox_or_pat(b"(a% \"b c\")").unwrap().1,
            (vec![b"a%".to_vec(), b"b c".to_vec()], true)
        );
    }
}
