//! From a command's bytes to a [`Command`]: imap-codec parses most commands; this module parses
//! APPEND (MULTIAPPEND), LIST and LSUB (LIST-EXTENDED, LIST-STATUS) itself, takes SEARCH's
//! RETURN options (ESEARCH) off before imap-codec sees the rest, and stands a number in for
//! SEARCHRES's `$` (turned back into [`SeqSet::Saved`] by the conversion).
//!
//! ```text
//! command  = tag SP command-name [SP arguments] CRLF
//! tag      = 1*<any ASTRING-CHAR except "+">
//! append   = "APPEND" SP mailbox 1*append-message                   ; RFC 3502
//! list     = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
//! lsub     = "LSUB" SP mailbox SP list-mailbox
//! search   = ["UID" SP] "SEARCH" [search-return-opts] [SP "CHARSET" SP astring] 1*(SP search-key)
//! ```

use imap_codec::{CommandCodec, decode::Decoder};
use nom::Parser;

use super::{
    args::{self, sp},
    command::{AppendMsg, Cmd, Command, Flag, ListReturn, ListSelect, SearchReturn, StatusItem},
    convert::{self, SAVED_SENTINEL, mailbox_bytes},
};

/// Why a command could not be parsed: its tag (if one could be read) and a text for BAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The tag, when the command had a valid one.
    pub tag: Option<String>,
    /// What is wrong.
    pub text: String,
}

fn bad(tag: &str, text: impl Into<String>) -> ParseError {
    ParseError {
        tag: Some(tag.to_string()),
        text: text.into(),
    }
}

/// A flag from its text.
pub fn flag_from(s: &str) -> Flag {
    match s.to_ascii_lowercase().as_str() {
        "\\seen" => Flag::Seen,
        "\\answered" => Flag::Answered,
        "\\flagged" => Flag::Flagged,
        "\\deleted" => Flag::Deleted,
        "\\draft" => Flag::Draft,
        "\\recent" => Flag::Recent,
        _ => Flag::Keyword(s.to_string()),
    }
}

fn is_tag_char(c: u8) -> bool {
    super::write::is_astring_char(c) && c != b'+'
}

/// The tag of a command's bytes, if it has a valid one.
pub fn tag_of(msg: &[u8]) -> Option<String> {
    let end = msg
        .iter()
        .position(|&c| c == b' ' || c == b'\r' || c == b'\n')?;
    let t = &msg[..end];
    (!t.is_empty() && t.iter().all(|&c| is_tag_char(c)))
        .then(|| String::from_utf8_lossy(t).into_owned())
}

/// Parses one command. `utf8`: the session enabled UTF8=ACCEPT.
pub fn parse(msg: &[u8], utf8: bool) -> Result<Command, ParseError> {
    let Some(tag) = tag_of(msg) else {
        return Err(ParseError {
            tag: None,
            text: "Missing or invalid tag".into(),
        });
    };
    let rest = &msg[tag.len()..];
    let Some(rest) = rest.strip_prefix(b" ") else {
        return Err(bad(&tag, "Missing command"));
    };
    let name_end = rest
        .iter()
        .position(|&c| c == b' ' || c == b'\r' || c == b'\n')
        .unwrap_or(rest.len());
    let name = String::from_utf8_lossy(&rest[..name_end]).to_ascii_uppercase();
    let after = &rest[name_end..];
    let (uid, name, after) = if name == "UID" {
        let a = after.strip_prefix(b" ").unwrap_or(after);
        let e = a
            .iter()
            .position(|&c| c == b' ' || c == b'\r' || c == b'\n')
            .unwrap_or(a.len());
        (
            true,
            String::from_utf8_lossy(&a[..e]).to_ascii_uppercase(),
            &a[e..],
        )
    } else {
        (false, name, after)
    };
    match (uid, name.as_str()) {
        (false, "APPEND") => return append(&tag, after, utf8),
        (false, "LIST") => return list(&tag, after, utf8, false),
        (false, "LSUB") => return list(&tag, after, utf8, true),
        _ => {}
    }
    let mut search_ret = None;
    let mut bytes: Vec<u8>;
    if name == "SEARCH" {
        match args::search_return(after) {
            Ok((rest, opts)) => {
                search_ret = Some(search_options(&tag, &opts)?);
                bytes = msg[..msg.len() - after.len()].to_vec();
                bytes.extend_from_slice(rest);
            }
            Err(_) => bytes = msg.to_vec(),
        }
    } else {
        bytes = msg.to_vec();
    }
    if matches!(
        name.as_str(),
        "SEARCH" | "FETCH" | "STORE" | "COPY" | "MOVE" | "EXPUNGE"
    ) {
        bytes = replace_dollar(&bytes);
    }
    if !bytes.ends_with(b"\n") {
        bytes.extend_from_slice(b"\r\n");
    } else if !bytes.ends_with(b"\r\n") {
        bytes.pop();
        bytes.extend_from_slice(b"\r\n");
    }
    let codec = CommandCodec::default();
    let cmd = match codec.decode(&bytes) {
        Ok((b"", cmd)) => cmd,
        Ok(_) => return Err(bad(&tag, "Unexpected text after the command")),
        Err(_) => return Err(bad(&tag, format!("Invalid arguments for {name}"))),
    };
    let mut c = convert::command(cmd, utf8).map_err(|e| bad(&tag, e.0))?;
    if let (Cmd::Search { ret, .. }, Some(r)) = (&mut c.body, search_ret) {
        *ret = Some(r);
    }
    Ok(c)
}

fn search_options(tag: &str, opts: &[String]) -> Result<Vec<SearchReturn>, ParseError> {
    opts.iter()
        .map(|o| match o.as_str() {
            "MIN" => Ok(SearchReturn::Min),
            "MAX" => Ok(SearchReturn::Max),
            "ALL" => Ok(SearchReturn::All),
            "COUNT" => Ok(SearchReturn::Count),
            "SAVE" => Ok(SearchReturn::Save),
            other => Err(bad(tag, format!("Unknown SEARCH RETURN option {other}"))),
        })
        .collect()
}

/// Replaces each `$` that stands as a sequence set (after a space or `(`, before a space, `)`
/// or the line end; outside strings and literals) with the sentinel number.
fn replace_dollar(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 16);
    let mut i = 0;
    let mut quoted = false;
    while i < msg.len() {
        let c = msg[i];
        if quoted {
            out.push(c);
            if c == b'\\' && i + 1 < msg.len() {
                out.push(msg[i + 1]);
                i += 2;
                continue;
            }
            if c == b'"' {
                quoted = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                quoted = true;
                out.push(c);
                i += 1;
            }
            b'{' => {
                // A literal: copy its announcement and data untouched.
                let line_end = msg[i..].iter().position(|&x| x == b'\n').map(|p| i + p + 1);
                match (line_end, args::literal_any(&msg[i..])) {
                    (Some(_), Ok((rest, _))) => {
                        let used = msg.len() - i - rest.len();
                        out.extend_from_slice(&msg[i..i + used]);
                        i += used;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            b'$' => {
                let before = i.checked_sub(1).map(|p| msg[p]);
                let after = msg.get(i + 1).copied();
                if matches!(before, Some(b' ' | b'('))
                    && matches!(after, None | Some(b' ' | b')' | b'\r' | b'\n'))
                {
                    out.extend_from_slice(SAVED_SENTINEL.to_string().as_bytes());
                } else {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn nom_err(tag: &str, what: &str) -> ParseError {
    bad(tag, format!("Invalid arguments for {what}"))
}

fn mailbox_of(tag: &str, b: &[u8], utf8: bool) -> Result<String, ParseError> {
    mailbox_bytes(b, utf8).map_err(|e| bad(tag, e.0))
}

/// `APPEND mailbox 1*append-message` (after the command name).
fn append(tag: &str, i: &[u8], utf8: bool) -> Result<Command, ParseError> {
    let (mut i, mb) = (sp, args::astring)
        .parse(i)
        .map(|(r, (_, m))| (r, m))
        .map_err(|_| nom_err(tag, "APPEND"))?;
    let mailbox = mailbox_of(tag, &mb, utf8)?;
    let mut messages = Vec::new();
    while let Ok((rest, (flags, date, data, binary))) = args::append_message(i) {
        messages.push(AppendMsg {
            flags: flags.iter().map(|f| flag_from(f)).collect(),
            date,
            data,
            binary,
        });
        i = rest;
    }
    if messages.is_empty() || args::eol(i).is_err() {
        return Err(nom_err(tag, "APPEND"));
    }
    Ok(Command {
        tag: tag.to_string(),
        body: Cmd::Append { mailbox, messages },
    })
}

fn status_item(tag: &str, s: &str) -> Result<StatusItem, ParseError> {
    Ok(match s {
        "MESSAGES" => StatusItem::Messages,
        "RECENT" => StatusItem::Recent,
        "UIDNEXT" => StatusItem::UidNext,
        "UIDVALIDITY" => StatusItem::UidValidity,
        "UNSEEN" => StatusItem::Unseen,
        "DELETED" => StatusItem::Deleted,
        "SIZE" => StatusItem::Size,
        "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
        other => return Err(bad(tag, format!("Unknown STATUS item {other}"))),
    })
}

/// LIST (RFC 3501 and RFC 5258) or LSUB, after the command name.
fn list(tag: &str, i: &[u8], utf8: bool, lsub: bool) -> Result<Command, ParseError> {
    let what = if lsub { "LSUB" } else { "LIST" };
    let err = || nom_err(tag, what);
    let (mut i, _) = sp(i).map_err(|_| err())?;
    let mut select = ListSelect::default();
    let mut extended = false;
    if !lsub && i.first() == Some(&b'(') {
        let (rest, opts) = args::option_list(i).map_err(|_| err())?;
        extended = true;
        let mut base = false;
        for (o, arg) in opts {
            if arg.is_some() {
                return Err(bad(
                    tag,
                    format!("LIST selection option {o} takes no arguments"),
                ));
            }
            match o.as_str() {
                "SUBSCRIBED" => {
                    select.subscribed = true;
                    base = true;
                }
                "REMOTE" => select.remote = true,
                "RECURSIVEMATCH" => select.recursive = true,
                "SPECIAL-USE" => {
                    select.special_use = true;
                    base = true;
                }
                other => return Err(bad(tag, format!("Unknown LIST selection option {other}"))),
            }
        }
        if select.recursive && !base {
            return Err(bad(
                tag,
                "RECURSIVEMATCH needs another selection option besides REMOTE",
            ));
        }
        let (rest, _) = sp(rest).map_err(|_| err())?;
        i = rest;
    }
    let (rest, reference) = args::astring(i).map_err(|_| err())?;
    let (rest, _) = sp(rest).map_err(|_| err())?;
    let (mut rest, (pats, paren)) = if lsub {
        args::list_mailbox(rest)
            .map(|(r, p)| (r, (vec![p], false)))
            .map_err(|_| err())?
    } else {
        args::mbox_or_pat(rest).map_err(|_| err())?
    };
    extended |= paren;
    let mut ret = ListReturn::default();
    if !lsub
        && let Ok((r, _)) = (
            sp,
            nom::bytes::complete::tag_no_case::<_, _, nom::error::Error<&[u8]>>("RETURN"),
            sp,
        )
            .parse(rest)
    {
        let (r, opts) = args::option_list(r).map_err(|_| err())?;
        extended = true;
        for (o, arg) in opts {
            match (o.as_str(), arg) {
                ("SUBSCRIBED", None) => ret.subscribed = true,
                ("CHILDREN", None) => ret.children = true,
                ("SPECIAL-USE", None) => ret.special_use = true,
                ("STATUS", Some(items)) => {
                    let v = items
                        .iter()
                        .map(|s| status_item(tag, s))
                        .collect::<Result<Vec<_>, _>>()?;
                    ret.status = Some(v);
                }
                (other, _) => return Err(bad(tag, format!("Unknown LIST return option {other}"))),
            }
        }
        rest = r;
    }
    args::eol(rest).map_err(|_| err())?;
    let reference = if reference.is_empty() {
        String::new()
    } else {
        mailbox_of(tag, &reference, utf8)?
    };
    let patterns = pats
        .iter()
        .map(|p| {
            if utf8 {
                Ok(String::from_utf8_lossy(p).into_owned())
            } else {
                let s = std::str::from_utf8(p).map_err(|_| bad(tag, "Pattern is not valid"))?;
                Ok(super::utf7::decode(s).unwrap_or_else(|| s.to_string()))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Command {
        tag: tag.to_string(),
        body: Cmd::List {
            reference,
            patterns,
            select,
            ret,
            lsub,
            extended,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::seq::SeqSet;

    fn p(s: &str) -> Result<Command, ParseError> {
        parse(s.as_bytes(), false)
    }

    #[test]
    fn own_productions() {
        let c = p("a1 APPEND INBOX (\\Seen) {3+}\r\nabc {2+}\r\nxy\r\n").unwrap();
        let Cmd::Append { mailbox, messages } = c.body else {
            panic!()
        };
        assert_eq!(mailbox, "INBOX");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].flags, vec![Flag::Seen]);
        let c = p("t LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (a* b) RETURN (CHILDREN STATUS (MESSAGES))\r\n").unwrap();
        let Cmd::List {
            patterns,
            select,
            ret,
            extended,
            ..
        } = c.body
        else {
            panic!()
        };
        assert!(extended && select.subscribed && select.recursive && ret.children);
        assert_eq!(patterns, vec!["a*", "b"]);
        assert_eq!(ret.status, Some(vec![StatusItem::Messages]));
        assert!(p("t LIST (imaptest) \"\" \"\"\r\n").is_err());
        assert!(p("t LIST (recursivematch remote) \"\" \"\"\r\n").is_err());
        assert!(p("t LIST \"\" \"\" return (imaptest)\r\n").is_err());
        let c = p("t UID SEARCH RETURN (MIN COUNT SAVE) UNSEEN\r\n").unwrap();
        let Cmd::Search { uid, ret, .. } = c.body else {
            panic!()
        };
        assert!(uid);
        assert_eq!(
            ret,
            Some(vec![
                SearchReturn::Min,
                SearchReturn::Count,
                SearchReturn::Save
            ])
        );
        let c = p("t FETCH $ (FLAGS)\r\n").unwrap();
        let Cmd::Fetch { set, .. } = c.body else {
            panic!()
        };
        assert_eq!(set, SeqSet::Saved);
        let c = p("t SEARCH SUBJECT \"$\"\r\n").unwrap();
        assert!(matches!(c.body, Cmd::Search { .. }));
        assert_eq!(p("* NOOP\r\n").unwrap_err().tag, None);
        assert_eq!(p("a+ NOOP\r\n").unwrap_err().tag, None);
        assert_eq!(p("a BLAH\r\n").unwrap_err().tag.as_deref(), Some("a"));
    }
}
