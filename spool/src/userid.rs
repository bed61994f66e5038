//! VM user identifiers.

use std::fmt;

/// A VM userid: 1–8 characters of `A–Z 0–9 @ # $ _ -`, kept in upper case.
///
/// CP folds command input to upper case, so `UserId::parse("maint")` is `MAINT`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why a string is not a userid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    /// Empty.
    #[error("userid missing")]
    Empty,
    /// More than 8 characters.
    #[error("userid {0} is longer than 8 characters")]
    TooLong(String),
    /// A character outside the allowed set.
    #[error("userid {0} contains an invalid character")]
    BadChar(String),
}

impl UserId {
    /// Parses and upper-cases a userid.
    pub fn parse(s: &str) -> Result<UserId, UserIdError> {
        if s.is_empty() {
            return Err(UserIdError::Empty);
        }
        if s.chars().count() > 8 {
            return Err(UserIdError::TooLong(s.chars().take(16).collect()));
        }
        let up = s.to_ascii_uppercase();
        if !up
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"@#$_-".contains(&b))
        {
            return Err(UserIdError::BadChar(up));
        }
        Ok(UserId(up))
    }

    /// The userid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The userid padded with blanks to 8 columns, as CP displays it.
    pub fn padded(&self) -> String {
        format!("{:<8}", self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_validates() {
        assert_eq!(UserId::parse("maint").unwrap().as_str(), "MAINT");
        assert_eq!(UserId::parse("").unwrap_err(), UserIdError::Empty);
        assert!(matches!(
            UserId::parse("TOOLONGID"),
            Err(UserIdError::TooLong(_))
        ));
        assert!(matches!(UserId::parse("a b"), Err(UserIdError::BadChar(_))));
        assert_eq!(UserId::parse("$ALLOC$").unwrap().padded(), "$ALLOC$ ");
    }
}
