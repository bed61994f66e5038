//! The SMTP server machine (`IPL SMTP`), z/VM's SMTP virtual machine: ESMTP on the port PROFILE
//! TCPIP reserves for it, batch SMTP from its reader, the command exit that routes mail for IMAP
//! users to the IMAP machine's reader and other local mail to users' readers, a relay queue for
//! the smart host, and `SMSG SMTP` administration. docs/smtp.md is the user's guide.
//!
//! Threads: the machine's own thread reads the interrupt queue (SMSG, `*SPL` arrivals, IUCV
//! events of the enrolment query path); TCP sessions are tasks on the system's runtime; one
//! thread runs batch decks and one sends queued mail to the smart host.

pub mod addr;
pub mod batch;
pub mod client;
pub mod config;
pub mod deck;
pub mod deliver;
pub mod enrol;
pub mod exit;
pub mod relay;
pub mod reply;
pub mod route;
pub mod server;
pub mod session;
pub mod smsg;
pub mod spooler;
pub mod stats;
pub mod tcp;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow};
use crossbeam_channel::Sender;
use vm::{
    Guest, Interrupt, Registry, VmHandle,
    iucv::{IucvEvent, MsgClass, SplFile, user_data},
    system::SplClient,
    tls,
};

use self::{
    config::{Config, SMTP_CONFIG, default_text},
    deliver::QUEUE_NAME,
    enrol::Enrolment,
    exit::ExitRunner,
    relay::RelayQueue,
    server::Server,
};

/// Registers the program `SMTP`.
pub fn register(reg: &mut Registry) {
    reg.register("SMTP", |_| Ok(Box::new(Smtp) as Box<dyn Guest>));
}

/// The SMTP server program.
#[derive(Debug)]
pub struct Smtp;

fn resolve(dir: &Path, p: &Path) -> PathBuf {
    tls::resolve(dir, p)
}

/// Sends a reader file where it belongs: relay queue files to the relay worker, SMTP's own
/// other files to the postmaster (they are not batch SMTP), everything else to the batch reader.
fn dispatch(server: &Server, spl: &SplClient, f: SplFile, batch: &Sender<SplFile>) {
    if &f.origin == server.me() {
        if (f.fname.as_str(), f.ftype.as_str()) == QUEUE_NAME {
            server.relay.add(f);
        } else {
            let pm = server.cfg.postmaster.clone();
            let r = spl.transfer(f.file_id, &pm);
            server.log(&format!(
                "DTCSMT045W Reader file {:04} ({} {}) is SMTP's own and not batch SMTP; {}",
                f.spoolid,
                f.fname,
                f.ftype,
                match r {
                    Ok(_) => format!("transferred to {pm}"),
                    Err(e) => format!("left in the reader: {e}"),
                }
            ));
        }
        return;
    }
    server.batch_waiting.fetch_add(1, Ordering::Relaxed);
    let _ = batch.send(f);
}

impl Guest for Smtp {
    fn signals_ready(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let vm = Arc::new(vm);
        let path = vm.config_path(SMTP_CONFIG);
        let text = vm.config_or_default(SMTP_CONFIG, &default_text())?;
        let cfg = Config::parse(&text, &path, vm.system_name()).map_err(|e| anyhow!("{e}"))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let (cert, key) = (resolve(&dir, &cfg.cert), resolve(&dir, &cfg.key));
        let acceptor = match tls::ensure(&cert, &key)
            .context("TLS certificate")
            .and_then(|made| {
                if made {
                    vm.console(&format!(
                        "DTCSMT003I A self-signed certificate for localhost was made: {}",
                        cert.display()
                    ));
                }
                tls::acceptor(&cert, &key)
            }) {
            Ok(a) => Some(a),
            Err(e) => {
                vm.console(&format!("DTCSMT004W STARTTLS is not offered: {e:#}"));
                None
            }
        };
        let exit = cfg.exit.as_ref().map(|e| ExitRunner {
            program: resolve(&dir, &e.program),
            args: e.args.clone(),
            timeout: cfg.exit_timeout,
        });
        let listener = vm
            .tcp_listen(cfg.port)
            .map_err(|e| anyhow!("DTCSMT006E cannot listen on port {}: {e}", cfg.port))?;
        vm.cp("SET SMSG IUCV");
        vm.iucv_connect("*MSG", None, user_data(""))
            .map_err(|e| anyhow!("cannot connect to *MSG: {e}"))?;
        let spl = Arc::new(vm.spl_connect().map_err(|e| {
            anyhow!("cannot connect to *SPL ({e}): SMTP's directory entry needs IUCV *SPL")
        })?);
        let enrol = {
            let log = vm.clone();
            Enrolment::new(vm.clone(), cfg.imap_server.clone(), move |l| log.console(l))
        };
        enrol.connect();
        let relay = Arc::new(RelayQueue::default());
        let port = cfg.port;
        let server = Arc::new(Server::new(
            cfg,
            vm.clone(),
            enrol,
            exit,
            acceptor,
            relay.clone(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        relay::start(relay.clone(), server.clone(), spl.clone(), stop.clone())
            .context("cannot start the relay thread")?;
        let (batch_tx, batch_rx) = crossbeam_channel::unbounded();
        let batch_thread = batch::start(server.clone(), spl.clone(), batch_rx)
            .context("cannot start the batch thread")?;
        vm.spawn(tcp::accept(server.clone(), listener, vm.watch()));
        vm.console(&format!(
            "DTCSMT001I SMTP server ready on port {port}{}; host name {}",
            if server.tls.is_some() {
                " (STARTTLS)"
            } else {
                ""
            },
            server.cfg.hostname
        ));
        vm.ready();
        loop {
            match vm.next_interrupt(Duration::from_millis(500)) {
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => break,
                Some(Interrupt::Message {
                    class: MsgClass::Smsg,
                    from,
                    text,
                }) => {
                    let a = smsg::handle(&server, &from, &text);
                    for l in &a.lines {
                        vm.cp(&format!("MSG {from} {l}"));
                    }
                    if a.shutdown {
                        break;
                    }
                }
                Some(Interrupt::SplArrival(f)) => dispatch(&server, &spl, f, &batch_tx),
                Some(Interrupt::Iucv(ev)) => {
                    if !server.enrol.event(&ev)
                        && let IucvEvent::ConnectionPending { path, .. } = ev
                    {
                        // SMTP offers no IUCV service.
                        let _ = vm.iucv_sever(path, user_data("NO SERVICE"));
                    }
                }
                _ => {}
            }
            if !vm.is_logged_on() {
                break;
            }
        }
        stop.store(true, Ordering::SeqCst);
        relay.wake();
        drop(batch_tx);
        // A deck being run is finished (it is purged only after its mail is spooled).
        let t = Instant::now();
        while !batch_thread.is_finished() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        vm.console("DTCSMT002I SMTP server ended");
        Ok(())
    }
}
