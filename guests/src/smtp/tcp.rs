//! A TCP client of SMTP: the connection TCPIP handed over, driven as a [`Session`] on the
//! system's runtime. Input is read as it comes (pipelined commands are answered together);
//! the session's calls that may block (the exit, IUCV, the spool) run under `block_in_place`.
//! A connection idle for INACTIVE seconds gets `421` and is closed; one that ends in the middle
//! of a message delivers nothing.

use std::{io, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};
use tokio_rustls::server::TlsStream;
use vm::tcp::{TcpConnection, TcpListener};

use super::{
    server::{Server, ServerMta},
    session::{Origin, Session, Signal},
    stats::Stats,
};

/// Bytes read at a time.
const CHUNK: usize = 16 * 1024;

/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(30);

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Io {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf).await,
            Io::Tls(s) => s.read(buf).await,
        }
    }

    async fn write(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(b).await,
            Io::Tls(s) => {
                s.write_all(b).await?;
                s.flush().await
            }
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Io::Plain(s) => s.shutdown().await,
            Io::Tls(s) => s.shutdown().await,
        };
    }
}

/// Accepts connections until the stack stops listening; each is a task of the SMTP machine.
pub async fn accept(server: Arc<Server>, mut l: TcpListener, watch: vm::system::LogonWatch) {
    while let Some(c) = l.accept().await {
        let h = tokio::spawn(serve(server.clone(), c));
        watch.track(h.abort_handle());
    }
    server.log(
        "DTCSMT005W The TCP/IP stack stopped listening for SMTP; TCP clients are no longer served",
    );
}

/// Counts an open connection while it lives.
struct Open<'a>(&'a Stats);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Serves one connection to its end.
pub async fn serve(server: Arc<Server>, c: TcpConnection) {
    let TcpConnection {
        stream,
        remote,
        guard: _guard,
        ..
    } = c;
    Stats::bump(&server.stats.connections);
    Stats::bump(&server.stats.open);
    let _open = Open(&server.stats);
    let inactive = server.cfg.inactive;
    let mut session = Session::new(
        Arc::new(ServerMta(server.clone())),
        Origin::Tcp { peer: remote },
    );
    let mut io = Io::Plain(stream);
    let mut out = Vec::new();
    session.greet(&mut out);
    if !matches!(timeout(inactive, io.write(&out)).await, Ok(Ok(()))) {
        return;
    }
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match timeout(inactive, io.read(&mut buf)).await {
            Err(_) => {
                let bye = format!(
                    "421 4.4.2 {} Idle for {} seconds; closing connection\r\n",
                    server.cfg.hostname,
                    inactive.as_secs()
                );
                let _ = timeout(Duration::from_secs(5), io.write(bye.as_bytes())).await;
                break;
            }
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => n,
        };
        out.clear();
        let sig = tokio::task::block_in_place(|| session.input(&buf[..n], &mut out));
        if !out.is_empty() && !matches!(timeout(inactive, io.write(&out)).await, Ok(Ok(()))) {
            break;
        }
        match sig {
            Signal::Continue => {}
            Signal::Close => break,
            Signal::StartTls => {
                let (Io::Plain(s), Some(acceptor)) = (io, server.tls.clone()) else {
                    return;
                };
                match timeout(HANDSHAKE, acceptor.accept(s)).await {
                    Ok(Ok(t)) => {
                        io = Io::Tls(Box::new(t));
                        session.tls_started();
                        Stats::bump(&server.stats.tls);
                    }
                    _ => return,
                }
            }
        }
    }
    io.shutdown().await;
}
