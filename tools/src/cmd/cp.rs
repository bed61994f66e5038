//! `vmimap cp [--system DIR] --user USERID COMMAND…`

use std::{path::Path, process::ExitCode};

use vm::terminal::protocol::Request;

use crate::client::{Client, exit_code};

/// Issues one CP command and prints the response.
pub fn run(dir: &Path, user: &str, command: &str) -> anyhow::Result<ExitCode> {
    let (rc, lines) = Client::ask(
        dir,
        &Request::Cp {
            user: user.to_string(),
            command: command.to_string(),
        },
    )?;
    for l in lines {
        println!("{l}");
    }
    Ok(exit_code(rc))
}
