//! The guest programs this build of vmimap has: the only place that knows every guest.

use vm::Registry;

/// Every guest program, by the name a directory `IPL` statement uses.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    vm::cms::register(&mut r);
    vm::sfs::server::register(&mut r);
    guests::register(&mut r);
    imapd::register(&mut r);
    r
}

/// The service machines first IPL puts in SYSTEM CONFIG's startup list: those whose programs this
/// build has, in start order (the file pool server first; IMAPADM after TCPIP, which starts the
/// IMAP server it drives).
pub fn startup_users(r: &Registry) -> Vec<&'static str> {
    [
        ("VMSERVS", "SFS"),
        ("TCPIP", "TCPIP"),
        ("IMAPADM", "IMAPADM"),
    ]
    .into_iter()
    .filter(|(_, prog)| r.get(prog).is_some())
    .map(|(u, _)| u)
    .collect()
}
