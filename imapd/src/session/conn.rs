//! A client connection: the host socket handed over by TCPIP, plain or wrapped in TLS.
//!
//! Reading waits for the socket to be readable before it takes a buffer, so an idle session
//! (one in IDLE, or between commands) holds no read buffer at all.

use std::io;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::server::TlsStream;

/// How much is read at a time: little for a new command (most are short, and an idle
/// session should hold little), more while a long one (a literal) is coming in.
const READ_FIRST: usize = 2 * 1024;
const READ_CHUNK: usize = 16 * 1024;

fn room(buf: &[u8]) -> usize {
    if buf.is_empty() {
        READ_FIRST
    } else {
        READ_CHUNK
    }
}

/// The connection.
pub enum Conn {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS (implicit, or after STARTTLS).
    Tls(Box<TlsStream<TcpStream>>),
    /// Taken out for a TLS handshake (never seen by callers).
    Gone,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Plain(_) => "Conn(plain)",
            Conn::Tls(_) => "Conn(tls)",
            Conn::Gone => "Conn(gone)",
        })
    }
}

impl Conn {
    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::Tls(_))
    }

    /// Waits for input and appends what came to `buf`; 0 at end of input.
    pub async fn read_into(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => loop {
                s.readable().await?;
                buf.reserve(room(buf));
                match s.try_read_buf(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            },
            Conn::Tls(s) => {
                buf.reserve(room(buf));
                s.read_buf(buf).await
            }
            Conn::Gone => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "connection gone",
            )),
        }
    }

    /// Waits until input is available (plain) or returns at once (TLS: the caller reads).
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.readable().await,
            _ => Ok(()),
        }
    }

    /// Writes all of `b`.
    pub async fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.write_all(b).await,
            Conn::Tls(s) => {
                s.write_all(b).await?;
                s.flush().await
            }
            Conn::Gone => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "connection gone",
            )),
        }
    }

    /// Ends the connection.
    pub async fn shutdown(&mut self) {
        let _ = match self {
            Conn::Plain(s) => s.shutdown().await,
            Conn::Tls(s) => s.shutdown().await,
            Conn::Gone => Ok(()),
        };
    }

    /// Wraps a plain connection in TLS (STARTTLS).
    pub async fn start_tls(&mut self, acceptor: &tokio_rustls::TlsAcceptor) -> io::Result<()> {
        let Conn::Plain(s) = std::mem::replace(self, Conn::Gone) else {
            return Err(io::Error::other("TLS is already active"));
        };
        let t = acceptor.accept(s).await?;
        *self = Conn::Tls(Box::new(t));
        Ok(())
    }
}
