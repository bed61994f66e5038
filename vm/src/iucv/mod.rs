//! IUCV: typed, in-process communication paths between virtual machines and CP system services.
//!
//! A path joins two ends, each named by a path id in its own machine (0 to MAXCONN-1). CONNECT is
//! checked against the directory: the source needs `IUCV userid` or `IUCV ANY` for the target, or
//! the target has `IUCV ALLOW`; system services (`*MSG`, `*MSGALL`, `*SPL`) need their own rules.
//! The target sees a connection-pending interrupt and ACCEPTs or SEVERs. Messages are values
//! (bytes), one-way or two-way; at most MSGLIMIT messages sent on a path may be outstanding (not
//! yet received, or not yet replied to). When a machine logs off (or is forced), every path it has
//! is severed and its partners are told.

pub mod router;
pub mod services;

use std::fmt;

pub use router::{IucvTable, SendMode};
pub use services::{MsgClass, SplFile};
use spool::UserId;

/// A path id in one virtual machine.
pub type PathId = u16;

/// Default MSGLIMIT of a path when neither side asks for less.
pub const DEFAULT_MSGLIMIT: u32 = 10;

/// Why an IUCV function failed, with IUCV's return code (IPRCODE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IucvError {
    /// 01: no such path (or it is not yours).
    InvalidPath(PathId),
    /// 03: the path's message limit is reached.
    MsgLimit(u32),
    /// 09: no such message on the path.
    NoMessage(u32),
    /// 11: the target is not logged on.
    NotLoggedOn(String),
    /// 13: this machine has MAXCONN paths.
    MaxConnSource(u32),
    /// 14: the target has MAXCONN paths.
    MaxConnTarget(u32),
    /// 15: the directory does not authorise the connection.
    NotAuthorized(String),
    /// 16: no such system service.
    NoService(String),
    /// 17: the path is not (yet) connected: pending or severed.
    NotConnected(PathId),
    /// 18: the partner severed the path (or logged off) while a message was outstanding.
    Severed(PathId),
    /// 19: the receiver rejected the message.
    Rejected(u32),
    /// 20: this machine already holds a path to the service.
    AlreadyConnected(String),
}

impl IucvError {
    /// IUCV's return code for the failure.
    pub fn iprcode(&self) -> u8 {
        match self {
            IucvError::InvalidPath(_) => 1,
            IucvError::MsgLimit(_) => 3,
            IucvError::NoMessage(_) => 9,
            IucvError::NotLoggedOn(_) => 11,
            IucvError::MaxConnSource(_) => 13,
            IucvError::MaxConnTarget(_) => 14,
            IucvError::NotAuthorized(_) => 15,
            IucvError::NoService(_) => 16,
            IucvError::NotConnected(_) => 17,
            IucvError::Severed(_) => 18,
            IucvError::Rejected(_) => 19,
            IucvError::AlreadyConnected(_) => 20,
        }
    }
}

impl fmt::Display for IucvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rc = self.iprcode();
        match self {
            IucvError::InvalidPath(p) => write!(f, "IUCV rc {rc}: path {p} does not exist"),
            IucvError::MsgLimit(n) => write!(f, "IUCV rc {rc}: message limit of {n} reached"),
            IucvError::NoMessage(m) => write!(f, "IUCV rc {rc}: message {m} is not on the path"),
            IucvError::NotLoggedOn(u) => write!(f, "IUCV rc {rc}: {u} is not logged on"),
            IucvError::MaxConnSource(n) => {
                write!(
                    f,
                    "IUCV rc {rc}: this machine already has its MAXCONN of {n} paths"
                )
            }
            IucvError::MaxConnTarget(n) => {
                write!(
                    f,
                    "IUCV rc {rc}: the target already has its MAXCONN of {n} paths"
                )
            }
            IucvError::NotAuthorized(w) => write!(f, "IUCV rc {rc}: not authorized: {w}"),
            IucvError::NoService(s) => write!(f, "IUCV rc {rc}: no system service {s}"),
            IucvError::NotConnected(p) => write!(f, "IUCV rc {rc}: path {p} is not connected"),
            IucvError::Severed(p) => write!(f, "IUCV rc {rc}: path {p} was severed"),
            IucvError::Rejected(m) => write!(f, "IUCV rc {rc}: message {m} was rejected"),
            IucvError::AlreadyConnected(s) => {
                write!(f, "IUCV rc {rc}: already connected to {s}")
            }
        }
    }
}

impl std::error::Error for IucvError {}

/// An IUCV event on a guest's interrupt queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IucvEvent {
    /// Another machine asks to connect; ACCEPT or SEVER `path`.
    ConnectionPending {
        /// The new path in this machine.
        path: PathId,
        /// Who asks.
        from: UserId,
        /// 16 bytes of user data from the CONNECT.
        user_data: [u8; 16],
    },
    /// The target accepted our CONNECT.
    ConnectionComplete {
        /// Our path.
        path: PathId,
    },
    /// The partner severed the path, logged off or was forced.
    Severed {
        /// Our (former) path.
        path: PathId,
        /// 16 bytes of user data from the SEVER (`LOGGED OFF` when CP severed it).
        user_data: [u8; 16],
    },
    /// A message arrived; RECEIVE it.
    MessagePending {
        /// Our path.
        path: PathId,
        /// Its message id.
        msgid: u32,
        /// Target class.
        class: u32,
        /// Length of the data.
        len: usize,
        /// Whether the sender awaits a REPLY.
        two_way: bool,
    },
    /// A two-way message we sent was answered or rejected.
    MessageComplete {
        /// Our path.
        path: PathId,
        /// The message id.
        msgid: u32,
        /// The reply, or `None` if the receiver rejected the message.
        reply: Option<Vec<u8>>,
    },
}

/// A message taken by RECEIVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IucvMessage {
    /// Message id.
    pub msgid: u32,
    /// Target class.
    pub class: u32,
    /// The data.
    pub data: Vec<u8>,
    /// Whether the sender awaits a REPLY.
    pub two_way: bool,
}

/// 16 bytes of IUCV user data from text (blank padded, cut at 16).
pub fn user_data(text: &str) -> [u8; 16] {
    let mut d = [b' '; 16];
    for (i, b) in text.bytes().take(16).enumerate() {
        d[i] = b;
    }
    d
}
