//! `Conn`: the byte stream under a WAMP transport, whatever carries it:
//! plain TCP, TLS over TCP (server or client side, rustls), or a Unix
//! domain socket. The framing code reads and writes a `Conn` and never
//! asks which it is.

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::{TcpStream, UnixStream};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connected stream.
pub enum Conn {
    Tcp(TcpStream),
    TlsServer(Box<futures_rustls::server::TlsStream<TcpStream>>),
    TlsClient(Box<futures_rustls::client::TlsStream<TcpStream>>),
    Unix(UnixStream),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Tcp(_) => "Conn::Tcp",
            Conn::TlsServer(_) => "Conn::TlsServer",
            Conn::TlsClient(_) => "Conn::TlsClient",
            Conn::Unix(_) => "Conn::Unix",
        })
    }
}

impl Conn {
    /// Switches Nagle's algorithm off (TCP only).
    pub fn set_nodelay(&self) -> io::Result<()> {
        let tcp = match self {
            Conn::Tcp(s) => s,
            Conn::TlsServer(s) => s.get_ref().0,
            Conn::TlsClient(s) => s.get_ref().0,
            Conn::Unix(_) => return Ok(()),
        };
        tcp.set_nodelay(true)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// True for a TLS connection.
    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::TlsServer(_) | Conn::TlsClient(_))
    }

    /// The client certificate a TLS server connection was shown (DER).
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        let Conn::TlsServer(s) = self else {
            return None;
        };
        let certs = s.get_ref().1.peer_certificates()?;
        certs.first().map(|c| c.as_ref().to_vec())
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Conn::Tcp($s) => $e,
            Conn::TlsServer($s) => $e,
            Conn::TlsClient($s) => $e,
            Conn::Unix($s) => $e,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_close(cx))
    }
}
