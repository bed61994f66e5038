//! The TCP/IP socket service: what a guest gets from the TCPIP stack machine.
//!
//! The TCPIP guest owns the host listeners. It registers itself with CP as the stack
//! ([`TcpStack`]); a guest asks it to listen on a port ([`crate::VmHandle::tcp_listen`], an IUCV
//! path to TCPIP checked against the directory) and gets a [`TcpListener`] from which accepted
//! connections arrive. A connection is handed over whole — GIVESOCKET/TAKESOCKET in spirit — so
//! bytes then flow between the client and the guest with no hop or copy through the stack. The
//! stack still knows every connection (for NETSTAT) through the guard each one carries.

use std::{
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use spool::UserId;
use tokio::sync::mpsc;

/// Why a socket request failed (with the errno-style name z/VM's socket API uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpError {
    /// No TCP/IP stack is running (ENETDOWN).
    StackDown,
    /// The port is reserved for another user (EACCES).
    Reserved {
        /// Port.
        port: u16,
        /// Its owner.
        owner: String,
    },
    /// Low ports not reserved for the caller are refused (EACCES, RESTRICTLOWPORTS).
    LowPort(u16),
    /// The caller already listens on the port (EADDRINUSE).
    InUse(u16),
    /// The host refused the bind (privileges, address in use…).
    Bind {
        /// Port.
        port: u16,
        /// The host's reason.
        reason: String,
    },
    /// The directory does not allow an IUCV path to the stack.
    NotAuthorized(String),
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::StackDown => write!(f, "ENETDOWN: the TCP/IP stack is not running"),
            TcpError::Reserved { port, owner } => {
                write!(f, "EACCES: port {port} is reserved for {owner}")
            }
            TcpError::LowPort(p) => write!(f, "EACCES: port {p} is a restricted low port"),
            TcpError::InUse(p) => write!(f, "EADDRINUSE: port {p} is already in use"),
            // The port is left out: callers say which port they asked for.
            TcpError::Bind { reason, .. } => write!(f, "the host refused the bind: {reason}"),
            TcpError::NotAuthorized(w) => write!(f, "not authorized: {w}"),
        }
    }
}

impl std::error::Error for TcpError {}

/// One connection as NETSTAT shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Connection number.
    pub id: u64,
    /// Owner (the guest the connection was handed to).
    pub owner: UserId,
    /// Local address.
    pub local: SocketAddr,
    /// Remote address.
    pub remote: SocketAddr,
}

/// The stack's table of connections; a [`ConnGuard`] removes its entry when dropped.
#[derive(Debug, Default)]
pub struct ConnTable {
    conns: Mutex<(u64, Vec<ConnInfo>)>,
}

impl ConnTable {
    /// Records a connection and returns its guard.
    pub fn add(
        self: &Arc<Self>,
        owner: UserId,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> ConnGuard {
        let mut g = self.conns.lock().unwrap();
        g.0 += 1;
        let id = g.0;
        g.1.push(ConnInfo {
            id,
            owner,
            local,
            remote,
        });
        ConnGuard {
            table: Arc::downgrade(self),
            id,
        }
    }

    /// The connections now open.
    pub fn list(&self) -> Vec<ConnInfo> {
        self.conns.lock().unwrap().1.clone()
    }
}

/// Keeps a connection in the stack's table while it is open.
#[derive(Debug)]
pub struct ConnGuard {
    table: std::sync::Weak<ConnTable>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(t) = self.table.upgrade() {
            t.conns.lock().unwrap().1.retain(|c| c.id != self.id);
        }
    }
}

/// An accepted connection, handed to the listening guest.
#[derive(Debug)]
pub struct TcpConnection {
    /// The host socket itself.
    pub stream: tokio::net::TcpStream,
    /// The client's address.
    pub remote: SocketAddr,
    /// The local address (which port it came in on).
    pub local: SocketAddr,
    /// Keeps the connection in NETSTAT until dropped.
    pub guard: ConnGuard,
}

/// A port the guest listens on.
#[derive(Debug)]
pub struct TcpListener {
    /// The port.
    pub port: u16,
    /// The host address it is bound to.
    pub local: SocketAddr,
    rx: mpsc::Receiver<TcpConnection>,
}

impl TcpListener {
    /// A listener fed by `rx` (for stacks).
    pub fn new(port: u16, local: SocketAddr, rx: mpsc::Receiver<TcpConnection>) -> TcpListener {
        TcpListener { port, local, rx }
    }

    /// The next connection; `None` when the stack stopped listening (it ended).
    pub async fn accept(&mut self) -> Option<TcpConnection> {
        self.rx.recv().await
    }
}

/// A TCP/IP stack, as the TCPIP guest offers it to CP.
pub trait TcpStack: Send + Sync + fmt::Debug {
    /// Listens on `port` for `owner` (checking the port reservations).
    fn listen(&self, owner: &UserId, port: u16) -> Result<TcpListener, TcpError>;
    /// The open connections.
    fn netstat(&self) -> Vec<ConnInfo>;
    /// The ports being listened on: (port, owner, address).
    fn listeners(&self) -> Vec<Listening>;
}

/// A port being listened on, as NETSTAT shows it: (port, owner, host address).
pub type Listening = (u16, UserId, SocketAddr);

/// The message id of a NETSTAT that could not ask the stack.
pub const NETSTAT_FAILED: &str = "DTCNET001E";

/// The NETSTAT report in z/VM's layout: a header, then a line per open connection (`Established`,
/// numbered from 1001) and per listening port (`Listen`). The TCPIP machine's answer to
/// `SMSG TCPIP NETSTAT` and the CMS command NETSTAT both print it.
///
/// ```text
/// VM TCP/IP Netstat Level 730
/// Active Transmission Blocks
/// User Id  Conn     Local Socket           Foreign Socket         State
/// -------- ----     ------------           --------------         -----
/// IMAP     1001     127.0.0.1..1143        127.0.0.1..50312       Established
/// IMAP              127.0.0.1..1143        *..*                   Listen
/// ```
pub fn netstat_lines(conns: &[ConnInfo], listeners: &[Listening]) -> Vec<String> {
    let mut out = vec![
        "VM TCP/IP Netstat Level 730".to_string(),
        "Active Transmission Blocks".to_string(),
        "User Id  Conn     Local Socket           Foreign Socket         State".to_string(),
        "-------- ----     ------------           --------------         -----".to_string(),
    ];
    for c in conns {
        out.push(format!(
            "{:<8} {:<8} {:<22} {:<22} Established",
            c.owner.as_str(),
            1000 + c.id,
            socket(c.local),
            socket(c.remote),
        ));
    }
    for (port, owner, addr) in listeners {
        out.push(format!(
            "{:<8} {:<8} {:<22} {:<22} Listen",
            owner.as_str(),
            "",
            format!("{}..{port}", addr.ip()),
            "*..*",
        ));
    }
    out
}

/// Checks NETSTAT's operands: none, `CONN` or `ALLCONN` (all three give the one report there
/// is). Anything else is the line `DTCNET002E Unsupported NETSTAT operand: X`.
pub fn netstat_operands<'a>(ops: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut ops = ops.into_iter();
    match ops.next() {
        None => return Ok(()),
        Some(o) if o.eq_ignore_ascii_case("CONN") || o.eq_ignore_ascii_case("ALLCONN") => {}
        Some(o) => return Err(format!("DTCNET002E Unsupported NETSTAT operand: {o}")),
    }
    match ops.next() {
        None => Ok(()),
        Some(o) => Err(format!("DTCNET002E Unsupported NETSTAT operand: {o}")),
    }
}

/// The line NETSTAT shows when it cannot ask the stack: `DTCNET001E reason`.
pub fn netstat_error(e: &TcpError) -> String {
    format!("{NETSTAT_FAILED} {e}")
}

/// A socket address as NETSTAT writes it: `address..port`.
fn socket(a: SocketAddr) -> String {
    format!("{}..{}", a.ip(), a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstat_shows_connections_then_listeners() {
        let imap = UserId::parse("IMAP").unwrap();
        let local: SocketAddr = "127.0.0.1:1143".parse().unwrap();
        let conns = [ConnInfo {
            id: 1,
            owner: imap.clone(),
            local,
            remote: "127.0.0.1:50312".parse().unwrap(),
        }];
        let lines = netstat_lines(&conns, &[(1143, imap, local)]);
        assert_eq!(
            lines[4..],
            [
                "IMAP     1001     127.0.0.1..1143        127.0.0.1..50312       Established",
                "IMAP              127.0.0.1..1143        *..*                   Listen",
            ]
        );
        // The columns are under their headings.
        assert_eq!(lines[2].find("State"), lines[4].find("Established"));
        assert_eq!(lines[2].find("Foreign"), lines[4].find("127.0.0.1..50312"));
        assert_eq!(netstat_lines(&[], &[]).len(), 4);
        assert_eq!(netstat_operands([]), Ok(()));
        assert_eq!(netstat_operands(["conn"]), Ok(()));
        assert_eq!(netstat_operands(["ALLCONN"]), Ok(()));
        assert_eq!(
            netstat_operands(["GATE"]),
            Err("DTCNET002E Unsupported NETSTAT operand: GATE".into())
        );
        assert_eq!(
            netstat_operands(["CONN", "x"]),
            Err("DTCNET002E Unsupported NETSTAT operand: x".into())
        );
        assert_eq!(
            netstat_error(&TcpError::StackDown),
            "DTCNET001E ENETDOWN: the TCP/IP stack is not running"
        );
    }
}
