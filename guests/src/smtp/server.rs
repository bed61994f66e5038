//! The SMTP server's shared state, and the [`Mta`] a session talks to: the command exit's
//! decisions ([`super::route`]) and delivery ([`super::deliver`]).

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use vm::{UserId, VmHandle};

use super::{
    config::Config,
    enrol::Enrolment,
    exit::ExitRunner,
    relay::RelayQueue,
    reply::Reply,
    session::{Envelope, Mta, Origin, Route},
    spooler::Spooler,
    stats::Stats,
};

/// Everything the sessions, the batch reader and the relay worker share.
pub struct Server {
    /// SMTP CONFIG.
    pub cfg: Config,
    /// The machine.
    pub vm: Arc<VmHandle>,
    /// The system name (NETDATA node).
    pub system: String,
    /// The enrolment query client.
    pub enrol: Enrolment,
    /// The external exit, if configured.
    pub exit: Option<ExitRunner>,
    /// The punch.
    pub spooler: Spooler,
    /// Counters.
    pub stats: Stats,
    /// `SMSG SMTP TRACE`: a console line per delivery.
    pub trace: AtomicBool,
    /// STARTTLS.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Mail waiting for the smart host.
    pub relay: Arc<RelayQueue>,
    /// Batch SMTP files waiting to be read.
    pub batch_waiting: AtomicU64,
    /// Messages being spooled now.
    pub spooling: AtomicU64,
    ids: AtomicU64,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({} on port {})", self.vm.userid(), self.cfg.port)
    }
}

impl Server {
    /// The shared state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: Config,
        vm: Arc<VmHandle>,
        enrol: Enrolment,
        exit: Option<ExitRunner>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        relay: Arc<RelayQueue>,
    ) -> Server {
        let system = vm.system_name().to_string();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Server {
            cfg,
            spooler: Spooler::new(vm.clone()),
            vm,
            system,
            enrol,
            exit,
            stats: Stats::default(),
            trace: AtomicBool::new(false),
            tls,
            relay,
            batch_waiting: AtomicU64::new(0),
            spooling: AtomicU64::new(0),
            // Ids are unique across restarts: the start time in the high bits.
            ids: AtomicU64::new(start << 20),
        }
    }

    /// A console line (the operator's log shows it).
    pub fn log(&self, line: &str) {
        self.vm.console(line);
    }

    /// Whether deliveries are traced.
    pub fn tracing(&self) -> bool {
        self.trace.load(Ordering::Relaxed)
    }

    /// A new message id.
    pub fn new_id(&self) -> String {
        format!("{:X}", self.ids.fetch_add(1, Ordering::Relaxed))
    }

    /// This machine's userid.
    pub fn me(&self) -> &UserId {
        self.vm.userid()
    }
}

/// The server as the sessions see it.
#[derive(Debug, Clone)]
pub struct ServerMta(pub Arc<Server>);

impl Mta for ServerMta {
    fn hostname(&self) -> &str {
        &self.0.cfg.hostname
    }

    fn max_bytes(&self) -> u64 {
        self.0.cfg.max_mail_bytes
    }

    fn max_recipients(&self) -> usize {
        self.0.cfg.max_recipients
    }

    fn tls_available(&self) -> bool {
        self.0.tls.is_some()
    }

    fn check_mail(&self, from: &str, origin: &Origin) -> Result<(), Reply> {
        self.0.check_mail(from, origin)
    }

    fn check_rcpt(&self, from: &str, to: &str, origin: &Origin) -> Result<Route, Reply> {
        let r = self.0.check_rcpt(from, to, origin);
        if r.is_err() {
            Stats::bump(&self.0.stats.rejected);
        }
        r
    }

    fn check_data(&self, env: &Envelope, origin: &Origin) -> Result<(), Reply> {
        self.0.check_data(env, origin)
    }

    fn deliver(&self, env: &Envelope, message: &[u8], origin: &Origin) -> Reply {
        self.0.deliver(env, message, origin)
    }

    fn vrfy(&self, what: &str) -> Reply {
        self.0.vrfy(what)
    }

    fn expn(&self, what: &str) -> Reply {
        self.0.expn(what)
    }

    fn queue_report(&self, dated: bool) -> Vec<String> {
        self.0.queue_report(dated)
    }
}
