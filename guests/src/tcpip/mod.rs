//! The TCP/IP stack machine (`IPL TCPIP`): it owns the host listeners, hands accepted connections
//! to the servers that listen through it, autologs the servers of its AUTOLOG list and restarts
//! one that ends (at most MAXRESTART times), and answers `SMSG TCPIP NETSTAT`.

pub mod profile;
pub mod stack;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use vm::{
    Guest, Interrupt, Registry, UserId, VmHandle,
    iucv::{MsgClass, user_data},
    tcp,
};

use self::{
    profile::{PROFILE_TCPIP, default_text, parse},
    stack::Stack,
};

/// Registers the stack as the guest program `TCPIP`.
pub fn register(reg: &mut Registry) {
    reg.register("TCPIP", |_| Ok(Box::new(Tcpip) as Box<dyn Guest>));
}

/// The servers a new system's profile autologs.
pub const DEFAULT_AUTOLOG: &[&str] = &["IMAP", "SMTP"];

/// The stack machine.
#[derive(Debug)]
pub struct Tcpip;

/// The answer to `SMSG TCPIP NETSTAT [operands]`: the report CMS NETSTAT shows too
/// ([`vm::tcp::netstat_lines`]), or the line that says why there is none.
fn netstat_answer(vm: &VmHandle, operands: &str) -> Vec<String> {
    if let Err(line) = tcp::netstat_operands(operands.split_whitespace()) {
        return vec![line];
    }
    match vm.tcp_netstat() {
        Ok((conns, listeners)) => tcp::netstat_lines(&conns, &listeners),
        Err(e) => vec![tcp::netstat_error(&e)],
    }
}

impl Guest for Tcpip {
    fn signals_ready(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let path = vm.config_path(PROFILE_TCPIP);
        let text = vm.config_or_default(PROFILE_TCPIP, &default_text(DEFAULT_AUTOLOG))?;
        let profile = parse(&text, &path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let watch = vm.watch();
        let stack = Arc::new(Stack::new(profile.clone(), vm.runtime(), move |t| {
            watch.track(t)
        }));
        vm.tcp_register(stack);
        vm.console(&format!(
            "DTCIPI001I TCP/IP stack ready; home address {}",
            profile
                .home
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // The stack answers NETSTAT requests sent by SMSG.
        vm.cp("SET SMSG IUCV");
        let _ = vm.iucv_connect("*MSG", None, user_data(""));
        // A stack restart restarts its servers: FORCE those still running, then XAUTOLOG.
        for u in &profile.autolog {
            if vm.cp(&format!("QUERY {u}")).rc == 0 {
                vm.console(&format!("DTCRUN002I Forcing {u} for a restart"));
                vm.cp(&format!("FORCE {u}"));
            }
            start(&vm, u);
        }
        vm.ready();
        let mut restarts: HashMap<UserId, u32> = HashMap::new();
        let mut last_check = Instant::now();
        loop {
            match vm.next_interrupt(Duration::from_millis(500)) {
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => return Ok(()),
                Some(Interrupt::Message {
                    class: MsgClass::Smsg,
                    from,
                    text,
                }) => {
                    let mut words = text.trim().splitn(2, char::is_whitespace);
                    let verb = words.next().unwrap_or("");
                    let lines = if verb.eq_ignore_ascii_case("NETSTAT") {
                        netstat_answer(&vm, words.next().unwrap_or(""))
                    } else {
                        vec![format!("DTCSMG003E Unknown request: {}", text.trim())]
                    };
                    for l in lines {
                        vm.cp(&format!("MSG {from} {l}"));
                    }
                }
                _ => {}
            }
            if !vm.is_logged_on() {
                return Ok(());
            }
            if last_check.elapsed() >= Duration::from_secs(1) {
                last_check = Instant::now();
                for u in &profile.autolog {
                    if vm.cp(&format!("QUERY {u}")).rc == 45 {
                        let n = restarts.entry(u.clone()).or_default();
                        *n += 1;
                        if *n <= profile.max_restart {
                            vm.console(&format!(
                                "DTCRUN004I Restarting {u} ({n} of {})",
                                profile.max_restart
                            ));
                            start(&vm, u);
                        } else if *n == profile.max_restart + 1 {
                            vm.console(&format!(
                                "DTCRUN005W {u} was restarted {} times; not restarted again",
                                profile.max_restart
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// XAUTOLOGs a server and waits until it is ready.
fn start(vm: &VmHandle, u: &UserId) {
    let r = vm.cp(&format!("XAUTOLOG {u}"));
    if r.rc != 0 {
        vm.console(&format!(
            "DTCRUN006E XAUTOLOG {u} failed: {}",
            r.lines.join("; ")
        ));
        return;
    }
    vm.console(&format!("DTCRUN003I {u} autologged"));
    if !vm.wait_ready_of(u, Duration::from_secs(60)) {
        vm.console(&format!("DTCRUN007W {u} is not ready after 60 seconds"));
    }
}
