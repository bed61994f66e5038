//! `vmimap shutdown [--system DIR]`

use std::{
    path::Path,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::bail;
use vm::{
    system::PID_FILE,
    terminal::protocol::{Reply, Request},
};

use crate::client::Client;

/// Asks the system for an orderly SHUTDOWN and waits until its process has ended.
pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let pid = std::fs::read_to_string(dir.join(PID_FILE))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok());
    let mut c = Client::connect(dir)?;
    c.send(&Request::Shutdown)?;
    loop {
        match c.recv() {
            Ok(Some(Reply::Answer { lines, .. })) => lines.iter().for_each(|l| println!("{l}")),
            Ok(Some(Reply::End { .. })) | Ok(None) | Err(_) => break,
            Ok(Some(Reply::Error { error })) => bail!("{error}"),
            Ok(Some(_)) => {}
        }
    }
    if let Some(pid) = pid {
        let deadline = Instant::now() + Duration::from_secs(60);
        while running(pid) {
            if Instant::now() > deadline {
                bail!("the system process {pid} has not ended after 60 seconds");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    println!("HCPWRP9277I SYSTEM TERMINATION COMPLETE");
    Ok(ExitCode::SUCCESS)
}

/// Whether process `pid` still runs: it exists and is not a zombie whose threads have all
/// exited (a dying process's leader is a zombie while its other threads still hold its files).
fn running(pid: u32) -> bool {
    let zombie = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => return false,
    };
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0);
    !zombie || threads > 1
}
