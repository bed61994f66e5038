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

/// Binds the host port. After replacing a listener whose task was just aborted, the old socket
/// may still be open for a moment (the abort completes on a runtime thread): then an address in
/// use is retried for up to a second.
fn bind(addr: SocketAddr, replaced: bool) -> std::io::Result<std::net::TcpListener> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        match std::net::TcpListener::bind(addr) {
            Err(e)
                if replaced
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            r => return r,
        }
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
        let mut replaced = false;
        if let Some(l) = listening.get(&port) {
            // A listener whose guest is gone (its receiver dropped) is replaced.
            if !(l.closed)() {
                return Err(TcpError::InUse(port));
            }
            l.task.abort();
            listening.remove(&port);
            replaced = true;
        }
        let ip = self.profile.home[0];
        let std_listener =
            bind(SocketAddr::new(ip, port), replaced).map_err(|e| TcpError::Bind {
                port,
                reason: e.to_string(),
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
                // When the guest's listener is dropped (it logged off), stop at once, so that the
                // host port is free for the next listen.
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    () = tx.closed() => break,
                };
                let (stream, remote) = match accepted {
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

#[cfg(test)]
mod tests {
    use std::{io::Read, path::Path, time::Duration};

    use super::*;
    use crate::tcpip::profile::{PROFILE_TCPIP, parse};

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn user(u: &str) -> UserId {
        UserId::parse(u).unwrap()
    }

    /// A stack on a runtime of its own, with `profile`.
    fn stack(profile: &str) -> (tokio::runtime::Runtime, Stack) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let p = parse(profile, Path::new(PROFILE_TCPIP)).unwrap();
        let s = Stack::new(p, rt.handle().clone(), |_| {});
        (rt, s)
    }

    #[test]
    fn only_the_reserved_user_listens_on_a_reserved_port() {
        let port = free_port();
        let open = free_port();
        let (_rt, s) = stack(&format!("PORT\n {port} TCP IMAP\n"));
        assert_eq!(
            s.listen(&user("SMTP"), port).unwrap_err(),
            TcpError::Reserved {
                port,
                owner: "IMAP".into()
            }
        );
        // An unreserved port is anyone's; a port is listened on once.
        let l = s.listen(&user("DEMO"), open).unwrap();
        assert_eq!(l.port, open);
        assert_eq!(
            s.listen(&user("DEMO"), open).unwrap_err(),
            TcpError::InUse(open)
        );
        assert_eq!(
            s.listen(&user("IMAP"), open).unwrap_err(),
            TcpError::InUse(open)
        );
        let _imap = s.listen(&user("IMAP"), port).unwrap();
        let mut seen = s.listeners();
        seen.sort_by_key(|l| l.0);
        let mut want = vec![
            (port, user("IMAP"), SocketAddr::from(([127, 0, 0, 1], port))),
            (open, user("DEMO"), SocketAddr::from(([127, 0, 0, 1], open))),
        ];
        want.sort_by_key(|l| l.0);
        assert_eq!(seen, want);
    }

    #[test]
    fn restrictlowports_refuses_unreserved_low_ports() {
        let (_rt, s) = stack("RESTRICTLOWPORTS\n");
        assert_eq!(
            s.listen(&user("DEMO"), 80).unwrap_err(),
            TcpError::LowPort(80)
        );
        // A reserved low port is not refused for that reason (the host may still refuse the
        // bind when vmimap may not bind low ports).
        let (_rt, s) = stack("PORT 80 TCP WEB\n");
        assert!(!matches!(
            s.listen(&user("WEB"), 80),
            Err(TcpError::LowPort(_) | TcpError::Reserved { .. })
        ));
    }

    #[test]
    fn a_dropped_listener_frees_its_port_and_connections_are_handed_over() {
        let port = free_port();
        let (rt, s) = stack(&format!("PORT {port} TCP IMAP\n"));
        let imap = user("IMAP");
        let l = s.listen(&imap, port).unwrap();
        drop(l);
        // The guest is gone: its port is no longer listed and can be listened on again at once.
        assert!(s.listeners().is_empty());
        let mut l = s.listen(&imap, port).unwrap();
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let conn = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), l.accept()).await })
            .unwrap()
            .unwrap();
        assert_eq!(conn.local.port(), port);
        assert_eq!(conn.remote, client.local_addr().unwrap());
        let table = s.netstat();
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].owner, imap);
        assert_eq!(table[0].remote, client.local_addr().unwrap());
        // When the guest drops the connection, it leaves the table and the client sees the end.
        drop(conn);
        assert!(s.netstat().is_empty());
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(client.read(&mut [0u8; 8]).unwrap(), 0);
    }
}
