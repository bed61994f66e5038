//! The audit log: one line per request appended to a file in IMAPADM's SFS directory, durable
//! (the file pool commits it to its log) before the requester is answered.
//!
//! ```text
//! line    = date SP time SP origin SP via SP request SP "=>" SP outcome
//! date    = yyyy-mm-dd ; time = hh:mm:ss (the system's time zone)
//! origin  = userid, padded to 8            ; who asked (IMAPADM for AUTOENROLL)
//! via     = "SMSG" / "DECK" SP spoolid / "AUTOENROLL", padded to 10
//! outcome = the IMAP server's status line, or the DTCADM message that ended the request
//! ```
//!
//! The file is a variable-record file, one record per line, so CMS TYPE shows it (a file pool
//! administrator can `ACCESS VMSYSU:IMAPADM.AUDIT` and type it). The connection to the pool is
//! made when first needed and again whenever it was severed (the pool server restarted);
//! missing directories of the path are created when IMAPADM owns them.

use std::sync::{Arc, Mutex};

use vm::{
    UserId, VmHandle, clock,
    sfs::{Content, Control, DirPath, Format, SfsClient},
};

use super::config::AuditFile;

/// At most this many characters of a request's text are logged.
const MAX_TEXT: usize = 120;

/// Makes text safe for one log line: control characters become `?`, long text is cut.
pub fn clean(text: &str) -> String {
    let t: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_TEXT + 1)
        .collect();
    if t.chars().count() > MAX_TEXT {
        format!("{}...", t.chars().take(MAX_TEXT).collect::<String>())
    } else {
        t
    }
}

/// Formats one audit line.
pub fn line(when: &str, origin: &UserId, via: &str, request: &str, outcome: &str) -> String {
    format!(
        "{when} {:<8} {via:<10} {} => {}",
        origin.as_str(),
        clean(request),
        clean(outcome)
    )
}

/// The audit log.
#[derive(Debug)]
pub struct Audit {
    vm: Arc<VmHandle>,
    file: AuditFile,
    client: Mutex<Option<SfsClient>>,
}

impl Audit {
    /// The log kept in `file`.
    pub fn new(vm: Arc<VmHandle>, file: AuditFile) -> Audit {
        Audit {
            vm,
            file,
            client: Mutex::new(None),
        }
    }

    /// Where the log is.
    pub fn file(&self) -> &AuditFile {
        &self.file
    }

    /// Runs `f` with a connection whose directory exists.
    fn with<R>(
        &self,
        f: impl FnOnce(&SfsClient, &DirPath) -> Result<R, String>,
    ) -> Result<R, String> {
        let mut g = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if !g.as_ref().is_some_and(SfsClient::connected) {
            *g = None;
            let c = self
                .vm
                .sfs_connect(self.file.dir.pool.as_str())
                .map_err(|e| e.to_string())?;
            self.make_dirs(&c)?;
            *g = Some(c);
        }
        let c = g.as_ref().expect("connected above");
        f(c, &self.file.dir.path)
    }

    /// Creates the log's directory and its parents where missing.
    fn make_dirs(&self, c: &SfsClient) -> Result<(), String> {
        let path = &self.file.dir.path;
        for n in 1..=path.comps.len() {
            let p = DirPath {
                owner: path.owner.clone(),
                comps: path.comps[..n].to_vec(),
            };
            if !c.dir_exists(&p).map_err(|e| e.to_string())? {
                c.create_dir(&p, Control::File).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Whether the log can be written now (connects, and creates the directory if needed: a
    /// file space deleted and enrolled again starts empty).
    pub fn check(&self) -> Result<(), String> {
        self.with(|c, p| {
            if !c.dir_exists(p).map_err(|e| e.to_string())? {
                self.make_dirs(c)
                    .map_err(|e| format!("directory {}: {e}", self.file.dir))?;
            }
            Ok(())
        })
    }

    /// Appends one line; returns when it is durable.
    pub fn record(
        &self,
        origin: &UserId,
        via: &str,
        request: &str,
        outcome: &str,
    ) -> Result<(), String> {
        let now = clock::now();
        let tz = self.vm.tz();
        let when = format!("{} {}", tz.isodate(now), tz.hhmmss(now));
        let l = line(&when, origin, via, request, outcome);
        self.with(|c, p| {
            c.append_file(
                p,
                &self.file.fname,
                &self.file.ftype,
                &Content::Records {
                    format: Format::V,
                    records: vec![l.into_bytes()],
                },
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_line_and_bounded() {
        let u = UserId::parse("MAINT").unwrap();
        let l = line(
            "2026-01-01 10:00:00",
            &u,
            "SMSG",
            "ENROLL\u{0}DEMO\n",
            "DTCIMA0001I ok",
        );
        assert_eq!(
            l,
            "2026-01-01 10:00:00 MAINT    SMSG       ENROLL?DEMO => DTCIMA0001I ok"
        );
        let long = "x".repeat(500);
        let l = line("d t", &u, "DECK 0001", &long, "o");
        assert!(l.len() < 200, "{l}");
        assert!(l.contains("xxx... => o"));
    }
}
