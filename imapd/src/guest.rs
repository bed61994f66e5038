//! The IMAP machine's program (`IPL IMAPD`): reads IMAP CONFIG, connects to the mailstore pool
//! as its administrator, listens through TCPIP on the plain and TLS ports, and obeys
//! administrators' `SMSG IMAP` requests until it is logged off or told to shut down.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use vm::{
    Guest, Interrupt, Registry, VmHandle,
    iucv::{MsgClass, user_data},
    sfs::{DmsError, SfsClient},
    tcp::TcpListener,
    tls,
};

use crate::{
    admin,
    config::{Config, IMAP_CONFIG, default_text},
    server::{PasswordCheck, Server},
    session,
    store::Mailstore,
};

/// Registers the program `IMAPD`.
pub fn register(reg: &mut Registry) {
    reg.register("IMAPD", |_| Ok(Box::new(Imapd) as Box<dyn Guest>));
}

/// The IMAP server program.
#[derive(Debug)]
pub struct Imapd;

/// Connects to the mailstore pool, waiting (up to a minute) for its server to offer it.
fn connect(vm: &VmHandle, pool: &str) -> anyhow::Result<SfsClient> {
    let start = Instant::now();
    loop {
        match vm.sfs_connect(pool) {
            Ok(c) => return Ok(c),
            Err(DmsError::PoolUnavailable(_) | DmsError::UnknownPool(_))
                if start.elapsed() < Duration::from_secs(60) && vm.is_logged_on() =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(anyhow!("cannot connect to the mailstore pool {pool}: {e}")),
        }
    }
}

async fn accept(server: Arc<Server>, mut l: TcpListener, implicit_tls: bool) {
    while let Some(c) = l.accept().await {
        tokio::spawn(session::run(server.clone(), c, implicit_tls));
    }
}

fn system_dir(vm: &VmHandle) -> PathBuf {
    vm.config_path(IMAP_CONFIG)
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default()
}

impl Guest for Imapd {
    fn signals_ready(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let vm = Arc::new(vm);
        let path = vm.config_path(IMAP_CONFIG);
        let text = vm.config_or_default(IMAP_CONFIG, &default_text())?;
        let cfg = Config::parse(&text, &path).map_err(|e| anyhow!("{e}"))?;
        let sfs = connect(&vm, &cfg.pool)?;
        if !sfs.is_admin() {
            bail!(
                "{} is not an administrator of the mailstore pool {}: (add it to the pool's ADMIN list in VMSERVS DMSPARMS)",
                vm.userid(),
                cfg.pool
            );
        }
        if let Err(e) = vm.diag88("", "") {
            vm.console(&format!("DTCIMA0201W {e}; every LOGIN will fail"));
        }
        let dir = system_dir(&vm);
        let (cert, key) = (tls::resolve(&dir, &cfg.cert), tls::resolve(&dir, &cfg.key));
        if tls::ensure(&cert, &key).context("TLS certificate")? {
            vm.console(&format!(
                "DTCIMA0202I A self-signed certificate for localhost was made: {}",
                cert.display()
            ));
        }
        let tls_cfg = tls::server_config(&cert, &key)?;
        let check: PasswordCheck = {
            let vm = vm.clone();
            Arc::new(move |u: &str, p: &str| vm.diag88(u, p).unwrap_or(false))
        };
        let console: crate::server::ConsoleLog = {
            let vm = vm.clone();
            Arc::new(move |l: &str| vm.console(l))
        };
        let server = Arc::new(Server::new(
            cfg.clone(),
            Mailstore::new(sfs).with_log(console.clone()),
            Some(tls_cfg),
            check,
            console,
        ));
        let plain = vm
            .tcp_listen(cfg.port)
            .map_err(|e| anyhow!("cannot listen on port {}: {e}", cfg.port))?;
        vm.spawn(accept(server.clone(), plain, false));
        let mut ports = format!("{} (STARTTLS)", cfg.port);
        if cfg.tls_port != 0 {
            let l = vm
                .tcp_listen(cfg.tls_port)
                .map_err(|e| anyhow!("cannot listen on port {}: {e}", cfg.tls_port))?;
            vm.spawn(accept(server.clone(), l, true));
            ports.push_str(&format!(" and {} (TLS)", cfg.tls_port));
        }
        // Mail in the reader: *SPL reports each file (those already there too).
        let spl = Arc::new(vm.spl_connect().map_err(|e| {
            anyhow!("cannot connect to *SPL (the directory entry needs IUCV *SPL): {e}")
        })?);
        let intake = crate::intake::Intake::start(server.clone(), spl);
        let mut queries = crate::query::QueryPaths::default();
        vm.cp("SET SMSG IUCV");
        vm.iucv_connect("*MSG", None, user_data(""))
            .map_err(|e| anyhow!("cannot connect to *MSG: {e}"))?;
        vm.console(&format!(
            "DTCIMA0200I IMAP server ready on port {ports}; mailstore {}:",
            cfg.pool
        ));
        vm.ready();
        let in_dir = {
            let vm = vm.clone();
            move |u: &vm::UserId| vm.in_directory(u)
        };
        loop {
            match vm.next_interrupt(Duration::from_millis(500)) {
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => break,
                Some(Interrupt::SplArrival(f)) => intake.arrived(f),
                Some(Interrupt::Iucv(ev)) => {
                    queries.event(&vm, &server, &ev);
                }
                Some(Interrupt::Message {
                    class: MsgClass::Smsg,
                    from,
                    text,
                }) => {
                    let server2 = server.clone();
                    let a = admin::handle(&server2, &from, &text, &in_dir);
                    for l in &a.lines {
                        vm.cp(&format!("MSG {from} {l}"));
                    }
                    if a.shutdown {
                        vm.console(&format!("DTCIMA0203I Shutdown requested by {from}"));
                        break;
                    }
                }
                _ => {}
            }
            if !vm.is_logged_on() {
                break;
            }
        }
        server.shutdown();
        let start = Instant::now();
        while !server.sessions().is_empty() && start.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        vm.console("DTCIMA0204I IMAP server ended");
        Ok(())
    }
}
