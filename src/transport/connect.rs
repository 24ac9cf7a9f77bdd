//! Client side: `connect` opens a RawSocket or WebSocket connection on
//! glommio (for the load generator and tests), over TCP, TLS or a Unix
//! domain socket. `ClientHandshake` is the
//! sans-IO client handshake shared with the blocking client. Clients offer
//! WebSocket permessage-deflate only when asked to (`ClientOptions`).

use super::codec::{FrameDecoder, FrameEncoder};
use super::conn::Conn;
use super::error::{eof, TransportError};
use super::rawsocket;
use super::stream::{read_more, split, FrameReader, FrameWriter, Framing, READ_CHUNK};
use super::url::{self, Target};
use super::websocket::deflate::Compression;
use super::websocket::extension::PerMessageDeflate;
use super::websocket::{handshake, Role};
use super::TransportKind;
use crate::wire::Serializer;
use bytes::{Buf, BytesMut};
use futures_lite::AsyncWriteExt;
use glommio::net::{TcpStream, UnixStream};
use std::sync::Arc;

/// What a client asks for besides the serializer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// The largest message we accept: announced on RawSocket, enforced on
    /// receive (after decompression too).
    pub max_message_size: usize,
    /// Offer WebSocket permessage-deflate and, once agreed, compress
    /// messages from this threshold. `None`: no offer.
    pub compression: Option<Compression>,
}

impl ClientOptions {
    /// Accepting up to `max_message_size`, without compression.
    pub fn new(max_message_size: usize) -> Self {
        ClientOptions {
            max_message_size,
            compression: None,
        }
    }
}

/// Connects to `url` (`ws://host:port/path`, `rs://host:port` or
/// `tcp://host:port`) asking for `serializer` and announcing that we accept
/// messages up to `max_message_size` bytes (also enforced on receive).
/// TCP_NODELAY is switched on.
pub async fn connect(
    url: &str,
    serializer: Serializer,
    max_message_size: usize,
) -> Result<(FrameReader, FrameWriter), TransportError> {
    connect_from(url, serializer, ClientOptions::new(max_message_size), None).await
}

/// `connect` from the local address `local` (port chosen by the kernel).
/// A load generator opening many connections to one port spreads them over
/// source addresses, or the kernel's search for a free ephemeral port grows
/// with every connection already open. The connect itself is blocking, which
/// is immediate on loopback.
pub async fn connect_from(
    url: &str,
    serializer: Serializer,
    opts: ClientOptions,
    local: Option<std::net::IpAddr>,
) -> Result<(FrameReader, FrameWriter), TransportError> {
    connect_to(url, serializer, opts, local, None).await
}

/// `connect_from`, with the TLS client configuration `wss://` and `rss://`
/// URLs need; `unix:///path` URLs connect to a Unix domain socket.
pub async fn connect_to(
    url: &str,
    serializer: Serializer,
    opts: ClientOptions,
    local: Option<std::net::IpAddr>,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<(FrameReader, FrameWriter), TransportError> {
    let target = url::parse(url)?;
    let mut stream = open(&target, local, tls).await?;
    let (mut handshake, request) = ClientHandshake::start(&target, serializer, opts);
    stream.write_all(&request).await?;
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let peer_max = loop {
        if let Some(peer_max) = handshake.receive(&mut buf)? {
            break peer_max;
        }
        if read_more(&mut stream, &mut buf, READ_CHUNK).await? == 0 {
            return Err(eof("connection closed during the handshake").into());
        }
    };
    let (reader, writer) = split(stream, buf, handshake.framing(peer_max))?;
    Ok((reader, writer))
}

/// The connected stream of `target` (TLS handshake done; TCP_NODELAY on).
async fn open(
    target: &Target<'_>,
    local: Option<std::net::IpAddr>,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Conn, TransportError> {
    if let Some(path) = target.unix {
        let s = UnixStream::connect(path)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        return Ok(Conn::Unix(s));
    }
    let remote = url::resolve(target.authority)?;
    let stream = match local {
        None => TcpStream::connect(remote).await?,
        Some(ip) => {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(remote),
                socket2::Type::STREAM,
                None,
            )?;
            socket.bind(&std::net::SocketAddr::new(ip, 0).into())?;
            socket.connect(&remote.into())?;
            socket.set_nonblocking(true)?;
            TcpStream::from(socket)
        }
    };
    stream.set_nodelay(true)?;
    if !target.tls {
        return Ok(Conn::Tcp(stream));
    }
    let config = tls.ok_or(TransportError::Url(
        "wss:// and rss:// need a TLS client configuration",
    ))?;
    let name = rustls::pki_types::ServerName::try_from(target.host().to_owned())
        .map_err(|_| TransportError::Url("not a valid TLS server name"))?;
    let connector = futures_rustls::TlsConnector::from(config.clone());
    Ok(Conn::TlsClient(Box::new(
        connector.connect(name, stream).await?,
    )))
}

/// The client's side of either opening handshake.
#[derive(Debug, Clone)]
pub(crate) struct ClientHandshake {
    kind: TransportKind,
    serializer: Serializer,
    opts: ClientOptions,
    /// The `Sec-WebSocket-Key` sent (WebSocket only).
    key: String,
    /// permessage-deflate, once the server agreed.
    deflate: Option<PerMessageDeflate>,
}

impl ClientHandshake {
    /// Starts a handshake with `target`: returns it and the bytes to send.
    pub(crate) fn start(
        target: &Target<'_>,
        serializer: Serializer,
        opts: ClientOptions,
    ) -> (Self, Vec<u8>) {
        let (request, key) = match target.kind {
            TransportKind::RawSocket => (
                rawsocket::client_hello(serializer, opts.max_message_size).to_vec(),
                String::new(),
            ),
            TransportKind::WebSocket => handshake::client_request(
                target.authority,
                target.path,
                serializer,
                opts.compression.is_some(),
            ),
        };
        let hs = ClientHandshake {
            kind: target.kind,
            serializer,
            opts,
            key,
            deflate: None,
        };
        (hs, request)
    }

    /// Looks for the complete reply at the front of `buf`; when it is there,
    /// removes it and returns the peer's receive limit (`usize::MAX` for
    /// WebSocket). `Ok(None)`: read more.
    pub(crate) fn receive(&mut self, buf: &mut BytesMut) -> Result<Option<usize>, TransportError> {
        match self.kind {
            TransportKind::RawSocket => {
                let Some(&octets) = buf.first_chunk::<{ rawsocket::HEADER_LEN }>() else {
                    return Ok(None);
                };
                let peer_max = rawsocket::parse_reply(octets, self.serializer)?;
                buf.advance(rawsocket::HEADER_LEN);
                Ok(Some(peer_max))
            }
            TransportKind::WebSocket => {
                let offered = self.opts.compression.is_some();
                let Some(accepted) =
                    handshake::check_response(buf, &self.key, self.serializer, offered)?
                else {
                    return Ok(None);
                };
                buf.advance(accepted.head_len);
                self.deflate = accepted.deflate;
                Ok(Some(usize::MAX))
            }
        }
    }

    /// permessage-deflate, when the server agreed to it.
    pub(crate) fn deflate(&self) -> Option<PerMessageDeflate> {
        self.deflate
    }

    /// The client-role codecs for the established connection.
    pub(crate) fn framing(&self, peer_max: usize) -> Framing {
        let compress_from = self.deflate.and(self.opts.compression).map(|c| c.threshold);
        Framing {
            decoder: FrameDecoder::new(self.kind, Role::Client, self.opts.max_message_size)
                .with_deflate(self.deflate, Role::Client),
            encoder: FrameEncoder::new(self.kind, self.serializer, Role::Client)
                .with_deflate(compress_from),
            peer_max,
        }
    }
}
