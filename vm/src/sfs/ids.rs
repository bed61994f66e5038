//! SFS names: file pools, directory ids and file ids.
//!
//! ```text
//! dirid     = [pool ":"] owner "." [component *("." component)]
//! pool      = 1*8(ALPHA / DIGIT)
//! owner     = userid
//! component = 1*16(ALPHA / DIGIT / "$" / "#" / "@" / "+" / "-" / "_")
//! ```
//!
//! A directory id names at most 8 levels below the top directory and is at most 153 characters.
//! Names are folded to upper case, as CMS folds command input.

use nom::{
    IResult, Parser,
    bytes::complete::{tag, take_while_m_n},
    combinator::{all_consuming, opt},
    multi::separated_list0,
};
use spool::UserId;

use super::errors::DmsError;

/// Most directory levels below the top directory.
pub const MAX_LEVELS: usize = 8;
/// Longest directory id.
pub const MAX_DIRID: usize = 153;

/// A file pool name, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolName(String);

impl PoolName {
    /// Parses a pool name (a trailing `:` is allowed).
    pub fn parse(s: &str) -> Result<PoolName, DmsError> {
        let s = s.strip_suffix(':').unwrap_or(s);
        match all_consuming(pool).parse(s) {
            Ok((_, p)) => Ok(PoolName(p.to_ascii_uppercase())),
            Err(_) => Err(DmsError::InvalidPool(s.to_string())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PoolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `pool = 1*8(ALPHA / DIGIT)`
fn pool(i: &str) -> IResult<&str, &str> {
    take_while_m_n(1, 8, |c: char| c.is_ascii_alphanumeric()).parse(i)
}

/// `owner = userid`
fn owner(i: &str) -> IResult<&str, &str> {
    crate::grammar::userid(i)
}

/// `component = 1*16 dir-char`
fn component(i: &str) -> IResult<&str, &str> {
    take_while_m_n(1, 16, |c: char| {
        c.is_ascii_alphanumeric() || "$#@+-_".contains(c)
    })
    .parse(i)
}

/// A directory: an owner's top directory and a path of subdirectory names below it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirPath {
    /// The owner of the file space.
    pub owner: UserId,
    /// Subdirectory names from the top, upper case.
    pub comps: Vec<String>,
}

impl DirPath {
    /// The owner's top directory.
    pub fn top(owner: UserId) -> DirPath {
        DirPath {
            owner,
            comps: Vec::new(),
        }
    }

    /// The catalog key: `OWNER` or `OWNER.A.B`.
    pub fn key(&self) -> String {
        let mut k = self.owner.as_str().to_string();
        for c in &self.comps {
            k.push('.');
            k.push_str(c);
        }
        k
    }

    /// The directory above, if this is not a top directory.
    pub fn parent(&self) -> Option<DirPath> {
        if self.comps.is_empty() {
            return None;
        }
        let mut p = self.clone();
        p.comps.pop();
        Some(p)
    }

    /// A subdirectory of this one.
    pub fn child(&self, name: &str) -> DirPath {
        let mut p = self.clone();
        p.comps.push(name.to_ascii_uppercase());
        p
    }

    /// The display form `OWNER.` / `OWNER.A.B` (without the pool).
    pub fn display(&self) -> String {
        if self.comps.is_empty() {
            format!("{}.", self.owner)
        } else {
            self.key()
        }
    }
}

/// A directory id with its pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirId {
    /// The file pool.
    pub pool: PoolName,
    /// The directory.
    pub path: DirPath,
}

impl std::fmt::Display for DirId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.pool, self.path.display())
    }
}

impl DirId {
    /// Parses `[pool:]owner.[a.b…]`; `default_pool` is used when no pool is given.
    pub fn parse(s: &str, default_pool: &PoolName) -> Result<DirId, DmsError> {
        let bad = |why: &str| DmsError::InvalidDirId(format!("{s}: {why}"));
        if s.len() > MAX_DIRID + 9 {
            return Err(bad("longer than 153 characters"));
        }
        let (pool_part, rest) = match s.split_once(':') {
            Some((p, r)) => (Some(p), r),
            None => (None, s),
        };
        let pool = match pool_part {
            Some(p) => PoolName::parse(p)?,
            None => default_pool.clone(),
        };
        if rest.len() > MAX_DIRID {
            return Err(bad("longer than 153 characters"));
        }
        // dirpath = owner "." [component *("." component)]   |   owner
        let res: IResult<&str, (&str, Option<Vec<&str>>)> = all_consuming((
            owner,
            opt(nom::sequence::preceded(
                tag("."),
                separated_list0(tag("."), component),
            )),
        ))
        .parse(rest);
        let (_, (o, comps)) = res.map_err(|_| {
            if rest.split('.').any(|c| c.len() > 16) {
                bad("a directory name is longer than 16 characters")
            } else {
                bad("not of the form [pool:]userid.[dir.dir…]")
            }
        })?;
        let owner = UserId::parse(o).map_err(|e| bad(&e.to_string()))?;
        let comps: Vec<String> = comps
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if comps.len() > MAX_LEVELS {
            return Err(bad("more than 8 directory levels"));
        }
        Ok(DirId {
            pool,
            path: DirPath { owner, comps },
        })
    }
}

/// Validates a file name or type: 1–8 characters of the CMS set, folded to upper case.
pub fn file_part(t: &str, what: &str) -> Result<String, DmsError> {
    crate::cms::fileid::fn_or_ft(t, what).map_err(DmsError::InvalidFileId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirids() {
        let d = PoolName::parse("VMSYSU").unwrap();
        let x = DirId::parse("vmsysu:bob.proj.sub", &d).unwrap();
        assert_eq!(x.to_string(), "VMSYSU:BOB.PROJ.SUB");
        assert_eq!(x.path.parent().unwrap().key(), "BOB.PROJ");
        let top = DirId::parse("BOB.", &d).unwrap();
        assert_eq!(top.to_string(), "VMSYSU:BOB.");
        assert!(top.path.comps.is_empty());
        assert!(DirId::parse("BOB", &d).is_ok());
        assert!(DirId::parse("TOOLONGUSERID.", &d).is_err());
        assert!(DirId::parse("BOB.A..B", &d).is_err());
        assert!(
            DirId::parse("BOB.ABCDEFGHIJKLMNOPQ", &d)
                .unwrap_err()
                .to_string()
                .contains("16")
        );
        assert!(DirId::parse("BOB.A.B.C.D.E.F.G.H.I", &d).is_err());
        assert!(DirId::parse("BAD POOL:BOB.", &d).is_err());
        assert!(DirId::parse("BOB.A/B", &d).is_err());
    }
}
