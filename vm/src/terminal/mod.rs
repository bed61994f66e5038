//! The control socket: a Unix socket in the system folder (mode 0600) through which the host
//! commands `vmimap console`, `cp`, `punch` and `shutdown` reach the running system.
//!
//! Access to the socket is operator trust: whoever can open it can act as any user without a
//! password (as an operator at the system console could), so it is created private to the owner
//! of the system folder. Terminals that log on through the LOGON prompt still give a password.

mod oneshot;
pub mod protocol;
mod session;

use std::{
    fs,
    io::{BufRead, BufReader, Read, Write},
    os::unix::{
        fs::PermissionsExt,
        net::{UnixListener, UnixStream},
    },
    path::Path,
    sync::{Arc, Mutex},
    thread,
};

use anyhow::Context;
use protocol::{MAX_REQUEST, Reply, Request};

use crate::system::System;

/// Starts serving the control socket at `path`.
pub fn serve(sys: &Arc<System>, path: &Path) -> anyhow::Result<()> {
    let _ = fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .with_context(|| format!("cannot create the control socket {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    let sys = sys.clone();
    thread::Builder::new()
        .name("control-socket".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                let sys = sys.clone();
                let _ = thread::Builder::new()
                    .name("control-session".into())
                    .spawn(move || handle(sys, stream));
            }
        })?;
    Ok(())
}

/// The writing side of a connection, shared by the threads of a session.
#[derive(Clone)]
pub(crate) struct Out(Arc<Mutex<UnixStream>>);

impl Out {
    pub(crate) fn send(&self, r: &Reply) -> bool {
        self.0
            .lock()
            .unwrap()
            .write_all(r.to_line().as_bytes())
            .is_ok()
    }
}

/// Reads one request line; `Ok(None)` at end of input.
pub(crate) fn read_request(rd: &mut impl BufRead) -> Result<Option<Request>, String> {
    let mut buf = Vec::new();
    let n = rd
        .take(MAX_REQUEST as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| format!("read error: {e}"))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_REQUEST {
        return Err(format!("request longer than {MAX_REQUEST} bytes"));
    }
    let text = std::str::from_utf8(&buf).map_err(|_| "request is not UTF-8 text".to_string())?;
    serde_json::from_str(text.trim_end())
        .map(Some)
        .map_err(|e| format!("not a valid request: {e}"))
}

/// After refusing a session, reads (and ignores) what the client still sends until it closes the
/// connection, for a few seconds at most. Closing at once would make a client that is still
/// typing fail with a broken pipe before it has read why it was refused.
pub(crate) fn linger(rd: &mut std::io::BufReader<UnixStream>) {
    use std::io::Read;
    let _ = rd.get_ref().shutdown(std::net::Shutdown::Write);
    let _ = rd.get_ref().set_read_timeout(Some(LINGER));
    let deadline = std::time::Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < deadline {
        match rd.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// How long a refused session's input is drained.
const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

fn handle(sys: Arc<System>, stream: UnixStream) {
    let Ok(write) = stream.try_clone() else {
        return;
    };
    let out = Out(Arc::new(Mutex::new(write)));
    let mut rd = BufReader::new(stream);
    let first = match read_request(&mut rd) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            out.send(&Reply::Error { error: e });
            linger(&mut rd);
            return;
        }
    };
    match first {
        Request::Console { user } => session::run(&sys, user, rd, out),
        other => oneshot::run(&sys, other, &out),
    }
}
