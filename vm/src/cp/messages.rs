//! CP's messages: `HCPmmmnnnns text`, where the number is the contract (it is also the return code)
//! and SET EMSG decides whether the id, the text, both or neither are shown.
//!
//! Numbers and texts follow z/VM where known (cp-cms.md §1.8). Where IBM's text is unknown the
//! text here is our own wording and docs/cp-commands.md marks it.

use std::fmt;

use crate::machine::EmsgMode;

/// A CP message: module, number, severity and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpMsg {
    /// Issuing module suffix (`CMD`, `MSG`, `CSP`…).
    pub module: &'static str,
    /// Message number; also the return code.
    pub num: u16,
    /// Severity: `I`, `W`, `E`, `S`.
    pub sev: char,
    /// Message text.
    pub text: String,
}

impl CpMsg {
    fn new(module: &'static str, num: u16, sev: char, text: impl Into<String>) -> CpMsg {
        CpMsg {
            module,
            num,
            sev,
            text: text.into(),
        }
    }

    /// The message id, e.g. `HCPCMD001E` (three digits below 1000, four above).
    pub fn id(&self) -> String {
        if self.num < 1000 {
            format!("HCP{}{:03}{}", self.module, self.num, self.sev)
        } else {
            format!("HCP{}{:04}{}", self.module, self.num, self.sev)
        }
    }

    /// The return code a program gets: the message number.
    pub fn rc(&self) -> i32 {
        self.num as i32
    }

    /// The line shown under a SET EMSG setting, if any.
    pub fn render(&self, mode: EmsgMode) -> Option<String> {
        match mode {
            EmsgMode::On | EmsgMode::Iucv => Some(format!("{} {}", self.id(), self.text)),
            EmsgMode::Text => Some(self.text.clone()),
            EmsgMode::Code => Some(self.id()),
            EmsgMode::Off => None,
        }
    }
}

impl fmt::Display for CpMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id(), self.text)
    }
}

/// Makes operand text safe to echo: control characters become `.`, and it is cut at 32 characters.
pub fn echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(32)
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    if s.chars().count() > 32 {
        out.push_str("...");
    }
    out
}

/// 001E: the command is unknown, or outside the user's privilege classes.
pub fn unknown_command(cmd: &str) -> CpMsg {
    CpMsg::new("CMD", 1, 'E', format!("Unknown CP command: {}", echo(cmd)))
}
/// 002E: an operand is not valid.
pub fn invalid_operand(op: &str) -> CpMsg {
    CpMsg::new("CMD", 2, 'E', format!("Invalid operand - {}", echo(op)))
}
/// 003E: an option is not valid.
pub fn invalid_option(op: &str) -> CpMsg {
    CpMsg::new("CMD", 3, 'E', format!("Invalid option - {}", echo(op)))
}
/// 006E: a device type is not valid for the command.
pub fn invalid_device_type(dev: &str) -> CpMsg {
    CpMsg::new(
        "CMD",
        6,
        'E',
        format!("Invalid device type - {}", echo(dev)),
    )
}
/// 013E: two options conflict.
pub fn conflicting_option(op: &str) -> CpMsg {
    CpMsg::new("CMD", 13, 'E', format!("Conflicting option - {}", echo(op)))
}
/// 015E: a command other than LOGON before logon.
pub fn not_before_logon(cmd: &str) -> CpMsg {
    CpMsg::new(
        "CFC",
        15,
        'E',
        format!("Command not valid before LOGON: {}", echo(cmd)),
    )
}
/// 020E: a userid operand is missing or malformed.
pub fn userid_missing() -> CpMsg {
    CpMsg::new("CMD", 20, 'E', "Userid missing or invalid")
}
/// 022E: a device number is missing or malformed.
pub fn vdev_missing() -> CpMsg {
    CpMsg::new(
        "CMD",
        22,
        'E',
        "A virtual device number was not supplied or it was invalid",
    )
}
/// 026E: an operand is missing or invalid.
pub fn operand_missing() -> CpMsg {
    CpMsg::new("CMD", 26, 'E', "Operand missing or invalid")
}
/// 040E: no such virtual device.
pub fn no_device(vdev: &str) -> CpMsg {
    CpMsg::new(
        "CMD",
        40,
        'E',
        format!("Device {} does not exist", echo(vdev)),
    )
}
/// 042E: no such spool file.
pub fn no_spoolid(id: u16) -> CpMsg {
    CpMsg::new("CSV", 42, 'E', format!("Spoolid {id:04} does not exist"))
}
/// 045E: the user is not logged on.
pub fn not_logged_on(user: &str) -> CpMsg {
    CpMsg::new("MSG", 45, 'E', format!("{} not logged on", echo(user)))
}
/// 050E: LOGON refused (the same for an unknown user and a wrong password).
pub fn logon_failed() -> CpMsg {
    CpMsg::new(
        "LGA",
        50,
        'E',
        "LOGON unsuccessful--incorrect userid and/or password",
    )
}
/// 053E: the user is not in the directory.
pub fn not_in_directory(user: &str) -> CpMsg {
    CpMsg::new(
        "CMD",
        53,
        'E',
        format!("{} not in CP directory", echo(user)),
    )
}
/// 054E: the user is already logged on (XAUTOLOG, AUTOLOG).
pub fn already_logged_on(user: &str) -> CpMsg {
    CpMsg::new("LGA", 54, 'E', format!("Already logged on: {}", echo(user)))
}
/// 057I: the user does not receive this kind of message.
pub fn not_receiving(user: &str, why: &str) -> CpMsg {
    CpMsg::new(
        "MFS",
        57,
        'I',
        format!("{} not receiving; {why}", echo(user)),
    )
}
/// 439E: the owner's spool fileid limit is reached.
pub fn spoolid_limit(user: &str) -> CpMsg {
    CpMsg::new(
        "CSP",
        439,
        'E',
        format!("User {user} spool fileid limit exceeded"),
    )
}
/// 1010E (vmimap): a spool file is larger than SYSTEM CONFIG allows.
pub fn spool_file_too_large(what: &str) -> CpMsg {
    CpMsg::new("CSP", 1010, 'E', format!("Spool file too large: {what}"))
}
/// 1011E (vmimap): spool space could not be written; the change was not made.
pub fn spool_error(what: &str) -> CpMsg {
    CpMsg::new("CKP", 1011, 'E', format!("Spool space error: {what}"))
}
/// 1012E (vmimap): the user may not be XAUTOLOGged by the issuer.
pub fn not_authorized(what: &str) -> CpMsg {
    CpMsg::new("LGA", 1012, 'E', format!("Not authorized: {}", echo(what)))
}
/// 1013E (vmimap): the directory names an IPL program this system does not have.
pub fn ipl_failed(program: &str) -> CpMsg {
    CpMsg::new(
        "LGA",
        1013,
        'E',
        format!("IPL failed: program {} is not available", echo(program)),
    )
}
/// 1014E (vmimap): the system is shutting down.
pub fn shutting_down() -> CpMsg {
    CpMsg::new("WRP", 1014, 'E', "System shutdown in progress")
}
/// 1015E (vmimap): the command line is longer than CP accepts.
pub fn line_too_long(max: usize) -> CpMsg {
    CpMsg::new(
        "CMD",
        1015,
        'E',
        format!("Command line longer than {max} characters"),
    )
}

impl From<spool::SpoolError> for CpMsg {
    fn from(e: spool::SpoolError) -> CpMsg {
        match e {
            spool::SpoolError::SpoolidLimit(u) => spoolid_limit(&u),
            spool::SpoolError::NoSuchFile(id) => no_spoolid(id),
            spool::SpoolError::TooLarge(w) => spool_file_too_large(&w),
            other => spool_error(&other.to_string()),
        }
    }
}
