//! `vmimap admin enroll|delete|list|query|quota|trace|shutdown … [--system DIR] [--as USERID]`: the
//! IMAP server's administrator interface from the host. The request goes as `SMSG IMAP …` from
//! an administrator (the first ADMIN of IMAP CONFIG unless `--as` says otherwise), and the
//! server's `MSG` replies are printed. The exit status is 0 when the last reply is an `I`
//! message, 1 when it is an `E` message or no reply came.

use std::{path::Path, process::ExitCode};

use vm::terminal::protocol::Request;

use crate::client::Client;

/// The first administrator IMAP CONFIG names (MAINT when the file says nothing).
fn default_admin(dir: &Path) -> String {
    let p = dir.join(imapd::config::IMAP_CONFIG);
    std::fs::read_to_string(&p)
        .ok()
        .and_then(|t| imapd::config::Config::parse(&t, &p).ok())
        .and_then(|c| c.admins.first().map(|u| u.to_string()))
        .unwrap_or_else(|| "MAINT".into())
}

/// Sends one request and prints the reply.
pub fn run(dir: &Path, as_user: Option<&str>, request: &str) -> anyhow::Result<ExitCode> {
    let user = as_user.map_or_else(|| default_admin(dir), str::to_string);
    let text = request.to_ascii_uppercase();
    let (rc, lines) = Client::ask(
        dir,
        &Request::Smsg {
            user,
            to: "IMAP".into(),
            text,
            wait_ms: 30_000,
            quiet_ms: 300,
        },
    )?;
    for l in &lines {
        println!("{l}");
    }
    if rc != 0 {
        return Ok(crate::client::exit_code(rc));
    }
    let Some(last) = lines.last() else {
        eprintln!(
            "vmimap: no reply from IMAP (is the IMAP server running? try `vmimap cp --user OPERATOR QUERY IMAP`)"
        );
        return Ok(ExitCode::from(1));
    };
    let failed = last
        .split_whitespace()
        .next()
        .is_some_and(|id| id.starts_with("DTC") && id.ends_with('E'));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
