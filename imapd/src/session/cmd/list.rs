//! LIST (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154,
//! CHILDREN RFC 3348) and LSUB (RFC 3501 §6.3.9).
//!
//! ```text
//! list-wildcards = "%" / "*"       ; "*" matches anything, "%" anything but the delimiter
//! ```
//!
//! The names a LIST can show are the folders, the levels above them that are not folders
//! themselves (`\NonExistent`, or `\Noselect` in the basic form), and for SUBSCRIBED the
//! subscribed names, which need not exist.

use std::collections::{BTreeMap, BTreeSet};

use super::super::{Outcome, Session};
use crate::{
    proto::{
        command::{Cmd, ListReturn, ListSelect},
        utf7,
    },
    store::{
        folders::{FolderList, special},
        names::{DELIM, ancestors, is_within},
    },
};

/// Whether `name` matches `pat` (`*` any run, `%` any run without the delimiter). INBOX is
/// matched without regard to case.
pub fn matches(pat: &str, name: &str) -> bool {
    let name_n: String;
    let pat_n: String;
    let (pat, name) = if name == "INBOX" || name.starts_with("INBOX/") {
        // Let a pattern say "inbox" in any case.
        let p5: String = pat.chars().take(5).collect();
        if p5.eq_ignore_ascii_case("INBOX") {
            pat_n = format!("INBOX{}", &pat[p5.len()..]);
            name_n = name.to_string();
            (pat_n.as_str(), name_n.as_str())
        } else {
            (pat, name)
        }
    } else {
        (pat, name)
    };
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // dp[j]: pattern prefix p[..i] matches name prefix n[..j].
    let mut dp = vec![false; n.len() + 1];
    dp[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        match pc {
            '*' => {
                let mut any = false;
                for j in 0..=n.len() {
                    any |= dp[j];
                    next[j] = any;
                }
            }
            '%' => {
                for j in 0..=n.len() {
                    if dp[j] {
                        next[j] = true;
                        let mut k = j;
                        while k < n.len() && n[k] != DELIM {
                            k += 1;
                            next[k] = true;
                        }
                    }
                }
            }
            c => {
                for j in 0..n.len() {
                    if dp[j] && n[j] == c {
                        next[j + 1] = true;
                    }
                }
            }
        }
        dp = next;
    }
    dp[n.len()]
}

struct Tree<'a> {
    list: &'a FolderList,
}

impl Tree<'_> {
    fn exists(&self, name: &str) -> bool {
        self.list.folders.contains_key(name)
    }

    fn has_children(&self, name: &str) -> bool {
        let prefix = format!("{name}{DELIM}");
        self.list
            .folders
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    fn subscribed(&self, name: &str) -> bool {
        self.list.subscribed.contains(name)
    }

    fn special(&self, name: &str) -> u8 {
        self.list.folders.get(name).map_or(0, |e| e.special)
    }

    /// Folders and the levels above them.
    fn all_names(&self) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for n in self.list.folders.keys() {
            for a in ancestors(n) {
                s.insert(a.to_string());
            }
            s.insert(n.clone());
        }
        s
    }
}

fn write_name(s: &mut Session, name: &str) {
    let enc = utf7::encode(name);
    s.out.astring(enc.as_bytes());
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::List {
        reference,
        patterns,
        select,
        ret,
        lsub,
        extended,
    } = c
    else {
        return Outcome::Bad("LIST".into());
    };
    let what = if *lsub { "LSUB" } else { "LIST" };
    let user = super::util::user(s);
    let list = user.list();
    let tree = Tree { list: &list };
    // `LIST "" ""`: the hierarchy delimiter and root.
    if !*extended && patterns.len() == 1 && patterns[0].is_empty() {
        if !*lsub {
            s.out.text("* LIST (\\Noselect) \"/\" \"\"\r\n");
        }
        return Outcome::done(what);
    }
    let pats: Vec<String> = patterns
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.starts_with(DELIM) || reference.is_empty() {
                p.clone()
            } else {
                format!("{reference}{p}")
            }
        })
        .collect();
    let matched = |n: &str| pats.iter().any(|p| matches(p, n));
    if *lsub {
        lsub_run(s, &tree, &pats);
        return Outcome::done("LSUB");
    }
    // name → (attributes, CHILDINFO)
    let mut rows: BTreeMap<String, (Vec<&'static str>, bool)> = BTreeMap::new();
    let base_subscribed = select.subscribed;
    let candidates: BTreeSet<String> = if base_subscribed {
        let mut c: BTreeSet<String> = list.subscribed.iter().cloned().collect();
        if select.recursive {
            for n in list.subscribed.iter() {
                for a in ancestors(n) {
                    c.insert(a.to_string());
                }
            }
        }
        c
    } else {
        tree.all_names()
    };
    for name in candidates {
        if !matched(&name) {
            continue;
        }
        let exists = tree.exists(&name);
        let sel_ok = selection_ok(&tree, select, &name);
        let mut childinfo = false;
        if !sel_ok {
            // RECURSIVEMATCH: a parent is shown for a descendant that meets the selection but
            // that the patterns do not show themselves.
            if select.recursive && base_subscribed {
                childinfo = list
                    .subscribed
                    .iter()
                    .any(|d| d != &name && is_within(d, &name) && !matched(d));
            }
            if !childinfo {
                continue;
            }
        }
        let mut attrs: Vec<&'static str> = Vec::new();
        if !exists {
            attrs.push(if *extended {
                "\\NonExistent"
            } else {
                "\\Noselect"
            });
        }
        if !*extended || ret.children {
            if tree.has_children(&name) {
                attrs.push("\\HasChildren");
            } else if exists || !*extended {
                attrs.push("\\HasNoChildren");
            }
        }
        if (ret.subscribed || base_subscribed) && tree.subscribed(&name) {
            attrs.push("\\Subscribed");
        }
        if !*extended || ret.special_use || select.special_use {
            attrs.extend(special::names(tree.special(&name)));
        }
        rows.insert(name, (attrs, childinfo));
    }
    for (name, (attrs, childinfo)) in rows {
        s.out
            .text("* LIST (")
            .text(&attrs.join(" "))
            .text(") \"/\" ");
        write_name(s, &name);
        if childinfo {
            s.out.text(" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        s.out.crlf();
        if let Some(items) = &ret.status
            && tree.exists(&name)
            && let Ok(f) = user.folder(&name)
        {
            super::status::write(&mut s.out, &name, &f, items);
        }
    }
    let _: &ListReturn = ret;
    Outcome::done("LIST")
}

fn selection_ok(tree: &Tree<'_>, select: &ListSelect, name: &str) -> bool {
    if select.subscribed && !tree.subscribed(name) {
        return false;
    }
    if select.special_use && tree.special(name) == 0 {
        return false;
    }
    true
}

/// LSUB: subscribed names matching; a `%` that stops above a subscribed name shows that level
/// as `\Noselect` (RFC 3501 §6.3.9).
fn lsub_run(s: &mut Session, tree: &Tree<'_>, pats: &[String]) {
    let mut rows: BTreeMap<String, bool> = BTreeMap::new();
    for n in &tree.list.subscribed {
        if pats.iter().any(|p| matches(p, n)) {
            rows.insert(n.clone(), !tree.exists(n));
            continue;
        }
        for a in ancestors(n) {
            if pats.iter().any(|p| p.ends_with('%') && matches(p, a)) && !tree.subscribed(a) {
                rows.entry(a.to_string()).or_insert(true);
            }
        }
    }
    for (name, noselect) in rows {
        s.out
            .text("* LSUB (")
            .text(if noselect { "\\Noselect" } else { "" })
            .text(") \"/\" ");
        write_name(s, &name);
        s.out.crlf();
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "a") && !matches("%", "a/b"));
        assert!(matches("a/%", "a/b") && !matches("a/%", "a/b/c"));
        assert!(matches("a/%/%", "a/b/c"));
        assert!(matches("a/*test4", "a/test3/test4"));
        assert!(matches("a/%3/%", "a/test3/test4"));
        assert!(matches("a/%t*4", "a/test3/test4"));
        assert!(matches("inbox", "INBOX") && matches("InBox/%", "INBOX/x"));
        assert!(!matches("inbox", "Inbox2"));
        assert!(matches("", "") && !matches("", "a"));
        let long = "%".repeat(2000);
        assert!(!matches(&long, "a/b"));
    }
}
