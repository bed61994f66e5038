//! `SMTP CONFIG`: the SMTP server's configuration, in VM statement syntax (`/* comments */`, a
//! trailing comma continues a statement on the next line). Keywords are matched without regard to
//! case; a statement given twice takes the last value, except the lists noted below.
//!
//! ```text
//! config     = *statement
//! statement  = "PORT" port                          ; 1025; as PROFILE TCPIP reserves for SMTP
//!            / "HOSTNAME" domain                    ; system name lower-cased + ".localdomain"
//!            / "LOCALDOMAIN" 1*domain               ; localhost and the system name (lists add)
//!            / "MAXMAILBYTES" storage               ; 524288 (1 .. 128M)
//!            / "MAXRECIPIENTS" decimal              ; 100 (1 .. 10000)
//!            / "LOCALFORMAT" ("NETDATA" / "PUNCH")  ; NETDATA
//!            / "LOCALCLASS" class                   ; M
//!            / "SMARTHOST" hostport                 ; none: mail for other domains is refused
//!            / "IPMAILERADDRESS" "ALL" hostport     ; z/VM's name for the same
//!            / "RELAYCLIENTS" 1*netmask             ; 127.0.0.0/8 ::1 (lists add)
//!            / "VRFY" onoff / "EXPN" onoff          ; OFF, OFF
//!            / "SMSGAUTHLIST" 1*userid              ; MAINT (lists add)
//!            / "EXIT" program *argument             ; none: the built-in exit decides
//!            / "EXITTIMEOUT" decimal                ; 5 seconds (1 .. 300)
//!            / "TLSCERT" path / "TLSKEY" path       ; tls/smtpd.crt, tls/smtpd.key
//!            / "INACTIVE" decimal                   ; 300 seconds (10 .. 86400)
//!            / "POSTMASTER" userid                  ; MAINT
//!            / "IMAPSERVER" userid                  ; IMAP
//!            / "RETRYINT" duration                  ; 20 (minutes)
//!            / "RETRYAGE" duration                  ; 3 (days)
//! onoff      = "ON" / "OFF"
//! hostport   = host [":" port]                      ; port 25 when left out
//! netmask    = ip ["/" prefix]
//! duration   = decimal [unit]                       ; unit: SECONDS / MINUTES / HOURS / DAYS
//! ```

use std::{net::IpAddr, path::Path, path::PathBuf, time::Duration};

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag_no_case, take_while1},
    character::complete::{char, digit1, space0, space1},
    combinator::{all_consuming, map_res, opt},
    sequence::preceded,
};
use spool::Class;
use vm::{
    UserId,
    config::{err, statements, stmt::Stmt},
    directory::FileError,
    grammar::{decimal, storage, whole},
};

/// The file's name in the system folder.
pub const SMTP_CONFIG: &str = "SMTP CONFIG";

/// How mail for a local user who is not an IMAP user is spooled to the user's reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalFormat {
    /// A NETDATA file, as SENDFILE makes: RECEIVE gives back the message's lines exactly.
    Netdata,
    /// Plain 80-column card images.
    Punch,
}

/// An address block: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetMask {
    /// The network address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl NetMask {
    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// The external command exit: a host program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitProgram {
    /// The program (a relative path is taken from the system folder).
    pub program: PathBuf,
    /// Arguments given to it.
    pub args: Vec<String>,
}

/// The parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The port SMTP listens on through TCPIP.
    pub port: u16,
    /// This server's name (greeting, `Received:` lines).
    pub hostname: String,
    /// Domains whose mail is for users of this system (besides HOSTNAME), lower case.
    pub local_domains: Vec<String>,
    /// Largest message accepted.
    pub max_mail_bytes: u64,
    /// Most recipients of one message.
    pub max_recipients: usize,
    /// How mail is spooled to a user who is not an IMAP user.
    pub local_format: LocalFormat,
    /// Spool class of delivered mail.
    pub local_class: Class,
    /// Where mail for other domains is sent: (host, port).
    pub smarthost: Option<(String, u16)>,
    /// Client networks that may relay through the smart host.
    pub relay_clients: Vec<NetMask>,
    /// VRFY answers.
    pub vrfy: bool,
    /// EXPN answers.
    pub expn: bool,
    /// Users whose `SMSG SMTP` commands are obeyed.
    pub smsg_auth: Vec<UserId>,
    /// The external command exit.
    pub exit: Option<ExitProgram>,
    /// How long the exit may take to answer.
    pub exit_timeout: Duration,
    /// Certificate chain (PEM), relative to the system folder.
    pub cert: PathBuf,
    /// Private key (PEM), relative to the system folder.
    pub key: PathBuf,
    /// Idle time after which a connection is closed.
    pub inactive: Duration,
    /// The userid that receives mail for `postmaster`.
    pub postmaster: UserId,
    /// The IMAP server machine.
    pub imap_server: UserId,
    /// Time between attempts to send queued mail to the smart host.
    pub retry_int: Duration,
    /// Age after which queued mail is returned to its sender.
    pub retry_age: Duration,
}

impl Config {
    /// The configuration with every default, for a system named `system_name`.
    pub fn defaults(system_name: &str) -> Config {
        let sys = system_name.to_ascii_lowercase();
        Config {
            port: 1025,
            hostname: format!("{sys}.localdomain"),
            local_domains: vec!["localhost".into(), sys],
            max_mail_bytes: 524_288,
            max_recipients: 100,
            local_format: LocalFormat::Netdata,
            local_class: Class::new('M').expect("M is a class"),
            smarthost: None,
            relay_clients: default_relay_clients(),
            vrfy: false,
            expn: false,
            smsg_auth: vec![UserId::parse("MAINT").expect("userid")],
            exit: None,
            exit_timeout: Duration::from_secs(5),
            cert: PathBuf::from("tls/smtpd.crt"),
            key: PathBuf::from("tls/smtpd.key"),
            inactive: Duration::from_secs(300),
            postmaster: UserId::parse("MAINT").expect("userid"),
            imap_server: UserId::parse("IMAP").expect("userid"),
            retry_int: Duration::from_secs(20 * 60),
            retry_age: Duration::from_secs(3 * 86_400),
        }
    }

    /// Whether `domain` is one of this system's (HOSTNAME or a LOCALDOMAIN).
    pub fn is_local_domain(&self, domain: &str) -> bool {
        domain.eq_ignore_ascii_case(&self.hostname)
            || self
                .local_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// Whether a client at `ip` may relay through the smart host.
    pub fn may_relay(&self, ip: IpAddr) -> bool {
        self.relay_clients.iter().any(|m| m.contains(ip))
    }
}

fn default_relay_clients() -> Vec<NetMask> {
    vec![
        NetMask {
            addr: IpAddr::from([127, 0, 0, 0]),
            prefix: 8,
        },
        NetMask {
            addr: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            prefix: 128,
        },
    ]
}

/// The text first start writes.
pub fn default_text() -> String {
    "\
/**********************************************************************/
/* SMTP CONFIG: the SMTP server (IPL SMTP). Read when SMTP starts.    */
/* docs/smtp.md describes every statement.                            */
/**********************************************************************/

/* The port, as reserved for SMTP in PROFILE TCPIP.                   */
PORT 1025

/* This server's name, and the domains whose mail is for users of     */
/* this system (HOSTNAME always is). The defaults are the system name */
/* in lower case with .localdomain, and localhost and the system name.*/
/* HOSTNAME vmimap.localdomain                                        */
/* LOCALDOMAIN localhost vmimap                                       */

/* Largest message (bytes) and most recipients of one message.        */
MAXMAILBYTES 524288
MAXRECIPIENTS 100

/* Mail for a user who is not an IMAP user is spooled to the user's   */
/* reader as NETDATA (RECEIVE gives it back) or PUNCH (80 columns),   */
/* in this spool class.                                               */
LOCALFORMAT NETDATA
LOCALCLASS M

/* The IMAP server machine: mail for its users is spooled to it.      */
IMAPSERVER IMAP

/* Mail for other domains goes only to a smart host, and only from    */
/* these clients (batch SMTP from local users always may). Without a  */
/* smart host it is refused (550 5.7.1).                              */
/* SMARTHOST mail.example.com:25                                      */
RELAYCLIENTS 127.0.0.0/8 ::1
RETRYINT 20 MINUTES
RETRYAGE 3 DAYS

/* VRFY and EXPN answer only when ON.                                 */
VRFY OFF
EXPN OFF

/* Users whose SMSG SMTP commands are obeyed; who gets postmaster.    */
SMSGAUTHLIST MAINT
POSTMASTER MAINT

/* A command exit program, asked about each MAIL, RCPT and DATA, and  */
/* how many seconds it may take to answer. Without one the built-in  */
/* exit decides.                                                      */
/* EXIT /usr/local/bin/smtpexit                                       */
EXITTIMEOUT 5

/* Certificate and key in PEM, relative to the system folder; a self- */
/* signed pair for localhost is made at first start if missing.       */
TLSCERT tls/smtpd.crt
TLSKEY tls/smtpd.key

/* Seconds a connection may stay idle.                                */
INACTIVE 300
"
    .to_string()
}

/// `hostport = host [":" port]` — host is a name or an IPv4 address; `[v6]:port` for IPv6.
fn hostport(i: &str) -> IResult<&str, (String, u16)> {
    let host = alt((
        nom::sequence::delimited(char('['), take_while1(|c: char| c != ']'), char(']')),
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'),
    ));
    let port = map_res(digit1, |d: &str| d.parse::<u16>());
    (host, opt(preceded(char(':'), port)))
        .map(|(h, p): (&str, Option<u16>)| (h.to_string(), p.unwrap_or(25)))
        .parse(i)
}

/// `netmask = ip ["/" prefix]`
fn netmask(i: &str) -> IResult<&str, NetMask> {
    let ip = map_res(
        take_while1(|c: char| c.is_ascii_hexdigit() || c == '.' || c == ':'),
        |s: &str| s.parse::<IpAddr>(),
    );
    let prefix = map_res(digit1, |d: &str| d.parse::<u8>());
    map_res(
        (ip, opt(preceded(char('/'), prefix))),
        |(addr, p): (IpAddr, Option<u8>)| {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = p.unwrap_or(max);
            if prefix > max {
                Err("prefix too long")
            } else {
                Ok(NetMask { addr, prefix })
            }
        },
    )
    .parse(i)
}

/// `duration = decimal [unit]`, the unit's leading letters enough (`S`, `MIN`, `H`, `D`);
/// `default` when no unit is written.
fn duration(default: u64) -> impl Fn(&str) -> IResult<&str, Duration> {
    move |i| {
        let unit = alt((
            tag_no_case("SECONDS"),
            tag_no_case("SECOND"),
            tag_no_case("SEC"),
            tag_no_case("S"),
            tag_no_case("MINUTES"),
            tag_no_case("MINUTE"),
            tag_no_case("MIN"),
            tag_no_case("HOURS"),
            tag_no_case("HOUR"),
            tag_no_case("H"),
            tag_no_case("DAYS"),
            tag_no_case("DAY"),
            tag_no_case("D"),
        ));
        (decimal, opt(preceded(space1, unit)), space0)
            .map(|(n, u, _): (u64, Option<&str>, &str)| {
                let mul = match u.map(|u| u.as_bytes()[0].to_ascii_uppercase()) {
                    Some(b'S') => 1,
                    Some(b'M') => 60,
                    Some(b'H') => 3600,
                    Some(b'D') => 86_400,
                    _ => default,
                };
                Duration::from_secs(n.saturating_mul(mul))
            })
            .parse(i)
    }
}

/// `domain = label *("." label)`, labels of letters, digits and hyphens (63 at most each).
fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// SMTP CONFIG's own operand checks on top of the shared [`Stmt`] ones.
trait SmtpStmt {
    fn duration(&self, default_unit: u64) -> Result<Duration, FileError>;
    fn hostport(&self, v: &str) -> Result<(String, u16), FileError>;
}

impl SmtpStmt for Stmt<'_> {
    fn duration(&self, default_unit: u64) -> Result<Duration, FileError> {
        let r = self.rest();
        let d = all_consuming(duration(default_unit))
            .parse(r)
            .map(|(_, d)| d)
            .map_err(|_| {
                self.fail(format!(
                    "{r} is not a time (a number, then SECONDS, MINUTES, HOURS or DAYS)"
                ))
            })?;
        if d.is_zero() {
            return Err(self.fail("must be more than 0"));
        }
        Ok(d)
    }

    fn hostport(&self, v: &str) -> Result<(String, u16), FileError> {
        match whole(v, hostport) {
            Some((h, p)) if p != 0 => Ok((h, p)),
            _ => Err(self.fail(format!("{v} is not host or host:port"))),
        }
    }
}

impl Config {
    /// Parses the file's text for a system named `system_name`; errors name the file and line.
    pub fn parse(text: &str, path: &Path, system_name: &str) -> Result<Config, FileError> {
        let mut c = Config::defaults(system_name);
        let mut seen_domains = false;
        let mut seen_auth = false;
        let mut seen_relay = false;
        for (line, stmt) in statements(text, path)? {
            let Some(s) = Stmt::new(path, line, &stmt) else {
                continue;
            };
            match s.kw.as_str() {
                "PORT" => c.port = s.number(1, 65535)? as u16,
                "HOSTNAME" => {
                    let h = s.one()?;
                    if !is_domain(h) {
                        return Err(s.fail(format!("{h} is not a domain name")));
                    }
                    c.hostname = h.to_ascii_lowercase();
                }
                "LOCALDOMAIN" => {
                    if s.ops.is_empty() {
                        return Err(s.fail("names at least one domain"));
                    }
                    if !seen_domains {
                        c.local_domains.clear();
                        seen_domains = true;
                    }
                    for d in &s.ops {
                        if !is_domain(d) {
                            return Err(s.fail(format!("{d} is not a domain name")));
                        }
                        let d = d.to_ascii_lowercase();
                        if !c.local_domains.contains(&d) {
                            c.local_domains.push(d);
                        }
                    }
                }
                "MAXMAILBYTES" => {
                    let v = s.one()?;
                    let n = whole(v, storage)
                        .ok_or_else(|| s.fail(format!("{v} is not a size (such as 512K)")))?;
                    if !(1..=128 << 20).contains(&n) {
                        return Err(s.fail("must be between 1 and 128M"));
                    }
                    c.max_mail_bytes = n;
                }
                "MAXRECIPIENTS" => c.max_recipients = s.number(1, 10_000)? as usize,
                "LOCALFORMAT" => {
                    c.local_format = match s.one()?.to_ascii_uppercase().as_str() {
                        "NETDATA" => LocalFormat::Netdata,
                        "PUNCH" => LocalFormat::Punch,
                        v => return Err(s.fail(format!("{v} is not NETDATA or PUNCH"))),
                    }
                }
                "LOCALCLASS" => {
                    let v = s.one()?;
                    let mut ch = v.chars();
                    c.local_class = match (ch.next().and_then(Class::new), ch.next()) {
                        (Some(cl), None) => cl,
                        _ => return Err(s.fail(format!("{v} is not a spool class (A-Z, 0-9)"))),
                    };
                }
                "SMARTHOST" => c.smarthost = Some(s.hostport(s.one()?)?),
                "IPMAILERADDRESS" => match s.ops.as_slice() {
                    [all, h] if all.eq_ignore_ascii_case("ALL") => {
                        c.smarthost = Some(s.hostport(h)?)
                    }
                    _ => {
                        return Err(s.fail(
                            "only IPMAILERADDRESS ALL host[:port] is supported (a LIST is not)",
                        ));
                    }
                },
                "RELAYCLIENTS" => {
                    if s.ops.is_empty() {
                        return Err(s.fail("names at least one address or network"));
                    }
                    if !seen_relay {
                        c.relay_clients.clear();
                        seen_relay = true;
                    }
                    for o in &s.ops {
                        let m = whole(o, netmask).ok_or_else(|| {
                            s.fail(format!("{o} is not an address or address/prefix"))
                        })?;
                        c.relay_clients.push(m);
                    }
                }
                "VRFY" => c.vrfy = s.on_off()?,
                "EXPN" => c.expn = s.on_off()?,
                "SMSGAUTHLIST" => {
                    if s.ops.is_empty() {
                        return Err(s.fail("names at least one userid"));
                    }
                    if !seen_auth {
                        c.smsg_auth.clear();
                        seen_auth = true;
                    }
                    for o in &s.ops {
                        let u = s.userid(o)?;
                        if !c.smsg_auth.contains(&u) {
                            c.smsg_auth.push(u);
                        }
                    }
                }
                "EXIT" => {
                    let Some((p, args)) = s.ops.split_first() else {
                        return Err(s.fail("names a program"));
                    };
                    c.exit = Some(ExitProgram {
                        program: PathBuf::from(p),
                        args: args.iter().map(|a| a.to_string()).collect(),
                    });
                }
                "EXITTIMEOUT" => c.exit_timeout = Duration::from_secs(s.number(1, 300)?),
                "TLSCERT" => c.cert = PathBuf::from(s.one()?),
                "TLSKEY" => c.key = PathBuf::from(s.one()?),
                "INACTIVE" => c.inactive = Duration::from_secs(s.number(10, 86_400)?),
                "POSTMASTER" => c.postmaster = s.userid(s.one()?)?,
                "IMAPSERVER" => c.imap_server = s.userid(s.one()?)?,
                "RETRYINT" => c.retry_int = s.duration(60)?,
                "RETRYAGE" => c.retry_age = s.duration(86_400)?,
                other => return Err(err(path, line, format!("unknown statement {other}"))),
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_gives_the_defaults() {
        let p = Path::new("SMTP CONFIG");
        let c = Config::parse(&default_text(), p, "VMIMAP").unwrap();
        assert_eq!(c, Config::defaults("VMIMAP"));
        assert_eq!(c.hostname, "vmimap.localdomain");
        assert!(c.is_local_domain("VMIMAP.localdomain"));
        assert!(c.is_local_domain("vmimap"));
        assert!(c.is_local_domain("LOCALHOST"));
        assert!(!c.is_local_domain("example.com"));
        assert!(c.may_relay("127.0.0.1".parse().unwrap()));
        assert!(c.may_relay("::1".parse().unwrap()));
        assert!(c.may_relay("::ffff:127.0.0.2".parse().unwrap()));
        assert!(!c.may_relay("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn statements_and_their_errors() {
        let p = Path::new("SMTP CONFIG");
        let c = Config::parse(
            "port 2525\nSMARTHOST relay.example.com\nIPMAILERADDRESS ALL 127.0.0.1:2600\n\
             LOCALDOMAIN a.org,\n b.org /* two */\nRETRYINT 5 SECONDS\nRETRYAGE 2 h\n\
             EXIT prog -v x\nLOCALFORMAT punch\nSMSGAUTHLIST OPS1 MAINT\nMAXMAILBYTES 1M",
            p,
            "SYS1",
        )
        .unwrap();
        assert_eq!(c.port, 2525);
        assert_eq!(c.smarthost, Some(("127.0.0.1".into(), 2600)));
        assert_eq!(c.local_domains, ["a.org", "b.org"]);
        assert!(c.is_local_domain("sys1.localdomain"));
        assert!(!c.is_local_domain("sys1"));
        assert_eq!(c.retry_int, Duration::from_secs(5));
        assert_eq!(c.retry_age, Duration::from_secs(7200));
        assert_eq!(c.exit.as_ref().unwrap().args, ["-v", "x"]);
        assert_eq!(c.local_format, LocalFormat::Punch);
        assert_eq!(c.smsg_auth.len(), 2);
        assert_eq!(c.max_mail_bytes, 1 << 20);
        let c = Config::parse("SMARTHOST [::1]:26", p, "S").unwrap();
        assert_eq!(c.smarthost, Some(("::1".into(), 26)));
        for (bad, line, what) in [
            ("PORT 25\nPORT x", 2, "not a number"),
            ("\n\nMAXRECIPIENTS 0", 3, "between"),
            ("BOGUS 1", 1, "unknown statement"),
            ("LOCALFORMAT XML", 1, "NETDATA or PUNCH"),
            ("SMSGAUTHLIST toolonguserid", 1, "not a userid"),
            ("SMARTHOST a:b", 1, "host:port"),
            ("IPMAILERADDRESS LIST a b", 1, "ALL"),
            ("RETRYINT soon", 1, "not a time"),
            ("RETRYINT 0", 1, "more than 0"),
            ("RELAYCLIENTS 10.0.0.0/40", 1, "address"),
            ("LOCALCLASS %", 1, "spool class"),
            ("HOSTNAME bad_name!", 1, "domain"),
            ("MAXMAILBYTES 1G", 1, "128M"),
            ("/* open", 1, "comment"),
        ] {
            let e = Config::parse(bad, p, "S").unwrap_err();
            assert_eq!(e.line, line, "{bad}");
            assert!(e.msg.contains(what), "{bad}: {}", e.msg);
        }
    }

    #[test]
    fn netmasks_match_their_block() {
        let m = whole("10.1.0.0/16", netmask).unwrap();
        assert!(m.contains("10.1.200.3".parse().unwrap()));
        assert!(!m.contains("10.2.0.1".parse().unwrap()));
        let any = whole("0.0.0.0/0", netmask).unwrap();
        assert!(any.contains("192.0.2.1".parse().unwrap()));
        let v6 = whole("2001:db8::/32", netmask).unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
    }
}
