//! One statement of a guest's configuration file (SMTP CONFIG, IMAPADM CONFIG…) with the checks
//! their parsers share; every error names the file, the line and the keyword.
//!
//! ```text
//! stmt = keyword *(SP operand)
//! ```

use std::path::Path;

use super::err;
use crate::{
    directory::{FileError, UserId},
    grammar::{decimal, whole},
};

/// A statement and where it is.
#[derive(Debug)]
pub struct Stmt<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its 1-based line.
    pub line: usize,
    /// The keyword, upper case.
    pub kw: String,
    /// The operands.
    pub ops: Vec<&'a str>,
    /// The whole statement as written.
    pub text: &'a str,
}

impl<'a> Stmt<'a> {
    /// Splits a statement (as [`super::statements`] gives it); `None` for an empty one.
    pub fn new(path: &'a Path, line: usize, text: &'a str) -> Option<Stmt<'a>> {
        let mut toks = text.split_whitespace();
        let kw = toks.next()?.to_ascii_uppercase();
        Some(Stmt {
            path,
            line,
            kw,
            ops: toks.collect(),
            text,
        })
    }

    /// An error about this statement.
    pub fn fail(&self, msg: impl std::fmt::Display) -> FileError {
        err(self.path, self.line, format!("{}: {msg}", self.kw))
    }

    /// The single operand.
    pub fn one(&self) -> Result<&'a str, FileError> {
        match self.ops.as_slice() {
            [v] => Ok(v),
            _ => Err(self.fail("takes one operand")),
        }
    }

    /// The single operand as a decimal number in `lo..=hi`.
    pub fn number(&self, lo: u64, hi: u64) -> Result<u64, FileError> {
        let v = self.one()?;
        let n = whole(v, decimal).ok_or_else(|| self.fail(format!("{v} is not a number")))?;
        if !(lo..=hi).contains(&n) {
            return Err(self.fail(format!("{n} is not between {lo} and {hi}")));
        }
        Ok(n)
    }

    /// The single operand as ON or OFF.
    pub fn on_off(&self) -> Result<bool, FileError> {
        match self.one()?.to_ascii_uppercase().as_str() {
            "ON" => Ok(true),
            "OFF" => Ok(false),
            v => Err(self.fail(format!("{v} is not ON or OFF"))),
        }
    }

    /// An operand as a userid.
    pub fn userid(&self, v: &str) -> Result<UserId, FileError> {
        UserId::parse(v).map_err(|_| self.fail(format!("{v} is not a userid")))
    }

    /// Operands as userids, added to `into` unless already there; at least one.
    pub fn userids(&self, ops: &[&str], into: &mut Vec<UserId>) -> Result<(), FileError> {
        if ops.is_empty() {
            return Err(self.fail("names at least one userid"));
        }
        for o in ops {
            let u = self.userid(o)?;
            if !into.contains(&u) {
                into.push(u);
            }
        }
        Ok(())
    }

    /// The text after the keyword, for statements whose operand is a phrase.
    pub fn rest(&self) -> &'a str {
        let t = self.text.trim_start();
        t[t.find(char::is_whitespace).unwrap_or(t.len())..].trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_line_and_keyword() {
        let p = Path::new("X CONFIG");
        let s = Stmt::new(p, 4, "timeout 700").unwrap();
        assert_eq!(s.kw, "TIMEOUT");
        let e = s.number(1, 600).unwrap_err();
        assert_eq!(
            (e.line, e.msg.as_str()),
            (4, "TIMEOUT: 700 is not between 1 and 600")
        );
        let s = Stmt::new(p, 5, "VERB maybe").unwrap();
        assert_eq!(s.on_off().unwrap_err().msg, "VERB: MAYBE is not ON or OFF");
        let s = Stmt::new(p, 6, "HOSTNAME  a b  ").unwrap();
        assert_eq!(s.rest(), "a b");
        assert!(s.one().is_err());
        let mut ids = Vec::new();
        let s = Stmt::new(p, 7, "AUTH maint MAINT").unwrap();
        s.userids(&s.ops, &mut ids).unwrap();
        assert_eq!(ids.len(), 1);
        assert!(Stmt::new(p, 8, "   ").is_none());
    }
}
