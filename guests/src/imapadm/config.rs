//! `IMAPADM CONFIG`: the administrator exit's configuration, in VM statement syntax (`/* … */`
//! comments, a trailing comma continues a statement on the next line). Keywords are matched
//! without regard to case; a statement given twice takes the last value, except the lists, where
//! the first statement replaces the default and later ones add to it.
//!
//! ```text
//! config    = *statement
//! statement = "AUTHORIZE" 1*userid                 ; MAINT (lists add)
//!           / "IMAPSERVER" userid                  ; IMAP
//!           / "TIMEOUT" decimal                    ; 30 seconds (1 .. 600) for IMAP's answer
//!           / "AUDIT" dirid [fn ft]                ; VMSYSU:IMAPADM.AUDIT IMAPADM AUDITLOG
//!           / "AUTOENROLL" "CLASS" 1*class         ; none (lists add)
//!           / "AUTOENROLL" "USERS" 1*userid        ; none (lists add)
//!           / "BLOCKS" decimal                     ; none: IMAP CONFIG's ENROLLBLOCKS
//!           / "RESULTCLASS" class                  ; A: spool class of result files
//! dirid     = pool ":" userid "." *(dirname ".") [dirname]
//! class     = ALPHA / DIGIT
//! ```

use std::path::Path;

use nom::{
    IResult, Parser,
    bytes::complete::{tag, take_while_m_n},
    combinator::{all_consuming, map_res},
    multi::separated_list1,
};
use spool::Class;
use vm::{
    UserId,
    config::{err, statements, stmt::Stmt},
    directory::FileError,
    grammar::whole,
    sfs::{DirId, PoolName},
};

/// The file's name in the system folder.
pub const IMAPADM_CONFIG: &str = "IMAPADM CONFIG";

/// Who IMAPADM enrols when it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoEnroll {
    /// Every directory user holding one of these privilege classes.
    pub classes: Vec<char>,
    /// These users.
    pub users: Vec<UserId>,
    /// Blocks for each (None: the IMAP server's ENROLLBLOCKS).
    pub blocks: Option<u64>,
}

impl AutoEnroll {
    /// Whether there is a policy at all.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.users.is_empty()
    }
}

/// Where the audit log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFile {
    /// The directory.
    pub dir: DirId,
    /// File name.
    pub fname: String,
    /// File type.
    pub ftype: String,
}

impl std::fmt::Display for AuditFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.dir, self.fname, self.ftype)
    }
}

/// The parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Users whose requests are obeyed.
    pub authorized: Vec<UserId>,
    /// The IMAP server machine.
    pub imap_server: UserId,
    /// How long to wait for the IMAP server's answer, in seconds.
    pub timeout_secs: u64,
    /// The audit log.
    pub audit: AuditFile,
    /// The enrolment policy applied at start.
    pub autoenroll: AutoEnroll,
    /// Spool class of the result files of decks.
    pub result_class: Class,
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).expect("a valid userid")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            authorized: vec![uid("MAINT")],
            imap_server: uid("IMAP"),
            timeout_secs: 30,
            audit: AuditFile {
                dir: DirId {
                    pool: PoolName::parse("VMSYSU").expect("a pool name"),
                    path: vm::sfs::DirPath {
                        owner: uid("IMAPADM"),
                        comps: vec!["AUDIT".into()],
                    },
                },
                fname: "IMAPADM".into(),
                ftype: "AUDITLOG".into(),
            },
            autoenroll: AutoEnroll::default(),
            result_class: Class::new('A').expect("A is a class"),
        }
    }
}

/// The text first start writes.
pub fn default_text() -> String {
    "\
/**********************************************************************/
/* IMAPADM CONFIG: the IMAP administrator exit (IPL IMAPADM). Read    */
/* when IMAPADM logs on. docs/imapadm.md describes every statement.   */
/**********************************************************************/

/* Users whose requests (SMSG IMAPADM, or a deck in IMAPADM's reader) */
/* are obeyed. Everyone else is refused, and the attempt is audited.  */
AUTHORIZE MAINT

/* The IMAP server whose administrator interface IMAPADM drives (its  */
/* IMAP CONFIG must name IMAPADM in ADMIN), and how many seconds to   */
/* wait for its answer.                                               */
IMAPSERVER IMAP
TIMEOUT 30

/* The audit log: an SFS directory of IMAPADM's and the file in it.   */
/* IMAPADM must be enrolled in the pool (ENROLL USER IMAPADM VMSYSU:).*/
AUDIT VMSYSU:IMAPADM.AUDIT IMAPADM AUDITLOG

/* Enrol at start every directory user of these privilege classes,    */
/* or these users, with this many blocks (default: the IMAP server's  */
/* ENROLLBLOCKS). Users already enrolled are left as they are.        */
/* AUTOENROLL CLASS G                                                 */
/* AUTOENROLL USERS DEMO                                              */
/* BLOCKS 25600                                                       */

/* Spool class of the result files sent back for decks.               */
RESULTCLASS A
"
    .to_string()
}

/// `class = ALPHA / DIGIT`, upper-cased.
fn class(i: &str) -> IResult<&str, char> {
    map_res(
        take_while_m_n(1, 1, |c: char| c.is_ascii_alphanumeric()),
        |s: &str| {
            s.chars()
                .next()
                .map(|c| c.to_ascii_uppercase())
                .ok_or("empty")
        },
    )
    .parse(i)
}

/// A file name or type: 1–8 letters, digits or `$#@+-_`.
fn file_part(i: &str) -> IResult<&str, String> {
    take_while_m_n(1, 8, |c: char| {
        c.is_ascii_alphanumeric() || "$#@+-_".contains(c)
    })
    .map(|s: &str| s.to_ascii_uppercase())
    .parse(i)
}

/// A list of classes written together or apart: `G`, `BG`, `B,G` are all accepted as words.
fn classes(i: &str) -> IResult<&str, Vec<char>> {
    all_consuming(separated_list1(tag(","), nom::multi::many1(class)))
        .map(|v| v.into_iter().flatten().collect())
        .parse(i)
}

impl Config {
    /// Parses the file's text; errors name the file and line.
    pub fn parse(text: &str, path: &Path) -> Result<Config, FileError> {
        let mut c = Config::default();
        let mut seen_auth = false;
        for (line, stmt) in statements(text, path)? {
            let Some(s) = Stmt::new(path, line, &stmt) else {
                continue;
            };
            match s.kw.as_str() {
                "AUTHORIZE" => {
                    if !seen_auth {
                        c.authorized.clear();
                        seen_auth = true;
                    }
                    s.userids(&s.ops, &mut c.authorized)?;
                }
                "IMAPSERVER" => c.imap_server = s.userid(s.one()?)?,
                "TIMEOUT" => c.timeout_secs = s.number(1, 600)?,
                "AUDIT" => {
                    let (dir, file) = match s.ops.as_slice() {
                        [d] => (d, None),
                        [d, f, t] => (d, Some((f, t))),
                        _ => return Err(s.fail("takes a directory id, then a file name and type")),
                    };
                    let pool = PoolName::parse("VMSYSU").expect("a pool name");
                    if !dir.contains(':') {
                        return Err(s.fail(format!("{dir} does not name its file pool (pool:)")));
                    }
                    c.audit.dir = DirId::parse(dir, &pool).map_err(|e| s.fail(e))?;
                    if let Some((f, t)) = file {
                        c.audit.fname = whole(f, file_part)
                            .ok_or_else(|| s.fail(format!("{f} is not a file name")))?;
                        c.audit.ftype = whole(t, file_part)
                            .ok_or_else(|| s.fail(format!("{t} is not a file type")))?;
                    }
                }
                "AUTOENROLL" => match s.ops.split_first() {
                    Some((k, rest)) if k.eq_ignore_ascii_case("CLASS") => {
                        if rest.is_empty() {
                            return Err(s.fail("CLASS names at least one privilege class"));
                        }
                        for r in rest {
                            let cl = whole(r, classes).ok_or_else(|| {
                                s.fail(format!("{r} is not a privilege class (A-Z, 0-9)"))
                            })?;
                            for ch in cl {
                                if !c.autoenroll.classes.contains(&ch) {
                                    c.autoenroll.classes.push(ch);
                                }
                            }
                        }
                    }
                    Some((k, rest)) if k.eq_ignore_ascii_case("USERS") => {
                        s.userids(rest, &mut c.autoenroll.users)?
                    }
                    _ => return Err(s.fail("AUTOENROLL CLASS class… or AUTOENROLL USERS userid…")),
                },
                "BLOCKS" => c.autoenroll.blocks = Some(s.number(1, (1 << 40) - 1)?),
                "RESULTCLASS" => {
                    let v = s.one()?;
                    c.result_class = whole(v, class)
                        .and_then(Class::new)
                        .ok_or_else(|| s.fail(format!("{v} is not a spool class (A-Z, 0-9)")))?;
                }
                other => return Err(err(path, line, format!("unknown statement {other}"))),
            }
        }
        Ok(c)
    }

    /// Whether `u` may give requests.
    pub fn is_authorized(&self, u: &UserId) -> bool {
        self.authorized.contains(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_gives_the_defaults() {
        let c = Config::parse(&default_text(), Path::new(IMAPADM_CONFIG)).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.audit.to_string(), "VMSYSU:IMAPADM.AUDIT IMAPADM AUDITLOG");
        assert!(c.is_authorized(&uid("MAINT")));
        assert!(!c.is_authorized(&uid("DEMO")));
        assert!(c.autoenroll.is_empty());
    }

    #[test]
    fn statements_and_their_errors() {
        let p = Path::new(IMAPADM_CONFIG);
        let c = Config::parse(
            "authorize OPS1 /* x */\nAUTHORIZE MAINT,\n OPS1\nIMAPSERVER IMAP2\nTIMEOUT 5\n\
             AUDIT VMSYSU:IMAPADM.LOG.DAILY ADM LOG\nAUTOENROLL CLASS G,B\nAUTOENROLL USERS DEMO\n\
             AUTOENROLL CLASS bg\nBLOCKS 100\nRESULTCLASS m",
            p,
        )
        .unwrap();
        assert_eq!(c.authorized, [uid("OPS1"), uid("MAINT")]);
        assert_eq!(c.imap_server, uid("IMAP2"));
        assert_eq!(c.timeout_secs, 5);
        assert_eq!(c.audit.to_string(), "VMSYSU:IMAPADM.LOG.DAILY ADM LOG");
        assert_eq!(c.autoenroll.classes, ['G', 'B']);
        assert_eq!(c.autoenroll.users, [uid("DEMO")]);
        assert_eq!(c.autoenroll.blocks, Some(100));
        assert_eq!(c.result_class, Class::new('M').unwrap());
        for (bad, line, what) in [
            ("AUTHORIZE", 1, "at least one"),
            ("\nAUTHORIZE toolonguserid", 2, "not a userid"),
            ("TIMEOUT 0", 1, "between"),
            ("TIMEOUT 5s", 1, "not a number"),
            ("AUDIT IMAPADM.AUDIT", 1, "file pool"),
            ("AUDIT VMSYSU:IMAPADM.AUDIT X", 1, "file name and type"),
            ("AUDIT VMSYSU:IMAPADM.AUDIT LONGFILENAME X", 1, "file name"),
            ("AUDIT VMSYSU:bad..dir", 1, "AUDIT"),
            ("AUTOENROLL EVERYONE", 1, "AUTOENROLL CLASS"),
            ("AUTOENROLL CLASS", 1, "privilege class"),
            ("AUTOENROLL CLASS %", 1, "privilege class"),
            ("\n\nBLOCKS none", 3, "not a number"),
            ("RESULTCLASS AB", 1, "spool class"),
            ("BOGUS 1", 1, "unknown statement BOGUS"),
            ("/* open", 1, "comment"),
        ] {
            let e = Config::parse(bad, p).unwrap_err();
            assert_eq!(e.line, line, "{bad}");
            assert!(e.msg.contains(what), "{bad}: {}", e.msg);
        }
    }
}
