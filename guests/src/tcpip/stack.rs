//! The stack: port reservations, host listeners, and the hand-off of accepted connections.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::sync::mpsc;
use vm::{
    UserId,
    tcp::{ConnInfo, ConnTable, TcpConnection, TcpError, TcpListener, TcpStack},
};

use super::profile::Profile;

struct Listening {
    owner: UserId,
    addr: SocketAddr,
    task: tokio::task::AbortHandle,
    closed: Box<dyn Fn() -> bool + Send + Sync>,
}

/// The TCPIP machine's stack.
pub struct Stack {
    profile: Profile,
    runtime: tokio::runtime::Handle,
    table: Arc<ConnTable>,
    listening: Mutex<HashMap<u16, Listening>>,
    /// Aborts tasks when the stack machine logs off.
    spawn: Box<dyn Fn(tokio::task::AbortHandle) + Send + Sync>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stack({} ports)", self.profile.ports.len())
    }
}

impl Stack {
    /// A stack for `profile`; `track` is given every task the stack starts, so that they are
    /// aborted with the stack machine.
    pub fn new(
        profile: Profile,
        runtime: tokio::runtime::Handle,
        track: impl Fn(tokio::task::AbortHandle) + Send + Sync + 'static,
    ) -> Stack {
        Stack {
            profile,
            runtime,
            table: Arc::new(ConnTable::default()),
            listening: Mutex::new(HashMap::new()),
            spawn: Box::new(track),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
}

impl TcpStack for Stack {
    fn listen(&self, owner: &UserId, port: u16) -> Result<TcpListener, TcpError> {
        match self.profile.ports.get(&port) {
            Some(r) if &r.owner != owner => {
                return Err(TcpError::Reserved {
                    port,
                    owner: r.owner.to_string(),
                });
            }
            None if port < 1024 && self.profile.restrict_low_ports => {
                return Err(TcpError::LowPort(port));
            }
            _ => {}
        }
        let mut listening = self.listening.lock().unwrap();
        if let Some(l) = listening.get(&port) {
            // A listener whose guest is gone (its receiver dropped) is replaced.
            if !(l.closed)() {
                return Err(TcpError::InUse(port));
            }
            l.task.abort();
            listening.remove(&port);
        }
        let ip = self.profile.home[0];
        let std_listener = std::net::TcpListener::bind(SocketAddr::new(ip, port)).map_err(|e| {
            TcpError::Bind {
                port,
                reason: e.to_string(),
            }
        })?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| TcpError::Bind {
                port,
                reason: e.to_string(),
            })?;
        let addr = std_listener.local_addr().map_err(|e| TcpError::Bind {
            port,
            reason: e.to_string(),
        })?;
        let listener = {
            let _g = self.runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| TcpError::Bind {
                port,
                reason: e.to_string(),
            })?
        };
        let (tx, rx) = mpsc::channel::<TcpConnection>(1024);
        let table = self.table.clone();
        let who = owner.clone();
        let closed_tx = tx.clone();
        let task = self.runtime.spawn(async move {
            loop {
                let (stream, remote) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: back off briefly and go on.
                        tracing::warn!(port, error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let local = stream.local_addr().unwrap_or(addr);
                let guard = table.add(who.clone(), local, remote);
                if tx
                    .send(TcpConnection {
                        stream,
                        remote,
                        local,
                        guard,
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        (self.spawn)(task.abort_handle());
        listening.insert(
            port,
            Listening {
                owner: owner.clone(),
                addr,
                task: task.abort_handle(),
                closed: Box::new(move || closed_tx.is_closed()),
            },
        );
        Ok(TcpListener::new(port, addr, rx))
    }

    fn netstat(&self) -> Vec<ConnInfo> {
        self.table.list()
    }

    fn listeners(&self) -> Vec<(u16, UserId, SocketAddr)> {
        let mut v: Vec<_> = self
            .listening
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, l)| !(l.closed)())
            .map(|(p, l)| (*p, l.owner.clone(), l.addr))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }
}
