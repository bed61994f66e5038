//! Mail addresses as SMTP sees them: which are for users of this system, and which user.
//!
//! ```text
//! address    = local-part ["@" domain]          ; the part after the last "@" is the domain
//! local user = userid-part "@" local-domain / userid-part / "postmaster" ["@" local-domain]
//! userid-part = 1*8(ALPHA / DIGIT / "@" / "#" / "$" / "_" / "-")   ; case is not significant
//! ```

use vm::UserId;

use super::config::Config;

/// Where an address points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A user of this system (it may or may not be in the directory).
    Local(UserId),
    /// A local domain, but the local part cannot be a userid.
    BadLocal,
    /// Another domain.
    Remote(String),
}

/// Splits an address into its local part and domain (after the last `@`).
pub fn split(addr: &str) -> (&str, Option<&str>) {
    match addr.rfind('@') {
        Some(i) => (&addr[..i], Some(&addr[i + 1..])),
        None => (addr, None),
    }
}

/// Where `addr` points, by the configuration's local domains.
pub fn target(cfg: &Config, addr: &str) -> Target {
    let (local, domain) = split(addr);
    match domain {
        Some(d) if !cfg.is_local_domain(d.trim_end_matches('.')) => {
            return Target::Remote(d.to_ascii_lowercase());
        }
        _ => {}
    }
    if local.eq_ignore_ascii_case("postmaster") {
        return Target::Local(cfg.postmaster.clone());
    }
    match UserId::parse(local) {
        Ok(u) if !local.is_empty() => Target::Local(u),
        _ => Target::BadLocal,
    }
}

/// The userid of a local sender (for the origin of a local delivery), if the sender is one.
pub fn local_sender(cfg: &Config, from: &str) -> Option<UserId> {
    match target(cfg, from) {
        Target::Local(u) if !from.is_empty() => Some(u),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_addresses() {
        let c = Config::defaults("VMIMAP");
        let demo = UserId::parse("DEMO").unwrap();
        assert_eq!(
            target(&c, "demo@vmimap.localdomain"),
            Target::Local(demo.clone())
        );
        assert_eq!(target(&c, "Demo@VMIMAP"), Target::Local(demo.clone()));
        assert_eq!(target(&c, "demo@localhost."), Target::Local(demo.clone()));
        assert_eq!(target(&c, "demo"), Target::Local(demo));
        assert_eq!(
            target(&c, "PostMaster"),
            Target::Local(UserId::parse("MAINT").unwrap())
        );
        assert_eq!(target(&c, "first.last@vmimap"), Target::BadLocal);
        assert_eq!(target(&c, "averyverylongname@vmimap"), Target::BadLocal);
        assert_eq!(target(&c, "@vmimap"), Target::BadLocal);
        assert_eq!(
            target(&c, "x@Example.COM"),
            Target::Remote("example.com".into())
        );
        assert_eq!(
            target(&c, "a@b@example.com"),
            Target::Remote("example.com".into())
        );
        assert_eq!(local_sender(&c, ""), None);
        assert_eq!(
            local_sender(&c, "maint@vmimap"),
            Some(UserId::parse("MAINT").unwrap())
        );
    }
}
