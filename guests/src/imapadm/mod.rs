//! IMAPADM (`IPL IMAPADM`), the sample administrator exit of the IMAP server (vm-mail.md §2.7):
//! authorised users give it requests — `ENROLL userid [blocks]`, `DELETE userid`, `LIST`,
//! `QUOTA userid blocks` — by `SMSG IMAPADM` or as a deck punched to its reader; it checks them
//! against its own AUTHORIZE list, carries them out through the IMAP server's administrator
//! interface ([`imap`]), keeps an audit log in SFS ([`audit`]) and answers by `MSG` or with a
//! result file. At start it can enrol every directory user of some classes, or a list of users
//! ([`autoenroll`]). docs/imapadm.md is the user's guide.
//!
//! Threads: the machine's own thread reads the interrupt queue (SMSG requests, `*SPL` arrivals,
//! the IMAP server's MSG answers, which it hands to the [`imap::ImapLink`]); one worker thread
//! runs requests, decks and the enrolment policy one at a time, so one IMAP command is
//! outstanding at a time and the audit log is in request order.

pub mod audit;
pub mod autoenroll;
pub mod config;
pub mod deck;
pub mod imap;
pub mod messages;
pub mod requests;
pub mod service;
pub mod smsg;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::anyhow;
use vm::{
    Guest, Interrupt, Registry, UserId, VmHandle,
    iucv::{IucvEvent, MsgClass, SplFile, user_data},
    system::SplClient,
};

use self::{
    audit::Audit,
    config::{Config, IMAPADM_CONFIG, default_text},
    imap::ImapLink,
    messages as m,
    service::Service,
};
use crate::smtp::spooler::Spooler;

/// Registers the program `IMAPADM`.
pub fn register(reg: &mut Registry) {
    reg.register("IMAPADM", |_| Ok(Box::new(ImapAdm) as Box<dyn Guest>));
}

/// The administrator exit program.
#[derive(Debug)]
pub struct ImapAdm;

/// Work for the worker thread.
enum Job {
    Smsg { from: UserId, text: String },
    Deck(SplFile),
    AutoEnroll,
}

/// How often an enrolment policy that could not be applied yet is tried again.
const RETRY: Duration = Duration::from_secs(5);

fn worker(
    service: Arc<Service>,
    spl: Arc<SplClient>,
    spooler: Spooler,
    rx: crossbeam_channel::Receiver<Job>,
    pending: Arc<AtomicBool>,
) {
    let mut told = false;
    while let Ok(job) = rx.recv() {
        match job {
            Job::Smsg { from, text } => smsg::handle(&service, &from, &text),
            Job::Deck(f) => deck::process(&service, &spl, &spooler, &f),
            Job::AutoEnroll => match autoenroll::apply(&service) {
                Ok(t) => {
                    pending.store(false, Ordering::SeqCst);
                    service.log(&m::autoenroll_done(t.enrolled, t.already, t.failed).to_string());
                }
                Err(e) => {
                    if !told {
                        service.log(
                            &m::autoenroll_failed("the policy", &format!("{e}; trying again"))
                                .to_string(),
                        );
                        told = true;
                    }
                    pending.store(true, Ordering::SeqCst);
                }
            },
        }
    }
}

impl Guest for ImapAdm {
    fn signals_ready(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()> {
        let vm = Arc::new(vm);
        let path = vm.config_path(IMAPADM_CONFIG);
        let text = vm.config_or_default(IMAPADM_CONFIG, &default_text())?;
        let cfg = Config::parse(&text, &path).map_err(|e| anyhow!("{e}"))?;
        vm.cp("SET MSG IUCV");
        vm.cp("SET SMSG IUCV");
        vm.iucv_connect("*MSG", None, user_data(""))
            .map_err(|e| anyhow!("cannot connect to *MSG: {e}"))?;
        let spl = Arc::new(vm.spl_connect().map_err(|e| {
            anyhow!("cannot connect to *SPL ({e}): IMAPADM's directory entry needs IUCV *SPL")
        })?);
        let (imap_tx, imap_rx) = crossbeam_channel::unbounded();
        let imap_server = cfg.imap_server.clone();
        let imap = ImapLink::new(
            vm.clone(),
            imap_server.clone(),
            Duration::from_secs(cfg.timeout_secs),
            imap_rx,
        );
        let audit = Audit::new(vm.clone(), cfg.audit.clone());
        let audit_name = cfg.audit.to_string();
        match audit.check() {
            Ok(()) => vm.console(&m::audit_available(&audit_name).to_string()),
            Err(e) => vm.console(&m::audit_not_ready(&audit_name, &e).to_string()),
        }
        let policy = !cfg.autoenroll.is_empty();
        let authorized = cfg
            .authorized
            .iter()
            .map(UserId::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let service = Arc::new(Service {
            vm: vm.clone(),
            cfg,
            imap,
            audit,
        });
        let (job_tx, job_rx) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicBool::new(false));
        let worker_thread = {
            let (service, spl, pending) = (service.clone(), spl.clone(), pending.clone());
            let spooler = Spooler::new(vm.clone());
            std::thread::Builder::new()
                .name("imapadm-worker".into())
                .spawn(move || worker(service, spl, spooler, job_rx, pending))?
        };
        vm.console(&m::ready(imap_server.as_str(), &authorized, &audit_name).to_string());
        vm.ready();
        if policy {
            let _ = job_tx.send(Job::AutoEnroll);
        }
        let mut last_retry = Instant::now();
        loop {
            match vm.next_interrupt(Duration::from_millis(500)) {
                Some(Interrupt::Shutdown) | Some(Interrupt::LoggedOff) => break,
                Some(Interrupt::Message { class, from, text }) => match class {
                    MsgClass::Smsg => {
                        let _ = job_tx.send(Job::Smsg { from, text });
                    }
                    MsgClass::Msg if from == imap_server => {
                        let _ = imap_tx.send(text);
                    }
                    _ => {}
                },
                Some(Interrupt::SplArrival(f)) => {
                    let _ = job_tx.send(Job::Deck(f));
                }
                Some(Interrupt::Iucv(IucvEvent::ConnectionPending { path, .. })) => {
                    // IMAPADM offers no IUCV service.
                    let _ = vm.iucv_sever(path, user_data("NO SERVICE"));
                }
                _ => {}
            }
            if !vm.is_logged_on() {
                break;
            }
            if pending.load(Ordering::SeqCst) && last_retry.elapsed() >= RETRY {
                last_retry = Instant::now();
                pending.store(false, Ordering::SeqCst);
                let _ = job_tx.send(Job::AutoEnroll);
            }
        }
        drop(job_tx);
        drop(imap_tx);
        let t = Instant::now();
        while !worker_thread.is_finished() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        vm.console(&m::ended().to_string());
        Ok(())
    }
}
