//! The enrolment policy of IMAPADM CONFIG (`AUTOENROLL CLASS …`, `AUTOENROLL USERS …`,
//! `BLOCKS n`), applied when IMAPADM starts: every directory user the policy names is enrolled
//! through the IMAP server; users already enrolled are left alone. Each enrolment and each
//! failure is audited as `IMAPADM AUTOENROLL`.

use vm::UserId;

use super::{
    config::AutoEnroll, imap::status_of, messages as m, requests::Request, service::Service,
};

/// The userids the policy names, in directory order for classes, then the USERS list; each once.
/// `entries` gives each directory user's privilege classes.
pub fn targets(policy: &AutoEnroll, entries: &[(UserId, String)]) -> Vec<UserId> {
    let mut out: Vec<UserId> = Vec::new();
    for (u, classes) in entries {
        if policy.classes.iter().any(|c| classes.contains(*c)) && !out.contains(u) {
            out.push(u.clone());
        }
    }
    for u in &policy.users {
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    out
}

/// What applying the policy gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Newly enrolled.
    pub enrolled: usize,
    /// Already enrolled.
    pub already: usize,
    /// Failed.
    pub failed: usize,
}

/// Whether an answer line is the IMAP server's "already enrolled" (DTCIMA0103E).
fn already(line: &str) -> bool {
    line.starts_with("DTCIMA0103E")
}

/// Applies the policy. `Err` when it must be tried again later (the audit log or the IMAP server
/// is not there yet); nothing is lost by trying again, since enrolled users are skipped.
pub fn apply(service: &Service) -> Result<Tally, String> {
    let policy = &service.cfg.autoenroll;
    service.audit.check()?;
    let vm = &service.vm;
    let entries: Vec<(UserId, String)> = vm
        .directory_users()
        .into_iter()
        .filter_map(|u| {
            let e = vm.directory_entry(&u)?;
            let classes: String = ('A'..='Z')
                .chain('0'..='9')
                .filter(|c| e.classes.has(*c))
                .collect();
            Some((u, classes))
        })
        .collect();
    let me = vm.userid().clone();
    let mut t = Tally::default();
    for u in targets(policy, &entries) {
        if !vm.in_directory(&u) {
            service.log(&m::autoenroll_failed(u.as_str(), "not in the CP directory").to_string());
            t.failed += 1;
            continue;
        }
        let req = Request::Enroll(u.clone(), policy.blocks);
        let cmd = req.imap_command().expect("ENROLL goes to IMAP");
        let a = service.imap.ask(&cmd).map_err(|e| e.to_string())?;
        let status = a.status().to_string();
        if a.failed && already(&status) {
            t.already += 1;
            continue;
        }
        if let Err(e) = service
            .audit
            .record(&me, "AUTOENROLL", &req.to_string(), &status)
        {
            service.log(&m::audit_failed(&e).to_string());
        }
        if a.failed || status_of(&status).is_none() {
            service.log(&m::autoenroll_failed(u.as_str(), &status).to_string());
            t.failed += 1;
        } else {
            t.enrolled += 1;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn classes_and_users_name_each_user_once() {
        let entries = vec![
            (u("MAINT"), "ABCDEG".to_string()),
            (u("DEMO"), "G".to_string()),
            (u("OPER"), "AB".to_string()),
        ];
        let p = AutoEnroll {
            classes: vec!['G'],
            users: vec![u("OPER"), u("DEMO")],
            blocks: None,
        };
        assert_eq!(targets(&p, &entries), [u("MAINT"), u("DEMO"), u("OPER")]);
        let none = AutoEnroll::default();
        assert!(targets(&none, &entries).is_empty());
    }
}
