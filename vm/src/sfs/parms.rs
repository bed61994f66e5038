//! `VMSERVS DMSPARMS`: the file pools the server serves, in VM statement syntax.
//!
//! ```text
//! parms     = *( pool-stmt / stmt / comment / blank )
//! pool-stmt = "FILEPOOLID" pool                    ; starts a pool; what follows applies to it
//! stmt      = "ADMIN" 1*userid                     ; file pool administrators
//!           / "CONNECT" ("ENROLLED" / "ADMIN")     ; who may connect (default ENROLLED)
//!           / "DEFBLOCKS" decimal                   ; 4K blocks for ENROLL without BLOCKS
//!           / "ENROLL" userid ["BLOCKS" decimal]    ; enrolled at server start if not yet
//! ```
//!
//! `CONNECT ADMIN` is vmimap's statement for a pool only its administrators may reach: the mail
//! store, which only the IMAP server may touch (vm-mail.md §2.2).

use std::path::Path;

use spool::UserId;

use super::{
    ids::PoolName,
    pool::{ConnectRule, PoolConfig},
};
use crate::{
    config::{err, statements},
    directory::FileError,
    grammar::{Cursor, decimal, whole},
};

/// Name of the file in the system folder.
pub const DMSPARMS: &str = "VMSERVS DMSPARMS";

/// The DMSPARMS first IPL writes.
pub fn default_text(mailpool: &str) -> String {
    format!(
        "\
/**********************************************************************/
/* VMSERVS DMSPARMS: the file pools the SFS server VMSERVS serves.    */
/**********************************************************************/

/* The user pool: anyone enrolled (or granted authority) may connect; */
/* IMAPADM is enrolled at first start for its audit log.              */
FILEPOOLID VMSYSU
  ADMIN MAINT
  CONNECT ENROLLED
  DEFBLOCKS 2560
  ENROLL IMAPADM BLOCKS 1024

/* The mail store: only its administrator, the IMAP server, connects. */
FILEPOOLID {mailpool}
  ADMIN IMAP
  CONNECT ADMIN
  DEFBLOCKS 25600
"
    )
}

/// Parses DMSPARMS.
pub fn parse(text: &str, path: &Path) -> Result<Vec<PoolConfig>, FileError> {
    let mut pools: Vec<PoolConfig> = Vec::new();
    for (n, stmt) in statements(text, path)? {
        let mut c = Cursor::new(&stmt);
        let kw = c.next_token().unwrap_or("").to_ascii_uppercase();
        let e = |m: String| err(path, n, m);
        if kw == "FILEPOOLID" {
            let name = c
                .next_token()
                .ok_or_else(|| e("pool name missing".into()))?;
            let name = PoolName::parse(name).map_err(|x| e(x.to_string()))?;
            if pools.iter().any(|p| p.name == name) {
                return Err(e(format!("file pool {name} defined twice")));
            }
            pools.push(PoolConfig {
                name,
                admins: Vec::new(),
                connect: ConnectRule::Enrolled,
                default_blocks: 2560,
                enroll: Vec::new(),
            });
        } else {
            let Some(p) = pools.last_mut() else {
                return Err(e(format!("{kw} before the first FILEPOOLID")));
            };
            match kw.as_str() {
                "ADMIN" => {
                    let ids = c.remaining();
                    if ids.is_empty() {
                        return Err(e("ADMIN userids missing".into()));
                    }
                    for id in ids {
                        p.admins
                            .push(UserId::parse(id).map_err(|x| e(format!("ADMIN: {x}")))?);
                    }
                }
                "CONNECT" => {
                    p.connect = if c.keyword("ENROLLED", 3) {
                        ConnectRule::Enrolled
                    } else if c.keyword("ADMIN", 3) {
                        ConnectRule::Admin
                    } else {
                        return Err(e("CONNECT ENROLLED or CONNECT ADMIN expected".into()));
                    };
                }
                "DEFBLOCKS" => {
                    let v = c
                        .next_token()
                        .ok_or_else(|| e("DEFBLOCKS value missing".into()))?;
                    p.default_blocks = whole(v, decimal)
                        .filter(|b| *b > 0)
                        .ok_or_else(|| e(format!("invalid DEFBLOCKS {v}")))?;
                }
                "ENROLL" => {
                    let id = c
                        .next_token()
                        .ok_or_else(|| e("ENROLL userid missing".into()))?;
                    let user = UserId::parse(id).map_err(|x| e(format!("ENROLL: {x}")))?;
                    let blocks = if c.keyword("BLOCKS", 6) {
                        let v = c
                            .next_token()
                            .ok_or_else(|| e("ENROLL BLOCKS value missing".into()))?;
                        Some(
                            whole(v, decimal)
                                .filter(|b| *b > 0)
                                .ok_or_else(|| e(format!("invalid BLOCKS {v}")))?,
                        )
                    } else {
                        None
                    };
                    if p.enroll.iter().any(|(u, _)| *u == user) {
                        return Err(e(format!("{user} is enrolled twice")));
                    }
                    p.enroll.push((user, blocks));
                }
                _ => return Err(e(format!("unknown statement {kw}"))),
            }
        }
        if let Some(t) = c.next_token() {
            return Err(err(path, n, format!("unexpected operand {t}")));
        }
    }
    if pools.is_empty() {
        return Err(err(path, 0, "no FILEPOOLID statement"));
    }
    Ok(pools)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_and_errors_name_lines() {
        let p = parse(&default_text("MAILPOOL"), Path::new(DMSPARMS)).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].connect, ConnectRule::Admin);
        assert_eq!(p[1].admins[0].as_str(), "IMAP");
        let e = parse("ADMIN MAINT\n", Path::new(DMSPARMS)).unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("FILEPOOLID A\nCONNECT NOBODY\n", Path::new(DMSPARMS)).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(p[0].enroll.len(), 1);
        assert_eq!(p[0].enroll[0].0.as_str(), "IMAPADM");
        assert_eq!(p[0].enroll[0].1, Some(1024));
        let e = parse("FILEPOOLID A\nENROLL X BLOCKS\n", Path::new(DMSPARMS)).unwrap_err();
        assert_eq!((e.line, e.msg.as_str()), (2, "ENROLL BLOCKS value missing"));
        let e = parse("FILEPOOLID A\nENROLL X\nENROLL x\n", Path::new(DMSPARMS)).unwrap_err();
        assert_eq!(e.line, 3);
    }
}
