//! File pool administration from CMS: `ENROLL USER`, `DELETE USER`, `MODIFY USER`.
//!
//! ```text
//! enroll = "ENROLL" "USER" userid [pool ":"] ["(" "BLOCKS" decimal]
//! delete = "DELETE" "USER" userid [pool ":"]
//! modify = "MODIFY" "USER" ["+" / "-"] decimal "FOR" userid [pool ":"]
//! ```

use spool::UserId;

use super::options;
use crate::{
    cms::CmsEnv,
    grammar::{Cursor, decimal, whole},
    sfs::{DmsError, PoolName},
};

fn pool_arg(env: &CmsEnv<'_>, t: Option<&str>) -> Result<PoolName, DmsError> {
    match t {
        Some(p) if !p.starts_with('(') => PoolName::parse(p),
        _ => Ok(env.default_pool.clone()),
    }
}

fn done(env: &CmsEnv<'_>, r: Result<(), DmsError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            env.say(&e.to_string());
            e.rc()
        }
    }
}

fn user_arg(env: &CmsEnv<'_>, t: Option<&str>) -> Option<UserId> {
    match t.map(UserId::parse) {
        Some(Ok(u)) => Some(u),
        _ => {
            env.say("DMSENR020E Userid missing or invalid");
            None
        }
    }
}

/// `ENROLL USER`
pub fn enroll(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if !c.keyword("USER", 4) {
        env.say("DMSENR003E ENROLL USER expected");
        return 24;
    }
    let Some(user) = user_arg(env, c.next_token()) else {
        return 24;
    };
    let pool_tok = c.peek().filter(|t| !t.starts_with('(')).map(str::to_string);
    if pool_tok.is_some() {
        c.next_token();
    }
    let mut blocks = None;
    let opts = options(c);
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        if o == "BLOCKS" || o == "BLOCK" || o == "BL" {
            match it.next().and_then(|v| whole(v, decimal)) {
                Some(n) => blocks = Some(n),
                None => {
                    env.say("DMSENR026E BLOCKS value missing or invalid");
                    return 24;
                }
            }
        } else {
            env.say(&format!("DMSENR003E Invalid option: {o}"));
            return 24;
        }
    }
    let r = (|| {
        let pool = pool_arg(env, pool_tok.as_deref())?;
        env.sfs(&pool)?.enroll(&user, blocks)
    })();
    done(env, r)
}

/// `DELETE USER` (called by DELETE after the USER keyword).
pub fn delete(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    let Some(user) = user_arg(env, c.next_token()) else {
        return 24;
    };
    let p = c.next_token().map(str::to_string);
    let r = (|| {
        let pool = pool_arg(env, p.as_deref())?;
        env.sfs(&pool)?.delete_user(&user)
    })();
    done(env, r)
}

/// `MODIFY USER`
pub fn modify(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if !c.keyword("USER", 4) {
        env.say("DMSMOD003E MODIFY USER expected");
        return 24;
    }
    let Some(n) = c.next_token() else {
        env.say("DMSMOD026E Blocks missing");
        return 24;
    };
    let (sign, digits) = match n.as_bytes()[0] {
        b'+' => (1i64, &n[1..]),
        b'-' => (-1, &n[1..]),
        _ => (0, n),
    };
    let Some(v) = whole(digits, decimal) else {
        env.say(&format!("DMSMOD026E Invalid number of blocks {n}"));
        return 24;
    };
    if !c.keyword("FOR", 3) {
        env.say("DMSMOD054E FOR userid missing");
        return 24;
    }
    let Some(user) = user_arg(env, c.next_token()) else {
        return 24;
    };
    let p = c.next_token().map(str::to_string);
    let r = (|| {
        let pool = pool_arg(env, p.as_deref())?;
        let client = env.sfs(&pool)?;
        let new = match sign {
            0 => v,
            s => {
                let cur = client.query_limits(&user)?.limit as i64;
                (cur + s * v as i64).max(0) as u64
            }
        };
        client.modify(&user, new)
    })();
    done(env, r)
}
