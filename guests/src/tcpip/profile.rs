//! `PROFILE TCPIP`: the stack's configuration, in z/VM's statement syntax.
//!
//! ```text
//! profile   = *( line )
//! line      = [ stmt / entry ] [ comment ]
//! comment   = ";" *CHAR                           ; to the end of the line
//! stmt      = "AUTOLOG" *(userid [password]) [ "ENDAUTOLOG" ]
//!           / "ENDAUTOLOG"                        ; ends the open AUTOLOG list
//!           / "PORT" [ port-entry ]
//!           / "HOME" [ home-entry ]
//!           / "MAXRESTART" decimal                ; 0-1000, default 5
//!           / "RESTRICTLOWPORTS" / "NORESTRICTLOWPORTS"
//! entry     = port-entry / home-entry / *(userid [password])   ; of the open statement
//! port-entry = port ("TCP" / "UDP") userid ["NOAUTOLOG"]      ; port 1-65535
//! home-entry = ipaddr [linkname]
//! ```
//!
//! Keywords are matched without regard to case. An AUTOLOG list runs, over any number of lines,
//! until ENDAUTOLOG; its password is a constant (IBM writes `0`), accepted and ignored, and may be
//! left out at the end of a line. PORT and HOME entries continue on the following lines until the
//! next statement. The first AUTOLOG statement replaces the (empty) list; later ones add to it.

use std::{collections::BTreeMap, net::IpAddr, path::Path};

use vm::{
    UserId,
    directory::FileError,
    grammar::{decimal, whole},
};

/// A PORT reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRes {
    /// Who may listen.
    pub owner: UserId,
    /// NOAUTOLOG: the stack does not restart the owner because of this port.
    pub noautolog: bool,
}

/// The parsed profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Servers the stack autologs, in order.
    pub autolog: Vec<UserId>,
    /// TCP port reservations.
    pub ports: BTreeMap<u16, PortRes>,
    /// Addresses the stack listens on.
    pub home: Vec<IpAddr>,
    /// How often a server that ends is restarted.
    pub max_restart: u32,
    /// Unreserved ports below 1024 are refused.
    pub restrict_low_ports: bool,
}

/// The name of the file in the system folder.
pub const PROFILE_TCPIP: &str = "PROFILE TCPIP";

/// The profile first IPL writes: loopback only, unprivileged ports.
pub fn default_text(autolog: &[&str]) -> String {
    let mut s = String::from(
        "\
; PROFILE TCPIP: the TCP/IP stack of this vmimap system.
;
; Servers the stack autologs at startup and restarts when they end
; (at most MAXRESTART times each).
AUTOLOG
",
    );
    for u in autolog {
        s.push_str(&format!("  {u:<8} 0\n"));
    }
    s.push_str(
        "\
ENDAUTOLOG
MAXRESTART 5

; The addresses the stack listens on. Loopback only: nothing outside this
; host can connect unless you add an address here.
HOME
  127.0.0.1  LOOPBACK

; Reserved ports: only the named machine may listen on them. Ports below
; 1024 (25, 143, 993) work when vmimap may bind them.
PORT
  1025 TCP SMTP        ; SMTP
  1143 TCP IMAP        ; IMAP
  1993 TCP IMAP        ; IMAP over TLS
RESTRICTLOWPORTS
",
    );
    s
}

fn strip(line: &str) -> &str {
    match line.find(';') {
        Some(i) => &line[..i],
        None => line,
    }
}

/// The statement keywords; a line of an open PORT or HOME list that starts with one of them
/// ends the list.
const KEYWORDS: &[&str] = &[
    "AUTOLOG",
    "ENDAUTOLOG",
    "PORT",
    "HOME",
    "MAXRESTART",
    "RESTRICTLOWPORTS",
    "NORESTRICTLOWPORTS",
];

/// Parses the profile; errors name the line.
pub fn parse(text: &str, path: &Path) -> Result<Profile, FileError> {
    let err = |line: usize, msg: String| FileError {
        file: path.to_path_buf(),
        line,
        msg,
    };
    let mut p = Profile {
        autolog: Vec::new(),
        ports: BTreeMap::new(),
        home: Vec::new(),
        max_restart: 5,
        restrict_low_ports: true,
    };
    #[derive(PartialEq)]
    enum Block {
        None,
        /// An AUTOLOG list begun on this line.
        Autolog(usize),
        Port,
        Home,
    }
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let toks: Vec<&str> = strip(raw).split_whitespace().collect();
        let Some(first) = toks.first() else { continue };
        let kw = first.to_ascii_uppercase();
        let keyword = KEYWORDS.contains(&kw.as_str());
        // Entries of the open list.
        match block {
            Block::Autolog(from) => {
                if keyword && kw != "ENDAUTOLOG" {
                    return Err(err(
                        n,
                        format!(
                            "{kw} inside the AUTOLOG list of line {from}: ENDAUTOLOG expected first"
                        ),
                    ));
                }
                if autolog_entries(&mut p, &toks).map_err(|m| err(n, m))? {
                    block = Block::None;
                }
                continue;
            }
            Block::Port if !keyword => {
                port_entry(&mut p, &toks).map_err(|m| err(n, m))?;
                continue;
            }
            Block::Home if !keyword => {
                home_entry(&mut p, &toks).map_err(|m| err(n, m))?;
                continue;
            }
            _ => block = Block::None,
        }
        let rest = &toks[1..];
        let no_operands = || {
            if let Some(t) = rest.first() {
                Err(err(n, format!("{kw} takes no operands: {t}")))
            } else {
                Ok(())
            }
        };
        match kw.as_str() {
            "AUTOLOG" => {
                block = Block::Autolog(n);
                if autolog_entries(&mut p, rest).map_err(|m| err(n, m))? {
                    block = Block::None;
                }
            }
            "PORT" => {
                block = Block::Port;
                if !rest.is_empty() {
                    port_entry(&mut p, rest).map_err(|m| err(n, m))?;
                }
            }
            "HOME" => {
                block = Block::Home;
                if !rest.is_empty() {
                    home_entry(&mut p, rest).map_err(|m| err(n, m))?;
                }
            }
            "MAXRESTART" => {
                p.max_restart = rest
                    .first()
                    .and_then(|t| whole(t, decimal))
                    .filter(|v| *v <= 1000)
                    .ok_or_else(|| err(n, "MAXRESTART needs a number 0-1000".into()))?
                    as u32;
                if let Some(t) = rest.get(1) {
                    return Err(err(n, format!("MAXRESTART takes one number: {t}")));
                }
            }
            "RESTRICTLOWPORTS" => {
                no_operands()?;
                p.restrict_low_ports = true;
            }
            "NORESTRICTLOWPORTS" => {
                no_operands()?;
                p.restrict_low_ports = false;
            }
            "ENDAUTOLOG" => return Err(err(n, "ENDAUTOLOG without AUTOLOG".into())),
            _ => return Err(err(n, format!("unknown statement {first}"))),
        }
    }
    if let Block::Autolog(from) = block {
        return Err(err(from, "AUTOLOG not ended by ENDAUTOLOG".into()));
    }
    if p.home.is_empty() {
        p.home.push("127.0.0.1".parse().unwrap());
    }
    Ok(p)
}

/// AUTOLOG entries (`userid [password]`…), up to an ENDAUTOLOG; true if it ended the list.
fn autolog_entries(p: &mut Profile, toks: &[&str]) -> Result<bool, String> {
    let mut i = 0;
    while i < toks.len() {
        if toks[i].eq_ignore_ascii_case("ENDAUTOLOG") {
            return match toks.get(i + 1) {
                Some(t) => Err(format!("ENDAUTOLOG takes no operands: {t}")),
                None => Ok(true),
            };
        }
        let u = UserId::parse(toks[i]).map_err(|e| format!("AUTOLOG: {e}"))?;
        if p.autolog.contains(&u) {
            return Err(format!("AUTOLOG: {u} is already in the list"));
        }
        p.autolog.push(u);
        i += 1;
        // The password (any word; IBM writes 0) unless the list ends here.
        if toks
            .get(i)
            .is_some_and(|t| !t.eq_ignore_ascii_case("ENDAUTOLOG"))
        {
            i += 1;
        }
    }
    Ok(false)
}

/// A PORT entry: `port TCP|UDP userid [NOAUTOLOG]`. UDP reservations are accepted and ignored
/// (the stack has no UDP).
fn port_entry(p: &mut Profile, toks: &[&str]) -> Result<(), String> {
    let first = toks[0];
    let port = whole(first, decimal)
        .filter(|v| (1..=65535).contains(v))
        .ok_or_else(|| format!("PORT: invalid port number {first} (1-65535)"))?
        as u16;
    let proto = toks.get(1).map(|t| t.to_ascii_uppercase());
    match proto.as_deref() {
        Some("TCP") | Some("UDP") => {}
        _ => return Err(format!("PORT {port}: TCP or UDP expected after the port")),
    }
    let owner = UserId::parse(toks.get(2).copied().unwrap_or(""))
        .map_err(|e| format!("PORT {port}: {e}"))?;
    let mut noautolog = false;
    for t in &toks[3..] {
        if t.eq_ignore_ascii_case("NOAUTOLOG") {
            noautolog = true;
        } else {
            return Err(format!("PORT {port}: unknown option {t}"));
        }
    }
    if proto.as_deref() == Some("TCP") {
        if let Some(prev) = p.ports.get(&port) {
            return Err(format!(
                "port {port} is already reserved for {}",
                prev.owner
            ));
        }
        p.ports.insert(port, PortRes { owner, noautolog });
    }
    Ok(())
}

/// A HOME entry: `ipaddr [linkname]`.
fn home_entry(p: &mut Profile, toks: &[&str]) -> Result<(), String> {
    let addr: IpAddr = toks[0]
        .parse()
        .map_err(|_| format!("HOME: invalid IP address {}", toks[0]))?;
    if let Some(t) = toks.get(2) {
        return Err(format!(
            "HOME {addr}: one address and link name per line: {t}"
        ));
    }
    if !p.home.contains(&addr) {
        p.home.push(addr);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Profile {
        parse(text, Path::new(PROFILE_TCPIP)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The error's line and text.
    fn bad(text: &str) -> (usize, String) {
        let e = parse(text, Path::new(PROFILE_TCPIP)).unwrap_err();
        (e.line, e.to_string())
    }

    fn ids(p: &Profile) -> Vec<&str> {
        p.autolog.iter().map(|u| u.as_str()).collect()
    }

    #[test]
    fn default_profile() {
        let p = ok(&default_text(&["SMTP", "IMAP"]));
        assert_eq!(ids(&p), ["SMTP", "IMAP"]);
        assert_eq!(p.ports.len(), 3);
        assert_eq!(p.ports[&1025].owner.as_str(), "SMTP");
        assert_eq!(p.ports[&1143].owner.as_str(), "IMAP");
        assert_eq!(p.ports[&1993].owner.as_str(), "IMAP");
        assert_eq!(p.home, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(p.max_restart, 5);
        assert!(p.restrict_low_ports);
    }

    #[test]
    fn an_empty_profile_has_the_defaults() {
        let p = ok("; nothing but a comment\n\n   \n");
        assert!(p.autolog.is_empty());
        assert!(p.ports.is_empty());
        assert_eq!(p.home, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(p.max_restart, 5);
        assert!(p.restrict_low_ports);
    }

    #[test]
    fn autolog_lists() {
        // Entries on following lines, several to a line, passwords of any kind or none at the
        // end of a line; keywords and userids in any case; later lists add to the first.
        let p = ok(
            "autolog\n  imap 0 smtp PW\n  x1\nendautolog\nAUTOLOG Y2 0 ENDAUTOLOG\n\
                    AUTOLOG Z3 0\nENDAUTOLOG ; done\n",
        );
        assert_eq!(ids(&p), ["IMAP", "SMTP", "X1", "Y2", "Z3"]);
        // An empty list.
        assert!(ok("AUTOLOG\nENDAUTOLOG\n").autolog.is_empty());
        assert!(ok("AUTOLOG ENDAUTOLOG\n").autolog.is_empty());
    }

    #[test]
    fn autolog_errors() {
        assert_eq!(
            bad("AUTOLOG\n IMAP 0\n"),
            (
                1,
                "PROFILE TCPIP line 1: AUTOLOG not ended by ENDAUTOLOG".into()
            )
        );
        assert_eq!(
            bad("AUTOLOG\n IMAP 0\nPORT 143 TCP IMAP\n"),
            (
                3,
                "PROFILE TCPIP line 3: PORT inside the AUTOLOG list of line 1: ENDAUTOLOG \
                 expected first"
                    .into()
            )
        );
        assert_eq!(bad("AUTOLOG\n TOOLONGUSER 0\nENDAUTOLOG\n").0, 2);
        assert_eq!(bad("AUTOLOG\n B@D! 0\nENDAUTOLOG\n").0, 2);
        assert_eq!(
            bad("AUTOLOG\n IMAP 0\n IMAP 0\nENDAUTOLOG\n"),
            (
                3,
                "PROFILE TCPIP line 3: AUTOLOG: IMAP is already in the list".into()
            )
        );
        assert_eq!(
            bad("AUTOLOG\n IMAP 0\nENDAUTOLOG x\n"),
            (
                3,
                "PROFILE TCPIP line 3: ENDAUTOLOG takes no operands: x".into()
            )
        );
        assert_eq!(
            bad("\nENDAUTOLOG\n"),
            (2, "PROFILE TCPIP line 2: ENDAUTOLOG without AUTOLOG".into())
        );
    }

    #[test]
    fn port_reservations() {
        let p = ok(
            "PORT 25 TCP SMTP\nport\n  143 tcp imap noautolog ; IMAP\n  993 TCP IMAP\n\
                    53 UDP NAMESRV\nPORT\n 1025 TCP SMTP\n",
        );
        assert_eq!(
            p.ports.keys().copied().collect::<Vec<_>>(),
            [25, 143, 993, 1025]
        );
        assert_eq!(
            p.ports[&143],
            PortRes {
                owner: UserId::parse("IMAP").unwrap(),
                noautolog: true
            }
        );
        assert!(!p.ports[&25].noautolog);
        // UDP is accepted and not reserved.
        assert!(!p.ports.contains_key(&53));
        // The same port for UDP and TCP is no conflict; 1 and 65535 are ports.
        let p = ok("PORT\n 53 UDP A\n 53 TCP B\n 1 TCP C\n 65535 TCP D\n");
        assert_eq!(p.ports[&53].owner.as_str(), "B");
        assert_eq!(p.ports.len(), 3);
    }

    #[test]
    fn port_errors() {
        let l = |t: &str| bad(t);
        assert_eq!(
            l("PORT\n  143 TCP IMAP\n  143 TCP SMTP\n"),
            (
                3,
                "PROFILE TCPIP line 3: port 143 is already reserved for IMAP".into()
            )
        );
        assert_eq!(
            l("PORT\n 70000 TCP X\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT: invalid port number 70000 (1-65535)".into()
            )
        );
        assert_eq!(
            l("PORT\n 0 TCP X\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT: invalid port number 0 (1-65535)".into()
            )
        );
        assert_eq!(
            l("PORT\n 1143x TCP IMAP\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT: invalid port number 1143x (1-65535)".into()
            )
        );
        assert_eq!(
            l("PORT 99999999999999999999999 TCP IMAP\n"),
            (
                1,
                "PROFILE TCPIP line 1: PORT: invalid port number 99999999999999999999999 \
                 (1-65535)"
                    .into()
            )
        );
        assert_eq!(
            l("PORT\n 143 SCTP IMAP\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT 143: TCP or UDP expected after the port".into()
            )
        );
        assert_eq!(
            l("PORT\n 143\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT 143: TCP or UDP expected after the port".into()
            )
        );
        assert_eq!(l("PORT\n 143 TCP\n").0, 2);
        assert_eq!(l("PORT\n 143 TCP WAYTOOLONG\n").0, 2);
        assert_eq!(
            l("PORT\n 143 TCP IMAP SHAREPORT\n"),
            (
                2,
                "PROFILE TCPIP line 2: PORT 143: unknown option SHAREPORT".into()
            )
        );
    }

    #[test]
    fn home_addresses() {
        let p = ok("HOME 10.0.0.1 ETH0\nHOME\n  127.0.0.1 LOOPBACK\n  ::1\n  10.0.0.1 AGAIN\n");
        let want: Vec<IpAddr> = ["10.0.0.1", "127.0.0.1", "::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(p.home, want);
        assert_eq!(
            bad("HOME\n 127.0.0.300 LOOPBACK\n"),
            (
                2,
                "PROFILE TCPIP line 2: HOME: invalid IP address 127.0.0.300".into()
            )
        );
        assert_eq!(
            bad("HOME 127.0.0.1 LOOPBACK EXTRA\n"),
            (
                1,
                "PROFILE TCPIP line 1: HOME 127.0.0.1: one address and link name per line: EXTRA"
                    .into()
            )
        );
    }

    #[test]
    fn maxrestart_and_lowports() {
        let p = ok("MAXRESTART 0\nNORESTRICTLOWPORTS\n");
        assert_eq!(p.max_restart, 0);
        assert!(!p.restrict_low_ports);
        let p = ok("maxrestart 1000\nNORESTRICTLOWPORTS\nrestrictlowports\n");
        assert_eq!(p.max_restart, 1000);
        assert!(p.restrict_low_ports);
        for t in [
            "MAXRESTART\n",
            "MAXRESTART 1001\n",
            "MAXRESTART five\n",
            "MAXRESTART -1\n",
        ] {
            assert_eq!(
                bad(t),
                (
                    1,
                    "PROFILE TCPIP line 1: MAXRESTART needs a number 0-1000".into()
                ),
                "{t:?}"
            );
        }
        assert_eq!(
            bad("MAXRESTART 5 6\n"),
            (
                1,
                "PROFILE TCPIP line 1: MAXRESTART takes one number: 6".into()
            )
        );
        assert_eq!(
            bad("RESTRICTLOWPORTS YES\n"),
            (
                1,
                "PROFILE TCPIP line 1: RESTRICTLOWPORTS takes no operands: YES".into()
            )
        );
        assert_eq!(
            bad("NORESTRICTLOWPORTS 1\n").1,
            "PROFILE TCPIP line 1: NORESTRICTLOWPORTS takes no operands: 1"
        );
    }

    #[test]
    fn statements_end_lists_and_unknown_ones_are_errors() {
        // A statement after a PORT list ends it; the list's entries are kept.
        let p = ok("PORT\n 143 TCP IMAP\nMAXRESTART 2\nHOME\n 127.0.0.1\nRESTRICTLOWPORTS\n");
        assert_eq!(p.ports.len(), 1);
        assert_eq!(p.max_restart, 2);
        assert_eq!(
            bad("MAXRESTART 2\nBOGUS\n"),
            (2, "PROFILE TCPIP line 2: unknown statement BOGUS".into())
        );
        // Inside a PORT list, a line that is no statement is a port entry.
        assert_eq!(
            bad("PORT\n 143 TCP IMAP\n BOGUS\n"),
            (
                3,
                "PROFILE TCPIP line 3: PORT: invalid port number BOGUS (1-65535)".into()
            )
        );
        // A comment ends at the line; `;` inside a line starts one.
        assert_eq!(ok("PORT 143 TCP IMAP;comment TCP X\n").ports.len(), 1);
    }
}
