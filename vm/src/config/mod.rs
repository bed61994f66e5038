//! `SYSTEM CONFIG`: the system-wide settings read at IPL.
//!
//! ```text
//! config    = *( stmt / comment / blank )
//! comment   = "/*" *CHAR "*/"                 ; may span lines
//! stmt      = keyword *(SP operand) [","]     ; a trailing comma continues on the next line
//! keyword   = "SYSTEM_IDENTIFIER_DEFAULT" / "TIMEZONE_DEFINITION" / "SYSTEM_USERIDS" / "SPOOL_LIMITS"
//! ```

use std::path::Path;

pub mod stmt;

use crate::{
    clock::TimeZone,
    directory::{FileError, UserId},
    grammar::{Cursor, decimal, hh_mm_ss, storage, whole},
};

/// Spool limits (a vmimap statement: `SPOOL_LIMITS MAXRECORDS n MAXFILESIZE size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Most records a spool file may hold.
    pub max_records: u64,
    /// Most bytes of data a spool file may hold.
    pub max_file_bytes: u64,
}

/// The parsed SYSTEM CONFIG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemConfig {
    /// System name (`Q USERID` shows `MAINT AT name`).
    pub system_id: String,
    /// Time zone of displayed times.
    pub timezone: TimeZone,
    /// The system operator, logged on at IPL.
    pub operator: UserId,
    /// Users CP autologs at IPL, in order.
    pub startup: Vec<UserId>,
    /// Spool limits.
    pub spool: SpoolLimits,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            system_id: "VMIMAP".into(),
            timezone: TimeZone::default(),
            operator: UserId::parse("OPERATOR").unwrap(),
            startup: Vec::new(),
            spool: SpoolLimits {
                max_records: 1_000_000,
                max_file_bytes: 256 << 20,
            },
        }
    }
}

/// The SYSTEM CONFIG written on first IPL.
pub fn default_text(startup: &[&str]) -> String {
    format!(
        "\
/**********************************************************************/
/* SYSTEM CONFIG for this vmimap system. Read at IPL.                 */
/**********************************************************************/

/* The system name, shown by QUERY USERID and in the logon banner.    */
System_Identifier_Default VMIMAP

/* Times are shown in this zone: label, East or West of UTC, offset.  */
Timezone_Definition UTC East 00.00.00

/* The operator is logged on at IPL; the startup users are autologged */
/* in order (the TCPIP stack autologs the mail servers itself).       */
System_Userids Operator OPERATOR
System_Userids Startup {}

/* Largest spool file: records and bytes of data.                     */
Spool_Limits Maxrecords 1000000 Maxfilesize 256M
",
        startup.join(" ")
    )
}

/// A line-numbered problem in a configuration file.
pub fn err(path: &Path, line: usize, msg: impl Into<String>) -> FileError {
    FileError {
        file: path.to_path_buf(),
        line,
        msg: msg.into(),
    }
}

/// Joins continuation lines and removes comments; yields (first line number, statement text).
/// Shared by the configuration files in VM statement syntax.
pub fn statements(text: &str, path: &Path) -> Result<Vec<(usize, String)>, FileError> {
    let mut out = Vec::new();
    let mut in_comment: Option<usize> = None;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let mut line = String::new();
        let mut rest = raw;
        loop {
            if in_comment.is_some() {
                match rest.find("*/") {
                    Some(p) => {
                        rest = &rest[p + 2..];
                        in_comment = None;
                    }
                    None => break,
                }
            } else {
                match rest.find("/*") {
                    Some(p) => {
                        line.push_str(&rest[..p]);
                        line.push(' ');
                        rest = &rest[p + 2..];
                        in_comment = Some(n);
                    }
                    None => {
                        line.push_str(rest);
                        break;
                    }
                }
            }
        }
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        acc.push(' ');
        if let Some(body) = t.strip_suffix(',') {
            acc.push_str(body);
            pending = Some((start, acc));
        } else {
            acc.push_str(t);
            out.push((start, acc));
        }
    }
    if let Some(l) = in_comment {
        return Err(err(path, l, "comment not closed with */"));
    }
    if let Some((l, _)) = pending {
        return Err(err(path, l, "statement continued past the end of the file"));
    }
    Ok(out)
}

impl SystemConfig {
    /// Reads and checks SYSTEM CONFIG.
    pub fn load(path: &Path) -> Result<SystemConfig, FileError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| err(path, 0, format!("cannot read: {e}")))?;
        SystemConfig::parse(&text, path)
    }

    /// Parses SYSTEM CONFIG text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<SystemConfig, FileError> {
        let mut cfg = SystemConfig::default();
        for (n, stmt) in statements(text, path)? {
            let mut c = Cursor::new(&stmt);
            let kw = c.next_token().unwrap_or("").to_ascii_uppercase();
            let e = |m: String| err(path, n, m);
            match kw.as_str() {
                // system-id = "SYSTEM_IDENTIFIER_DEFAULT" name      ; 1-8 characters
                "SYSTEM_IDENTIFIER_DEFAULT" => {
                    let id = c
                        .next_token()
                        .ok_or_else(|| e("system name missing".into()))?;
                    if id.len() > 8 || !id.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                        return Err(e(format!("invalid system name {id}")));
                    }
                    cfg.system_id = id.to_ascii_uppercase();
                }
                // timezone = "TIMEZONE_DEFINITION" label ("EAST" / "WEST") hh.mm.ss
                "TIMEZONE_DEFINITION" => {
                    let label = c
                        .next_token()
                        .ok_or_else(|| e("zone label missing".into()))?;
                    if label.len() > 8 {
                        return Err(e(format!("zone label {label} longer than 8 characters")));
                    }
                    let sign = if c.keyword("EAST", 1) {
                        1
                    } else if c.keyword("WEST", 1) {
                        -1
                    } else {
                        return Err(e("EAST or WEST expected".into()));
                    };
                    let off = c.next_token().ok_or_else(|| e("offset missing".into()))?;
                    let (h, m, s) = whole(off, hh_mm_ss)
                        .filter(|(h, m, s)| *h <= 23 && *m <= 59 && *s <= 59)
                        .ok_or_else(|| e(format!("invalid offset {off} (hh.mm.ss)")))?;
                    cfg.timezone = TimeZone {
                        label: label.to_ascii_uppercase(),
                        east_secs: sign * (h * 3600 + m * 60 + s) as i32,
                    };
                }
                // userids = "SYSTEM_USERIDS" ("OPERATOR" userid / "STARTUP" 1*userid)
                "SYSTEM_USERIDS" => {
                    if c.keyword("OPERATOR", 8) {
                        let u = c.next_token().ok_or_else(|| e("userid missing".into()))?;
                        cfg.operator = UserId::parse(u).map_err(|x| e(x.to_string()))?;
                    } else if c.keyword("STARTUP", 7) {
                        for u in c.remaining() {
                            cfg.startup
                                .push(UserId::parse(u).map_err(|x| e(x.to_string()))?);
                        }
                    } else {
                        return Err(e("OPERATOR or STARTUP expected".into()));
                    }
                }
                // limits = "SPOOL_LIMITS" *( "MAXRECORDS" decimal / "MAXFILESIZE" storage )
                "SPOOL_LIMITS" => {
                    while let Some(t) = c.next_token() {
                        let v = c
                            .next_token()
                            .ok_or_else(|| e(format!("{t} value missing")))?;
                        match t.to_ascii_uppercase().as_str() {
                            "MAXRECORDS" => {
                                cfg.spool.max_records = whole(v, decimal)
                                    .filter(|n| *n > 0)
                                    .ok_or_else(|| e(format!("invalid MAXRECORDS {v}")))?;
                            }
                            "MAXFILESIZE" => {
                                cfg.spool.max_file_bytes = whole(v, storage)
                                    .filter(|n| *n >= 4096 && *n <= 1 << 32)
                                    .ok_or_else(|| {
                                        e(format!("invalid MAXFILESIZE {v} (4K to 4G)"))
                                    })?;
                            }
                            _ => return Err(e(format!("unknown SPOOL_LIMITS operand {t}"))),
                        }
                    }
                }
                _ => return Err(e(format!("unknown statement {kw}"))),
            }
            if let Some(t) = c.next_token() {
                return Err(e(format!("unexpected operand {t}")));
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_text_parses() {
        let c = SystemConfig::parse(
            &default_text(&["VMSERVS", "TCPIP"]),
            Path::new("SYSTEM CONFIG"),
        )
        .unwrap();
        assert_eq!(c.system_id, "VMIMAP");
        assert_eq!(c.startup.len(), 2);
        assert_eq!(c.spool.max_file_bytes, 256 << 20);
    }

    #[test]
    fn continuation_comments_and_errors() {
        let t = "/* multi\n line */ Timezone_Definition EST ,\n West 05.00.00\nSystem_Userids Startup A B\n";
        let c = SystemConfig::parse(t, Path::new("SYSTEM CONFIG")).unwrap();
        assert_eq!(c.timezone.east_secs, -5 * 3600);
        let e = SystemConfig::parse("\n\nBogus 1\n", Path::new("SYSTEM CONFIG")).unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(
            e.to_string(),
            "SYSTEM CONFIG line 3: unknown statement BOGUS"
        );
        let e = SystemConfig::parse("/* open\n", Path::new("SYSTEM CONFIG")).unwrap_err();
        assert_eq!(e.line, 1);
    }
}
