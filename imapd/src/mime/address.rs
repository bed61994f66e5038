//! Address lists (From, To, …) as the ENVELOPE shows them: `(name adl mailbox host)` per
//! address, with group syntax turned into start and end markers.
//!
//! ```text
//! address-list = (address *("," address)) / obs-addr-list   ; RFC 5322 §3.4
//! address      = mailbox / group
//! mailbox      = name-addr / addr-spec
//! name-addr    = [display-name] angle-addr
//! angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
//! obs-route    = obs-domain-list ":"
//! group        = display-name ":" [group-list] ";" [CFWS]
//! addr-spec    = local-part "@" domain
//! ```
//!
//! What each field holds (as Dovecot fills it, which the conformance scripts check):
//! - name: the display name with quotes removed and words joined by one space, RFC 2047 encoded
//!   words left encoded; for a bare `addr-spec`, the last comment (`user@host (Real Name)`);
//!   `None` when there is none or it is empty.
//! - adl: the source route `@a,@b` of an obsolete `<@a,@b:user@host>`.
//! - mailbox / host: the local part (unquoted) and the domain. An address missing either gets
//!   `MISSING_MAILBOX` / `MISSING_DOMAIN`: a NIL host would make the client read it as the start
//!   of a group (RFC 3501 §7.4.2), so a placeholder is the only faithful answer.
//! - a group `name: a, b;` is `(NIL NIL "name" NIL)`, its members, then `(NIL NIL NIL NIL)`.
//!
//! The parser is lenient: garbage up to the next comma is skipped, a group without `;` is closed
//! at the end, and every loop moves forward, so any bytes give a list.

use super::decode;
use super::lexer::Lexer;

/// One element of an IMAP address list: an address, or a group marker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Display name (undecoded).
    pub name: Option<Vec<u8>>,
    /// Source route (`@a,@b`).
    pub adl: Option<Vec<u8>>,
    /// Local part, or the group name of a group start.
    pub mailbox: Option<Vec<u8>>,
    /// Domain; `None` only in group markers.
    pub host: Option<Vec<u8>>,
}

impl Address {
    /// A group start marker.
    fn group_start(name: Vec<u8>) -> Address {
        Address {
            mailbox: Some(name),
            ..Address::default()
        }
    }

    /// Whether this is a group start (`host` NIL, `mailbox` the group name).
    pub fn is_group_start(&self) -> bool {
        self.host.is_none() && self.mailbox.is_some()
    }

    /// Whether this is a group end (all NIL).
    pub fn is_group_end(&self) -> bool {
        self.host.is_none() && self.mailbox.is_none()
    }
}

/// Parses an address-list field value (unfolded).
pub fn parse_list(value: &[u8]) -> Vec<Address> {
    let mut lx = Lexer::new(value);
    let mut out = Vec::new();
    loop {
        lx.skip_cfws();
        while lx.eat(b',') {
            lx.skip_cfws();
        }
        if lx.eof() {
            break;
        }
        let before = lx.pos();
        address(&mut lx, &mut out);
        lx.skip_cfws();
        if !lx.eof() && lx.peek() != Some(b',') {
            lx.skip_until(b",");
        }
        if lx.pos() == before {
            lx.bump();
        }
    }
    out
}

/// `address = mailbox / group`
fn address(lx: &mut Lexer<'_>, out: &mut Vec<Address>) {
    let start = lx.pos();
    if let Some(name) = lx.phrase()
        && lx.eat(b':')
    {
        group(lx, out, name);
        return;
    }
    lx.set_pos(start);
    mailbox(lx, out);
}

/// `group = display-name ":" [group-list] ";"`, after the colon.
fn group(lx: &mut Lexer<'_>, out: &mut Vec<Address>, name: Vec<u8>) {
    out.push(Address::group_start(name));
    loop {
        lx.skip_cfws();
        if lx.eof() || lx.eat(b';') {
            break;
        }
        if lx.eat(b',') {
            continue;
        }
        let before = lx.pos();
        mailbox(lx, out);
        lx.skip_cfws();
        if !lx.eof() && !matches!(lx.peek(), Some(b',' | b';')) {
            lx.skip_until(b",;");
        }
        if lx.pos() == before {
            lx.bump();
        }
    }
    out.push(Address::default());
}

/// `mailbox = name-addr / addr-spec`; pushes one address if anything was there.
fn mailbox(lx: &mut Lexer<'_>, out: &mut Vec<Address>) {
    let start = lx.pos();
    let name = lx.phrase();
    if lx.eat(b'<') {
        let mut a = Address {
            name: name.filter(|n| !n.is_empty()),
            ..Address::default()
        };
        lx.skip_cfws();
        if lx.peek() == Some(b'@') {
            let mut route = Vec::new();
            while lx.eat(b'@') {
                if !route.is_empty() {
                    route.push(b',');
                }
                route.push(b'@');
                if let Some(d) = lx.domain() {
                    route.extend_from_slice(&d);
                }
                lx.skip_cfws();
                while lx.eat(b',') {
                    lx.skip_cfws();
                }
            }
            lx.eat(b':');
            lx.skip_cfws();
            a.adl = Some(route);
        }
        if lx.peek() != Some(b'>') {
            a.mailbox = lx.dotted_words();
            if lx.eat(b'@') {
                a.host = lx.domain();
            }
        }
        lx.skip_until(b">");
        lx.eat(b'>');
        push_filled(out, a);
        return;
    }
    lx.set_pos(start);
    lx.last_comment = None;
    let local = lx.dotted_words();
    let host = if lx.eat(b'@') { lx.domain() } else { None };
    lx.skip_cfws();
    if local.is_none() && host.is_none() {
        return;
    }
    let name = lx.last_comment.take().filter(|c| !c.is_empty());
    push_filled(
        out,
        Address {
            name,
            adl: None,
            mailbox: local,
            host,
        },
    );
}

/// Adds an address with Dovecot's placeholders for a missing mailbox or host.
fn push_filled(out: &mut Vec<Address>, mut a: Address) {
    if a.mailbox.is_none() {
        a.mailbox = Some(b"MISSING_MAILBOX".to_vec());
    }
    if a.host.is_none() {
        a.host = Some(b"MISSING_DOMAIN".to_vec());
    }
    out.push(a);
}

/// The list written back as text (`Name <user@host>, group: a@b;`), names decoded from RFC
/// 2047: what SEARCH FROM/TO/CC/BCC match against.
pub fn to_text(list: &[Address]) -> String {
    let mut s = String::new();
    let mut in_group = false;
    let mut first = true;
    for a in list {
        let lossy = |b: &Option<Vec<u8>>| {
            b.as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned()
        };
        if a.host.is_none() {
            if !in_group && a.mailbox.is_some() {
                if !first {
                    s.push_str(", ");
                }
                s.push_str(&decode::header_text(a.mailbox.as_deref().unwrap_or(&[])));
                s.push_str(": ");
                first = true;
                in_group = true;
            } else {
                if s.ends_with(' ') {
                    s.pop();
                }
                s.push(';');
                in_group = false;
                first = false;
            }
            continue;
        }
        if !first {
            s.push_str(", ");
        }
        first = false;
        let addr = format!("{}@{}", lossy(&a.mailbox), lossy(&a.host));
        match (&a.name, &a.adl) {
            (None, None) => s.push_str(&addr),
            _ => {
                if let Some(n) = &a.name {
                    s.push_str(&decode::header_text(n));
                    s.push(' ');
                }
                s.push('<');
                if let Some(r) = &a.adl {
                    s.push_str(&String::from_utf8_lossy(r));
                    s.push(':');
                }
                s.push_str(&addr);
                s.push('>');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(name adl mailbox host)` tuples as text, `-` for NIL.
    fn show(v: &str) -> Vec<String> {
        let n = |b: &Option<Vec<u8>>| {
            b.as_deref()
                .map_or("-".to_string(), |b| String::from_utf8_lossy(b).into_owned())
        };
        parse_list(v.as_bytes())
            .iter()
            .map(|a| {
                format!(
                    "{}|{}|{}|{}",
                    n(&a.name),
                    n(&a.adl),
                    n(&a.mailbox),
                    n(&a.host)
                )
            })
            .collect()
    }

    #[test]
    fn name_addr_and_addr_spec() {
        assert_eq!(
            show("From Real <fromuser@fromdomain.org>"),
            ["From Real|-|fromuser|fromdomain.org"]
        );
        assert_eq!(show("user@domain (Real Name)"), ["Real Name|-|user|domain"]);
        assert_eq!(show("user@domain"), ["-|-|user|domain"]);
        assert_eq!(
            show("\"Doe, John\" <j@x>, =?utf-8?q?J=C3=BC?= <ju@x>"),
            ["Doe, John|-|j|x", "=?utf-8?q?J=C3=BC?=|-|ju|x"]
        );
        assert_eq!(show("\"\" <a@b>"), ["-|-|a|b"]);
        assert_eq!(
            show("<user-from (comment)@ (comment) domain.org>"),
            ["-|-|user-from|domain.org"]
        );
        assert_eq!(
            show("\"john doe\"@example.com"),
            ["-|-|john doe|example.com"]
        );
    }

    #[test]
    fn routes() {
        assert_eq!(show("<@route:user@domain>"), ["-|@route|user|domain"]);
        assert_eq!(show("X <@a,@b:u@d>"), ["X|@a,@b|u|d"]);
    }

    #[test]
    fn groups() {
        assert_eq!(
            show("group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;"),
            [
                "-|-|group|-",
                "-|-|g1|d1.org",
                "-|-|g2|d2.org",
                "-|-|-|-",
                "-|-|group2|-",
                "-|-|g3|d3.org",
                "-|-|-|-"
            ]
        );
        assert_eq!(
            show("group:;, group2: (foo) ;"),
            ["-|-|group|-", "-|-|-|-", "-|-|group2|-", "-|-|-|-"]
        );
        assert_eq!(
            show("undisclosed-recipients:"),
            ["-|-|undisclosed-recipients|-", "-|-|-|-"]
        );
    }

    #[test]
    fn missing_parts_and_garbage() {
        assert_eq!(show(""), Vec::<String>::new());
        assert_eq!(show("  (only a comment) "), Vec::<String>::new());
        assert_eq!(show("user"), ["-|-|user|MISSING_DOMAIN"]);
        assert_eq!(show("<>"), ["-|-|MISSING_MAILBOX|MISSING_DOMAIN"]);
        assert_eq!(show("a@b garbage here, c@d"), ["-|-|a|b", "-|-|c|d"]);
        assert_eq!(show(",,, a@b ,,"), ["-|-|a|b"]);
        assert_eq!(show("Name <a@b"), ["Name|-|a|b"]);
        assert_eq!(show("@@@"), Vec::<String>::new());
        // Nothing parsable makes no address, and nothing loops.
        for s in ["<<<", ">>>", ";;;", ":::", "\"", "(", "[", "a:b:c;d;"] {
            let _ = show(s);
        }
    }

    #[test]
    fn written_back_for_search() {
        let l = parse_list(b"RealFrom <user-from@domain.org>");
        assert_eq!(to_text(&l), "RealFrom <user-from@domain.org>");
        let l = parse_list(
            b"groupname: groupuser1@domain.org, groupuser2@domain.org;,\r\n  groupname2: groupuser3@domain.org;",
        );
        assert_eq!(
            to_text(&l),
            "groupname: groupuser1@domain.org, groupuser2@domain.org;, groupname2: groupuser3@domain.org;"
        );
        let l = parse_list(b"=?utf-8?q?J=C3=BC?= <@r:a@b>, x@y");
        assert_eq!(to_text(&l), "Jü <@r:a@b>, x@y");
    }
}
