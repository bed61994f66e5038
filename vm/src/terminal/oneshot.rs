//! One-shot requests: a CP command, a punch, SHUTDOWN, status.

use std::sync::Arc;

use spool::{Class, Queue, UserId};

use super::{
    Out,
    protocol::{Reply, Request},
};
use crate::{
    clock,
    cp::{self, messages},
    machine::{DevRef, OutKind, VirtualMachine, devices::OpenFile},
    system::{RunState, System, spoolops},
};

/// The logged-on machine of `user`, or a transient one with its directory privileges.
fn machine(sys: &System, user: &str) -> Result<Arc<VirtualMachine>, messages::CpMsg> {
    let u = UserId::parse(user).map_err(|_| messages::userid_missing())?;
    if let Some(vm) = sys.vm(&u) {
        return Ok(vm);
    }
    let e = sys
        .entry(&u)
        .ok_or_else(|| messages::not_in_directory(u.as_str()))?;
    let (vm, _rx) = VirtualMachine::new(e, clock::now(), true, 0);
    Ok(Arc::new(vm))
}

fn refuse(out: &Out, m: messages::CpMsg) {
    out.send(&Reply::Answer {
        rc: m.rc(),
        lines: vec![m.to_string()],
    });
}

pub(super) fn run(sys: &Arc<System>, req: Request, out: &Out) {
    match req {
        Request::Cp { user, command } => match machine(sys, &user) {
            Ok(vm) => {
                let r = cp::execute(sys, &vm, &command);
                if vm.transient {
                    discard_open_files(sys, &vm);
                }
                out.send(&Reply::Answer {
                    rc: r.rc,
                    lines: r.lines,
                });
            }
            Err(m) => refuse(out, m),
        },
        Request::Punch {
            user,
            to,
            class,
            name,
            ftype,
            cards,
        } => match punch(sys, &user, to, class, name, ftype, cards) {
            Ok(lines) => {
                out.send(&Reply::Answer { rc: 0, lines });
            }
            Err(m) => refuse(out, m),
        },
        Request::Smsg {
            user,
            to,
            text,
            wait_ms,
            quiet_ms,
        } => smsg(sys, &user, &to, &text, wait_ms, quiet_ms, out),
        Request::Shutdown => {
            sys.request_shutdown("HOST");
            out.send(&Reply::Answer {
                rc: 0,
                lines: vec!["HCPSHU9001I System shutdown started".into()],
            });
            sys.wait();
            out.send(&Reply::End {
                end: "shutdown".into(),
            });
        }
        Request::Status => {
            out.send(&Reply::Status {
                system: sys.config().system_id.clone(),
                state: match sys.run_state() {
                    RunState::Up => "up",
                    RunState::ShuttingDown => "shutting down",
                    RunState::Down => "down",
                }
                .into(),
                users: sys.users(),
            });
        }
        Request::Line { .. } | Request::Eof | Request::Console { .. } => {
            out.send(&Reply::Error {
                error: "a line or eof request needs a console session first".into(),
            });
        }
    }
}

/// A transient machine ends with its one command: a file it left open on a device (SPOOL CONSOLE
/// START reserves one) would hold its spoolid until the next IPL, so it is purged.
fn discard_open_files(sys: &System, vm: &VirtualMachine) {
    let open: Vec<u16> = vm
        .lock()
        .devices
        .outputs
        .iter()
        .filter(|o| o.open.is_some())
        .map(|o| o.vdev)
        .collect();
    for v in open {
        let _ = spoolops::close_output(
            sys,
            vm,
            DevRef::Vdev(v),
            &spoolops::CloseOpts {
                purge: true,
                ..Default::default()
            },
        );
    }
}

/// Punches `cards` as `user` to `to`'s reader (default the user's own) and closes the file.
fn punch(
    sys: &Arc<System>,
    user: &str,
    to: Option<String>,
    class: Option<String>,
    name: Option<String>,
    ftype: Option<String>,
    cards: Vec<String>,
) -> Result<Vec<String>, messages::CpMsg> {
    let vm = machine(sys, user)?;
    let target = match to.as_deref() {
        None | Some("*") => vm.userid.clone(),
        Some(t) => {
            let u = UserId::parse(t).map_err(|_| messages::userid_missing())?;
            if sys.entry(&u).is_none() {
                return Err(messages::not_in_directory(u.as_str()));
            }
            u
        }
    };
    let class = match class.as_deref() {
        None => None,
        Some(c) => {
            let mut ch = c.chars();
            match (ch.next().and_then(Class::new), ch.next()) {
                (Some(cl), None) => Some(cl),
                _ => return Err(messages::invalid_operand(c)),
            }
        }
    };
    for n in [&name, &ftype].into_iter().flatten() {
        if n.is_empty() || n.chars().count() > 8 || n.contains(' ') {
            return Err(messages::invalid_operand(n));
        }
    }
    if cards.iter().any(|c| c.len() > 80) {
        return Err(messages::invalid_operand("card longer than 80 bytes"));
    }
    {
        // Claim the punch by opening its file now, in the same step as the check: a second host
        // punch as the same logged-on user at the same time is refused instead of having its
        // cards mixed into this deck.
        let mut g = vm.lock();
        let idx = g
            .devices
            .output_index(DevRef::Kind(OutKind::Punch))
            .ok_or_else(|| messages::no_device("PUN"))?;
        if let Some(f) = &g.devices.outputs[idx].open {
            return Err(messages::invalid_operand(&format!(
                "punch has open file {:04}; CLOSE or PURGE it first",
                f.spoolid
            )));
        }
        let id = sys.spool().reserve(&vm.userid, vm.entry.maxspool)?;
        g.devices.outputs[idx].open = Some(OpenFile {
            spoolid: id,
            ..Default::default()
        });
    }
    let dev = DevRef::Kind(OutKind::Punch);
    for c in cards {
        let mut card = c.into_bytes();
        card.resize(80, b' ');
        if let Err(m) = spoolops::write_record(sys, &vm, dev, card) {
            let _ = spoolops::close_output(
                sys,
                &vm,
                dev,
                &spoolops::CloseOpts {
                    purge: true,
                    ..Default::default()
                },
            );
            return Err(m);
        }
    }
    let res = spoolops::close_output(
        sys,
        &vm,
        dev,
        &spoolops::CloseOpts {
            to: Some((target, Queue::Rdr)),
            name: name.map(|n| {
                (
                    n.to_ascii_uppercase(),
                    ftype.unwrap_or_default().to_ascii_uppercase(),
                )
            }),
            class,
            ..Default::default()
        },
    );
    if res.is_err() {
        // A host punch is sent whole or not at all: CLOSE kept the cards on the punch (e.g. the
        // receiver's spoolids are used up); they must not stay there in the user's way.
        let _ = spoolops::close_output(
            sys,
            &vm,
            dev,
            &spoolops::CloseOpts {
                purge: true,
                ..Default::default()
            },
        );
    }
    res
}

/// SMSG as `user` to `to`, answering with the replies `to` sends back to `user`.
fn smsg(
    sys: &Arc<System>,
    user: &str,
    to: &str,
    text: &str,
    wait_ms: u64,
    quiet_ms: u64,
    out: &Out,
) {
    let vm = match machine(sys, user) {
        Ok(vm) => vm,
        Err(m) => return refuse(out, m),
    };
    let Ok(target) = UserId::parse(to) else {
        return refuse(out, messages::not_logged_on(to));
    };
    let tap = sys.tap(&vm.userid);
    let r = cp::execute(sys, &vm, &format!("SMSG {to} {text}"));
    if r.rc != 0 {
        out.send(&Reply::Answer {
            rc: r.rc,
            lines: r.lines,
        });
        return;
    }
    let start = std::time::Instant::now();
    let total = std::time::Duration::from_millis(wait_ms.clamp(100, 600_000));
    let quiet = std::time::Duration::from_millis(quiet_ms.clamp(10, 60_000));
    let mut lines = Vec::new();
    loop {
        let left = total.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        let wait = if lines.is_empty() {
            left
        } else {
            quiet.min(left)
        };
        match tap.rx.recv_timeout(wait) {
            Ok((from, t)) if from == target => lines.push(t),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    out.send(&Reply::Answer { rc: 0, lines });
}
