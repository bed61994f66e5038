//! A client of the control socket.

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    path::Path,
};

use anyhow::{Context, bail};
use vm::terminal::protocol::{Reply, Request};

/// A connection to a running system's control socket.
pub struct Client {
    rd: BufReader<UnixStream>,
    wr: UnixStream,
}

impl Client {
    /// Connects to the system in `dir`.
    pub fn connect(dir: &Path) -> anyhow::Result<Client> {
        let path = dir.join(vm::system::CONTROL_SOCKET);
        let s = match UnixStream::connect(&path) {
            Ok(s) => s,
            Err(e) => {
                if !dir.join(vm::system::USER_DIRECT).exists() {
                    bail!("{} is not a system folder", dir.display());
                }
                bail!(
                    "no system is running in {} ({e}); IPL it with `vmimap ipl --system {}`",
                    dir.display(),
                    dir.display()
                );
            }
        };
        let wr = s.try_clone()?;
        Ok(Client {
            rd: BufReader::new(s),
            wr,
        })
    }

    /// Sends a request.
    pub fn send(&mut self, r: &Request) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(r)?;
        line.push('\n');
        self.wr
            .write_all(line.as_bytes())
            .context("the system closed the control socket")
    }

    /// Receives a reply; `None` when the system closed the connection.
    pub fn recv(&mut self) -> anyhow::Result<Option<Reply>> {
        let mut line = String::new();
        if self.rd.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(serde_json::from_str(line.trim_end()).with_context(
            || format!("unexpected reply from the system: {}", line.trim_end()),
        )?))
    }

    /// A second handle on the socket for writing from another thread.
    pub fn writer(&self) -> anyhow::Result<UnixStream> {
        Ok(self.wr.try_clone()?)
    }

    /// Sends a one-shot request and returns its answer.
    pub fn ask(dir: &Path, r: &Request) -> anyhow::Result<(i32, Vec<String>)> {
        let mut c = Client::connect(dir)?;
        c.send(r)?;
        match c.recv()? {
            Some(Reply::Answer { rc, lines }) => Ok((rc, lines)),
            Some(Reply::Error { error }) => bail!("{error}"),
            Some(other) => bail!("unexpected reply {other:?}"),
            None => bail!("the system closed the connection"),
        }
    }
}

/// Maps a CP return code onto a process exit status (0-255): codes above 255 become 255 and are
/// reported on standard error.
pub fn exit_code(rc: i32) -> std::process::ExitCode {
    if rc == 0 {
        return std::process::ExitCode::SUCCESS;
    }
    if !(1..=255).contains(&rc) {
        eprintln!("vmimap: return code {rc}");
    }
    std::process::ExitCode::from(rc.clamp(1, 255) as u8)
}
