//! Verdicts and reports (FORMAT.md section 8).

use std::fmt;

/// The verdict on one script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptResult {
    /// Every group gave the expected replies.
    Passed,
    /// At least one failure; `reason` holds every failure message, each with the expected and
    /// the actual lines.
    Failed {
        /// The failure messages, one per line group.
        reason: String,
    },
    /// The server lacks a capability of the `capabilities:` header (or `user2` is needed).
    Skipped {
        /// What was missing.
        missing: Vec<String>,
    },
}

impl ScriptResult {
    /// Whether the script passed.
    pub fn is_passed(&self) -> bool {
        matches!(self, ScriptResult::Passed)
    }

    /// Whether the script failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, ScriptResult::Failed { .. })
    }

    /// Whether the script was skipped.
    pub fn is_skipped(&self) -> bool {
        matches!(self, ScriptResult::Skipped { .. })
    }
}

/// One failure, as imaptest reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 0-based index of the group; None during setup ("initialization failed").
    pub group: Option<usize>,
    /// Number of groups in the script (automatic LOGOUT included).
    pub groups: usize,
    /// Script line of the group's first command (0 = automatic LOGOUT).
    pub line: usize,
    /// The group's first command, unexpanded.
    pub command: String,
    /// Its tag, while it was pending.
    pub tag: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.group {
            None => write!(f, "initialization failed: {}", self.message),
            Some(g) => {
                write!(
                    f,
                    "command {}/{} (line {}): {}\n - Command",
                    g + 1,
                    self.groups,
                    self.line,
                    self.message
                )?;
                if let Some(t) = &self.tag {
                    write!(f, " (tag {t})")?;
                }
                write!(f, ": {}", self.command)
            }
        }
    }
}

/// Everything known about one script run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptReport {
    /// The script's file name.
    pub name: String,
    /// The verdict.
    pub result: ScriptResult,
    /// Every failure, in order.
    pub failures: Vec<Failure>,
    /// `!output` lines.
    pub outputs: Vec<String>,
    /// Errors imaptest only logs (unexpected BYE, BAD replies, …).
    pub log: Vec<String>,
    /// Groups in the script (automatic LOGOUT included).
    pub groups_total: usize,
    /// Groups that ran to their end.
    pub groups_finished: usize,
    /// The script has a `capabilities:` header.
    pub extension: bool,
}

/// Totals over a run, in imaptest's terms and as pass/fail/skip counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Scripts that passed.
    pub passed: usize,
    /// Scripts that failed.
    pub failed: usize,
    /// Scripts skipped for missing capabilities.
    pub skipped: usize,
    /// All scripts.
    pub total: usize,
    /// Failure messages in base-protocol scripts.
    pub base_failures: usize,
    /// Finished groups in base-protocol scripts.
    pub base_groups: usize,
    /// Failure messages in extension scripts.
    pub ext_failures: usize,
    /// Finished groups in extension scripts.
    pub ext_groups: usize,
}

impl Summary {
    /// Adds up reports.
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a ScriptReport>) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            s.total += 1;
            match r.result {
                ScriptResult::Passed => s.passed += 1,
                ScriptResult::Failed { .. } => s.failed += 1,
                ScriptResult::Skipped { .. } => s.skipped += 1,
            }
            if r.extension {
                s.ext_failures += r.failures.len();
                s.ext_groups += r.groups_finished;
            } else {
                s.base_failures += r.failures.len();
                s.base_groups += r.groups_finished;
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} passed, {} failed, {} skipped of {}",
            self.passed, self.failed, self.skipped, self.total
        )?;
        writeln!(
            f,
            "base protocol: {}/{} individual commands failed",
            self.base_failures, self.base_groups
        )?;
        write!(
            f,
            "extensions: {}/{} individual commands failed",
            self.ext_failures, self.ext_groups
        )
    }
}
