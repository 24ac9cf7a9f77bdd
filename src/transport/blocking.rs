//! A small blocking client on `std::net` for tests: connect (TCP, TLS with
//! rustls, or a Unix domain socket) with a timeout, send and receive WAMP
//! message frames, answer pings, inject raw bytes for protocol-violation
//! tests, and report refused handshakes. It offers WebSocket
//! permessage-deflate when its `ClientOptions` say so.

use super::codec::{FrameDecoder, FrameEncoder, Inbound};
use super::connect::{ClientHandshake, ClientOptions};
use super::error::{eof, Refusal, TransportError};
use super::stream::{read_more_blocking, READ_CHUNK};
use super::url;
use super::websocket::extension::PerMessageDeflate;
use crate::wire::Serializer;
use bytes::{Bytes, BytesMut};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

/// The client's byte stream.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    Unix(UnixStream),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Tcp(_) => "Tcp",
            Stream::Tls(_) => "Tls",
            Stream::Unix(_) => "Unix",
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

impl Stream {
    /// Connects to `target` with every read and write bound by `timeout`.
    fn open(
        target: &url::Target<'_>,
        timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Stream, TransportError> {
        if let Some(path) = target.unix {
            let s = UnixStream::connect(path)?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            return Ok(Stream::Unix(s));
        }
        let tcp = TcpStream::connect_timeout(&url::resolve(target.authority)?, timeout)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        tcp.set_nodelay(true)?;
        if !target.tls {
            return Ok(Stream::Tcp(tcp));
        }
        let config = tls.ok_or(TransportError::Url(
            "wss:// and rss:// need a TLS client configuration",
        ))?;
        let name = rustls::pki_types::ServerName::try_from(target.host().to_owned())
            .map_err(|_| TransportError::Url("not a valid TLS server name"))?;
        let conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Stream::Tls(Box::new(tls)))
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
            Stream::Tls(s) => {
                s.conn.send_close_notify();
                s.conn.complete_io(&mut s.sock)?;
                s.sock.shutdown(Shutdown::Write)
            }
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
        }
    }
}

/// The receive limit a client announces unless told otherwise (16 MiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 24;

/// A blocking RawSocket or WebSocket client. Every read and write is bound
/// by the timeout given to `connect`.
#[derive(Debug)]
pub struct Client {
    stream: Stream,
    buf: BytesMut,
    decoder: FrameDecoder,
    encoder: FrameEncoder,
    out: BytesMut,
    peer_max: usize,
    deflate: Option<PerMessageDeflate>,
}

impl Client {
    /// Connects to `url` (`ws://host:port/path`, `rs://` or `tcp://`) and
    /// completes the handshake, announcing a 16 MiB receive limit.
    pub fn connect(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
    ) -> Result<Client, TransportError> {
        Client::connect_with_limit(url, serializer, timeout, DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// `connect`, announcing (and enforcing) `max_message_size`.
    pub fn connect_with_limit(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
        max_message_size: usize,
    ) -> Result<Client, TransportError> {
        Client::connect_with(
            url,
            serializer,
            timeout,
            ClientOptions::new(max_message_size),
        )
    }

    /// `connect` with `opts`: the receive limit, and whether to offer
    /// permessage-deflate.
    pub fn connect_with(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
        opts: ClientOptions,
    ) -> Result<Client, TransportError> {
        Client::connect_with_tls(url, serializer, timeout, opts, None)
    }

    /// `connect_with_limit`, with the TLS client configuration `wss://` and
    /// `rss://` URLs need (`unix:///path` URLs need none).
    pub fn connect_tls(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
        max_message_size: usize,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Client, TransportError> {
        let opts = ClientOptions::new(max_message_size);
        Client::connect_with_tls(url, serializer, timeout, opts, tls)
    }

    /// `connect_with` over TLS when the URL says so.
    pub fn connect_with_tls(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
        opts: ClientOptions,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Client, TransportError> {
        let target = url::parse(url)?;
        let mut stream = Stream::open(&target, timeout, tls)?;
        let (mut handshake, request) = ClientHandshake::start(&target, serializer, opts);
        stream.write_all(&request)?;
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let peer_max = loop {
            if let Some(peer_max) = handshake.receive(&mut buf)? {
                break peer_max;
            }
            if read_more_blocking(&mut stream, &mut buf, READ_CHUNK)? == 0 {
                return Err(eof("connection closed during the handshake").into());
            }
        };
        let framing = handshake.framing(peer_max);
        Ok(Client {
            stream,
            buf,
            decoder: framing.decoder,
            encoder: framing.encoder,
            out: BytesMut::new(),
            peer_max,
            deflate: handshake.deflate(),
        })
    }

    /// Connects expecting a refusal: the RawSocket error code or HTTP
    /// status the server answered with. An accepted handshake is an error.
    pub fn handshake_error(
        url: &str,
        serializer: Serializer,
        timeout: Duration,
    ) -> Result<Refusal, TransportError> {
        match Client::connect(url, serializer, timeout) {
            Ok(_) => Err(TransportError::Handshake("the handshake was accepted")),
            Err(TransportError::Refused(r)) => Ok(r),
            Err(e) => Err(e),
        }
    }

    /// The largest message the server accepts.
    pub fn peer_max_message_size(&self) -> usize {
        self.peer_max
    }

    /// permessage-deflate as the server agreed to it (`None`: not in use).
    pub fn deflate(&self) -> Option<PerMessageDeflate> {
        self.deflate
    }

    /// Whether the last message received came compressed (RSV1 set).
    pub fn last_compressed(&self) -> bool {
        self.decoder.last_compressed()
    }

    /// Sends one WAMP message.
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let encoder = self.encoder;
        self.write_with(|out| encoder.message(out, payload))
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        let encoder = self.encoder;
        self.write_with(|out| encoder.ping(out, payload))
    }

    /// Sends a pong echoing `payload` (for tests that answer pings themselves).
    pub fn pong(&mut self, payload: &[u8]) -> io::Result<()> {
        let encoder = self.encoder;
        self.write_with(|out| encoder.pong(out, payload))
    }

    /// Sends bytes as they are (for protocol-violation tests).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next WAMP message. Pings are answered and pongs skipped; a close
    /// frame, EOF, a framing error or the timeout is an error.
    pub fn recv(&mut self) -> io::Result<Bytes> {
        loop {
            match self.recv_frame()? {
                Some(Inbound::Message(m)) => return Ok(m),
                Some(Inbound::Ping(p)) => {
                    let encoder = self.encoder;
                    self.write_with(|out| encoder.pong(out, &p))?;
                }
                Some(Inbound::Pong(_)) => {}
                Some(Inbound::Close) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server sent a close frame",
                    ))
                }
                None => return Err(eof("the server closed the connection")),
            }
        }
    }

    /// The next frame of any kind, unanswered. `Ok(None)`: clean EOF.
    pub fn recv_frame(&mut self) -> io::Result<Option<Inbound>> {
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(TransportError::from)?
            {
                return Ok(Some(frame));
            }
            let wanted = self.decoder.wanted();
            if read_more_blocking(&mut self.stream, &mut self.buf, wanted.max(READ_CHUNK))? == 0 {
                return Ok(self.decoder.at_eof(&self.buf)?);
            }
        }
    }

    /// Closes: sends a close frame (1000) on WebSocket, shuts down our
    /// sending side, then waits for the server's close frame or EOF.
    pub fn close(&mut self) -> io::Result<()> {
        let encoder = self.encoder;
        self.write_with(|out| {
            encoder.close(out, 1000, "");
            true
        })?;
        match self.stream.shutdown_write() {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => return Err(e),
            _ => {}
        }
        while let Ok(Some(frame)) = self.recv_frame() {
            if frame == Inbound::Close {
                break;
            }
        }
        Ok(())
    }

    /// Encodes with `f` into the scratch buffer and writes it out.
    fn write_with(&mut self, f: impl FnOnce(&mut BytesMut) -> bool) -> io::Result<()> {
        self.out.clear();
        if !f(&mut self.out) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "payload cannot be framed",
            ));
        }
        self.stream.write_all(&self.out)
    }
}
