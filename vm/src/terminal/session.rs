//! A terminal session on the control socket: the LOGON prompt (or a trusted logon), then lines
//! typed go to the guest (CMS) or to CP, and console output flows back as it is produced.

use std::{io::BufRead, os::unix::net::UnixStream, sync::Arc, thread, time::Duration};

use crossbeam_channel::{Receiver, unbounded};
use spool::UserId;

use super::{
    Out, linger,
    protocol::{Reply, Request},
    read_request,
};
use crate::{
    cp::{self, messages},
    directory::password::dummy_verify,
    grammar::{Cursor, abbrev},
    machine::{Interrupt, TermEvent, Terminal, VirtualMachine},
    system::{LogonHow, System},
};

/// How long a typed line may take before the terminal is released for the next one.
const LINE_TIMEOUT: Duration = Duration::from_secs(120);

enum Input {
    Line(String),
    End,
}

fn next_input(rd: &mut impl BufRead, out: &Out) -> Input {
    match read_request(rd) {
        Ok(Some(Request::Line { text })) => Input::Line(text),
        Ok(Some(Request::Eof)) | Ok(None) => Input::End,
        Ok(Some(_)) => {
            out.send(&Reply::Error {
                error: "only line and eof requests are allowed in a console session".into(),
            });
            Input::End
        }
        Err(e) => {
            out.send(&Reply::Error { error: e });
            Input::End
        }
    }
}

/// Copies console output of the terminal to the client until the terminal is detached.
fn pump(rx: Receiver<TermEvent>, out: Out) {
    let mut last = String::new();
    for ev in rx {
        let ok = match ev {
            TermEvent::Line(line) => {
                let ok = out.send(&Reply::Line { line: line.clone() });
                last = line;
                ok
            }
            TermEvent::Detached(why) => {
                // DISCONNECT writes its `DISCONNECT AT …` line and then detaches with the same
                // text: show it once.
                if why != last {
                    out.send(&Reply::Line { line: why });
                }
                out.send(&Reply::End {
                    end: "disconnect".into(),
                });
                break;
            }
            TermEvent::LoggedOff => {
                out.send(&Reply::End {
                    end: "logoff".into(),
                });
                break;
            }
            TermEvent::Done(done) => out.send(&Reply::Done { done }),
        };
        if !ok {
            break;
        }
    }
}

/// The pre-logon dialogue. Returns the logged-on machine, or `None` if the client went away.
fn prelogon(
    sys: &Arc<System>,
    term: &Terminal,
    rd: &mut impl BufRead,
    out: &Out,
    done: &mut u64,
) -> Option<Arc<VirtualMachine>> {
    let say = |l: &str| {
        out.send(&Reply::Line {
            line: l.to_string(),
        });
    };
    say(&format!(
        "vmimap {} -- system {} (z/VM 7.3 service-level emulation)",
        env!("CARGO_PKG_VERSION"),
        sys.config().system_id
    ));
    say("Enter one of the following commands:");
    say("  LOGON userid              (Example: LOGON MAINT)");
    say("  LOGOFF");
    loop {
        let Input::Line(text) = next_input(rd, out) else {
            return None;
        };
        *done += 1;
        let mut c = Cursor::new(&text);
        let word = c.next_token().unwrap_or("");
        if word.is_empty() {
            out.send(&Reply::Done { done: *done });
            continue;
        }
        if abbrev(word, "LOGOFF", 3) || abbrev(word, "LOGOUT", 4) {
            out.send(&Reply::End {
                end: "logoff".into(),
            });
            return None;
        }
        if !(abbrev(word, "LOGON", 1) || abbrev(word, "LOGIN", 4)) {
            say(&messages::not_before_logon(word).to_string());
            out.send(&Reply::Done { done: *done });
            continue;
        }
        let Some(user) = c.next_token() else {
            say(&messages::userid_missing().to_string());
            out.send(&Reply::Done { done: *done });
            continue;
        };
        let pw = match c.next_token() {
            Some(p) => p.to_string(),
            None => {
                out.send(&Reply::Prompt {
                    prompt: "Enter your password:".into(),
                    hidden: true,
                });
                out.send(&Reply::Done { done: *done });
                match next_input(rd, out) {
                    Input::Line(p) => {
                        *done += 1;
                        p
                    }
                    Input::End => return None,
                }
            }
        };
        let entry = UserId::parse(user).ok().and_then(|u| sys.entry(&u));
        let ok = match &entry {
            Some(e) if e.password.allows_password_logon() => e.password.verify(&pw),
            _ => {
                dummy_verify(&pw);
                false
            }
        };
        if !ok {
            // One refusal for both an unknown user and a wrong password.
            say(&messages::logon_failed().to_string());
            out.send(&Reply::Done { done: *done });
            continue;
        }
        let entry = entry.unwrap();
        match attach(sys, entry.userid.clone(), term, out) {
            Some(vm) => {
                out.send(&Reply::Done { done: *done });
                return Some(vm);
            }
            None => {
                out.send(&Reply::Done { done: *done });
            }
        }
    }
}

/// Logs `user` on at this terminal, or reconnects it if it is already logged on.
fn attach(
    sys: &Arc<System>,
    user: UserId,
    term: &Terminal,
    out: &Out,
) -> Option<Arc<VirtualMachine>> {
    if let Some(vm) = sys.vm(&user) {
        for l in sys.reconnect(&vm, term.clone()) {
            let _ = term.tx.send(TermEvent::Line(l));
        }
        return Some(vm);
    }
    let Some(entry) = sys.entry(&user) else {
        out.send(&Reply::Line {
            line: messages::logon_failed().to_string(),
        });
        return None;
    };
    match sys.logon(entry, LogonHow::Terminal(term.clone())) {
        // System::logon has sent the logon lines to the terminal, before the guest started.
        Ok((vm, _lines)) => Some(vm),
        Err(m) => {
            out.send(&Reply::Line {
                line: m.to_string(),
            });
            None
        }
    }
}

/// Runs a console session.
pub(super) fn run(
    sys: &Arc<System>,
    user: Option<String>,
    mut rd: std::io::BufReader<UnixStream>,
    out: Out,
) {
    let (tx, rx) = unbounded();
    let term = Terminal {
        id: sys.next_terminal_id(),
        tx,
    };
    let mut done = 0u64;
    let vm = match user {
        Some(u) => {
            let Ok(u) = UserId::parse(&u) else {
                out.send(&Reply::Error {
                    error: messages::userid_missing().to_string(),
                });
                linger(&mut rd);
                return;
            };
            if sys.entry(&u).is_none() {
                out.send(&Reply::Error {
                    error: messages::not_in_directory(u.as_str()).to_string(),
                });
                linger(&mut rd);
                return;
            }
            match attach(sys, u, &term, &out) {
                Some(vm) => vm,
                None => {
                    out.send(&Reply::End {
                        end: "logoff".into(),
                    });
                    linger(&mut rd);
                    return;
                }
            }
        }
        None => match prelogon(sys, &term, &mut rd, &out, &mut done) {
            Some(vm) => vm,
            None => return,
        },
    };
    let pump_out = out.clone();
    let pump = thread::Builder::new()
        .name("terminal-out".into())
        .spawn(move || pump(rx, pump_out))
        .expect("cannot start a terminal thread");
    loop {
        let attached = vm.lock().terminal.as_ref().is_some_and(|t| t.id == term.id);
        if vm.is_logged_off() || !attached {
            break;
        }
        match next_input(&mut rd, &out) {
            Input::Line(text) => {
                done += 1;
                enter(sys, &vm, &text);
                let _ = term.tx.send(TermEvent::Done(done));
            }
            Input::End => {
                let attached = vm.lock().terminal.as_ref().is_some_and(|t| t.id == term.id);
                if attached && !vm.is_logged_off() {
                    sys.disconnect(&vm);
                }
                break;
            }
        }
    }
    drop(term);
    let _ = pump.join();
}

/// Routes one typed line: `#CP` lines and lines for a machine whose guest does not read the
/// console go to CP; others are queued for the guest, and we wait until it has dealt with them.
fn enter(sys: &Arc<System>, vm: &Arc<VirtualMachine>, text: &str) {
    let trimmed = text.trim_start();
    let cp_line = if trimmed.len() >= 3 && trimmed[..3].eq_ignore_ascii_case("#CP") {
        Some(trimmed[3..].trim_start())
    } else if !vm.lock().reads_console {
        Some(text)
    } else {
        None
    };
    match cp_line {
        Some(line) => {
            // CP's response is console output like any other: spooled when console spooling is
            // started, and not shown with SPOOL CONSOLE NOTERM.
            let r = cp::execute(sys, vm, line);
            for l in r.lines {
                vm.console(&l);
            }
        }
        None => {
            let (dtx, drx) = unbounded();
            vm.interrupt(Interrupt::Console {
                line: text.to_string(),
                done: Some(dtx),
            });
            let _ = drx.recv_timeout(LINE_TIMEOUT);
        }
    }
}
