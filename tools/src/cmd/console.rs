//! `vmimap console [--system DIR] [--user USERID]`: a line-mode terminal.
//!
//! Lines typed (or read from standard input) are entered one at a time: the next is sent once the
//! system has processed the previous one, so a script on standard input runs in order. Console
//! output, including asynchronous messages, is printed as it arrives. The terminal ends at
//! LOGOFF, when the machine is disconnected or forced, or at the end of input (which
//! disconnects the machine, as dropping a line does).

use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    process::ExitCode,
    sync::mpsc,
    thread,
};

use vm::terminal::protocol::{Reply, Request};

use crate::client::Client;

enum Event {
    Prompt(bool),
    Done(u64),
}

fn send(w: &mut std::os::unix::net::UnixStream, r: &Request) -> bool {
    let mut line = serde_json::to_string(r).expect("requests serialize");
    line.push('\n');
    w.write_all(line.as_bytes()).is_ok()
}

/// Runs the terminal.
pub fn run(dir: &Path, user: Option<String>) -> anyhow::Result<ExitCode> {
    let mut c = Client::connect(dir)?;
    c.send(&Request::Console { user })?;
    let mut w = c.writer()?;
    let interactive = std::io::stdin().is_terminal();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let code = loop {
            match c.recv() {
                Ok(Some(Reply::Line { line })) => {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                Ok(Some(Reply::Prompt { prompt, hidden })) => {
                    print!("{prompt}");
                    if !interactive {
                        println!();
                    }
                    let _ = std::io::stdout().flush();
                    let _ = tx.send(Event::Prompt(hidden));
                }
                Ok(Some(Reply::Done { done })) => {
                    let _ = tx.send(Event::Done(done));
                }
                Ok(Some(Reply::End { .. })) | Ok(None) => break 0,
                Ok(Some(Reply::Error { error })) => {
                    eprintln!("vmimap: {error}");
                    break 2;
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    eprintln!("vmimap: {e:#}");
                    break 2;
                }
            }
        };
        let _ = std::io::stdout().flush();
        std::process::exit(code);
    });
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut sent = 0u64;
    let mut hidden = false;
    loop {
        let line = if hidden && interactive {
            rpassword::read_password().ok()
        } else {
            match lines.next() {
                Some(Ok(l)) => Some(l),
                _ => None,
            }
        };
        hidden = false;
        let Some(line) = line else {
            send(&mut w, &Request::Eof);
            // The reader thread exits the process when the system ends the session.
            loop {
                thread::park();
            }
        };
        if !send(&mut w, &Request::Line { text: line }) {
            // The system closed the connection: the reader thread reports why and exits.
            loop {
                thread::park();
            }
        }
        sent += 1;
        loop {
            match rx.recv() {
                Ok(Event::Prompt(h)) => hidden = h,
                Ok(Event::Done(n)) if n >= sent => break,
                Ok(Event::Done(_)) => {}
                Err(_) => return Ok(ExitCode::SUCCESS),
            }
        }
    }
}
