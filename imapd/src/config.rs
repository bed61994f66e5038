//! `IMAP CONFIG`: the IMAP server's configuration, in VM statement syntax (`/* comments */`, a
//! trailing comma continues a statement on the next line).
//!
//! ```text
//! config     = *statement
//! statement  = "MAILSTORE" pool                      ; the SFS pool (default MAILPOOL)
//!            / "PORT" port                           ; plain IMAP with STARTTLS (1143)
//!            / "TLSPORT" port                        ; implicit TLS (1993); "TLSPORT 0" = none
//!            / "TLSCERT" path / "TLSKEY" path        ; PEM files, relative to the system folder
//!            / "REQUIRETLS" ("YES" / "NO")           ; LOGINDISABLED until STARTTLS (NO)
//!            / "ADMIN" 1*userid                      ; who may SMSG IMAP (MAINT IMAPADM)
//!            / "QUERYUSERS" 1*userid                 ; who may ask who is enrolled (SMTP)
//!            / "ENROLLBLOCKS" decimal                ; 4K blocks a new user gets (25600)
//!            / "MAXLITERAL" storage                  ; largest literal/message (64M)
//!            / "MAXLINE" storage                     ; longest command line (64K)
//!            / "MAXCONNECTIONS" decimal              ; sessions in all (20000)
//!            / "MAXUSERCONNECTIONS" decimal          ; sessions per user (200)
//!            / "TIMEOUT" minutes                     ; idle logout after login (30, at least 30)
//!            / "LOGINTIMEOUT" seconds                ; idle logout before login (60)
//!            / "LOGINDELAY" seconds                  ; pause after a failed login (2)
//!            / "MAXLOGINFAILS" decimal               ; failed logins before BYE (3)
//! ```

use std::path::{Path, PathBuf};

use vm::{
    UserId,
    config::{err, statements},
    directory::FileError,
    grammar::{decimal, storage, whole},
};

/// The file's name in the system folder.
pub const IMAP_CONFIG: &str = "IMAP CONFIG";

/// The parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The mailstore pool.
    pub pool: String,
    /// Plain port (STARTTLS available).
    pub port: u16,
    /// Implicit-TLS port (0: none).
    pub tls_port: u16,
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
    /// LOGIN and AUTHENTICATE only after STARTTLS (or on the TLS port).
    pub require_tls: bool,
    /// Administrators.
    pub admins: Vec<UserId>,
    /// Machines that may ask over IUCV whether a user is enrolled.
    pub query_users: Vec<UserId>,
    /// 4K blocks for a new user.
    pub enroll_blocks: u64,
    /// Largest literal.
    pub max_literal: u64,
    /// Longest line.
    pub max_line: usize,
    /// Sessions in all.
    pub max_connections: usize,
    /// Sessions per user.
    pub max_user_connections: usize,
    /// Idle seconds after login.
    pub timeout: u64,
    /// Idle seconds before login.
    pub login_timeout: u64,
    /// Seconds to wait after a failed login.
    pub login_delay: u64,
    /// Failed logins in a session before it is ended.
    pub max_login_fails: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pool: "MAILPOOL".into(),
            port: 1143,
            tls_port: 1993,
            cert: PathBuf::from("tls/imapd.crt"),
            key: PathBuf::from("tls/imapd.key"),
            require_tls: false,
            admins: vec![
                UserId::parse("MAINT").unwrap(),
                UserId::parse("IMAPADM").unwrap(),
            ],
            query_users: vec![UserId::parse("SMTP").unwrap()],
            enroll_blocks: 25_600,
            max_literal: 64 << 20,
            max_line: 64 << 10,
            max_connections: 20_000,
            max_user_connections: 200,
            timeout: 30 * 60,
            login_timeout: 60,
            login_delay: 2,
            max_login_fails: 3,
        }
    }
}

/// The text first IPL writes.
pub fn default_text() -> String {
    "\
/**********************************************************************/
/* IMAP CONFIG: the IMAP server (IPL IMAPD). Read when IMAP starts.   */
/**********************************************************************/

/* The SFS file pool that holds the mailstore.                        */
MAILSTORE MAILPOOL

/* Ports, as reserved for IMAP in PROFILE TCPIP: plain IMAP (STARTTLS */
/* offered) and IMAP over TLS. TLSPORT 0 turns implicit TLS off.      */
PORT 1143
TLSPORT 1993

/* Certificate and key in PEM, relative to the system folder. A self- */
/* signed pair for localhost is made at first start if they are      */
/* missing.                                                           */
TLSCERT tls/imapd.crt
TLSKEY tls/imapd.key

/* YES: no LOGIN or AUTHENTICATE before STARTTLS (LOGINDISABLED).     */
REQUIRETLS NO

/* Users whose SMSG IMAP commands are obeyed.                         */
ADMIN MAINT IMAPADM

/* Machines that may ask over IUCV whether a user is enrolled (the   */
/* SMTP machine's command exit routes mail for IMAP users with it).  */
QUERYUSERS SMTP

/* 4K blocks of SFS space a newly enrolled user gets.                 */
ENROLLBLOCKS 25600

/* Limits: literal (message) size, line length, sessions.             */
MAXLITERAL 64M
MAXLINE 64K
MAXCONNECTIONS 20000
MAXUSERCONNECTIONS 200

/* Idle logout: minutes after login (RFC 3501: at least 30), seconds  */
/* before login; seconds to wait after a failed login, and failures   */
/* that end a session.                                                */
TIMEOUT 30
LOGINTIMEOUT 60
LOGINDELAY 2
MAXLOGINFAILS 3
"
    .to_string()
}

fn number(path: &Path, n: usize, kw: &str, ops: &[&str]) -> Result<u64, FileError> {
    match ops {
        [v] => whole(v, decimal).ok_or_else(|| err(path, n, format!("{kw}: {v} is not a number"))),
        _ => Err(err(path, n, format!("{kw} takes one number"))),
    }
}

fn size(path: &Path, n: usize, kw: &str, ops: &[&str]) -> Result<u64, FileError> {
    match ops {
        [v] => whole(v, storage).ok_or_else(|| {
            err(
                path,
                n,
                format!("{kw}: {v} is not a size (such as 64K or 32M)"),
            )
        }),
        _ => Err(err(path, n, format!("{kw} takes one size"))),
    }
}

fn port(path: &Path, n: usize, kw: &str, ops: &[&str], zero_ok: bool) -> Result<u16, FileError> {
    let v = number(path, n, kw, ops)?;
    if v > 65535 || (v == 0 && !zero_ok) {
        return Err(err(path, n, format!("{kw}: {v} is not a port number")));
    }
    Ok(v as u16)
}

fn one<'a>(path: &Path, n: usize, kw: &str, ops: &[&'a str]) -> Result<&'a str, FileError> {
    match ops {
        [v] => Ok(v),
        _ => Err(err(path, n, format!("{kw} takes one operand"))),
    }
}

impl Config {
    /// Parses the file's text; errors name the line.
    pub fn parse(text: &str, path: &Path) -> Result<Config, FileError> {
        let mut c = Config::default();
        let mut admins_seen = false;
        for (n, stmt) in statements(text, path)? {
            let toks: Vec<&str> = stmt.split_whitespace().collect();
            let Some((kw, ops)) = toks.split_first() else {
                continue;
            };
            let kw = kw.to_ascii_uppercase();
            match kw.as_str() {
                "MAILSTORE" => {
                    let p = one(path, n, &kw, ops)?
                        .trim_end_matches(':')
                        .to_ascii_uppercase();
                    vm::sfs::PoolName::parse(&p)
                        .map_err(|e| err(path, n, format!("MAILSTORE: {e}")))?;
                    c.pool = p;
                }
                "PORT" => c.port = port(path, n, &kw, ops, false)?,
                "TLSPORT" => c.tls_port = port(path, n, &kw, ops, true)?,
                "TLSCERT" => c.cert = PathBuf::from(one(path, n, &kw, ops)?),
                "TLSKEY" => c.key = PathBuf::from(one(path, n, &kw, ops)?),
                "REQUIRETLS" => {
                    c.require_tls = match one(path, n, &kw, ops)?.to_ascii_uppercase().as_str() {
                        "YES" => true,
                        "NO" => false,
                        v => return Err(err(path, n, format!("REQUIRETLS: {v} is not YES or NO"))),
                    }
                }
                "ADMIN" => {
                    if ops.is_empty() {
                        return Err(err(path, n, "ADMIN names at least one userid"));
                    }
                    if !admins_seen {
                        c.admins.clear();
                        admins_seen = true;
                    }
                    for o in ops {
                        let u = UserId::parse(o)
                            .map_err(|_| err(path, n, format!("ADMIN: {o} is not a userid")))?;
                        if !c.admins.contains(&u) {
                            c.admins.push(u);
                        }
                    }
                }
                "QUERYUSERS" => {
                    if ops.is_empty() {
                        return Err(err(path, n, "QUERYUSERS names at least one userid"));
                    }
                    c.query_users = ops
                        .iter()
                        .map(|o| {
                            UserId::parse(o).map_err(|_| {
                                err(path, n, format!("QUERYUSERS: {o} is not a userid"))
                            })
                        })
                        .collect::<Result<_, _>>()?;
                }
                "ENROLLBLOCKS" => c.enroll_blocks = number(path, n, &kw, ops)?,
                "MAXLITERAL" => {
                    c.max_literal = size(path, n, &kw, ops)?;
                    if c.max_literal < 1024 || c.max_literal > 1 << 30 {
                        return Err(err(path, n, "MAXLITERAL must be between 1K and 1G"));
                    }
                }
                "MAXLINE" => {
                    let v = size(path, n, &kw, ops)?;
                    if !(1024..=16 << 20).contains(&v) {
                        return Err(err(path, n, "MAXLINE must be between 1K and 16M"));
                    }
                    c.max_line = v as usize;
                }
                "MAXCONNECTIONS" => c.max_connections = number(path, n, &kw, ops)? as usize,
                "MAXUSERCONNECTIONS" => {
                    c.max_user_connections = number(path, n, &kw, ops)? as usize
                }
                "TIMEOUT" => {
                    let m = number(path, n, &kw, ops)?;
                    if m < 30 {
                        return Err(err(
                            path,
                            n,
                            "TIMEOUT is in minutes and RFC 3501 asks for at least 30",
                        ));
                    }
                    c.timeout = m * 60;
                }
                "LOGINTIMEOUT" => {
                    c.login_timeout = number(path, n, &kw, ops)?.max(1);
                }
                "LOGINDELAY" => c.login_delay = number(path, n, &kw, ops)?,
                "MAXLOGINFAILS" => c.max_login_fails = number(path, n, &kw, ops)?.max(1) as u32,
                other => return Err(err(path, n, format!("unknown statement {other}"))),
            }
        }
        if c.port == c.tls_port {
            return Err(err(path, 0, "PORT and TLSPORT must differ"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let p = Path::new("IMAP CONFIG");
        let c = Config::parse(&default_text(), p).unwrap();
        assert_eq!(c, Config::default());
        let c = Config::parse(
            "PORT 143\nTLSPORT 0\nADMIN ops1 /* x */\nMAXLITERAL 1M\nTIMEOUT 45",
            p,
        )
        .unwrap();
        assert_eq!(
            (c.port, c.tls_port, c.max_literal, c.timeout),
            (143, 0, 1 << 20, 2700)
        );
        assert_eq!(c.admins, vec![UserId::parse("OPS1").unwrap()]);
        for (bad, line, what) in [
            ("PORT 143\nPORT x", 2, "not a number"),
            ("\n\nTIMEOUT 5", 3, "at least 30"),
            ("BOGUS 1", 1, "unknown statement"),
            ("MAXLINE 10", 1, "between"),
            ("ADMIN toolonguserid", 1, "not a userid"),
            ("PORT 70000", 1, "not a port"),
        ] {
            let e = Config::parse(bad, p).unwrap_err();
            assert_eq!(e.line, line, "{bad}");
            assert!(e.msg.contains(what), "{bad}: {}", e.msg);
        }
    }
}
