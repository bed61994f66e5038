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
            TcpError::Bind { port, reason } => write!(f, "cannot listen on port {port}: {reason}"),
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
    pub fn add(self: &Arc<Self>, owner: UserId, local: SocketAddr, remote: SocketAddr) -> ConnGuard {
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
    fn listeners(&self) -> Vec<(u16, UserId, SocketAddr)>;
}
