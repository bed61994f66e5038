//! The requests IMAPADM takes, by SMSG or one per card of a deck, and the IMAP administrator
//! command each becomes.
//!
//! ```text
//! request = "ENROLL" SP userid [SP blocks]   ; -> ENROLL userid [blocks]
//!         / "DELETE" SP userid               ; -> DELETE userid
//!         / "LIST"                           ; -> QUERY USERS
//!         / "QUOTA" SP userid SP blocks      ; -> QUOTA userid blocks
//!         / "HELP"                           ; answered by IMAPADM itself
//! blocks  = 1*DIGIT                          ; 1 .. 2^40-1
//! ```
//!
//! Words are matched without regard to case and may be shortened to their first three letters
//! (`ENR`, `DEL`, `LIS`, `QUO`, `HEL`).

use vm::{UserId, grammar::abbrev};

use super::messages::{self as m, Msg};

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Enrol a user, with this many blocks or the IMAP server's default.
    Enroll(UserId, Option<u64>),
    /// Delete a user's mail and folders.
    Delete(UserId),
    /// The enrolled users.
    List,
    /// A user's new space.
    Quota(UserId, u64),
    /// The list of requests.
    Help,
}

impl Request {
    /// Parses a request; the error is the message that says what is wrong.
    pub fn parse(text: &str) -> Result<Request, Msg> {
        let toks: Vec<&str> = text.split_whitespace().collect();
        let Some((verb, ops)) = toks.split_first() else {
            return Err(m::invalid("the request is empty"));
        };
        let user = |i: usize| -> Result<UserId, Msg> {
            let t = ops
                .get(i)
                .ok_or_else(|| m::invalid(&format!("{verb} needs a userid")))?;
            UserId::parse(t).map_err(|_| m::invalid(&format!("{t} is not a userid")))
        };
        let blocks = |i: usize| -> Result<Option<u64>, Msg> {
            ops.get(i)
                .map(|t| {
                    t.parse::<u64>()
                        .ok()
                        .filter(|b| *b > 0 && *b < 1 << 40)
                        .ok_or_else(|| m::invalid(&format!("{t} is not a number of blocks")))
                })
                .transpose()
        };
        let at_most = |n: usize| -> Result<(), Msg> {
            match ops.get(n) {
                Some(t) => Err(m::invalid(&format!("unexpected operand {t}"))),
                None => Ok(()),
            }
        };
        let r = if abbrev(verb, "ENROLL", 3) {
            Request::Enroll(user(0)?, blocks(1)?)
        } else if abbrev(verb, "DELETE", 3) {
            Request::Delete(user(0)?)
        } else if abbrev(verb, "LIST", 3) {
            Request::List
        } else if abbrev(verb, "QUOTA", 3) {
            let u = user(0)?;
            let b = blocks(1)?.ok_or_else(|| m::invalid("QUOTA needs a number of blocks"))?;
            Request::Quota(u, b)
        } else if abbrev(verb, "HELP", 3) {
            Request::Help
        } else {
            return Err(m::unknown_request(
                &verb
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .to_ascii_uppercase(),
            ));
        };
        at_most(match r {
            Request::Enroll(..) | Request::Quota(..) => 2,
            Request::Delete(_) => 1,
            Request::List | Request::Help => 0,
        })?;
        Ok(r)
    }

    /// The IMAP administrator command, or None for a request IMAPADM answers itself.
    pub fn imap_command(&self) -> Option<String> {
        match self {
            Request::Enroll(u, Some(b)) => Some(format!("ENROLL {u} {b}")),
            Request::Enroll(u, None) => Some(format!("ENROLL {u}")),
            Request::Delete(u) => Some(format!("DELETE {u}")),
            Request::List => Some("QUERY USERS".into()),
            Request::Quota(u, b) => Some(format!("QUOTA {u} {b}")),
            Request::Help => None,
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Enroll(u, Some(b)) => write!(f, "ENROLL {u} {b}"),
            Request::Enroll(u, None) => write!(f, "ENROLL {u}"),
            Request::Delete(u) => write!(f, "DELETE {u}"),
            Request::List => write!(f, "LIST"),
            Request::Quota(u, b) => write!(f, "QUOTA {u} {b}"),
            Request::Help => write!(f, "HELP"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn requests_parse_and_map_to_imap_commands() {
        let r = Request::parse("enroll demo").unwrap();
        assert_eq!(r, Request::Enroll(u("DEMO"), None));
        assert_eq!(r.imap_command().unwrap(), "ENROLL DEMO");
        let r = Request::parse("  ENR demo 100 ").unwrap();
        assert_eq!(r.imap_command().unwrap(), "ENROLL DEMO 100");
        assert_eq!(r.to_string(), "ENROLL DEMO 100");
        assert_eq!(
            Request::parse("del DEMO").unwrap().imap_command().unwrap(),
            "DELETE DEMO"
        );
        assert_eq!(
            Request::parse("list").unwrap().imap_command().unwrap(),
            "QUERY USERS"
        );
        assert_eq!(
            Request::parse("QUOTA demo 42").unwrap(),
            Request::Quota(u("DEMO"), 42)
        );
        assert_eq!(Request::parse("help").unwrap().imap_command(), None);
    }

    #[test]
    fn bad_requests_say_why() {
        for (bad, num, what) in [
            ("", 104, "empty"),
            ("ENROLL", 104, "needs a userid"),
            ("ENROLL toolonguserid", 104, "not a userid"),
            ("ENROLL DEMO 0", 104, "number of blocks"),
            ("ENROLL DEMO x", 104, "number of blocks"),
            ("ENROLL DEMO 1 2", 104, "unexpected operand 2"),
            ("QUOTA DEMO", 104, "needs a number"),
            ("LIST ALL", 104, "unexpected operand"),
            ("DELETE A B", 104, "unexpected operand"),
            ("EN DEMO", 103, "Unknown request EN"),
            ("SHUTDOWN", 103, "Unknown request SHUTDOWN"),
            ("\u{7f}\u{0}zz", 103, "Unknown"),
        ] {
            let e = Request::parse(bad).unwrap_err();
            assert_eq!(e.num, num, "{bad:?}: {e}");
            assert!(e.to_string().contains(what), "{bad:?}: {e}");
        }
    }
}
