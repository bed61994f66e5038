//! CP privilege classes.

use std::fmt;

/// A set of privilege classes `A`–`Z` and `1`–`6`. IBM's defaults: A system operator, B system
/// resource operator, C system programmer, D spooling operator, E system analyst, F service
/// representative, G general user.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct PrivClasses(u32);

impl PrivClasses {
    /// No classes.
    pub const NONE: PrivClasses = PrivClasses(0);

    fn bit(c: char) -> Option<u32> {
        match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => Some(1 << (c as u32 - 'A' as u32)),
            c @ '1'..='6' => Some(1 << (26 + c as u32 - '1' as u32)),
            _ => None,
        }
    }

    /// Parses a class string such as `ABCDEG`; `Err(c)` names the first invalid character.
    pub fn parse(s: &str) -> Result<PrivClasses, char> {
        let mut v = 0;
        for c in s.chars() {
            v |= Self::bit(c).ok_or(c)?;
        }
        Ok(PrivClasses(v))
    }

    /// Whether the set includes class `c`.
    pub fn has(self, c: char) -> bool {
        Self::bit(c).is_some_and(|b| self.0 & b != 0)
    }

    /// Whether the set includes any class of `classes` (a class string; `*` in it means any
    /// class at all, i.e. every logged-on user).
    pub fn any_of(self, classes: &str) -> bool {
        classes == "*" || classes.chars().any(|c| self.has(c))
    }
}

impl fmt::Display for PrivClasses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in ('A'..='Z').chain('1'..='6') {
            if self.has(c) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PrivClasses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivClasses({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_test() {
        let p = PrivClasses::parse("abcdeg").unwrap();
        assert!(p.has('A') && p.has('G') && !p.has('F'));
        assert_eq!(p.to_string(), "ABCDEG");
        assert!(p.any_of("DG"));
        assert!(!PrivClasses::parse("G").unwrap().any_of("A"));
        assert_eq!(PrivClasses::parse("G!"), Err('!'));
    }
}
