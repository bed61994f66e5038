//! The USER DIRECT parser.
//!
//! ```text
//! directory  = *( comment / blank / stmt )
//! comment    = "*" *VCHAR                    ; an asterisk in column 1
//! stmt       = directory-stmt / profile-stmt / user-stmt / entry-stmt
//! user-stmt  = "USER" userid password [storage [storage [classes]]] *token
//! profile-stmt = "PROFILE" name              ; statements until the next USER or PROFILE
//! entry-stmt = include / ipl / machine / console / spool / iucv / option / xautolog / logonby
//!            / spoolfile / account / mdisk / link
//! ```
//!
//! Each statement's operands are checked by the nom parsers of [`crate::grammar`]; a problem is
//! reported with its line number.

use std::collections::HashMap;

use super::{Ipl, IucvStmt, IucvTarget, Mdisk, Password, UrDev, UrKind, UserEntry, UserId};
use crate::{
    grammar::{Cursor, decimal, storage, vdev, whole},
    privilege::PrivClasses,
};

type PResult<T> = Result<T, String>;

fn userid_op(tok: Option<&str>, what: &str) -> PResult<UserId> {
    let tok = tok.ok_or_else(|| format!("{what} missing"))?;
    UserId::parse(tok).map_err(|e| format!("{what}: {e}"))
}

fn vdev_op(tok: Option<&str>) -> PResult<u16> {
    let tok = tok.ok_or("device number missing")?;
    whole(tok, vdev).ok_or_else(|| format!("invalid device number {tok}"))
}

fn number_op(tok: Option<&str>, what: &str) -> PResult<u64> {
    let tok = tok.ok_or_else(|| format!("{what} missing"))?;
    whole(tok, decimal).ok_or_else(|| format!("{what} {tok} is not a number"))
}

fn class_op(tok: &str, allow_star: bool) -> PResult<char> {
    let mut chars = tok.chars();
    match (chars.next(), chars.next()) {
        (Some('*'), None) if allow_star => Ok('*'),
        (Some(c), None) if c.is_ascii_alphanumeric() => Ok(c.to_ascii_uppercase()),
        _ => Err(format!("invalid spool class {tok}")),
    }
}

/// `user-stmt = "USER" userid password [storage [maxstorage [classes]]] *token`
fn user_stmt(c: &mut Cursor<'_>, line: usize) -> PResult<UserEntry> {
    let userid = userid_op(c.next_token(), "userid")?;
    let pw = c.next_token().ok_or("password missing")?;
    let password = Password::parse(pw)?;
    let storage_op = |t: Option<&str>, dflt: u64| -> PResult<u64> {
        match t {
            None => Ok(dflt),
            Some(t) => whole(t, storage).ok_or_else(|| format!("invalid storage size {t}")),
        }
    };
    let stor = storage_op(c.next_token(), 32 << 20)?;
    let max = storage_op(c.next_token(), stor)?;
    if max < stor {
        return Err("maximum storage is smaller than logon storage".into());
    }
    let classes = match c.next_token() {
        None => PrivClasses::parse("G").unwrap(),
        Some(t) => PrivClasses::parse(t).map_err(|ch| format!("invalid privilege class {ch}"))?,
    };
    Ok(UserEntry {
        dist: userid.as_str().to_string(),
        userid,
        password,
        storage: stor,
        max_storage: max,
        classes,
        ipl: None,
        devices: Vec::new(),
        iucv: Vec::new(),
        options: Vec::new(),
        xautolog: Vec::new(),
        logonby: Vec::new(),
        maxspool: spool::MAX_SPOOLID,
        account: None,
        mdisks: Vec::new(),
        line,
    })
}

/// Applies one statement of a USER entry (or of an included PROFILE).
///
/// ```text
/// ipl       = "IPL" program ["PARM" 1*token]
/// machine   = "MACHINE" ("ESA" / "XA" / "XC" / "Z") [decimal]
/// console   = "CONSOLE" vdev devtype [class]
/// spool     = "SPOOL" vdev devtype ["READER" / "PUNCH" / "PRINTER"] [class]
/// iucv      = "IUCV" ("ALLOW" / "ANY" / userid / "*" service) ["PRIORITY"] ["MSGLIMIT" decimal]
/// option    = "OPTION" 1*token
/// xautolog  = "XAUTOLOG" 1*userid
/// logonby   = "LOGONBY" 1*userid
/// spoolfile = "SPOOLFILE" "MAXSPOOL" decimal        ; 1-9999
/// account   = "ACCOUNT" token [distcode]
/// mdisk     = "MDISK" vdev devtype start size volser mode *token
/// link      = "LINK" userid vdev vdev [mode]
/// ```
fn entry_stmt(e: &mut UserEntry, kw: &str, c: &mut Cursor<'_>) -> PResult<()> {
    match kw {
        "IPL" => {
            let program = c.next_token().ok_or("IPL program name missing")?;
            let parm = if c.keyword("PARM", 4) {
                Some(c.rest().to_string())
            } else if let Some(t) = c.next_token() {
                return Err(format!("unexpected IPL operand {t}"));
            } else {
                None
            };
            c.remaining();
            e.ipl = Some(Ipl {
                program: program.to_ascii_uppercase(),
                parm,
            });
        }
        "MACHINE" => {
            let arch = c.next_token().ok_or("MACHINE mode missing")?;
            if !["ESA", "XA", "XC", "Z"].contains(&arch.to_ascii_uppercase().as_str()) {
                return Err(format!("invalid MACHINE mode {arch}"));
            }
            if let Some(t) = c.next_token() {
                number_op(Some(t), "MACHINE CPU count")?;
            }
        }
        "CONSOLE" => {
            let v = vdev_op(c.next_token())?;
            let devtype = c.next_token().ok_or("console device type missing")?;
            let class = match c.next_token() {
                Some(t) => class_op(t, false)?,
                None => 'T',
            };
            add_device(e, v, devtype, UrKind::Console, class)?;
        }
        "SPOOL" => {
            let v = vdev_op(c.next_token())?;
            let devtype = c.next_token().ok_or("spool device type missing")?;
            let kind = if c.keyword("READER", 4) {
                Some(UrKind::Reader)
            } else if c.keyword("PUNCH", 3) {
                Some(UrKind::Punch)
            } else if c.keyword("PRINTER", 3) || c.keyword("PRT", 3) {
                Some(UrKind::Printer)
            } else {
                None
            };
            let kind = match (kind, devtype) {
                (Some(k), _) => k,
                (None, "3505") => UrKind::Reader,
                (None, "3525") => UrKind::Punch,
                (None, "1403" | "3203" | "3211" | "3262" | "3800" | "4245" | "4248") => {
                    UrKind::Printer
                }
                (None, "2540") => return Err("2540 needs READER or PUNCH".into()),
                (None, t) => return Err(format!("unknown spool device type {t}")),
            };
            let class = match c.next_token() {
                Some(t) => class_op(t, kind == UrKind::Reader)?,
                None if kind == UrKind::Reader => '*',
                None => 'A',
            };
            add_device(e, v, devtype, kind, class)?;
        }
        "IUCV" => {
            let t = c.next_token().ok_or("IUCV operand missing")?;
            let target = match t.to_ascii_uppercase().as_str() {
                "ALLOW" => IucvTarget::Allow,
                "ANY" => IucvTarget::Any,
                s if s.starts_with('*') && s.len() > 1 && s.len() <= 8 => {
                    IucvTarget::Service(s.to_string())
                }
                _ => IucvTarget::User(userid_op(Some(t), "IUCV userid")?),
            };
            let mut priority = false;
            let mut msglimit = None;
            while let Some(t) = c.next_token() {
                match t.to_ascii_uppercase().as_str() {
                    "PRIORITY" => priority = true,
                    "MSGLIMIT" => {
                        let n = number_op(c.next_token(), "MSGLIMIT")?;
                        if n > 65535 {
                            return Err("MSGLIMIT must be 0-65535".into());
                        }
                        msglimit = Some(n as u32);
                    }
                    _ => return Err(format!("unexpected IUCV operand {t}")),
                }
            }
            e.iucv.push(IucvStmt {
                target,
                priority,
                msglimit,
            });
        }
        "OPTION" => {
            let ops = c.remaining();
            if ops.is_empty() {
                return Err("OPTION operands missing".into());
            }
            for (i, o) in ops.iter().enumerate() {
                if o.eq_ignore_ascii_case("MAXCONN") {
                    let n = number_op(ops.get(i + 1).copied(), "MAXCONN")?;
                    if n == 0 || n > 65535 {
                        return Err("MAXCONN must be 1-65535".into());
                    }
                }
            }
            e.options.extend(ops.iter().map(|o| o.to_ascii_uppercase()));
        }
        "XAUTOLOG" | "LOGONBY" => {
            let ids = c.remaining();
            if ids.is_empty() {
                return Err(format!("{kw} userids missing"));
            }
            for id in ids {
                let u = userid_op(Some(id), &format!("{kw} userid"))?;
                if kw == "XAUTOLOG" {
                    e.xautolog.push(u);
                } else {
                    e.logonby.push(u);
                }
            }
        }
        "SPOOLFILE" => {
            if !c.keyword("MAXSPOOL", 8) {
                return Err("SPOOLFILE needs MAXSPOOL n".into());
            }
            let n = number_op(c.next_token(), "MAXSPOOL")?;
            if n == 0 || n > spool::MAX_SPOOLID as u64 {
                return Err(format!("MAXSPOOL must be 1-{}", spool::MAX_SPOOLID));
            }
            e.maxspool = n as u16;
        }
        "ACCOUNT" => {
            let acct = c.next_token().ok_or("account number missing")?;
            if acct.len() > 8 {
                return Err("account number longer than 8 characters".into());
            }
            e.account = Some(acct.to_ascii_uppercase());
            if let Some(d) = c.next_token() {
                if d.len() > 8 {
                    return Err("distribution code longer than 8 characters".into());
                }
                e.dist = d.to_ascii_uppercase();
            }
        }
        "MDISK" => {
            let v = vdev_op(c.next_token())?;
            let devtype = c.next_token().ok_or("MDISK device type missing")?;
            let start = c.next_token().ok_or("MDISK start missing")?;
            if !start.eq_ignore_ascii_case("V-DISK") && !start.eq_ignore_ascii_case("T-DISK") {
                number_op(Some(start), "MDISK start")?;
            }
            let size = number_op(c.next_token(), "MDISK size")?;
            let volser = c.next_token().ok_or("MDISK volser missing")?;
            if volser.len() > 6 {
                return Err(format!("volser {volser} longer than 6 characters"));
            }
            let mode = c.next_token().unwrap_or("W").to_ascii_uppercase();
            if !["R", "RR", "W", "WR", "M", "MR", "MW"]
                .iter()
                .any(|m| mode.trim_end_matches(['E', 'S', 'V']) == *m)
            {
                return Err(format!("invalid MDISK mode {mode}"));
            }
            c.remaining();
            if e.mdisks.iter().any(|m| m.vdev == v) {
                return Err(format!("minidisk {v:04X} defined twice"));
            }
            e.mdisks.push(Mdisk {
                vdev: v,
                devtype: devtype.to_string(),
                volser: volser.to_ascii_uppercase(),
                mode,
                size,
            });
        }
        "LINK" => {
            userid_op(c.next_token(), "LINK owner")?;
            vdev_op(c.next_token())?;
            vdev_op(c.next_token())?;
            c.next_token();
        }
        _ => return Err(format!("unknown statement {kw}")),
    }
    if let Some(t) = c.next_token() {
        return Err(format!("unexpected operand {t}"));
    }
    Ok(())
}

fn add_device(e: &mut UserEntry, v: u16, devtype: &str, kind: UrKind, class: char) -> PResult<()> {
    if e.devices.iter().any(|d| d.vdev == v) {
        return Err(format!("device {v:04X} defined twice"));
    }
    e.devices.push(UrDev {
        vdev: v,
        devtype: devtype.to_string(),
        kind,
        class,
    });
    Ok(())
}

enum Ctx {
    None,
    User(Box<UserEntry>),
    Profile(String),
}

/// Parses a whole directory; on error returns the line number and message.
pub(super) fn parse(text: &str) -> Result<Vec<UserEntry>, (usize, String)> {
    let mut users: Vec<UserEntry> = Vec::new();
    let mut seen: HashMap<UserId, usize> = HashMap::new();
    let mut profiles: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut ctx = Ctx::None;
    let finish = |ctx: Ctx, users: &mut Vec<UserEntry>| {
        if let Ctx::User(u) = ctx {
            users.push(*u);
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        if line.is_empty() || line.trim_start().starts_with('*') {
            continue;
        }
        if line.chars().count() > 255 {
            return Err((n, "line longer than 255 characters".into()));
        }
        let mut c = Cursor::new(line);
        let kw = c.next_token().unwrap_or("").to_ascii_uppercase();
        match kw.as_str() {
            "DIRECTORY" => {
                if !matches!(ctx, Ctx::None) {
                    return Err((n, "DIRECTORY must come before the first entry".into()));
                }
            }
            "USER" => {
                finish(std::mem::replace(&mut ctx, Ctx::None), &mut users);
                let u = user_stmt(&mut c, n).map_err(|m| (n, format!("USER statement: {m}")))?;
                if let Some(first) = seen.insert(u.userid.clone(), n) {
                    return Err((
                        n,
                        format!("userid {} already defined on line {first}", u.userid),
                    ));
                }
                ctx = Ctx::User(Box::new(u));
            }
            "PROFILE" => {
                finish(std::mem::replace(&mut ctx, Ctx::None), &mut users);
                let name = c
                    .next_token()
                    .ok_or((n, "PROFILE name missing".to_string()))?
                    .to_ascii_uppercase();
                if name.len() > 8 {
                    return Err((n, format!("profile name {name} longer than 8 characters")));
                }
                if profiles.contains_key(&name) {
                    return Err((n, format!("profile {name} defined twice")));
                }
                profiles.insert(name.clone(), Vec::new());
                ctx = Ctx::Profile(name);
            }
            "IDENTITY" | "SUBCONFIG" | "BUILD" => {
                return Err((
                    n,
                    format!("{kw} entries are not supported; use USER entries"),
                ));
            }
            _ => match &mut ctx {
                Ctx::None => {
                    return Err((n, format!("{kw} statement outside a USER or PROFILE entry")));
                }
                Ctx::Profile(name) => {
                    if kw == "INCLUDE" {
                        return Err((n, "INCLUDE is not allowed inside a PROFILE".into()));
                    }
                    // Checked when included, with this line number.
                    profiles.get_mut(name).unwrap().push((n, line.to_string()));
                }
                Ctx::User(u) => {
                    if kw == "INCLUDE" {
                        let name = c
                            .next_token()
                            .ok_or((n, "INCLUDE profile name missing".to_string()))?
                            .to_ascii_uppercase();
                        let stmts = profiles
                            .get(&name)
                            .ok_or((n, format!("INCLUDE of undefined profile {name}")))?
                            .clone();
                        for (pn, pline) in stmts {
                            let mut pc = Cursor::new(&pline);
                            let pkw = pc.next_token().unwrap_or("").to_ascii_uppercase();
                            entry_stmt(u, &pkw, &mut pc).map_err(|m| {
                                (
                                    pn,
                                    format!("{m} (in profile {name}, included by {})", u.userid),
                                )
                            })?;
                        }
                    } else {
                        entry_stmt(u, &kw, &mut c).map_err(|m| (n, m))?;
                    }
                }
            },
        }
    }
    finish(ctx, &mut users);
    if users.is_empty() {
        return Err((0, "no USER entries".into()));
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
* a comment
PROFILE IBMDFLT
 CONSOLE 0009 3215 T
 SPOOL 000C 2540 READER *
 SPOOL 000D 2540 PUNCH A
 SPOOL 000E 1403 A
USER MAINT pass 64M 128M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS PARM AUTOCR
 IUCV ANY
 IUCV *SPL MSGLIMIT 100
 OPTION MAXCONN 100
 SPOOLFILE MAXSPOOL 500
 MDISK 0191 3390 0001 0050 MNT191 MR
USER IMAP AUTOONLY 64M 512M G
 INCLUDE IBMDFLT
 IPL IMAPD
 XAUTOLOG TCPIP MAINT
";

    #[test]
    fn parses_entries_with_profiles() {
        let users = parse(GOOD).unwrap();
        assert_eq!(users.len(), 2);
        let m = &users[0];
        assert_eq!(m.userid.as_str(), "MAINT");
        assert_eq!(m.classes.to_string(), "ABCDEG");
        assert_eq!(m.devices.len(), 4);
        assert_eq!(m.device(UrKind::Reader).unwrap().class, '*');
        assert_eq!(m.ipl.as_ref().unwrap().parm.as_deref(), Some("AUTOCR"));
        assert_eq!(m.maxconn(), 100);
        assert_eq!(m.maxspool, 500);
        assert_eq!(m.iucv_to("*SPL").unwrap().msglimit, Some(100));
        assert!(m.iucv_to("TCPIP").is_some());
        assert!(users[1].iucv_to("TCPIP").is_none());
        assert_eq!(users[1].xautolog.len(), 2);
        assert_eq!(m.mdisks[0].volser, "MNT191");
    }

    #[test]
    fn errors_name_the_line() {
        let bad = GOOD.replace(" IUCV ANY\n", " IUCV ANY BOGUS\n");
        assert_eq!(parse(&bad).unwrap_err().0, 10);
        let bad = GOOD.replace("USER IMAP", "USER MAINT");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.0, 15);
        assert!(e.1.contains("already defined on line 7"), "{}", e.1);
        let bad = GOOD.replace("ABCDEG", "AB!");
        assert!(parse(&bad).unwrap_err().1.contains("privilege class"));
        let bad = GOOD.replace(" SPOOL 000E 1403 A", " SPOOL 000E 1403 AA");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.0, 6);
        assert!(e.1.contains("profile IBMDFLT"), "{}", e.1);
        assert_eq!(parse("FOO BAR\n").unwrap_err().0, 1);
        assert_eq!(parse("USER TOOLONGUSER x\n").unwrap_err().0, 1);
    }
}
