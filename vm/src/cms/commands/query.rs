//! CMS `QUERY`: accessed disks and SFS information; anything else is CP's QUERY.
//!
//! ```text
//! query = "QUERY" ( "ACCESSED" / "DISK" [fm]
//!                 / "LIMITS" ["FOR" (userid / "ALL")] [pool ":"]
//!                 / "ENROLL" ["USER" (userid / "ALL")] ["FOR" pool ":"]
//!                 / "AUTHORITY" (dirid / fn ft (dirid / fm))
//!                 / "FILEPOOL" )
//! ```

use spool::UserId;

use super::grant::target;
use crate::{
    cms::CmsEnv,
    grammar::Cursor,
    sfs::{DmsError, Grantee, Limits, PoolName},
};

fn limits_lines(v: &[Limits]) -> Vec<String> {
    let mut out =
        vec!["Userid   Storage Group  4K Block Limit  4K Blocks Committed  Threshold".to_string()];
    for l in v {
        let pct = (l.used * 100).checked_div(l.limit).unwrap_or(0).min(99);
        out.push(format!(
            "{:<8} {:>13}  {:>14}  {:>19}  {:>9}",
            l.user.as_str(),
            2,
            l.limit,
            format!("{}-{:02}%", l.used, pct),
            "90%"
        ));
    }
    out
}

fn show(env: &CmsEnv<'_>, r: Result<Vec<String>, DmsError>) -> i32 {
    match r {
        Ok(lines) => {
            for l in lines {
                env.say(&l);
            }
            0
        }
        Err(e) => {
            env.say(&e.to_string());
            e.rc()
        }
    }
}

/// `QUERY`
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>, line: &str) -> i32 {
    if c.keyword("ACCESSED", 3) || c.keyword("DISK", 4) {
        let mut lines = vec!["Mode  Stat  Files  Vdev  Label/Directory".to_string()];
        for (l, d) in &env.disks {
            let files = d.list().map(|v| v.len()).unwrap_or(0);
            let (vdev, label) = match d.sfs_dirid() {
                Some(id) => ("DIR".to_string(), id.to_string()),
                None => (d.label(), d.volid()),
            };
            lines.push(format!(
                "{l}     {}  {files:>5}  {vdev:<4}  {label}",
                if d.writable() { "R/W" } else { "R/O" }
            ));
        }
        return show(env, Ok(lines));
    }
    if c.keyword("LIMITS", 3) {
        let mut who: Option<Option<UserId>> = None;
        let mut pool = env.default_pool.clone();
        while let Some(t) = c.next_token() {
            if t.eq_ignore_ascii_case("FOR") {
                who = match c.next_token() {
                    Some(a) if a.eq_ignore_ascii_case("ALL") => Some(None),
                    Some(u) => match UserId::parse(u) {
                        Ok(u) => Some(Some(u)),
                        Err(e) => return show(env, Err(DmsError::InvalidDirId(e.to_string()))),
                    },
                    None => {
                        return show(
                            env,
                            Err(DmsError::InvalidDirId("FOR userid missing".into())),
                        );
                    }
                };
            } else {
                match PoolName::parse(t) {
                    Ok(p) => pool = p,
                    Err(e) => return show(env, Err(e)),
                }
            }
        }
        let me = env.vm.userid().clone();
        let r = (|| {
            let client = env.sfs(&pool)?;
            let v = match who {
                None => vec![client.query_limits(&me)?],
                Some(Some(u)) => vec![client.query_limits(&u)?],
                Some(None) => client.query_enroll()?,
            };
            Ok(limits_lines(&v))
        })();
        return show(env, r);
    }
    if c.keyword("ENROLL", 3) {
        let mut user: Option<UserId> = None;
        let mut pool = env.default_pool.clone();
        while let Some(t) = c.next_token() {
            if t.eq_ignore_ascii_case("USER") {
                if let Some(u) = c.next_token()
                    && !u.eq_ignore_ascii_case("ALL")
                {
                    user = UserId::parse(u).ok();
                }
            } else if t.eq_ignore_ascii_case("FOR") {
                match c.next_token().map(PoolName::parse) {
                    Some(Ok(p)) => pool = p,
                    Some(Err(e)) => return show(env, Err(e)),
                    None => {}
                }
            } else {
                match PoolName::parse(t) {
                    Ok(p) => pool = p,
                    Err(e) => return show(env, Err(e)),
                }
            }
        }
        let r = (|| {
            let v: Vec<Limits> = env
                .sfs(&pool)?
                .query_enroll()?
                .into_iter()
                .filter(|l| user.as_ref().is_none_or(|u| &l.user == u))
                .collect();
            let mut out = vec![format!("File pool {pool}:")];
            out.extend(limits_lines(&v));
            Ok(out)
        })();
        return show(env, r);
    }
    if c.keyword("AUTHORITY", 4) {
        let words = c.remaining();
        let r = (|| {
            let (d, file) = target(env, &words)?;
            let g = env.sfs(&d.pool)?.query_auth(
                &d.path,
                file.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )?;
            let mut out = vec![match &file {
                Some((f, t)) => format!("FILE = {f} {t} {d}"),
                None => format!("DIRECTORY = {d}"),
            }];
            if g.is_empty() {
                out.push("  No authorities granted".into());
            }
            for (who, a) in g {
                let name = match who {
                    Grantee::Public => "PUBLIC".to_string(),
                    Grantee::User(u) => u.to_string(),
                };
                out.push(format!("  {name:<8} {}", a.names().join(" ")));
            }
            Ok(out)
        })();
        return show(env, r);
    }
    if c.keyword("FILEPOOL", 4) {
        let pools = env.vm.sfs_pools();
        let mut out = vec!["File pool  Server    Status".to_string()];
        for (p, s, up) in pools {
            out.push(format!(
                "{:<10} {:<8}  {}",
                p.as_str(),
                s.as_str(),
                if up { "available" } else { "not available" }
            ));
        }
        return show(env, Ok(out));
    }
    // Not a CMS QUERY: CP's.
    let r = env.vm.cp(line);
    for l in &r.lines {
        env.say(l);
    }
    r.rc
}
