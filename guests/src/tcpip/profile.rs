//! `PROFILE TCPIP`: the stack's configuration, in z/VM's statement syntax.
//!
//! ```text
//! profile   = *( stmt / comment / blank )
//! comment   = ";" *CHAR                      ; to the end of the line
//! stmt      = "AUTOLOG" *(userid "0") "ENDAUTOLOG"     ; the entries may be on following lines
//!           / "PORT" *(port ("TCP" / "UDP") userid ["NOAUTOLOG"])
//!           / "HOME" *(ipaddr linkname)
//!           / "MAXRESTART" decimal
//!           / "RESTRICTLOWPORTS" / "NORESTRICTLOWPORTS"
//! ```
//!
//! PORT and HOME entries continue on the following lines until the next statement. The first
//! AUTOLOG statement replaces the (empty) list; later ones add to it.

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
        Autolog,
        Port,
        Home,
    }
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let toks: Vec<&str> = strip(raw).split_whitespace().collect();
        let Some(first) = toks.first() else { continue };
        let kw = first.to_ascii_uppercase();
        // Entries of the open block.
        match block {
            Block::Autolog if kw != "ENDAUTOLOG" => {
                for pair in toks.chunks(2) {
                    let u = UserId::parse(pair[0]).map_err(|e| err(n, format!("AUTOLOG: {e}")))?;
                    if pair.get(1).is_some_and(|z| whole(z, decimal).is_none()) {
                        return Err(err(n, format!("AUTOLOG {u}: a number expected after the userid")));
                    }
                    p.autolog.push(u);
                }
                continue;
            }
            Block::Autolog => {
                block = Block::None;
                continue;
            }
            Block::Port if whole(first, decimal).is_some() => {
                let port = whole(first, decimal)
                    .filter(|v| (1..=65535).contains(v))
                    .ok_or_else(|| err(n, format!("invalid port {first}")))?
                    as u16;
                let proto = toks.get(1).map(|t| t.to_ascii_uppercase());
                match proto.as_deref() {
                    Some("TCP") | Some("UDP") => {}
                    _ => return Err(err(n, "TCP or UDP expected after the port".into())),
                }
                let owner = UserId::parse(toks.get(2).copied().unwrap_or(""))
                    .map_err(|e| err(n, format!("PORT {port}: {e}")))?;
                let mut noautolog = false;
                for t in &toks[3..] {
                    if t.eq_ignore_ascii_case("NOAUTOLOG") {
                        noautolog = true;
                    } else {
                        return Err(err(n, format!("unknown PORT option {t}")));
                    }
                }
                if proto.as_deref() == Some("TCP") {
                    if let Some(prev) = p.ports.get(&port) {
                        return Err(err(n, format!("port {port} is already reserved for {}", prev.owner)));
                    }
                    p.ports.insert(port, PortRes { owner, noautolog });
                }
                continue;
            }
            Block::Home if first.parse::<IpAddr>().is_ok() => {
                p.home.push(first.parse().unwrap());
                continue;
            }
            _ => block = Block::None,
        }
        match kw.as_str() {
            "AUTOLOG" => {
                block = Block::Autolog;
                if toks.len() > 1 {
                    return Err(err(n, "AUTOLOG entries go on the following lines".into()));
                }
            }
            "PORT" => block = Block::Port,
            "HOME" => block = Block::Home,
            "MAXRESTART" => {
                p.max_restart = toks
                    .get(1)
                    .and_then(|t| whole(t, decimal))
                    .filter(|v| *v <= 1000)
                    .ok_or_else(|| err(n, "MAXRESTART needs a number 0-1000".into()))?
                    as u32;
            }
            "RESTRICTLOWPORTS" => p.restrict_low_ports = true,
            "NORESTRICTLOWPORTS" => p.restrict_low_ports = false,
            "ENDAUTOLOG" => return Err(err(n, "ENDAUTOLOG without AUTOLOG".into())),
            _ => return Err(err(n, format!("unknown statement {first}"))),
        }
    }
    if block == Block::Autolog {
        return Err(err(0, "AUTOLOG not ended by ENDAUTOLOG".into()));
    }
    if p.home.is_empty() {
        p.home.push("127.0.0.1".parse().unwrap());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile() {
        let p = parse(&default_text(&["SMTP", "IMAP"]), Path::new(PROFILE_TCPIP)).unwrap();
        assert_eq!(p.autolog.len(), 2);
        assert_eq!(p.ports[&1143].owner.as_str(), "IMAP");
        assert_eq!(p.home, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(p.max_restart, 5);
    }

    #[test]
    fn errors_name_lines() {
        let e = parse("PORT\n  143 TCP IMAP\n  143 TCP SMTP\n", Path::new(PROFILE_TCPIP)).unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("PORT\n 70000 TCP X\n", Path::new(PROFILE_TCPIP)).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("BOGUS\n", Path::new(PROFILE_TCPIP)).unwrap_err();
        assert_eq!(e.to_string(), "PROFILE TCPIP line 1: unknown statement BOGUS");
        let e = parse("AUTOLOG\n IMAP 0\n", Path::new(PROFILE_TCPIP)).unwrap_err();
        assert!(e.msg.contains("ENDAUTOLOG"));
    }
}
