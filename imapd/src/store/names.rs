//! Mailbox names: the user's view of the folder tree.
//!
//! ```text
//! name      = "INBOX" / component *("/" component)    ; INBOX in any case is INBOX
//! component = 1*(any Unicode scalar except "/", controls, "%" and "*")   ; not "." or ".."
//! ```
//!
//! Names live only in the user's folder list; folder directories in SFS are numbered
//! (`F0000001`…), so no name can reach outside the user's own file space. Names that look like
//! attempts to (a leading `/`, `..` components, `~user`, `#namespace`) are refused with a clear
//! reason all the same, as are names a client could not use back.

/// The hierarchy delimiter.
pub const DELIM: char = '/';

/// The longest name, in bytes.
pub const MAX_NAME: usize = 512;

/// The deepest hierarchy.
pub const MAX_DEPTH: usize = 32;

/// Checks and normalises a mailbox name (INBOX's case; a trailing delimiter dropped, as CREATE
/// allows). The error is a reason to put in a NO response.
pub fn normalise(name: &str) -> Result<String, String> {
    let name = name.strip_suffix(DELIM).unwrap_or(name);
    if name.is_empty() {
        return Err("empty mailbox name".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!("mailbox name longer than {MAX_NAME} bytes"));
    }
    if name.starts_with(DELIM) {
        return Err("mailbox names are relative to your own folders; no leading /".into());
    }
    if name.starts_with('~') || name.starts_with('#') {
        return Err("only your own personal namespace exists here".into());
    }
    let comps: Vec<&str> = name.split(DELIM).collect();
    if comps.len() > MAX_DEPTH {
        return Err(format!("mailbox hierarchy deeper than {MAX_DEPTH} levels"));
    }
    for c in &comps {
        if c.is_empty() {
            return Err("empty level in mailbox name".into());
        }
        if *c == "." || *c == ".." {
            return Err(format!("'{c}' is not allowed as a mailbox name level"));
        }
        if c.chars()
            .any(|ch| ch.is_control() || ch == '%' || ch == '*')
        {
            return Err("mailbox names may not contain controls, % or *".into());
        }
    }
    if comps[0].eq_ignore_ascii_case("INBOX") {
        let mut s = String::from("INBOX");
        for c in &comps[1..] {
            s.push(DELIM);
            s.push_str(c);
        }
        return Ok(s);
    }
    Ok(name.to_string())
}

/// Whether `name` is `parent` or below it.
pub fn is_within(name: &str, parent: &str) -> bool {
    name == parent
        || (name.len() > parent.len()
            && name.starts_with(parent)
            && name[parent.len()..].starts_with(DELIM))
}

/// The names above `name` (`a/b/c` → `a`, `a/b`).
pub fn ancestors(name: &str) -> Vec<&str> {
    name.match_indices(DELIM).map(|(i, _)| &name[..i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(normalise("inbox").unwrap(), "INBOX");
        assert_eq!(normalise("Inbox/Sub").unwrap(), "INBOX/Sub");
        assert_eq!(normalise("Work/").unwrap(), "Work");
        assert_eq!(normalise("Entwürfe").unwrap(), "Entwürfe");
        for bad in [
            "",
            "/",
            "/etc",
            "../MAINT",
            "a/../b",
            "a//b",
            "~MAINT/INBOX",
            "#shared",
            "a*b",
            "a\x01",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?} accepted");
        }
        assert!(is_within("a/b", "a") && is_within("a", "a") && !is_within("ab", "a"));
        assert_eq!(ancestors("a/b/c"), vec!["a", "a/b"]);
    }
}
