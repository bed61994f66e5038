//! The USER DIRECT written on first IPL.

use super::password;

/// A user created by first IPL with a generated password, shown once to the operator.
#[derive(Clone, PartialEq, Eq)]
pub struct DefaultUser {
    /// The userid.
    pub userid: String,
    /// The generated password in plain text (never stored; only its hash is).
    pub password: String,
}

impl std::fmt::Debug for DefaultUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DefaultUser({})", self.userid)
    }
}

/// The users that get generated passwords: everyone else is a service machine (AUTOONLY).
const INTERACTIVE: [&str; 3] = ["OPERATOR", "MAINT", "DEMO"];

/// Builds the default directory text: the operator, the system programmer, the service machines
/// and a demo user. Returns the text and the generated passwords of the interactive users.
pub fn default_directory(system_id: &str, created: &str) -> (String, Vec<DefaultUser>) {
    let users: Vec<DefaultUser> = INTERACTIVE
        .iter()
        .map(|u| DefaultUser {
            userid: u.to_string(),
            password: password::generate(),
        })
        .collect();
    // Hash in parallel: argon2 is deliberately slow and first IPL should still be quick.
    let hashes: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = users
            .iter()
            .map(|u| s.spawn(|| password::hash(&u.password)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let pw = |id: &str| {
        let i = INTERACTIVE.iter().position(|u| *u == id).unwrap();
        hashes[i].clone()
    };
    let text = format!(
        "\
*---------------------------------------------------------------------*
* USER DIRECT for system {system_id}, created by first IPL on {created}.
*
* One USER entry per virtual machine; statements of an entry follow it.
* Passwords are argon2 hashes; a plain password or a $5$/$6$ crypt
* hash is also accepted. AUTOONLY machines can only be autologged.
* Privilege classes: A operator, B resource operator, C programmer,
* D spooling operator, E analyst, G general user.
* Changes take effect at the next IPL.
*---------------------------------------------------------------------*
PROFILE IBMDFLT
 CONSOLE 0009 3215 T
 SPOOL 000C 2540 READER *
 SPOOL 000D 2540 PUNCH A
 SPOOL 000E 1403 A
*
* The system operator: logged on (disconnected) at IPL.
USER OPERATOR {op} 32M 64M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 OPR191 MR
*
* The system programmer.
USER MAINT {maint} 64M 128M ABCDEG
 INCLUDE IBMDFLT
 IPL CMS
 IUCV ANY
 MDISK 0191 3390 0001 0050 MNT191 MR
*
* The SFS file pool server (VMSYSU: and the mailstore pool).
USER VMSERVS AUTOONLY 64M 256M BG
 INCLUDE IBMDFLT
 IPL SFS
 IUCV ALLOW
 OPTION MAXCONN 4000
*
* The TCP/IP stack: owns the host listeners and autologs the servers.
USER TCPIP AUTOONLY 64M 256M ABG
 INCLUDE IBMDFLT
 IPL TCPIP
 IUCV ALLOW
 IUCV ANY
 OPTION MAXCONN 4000
*
* The SMTP server: reads batch SMTP and its relay queue from its
* reader through *SPL, and asks IMAP over IUCV who is enrolled.
USER SMTP AUTOONLY 64M 256M G
 INCLUDE IBMDFLT
 IPL SMTP
 IUCV *SPL
 IUCV ANY
 XAUTOLOG TCPIP
*
* The IMAP server: reads mail from its reader through *SPL and keeps
* the mailstore in SFS; it is the only user of the mailstore pool.
* OPTION DIAG88 lets it check directory passwords at IMAP LOGIN.
USER IMAP AUTOONLY 64M 512M BG
 INCLUDE IBMDFLT
 IPL IMAPD
 IUCV *SPL
 IUCV ANY
 XAUTOLOG TCPIP
 OPTION MAXCONN 4000 DIAG88
*
* The IMAP administrator exit: requests by SMSG and from its reader
* (through *SPL); its audit log is in VMSYSU (docs/imapadm.md).
USER IMAPADM AUTOONLY 32M 64M G
 INCLUDE IBMDFLT
 IPL IMAPADM
 IUCV *SPL
 IUCV ANY
 XAUTOLOG TCPIP
*
* A general user to try things with.
USER DEMO {demo} 32M 64M G
 INCLUDE IBMDFLT
 IPL CMS
 MDISK 0191 3390 0001 0010 DEM191 MR
",
        op = pw("OPERATOR"),
        maint = pw("MAINT"),
        demo = pw("DEMO"),
    );
    (text, users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Directory;

    #[test]
    fn the_default_directory_parses_and_verifies() {
        let (text, users) = default_directory("VMIMAP", "2026-01-01");
        let d = Directory::parse(&text, std::path::Path::new("USER DIRECT")).unwrap();
        assert_eq!(d.users.len(), 8);
        for u in &users {
            let e = d.lookup(&u.userid).unwrap();
            assert!(e.password.verify(&u.password));
            assert!(!text.contains(&u.password));
        }
        assert!(!d.lookup("IMAP").unwrap().password.allows_password_logon());
    }
}
