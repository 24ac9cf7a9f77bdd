//! Server side: `accept` runs the opening handshake on a freshly accepted
//! glommio stream. The first byte tells the transports apart (0x7F is
//! RawSocket; anything else is taken for HTTP), so both can share a port.
//! Handshake errors are answered on the wire before `accept` returns them.

use super::codec::{FrameDecoder, FrameEncoder};
use super::conn::Conn;
use super::error::{eof, Refusal, TransportError};
use super::rawsocket::{self, HelloError, MAGIC};
use super::stream::{read_at_most, split, FrameReader, FrameWriter, Framing};
use super::websocket::deflate::Compression;
use super::websocket::extension::PerMessageDeflate;
use super::websocket::{handshake, Role};
use super::TransportKind;
use crate::wire::Serializer;
use bytes::{Buf, BytesMut};
use futures_lite::AsyncWriteExt;

/// Bytes read at a time before the transport is known, and through an
/// HTTP upgrade request: a connection that stalls in its handshake holds
/// a buffer about this size.
const HANDSHAKE_READ: usize = 512;

/// What a listener accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptOptions {
    /// Accept RawSocket clients.
    pub rawsocket: bool,
    /// Accept WebSocket clients.
    pub websocket: bool,
    /// The HTTP path of the WebSocket endpoint (e.g. `/ws`).
    pub ws_path: String,
    /// The largest message we accept (announced to RawSocket peers, rounded
    /// down to a power of two, and enforced on every frame).
    pub max_message_size: usize,
    /// WebSocket permessage-deflate: agreed when a client offers it, with
    /// this threshold; `None`: never agreed.
    pub compression: Option<Compression>,
}

/// The outcome of a successful opening handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// RawSocket or WebSocket.
    pub kind: TransportKind,
    /// The negotiated serializer.
    pub serializer: Serializer,
    /// The largest message the peer accepts (WebSocket: `usize::MAX`).
    pub peer_max_message_size: usize,
    /// The SHA-256 of the client certificate TLS verified, if any.
    pub client_cert: Option<[u8; 32]>,
    /// WebSocket permessage-deflate, when agreed.
    pub deflate: Option<PerMessageDeflate>,
}

/// Runs the server side of the opening handshake on `stream` (TCP_NODELAY
/// is switched on) and splits the connection into its two halves.
///
/// Timeouts are the caller's: drop the future to give up (the stream is
/// owned by it and closed with it).
pub async fn accept(
    mut stream: Conn,
    opts: &AcceptOptions,
) -> Result<(Handshake, FrameReader, FrameWriter), TransportError> {
    stream.set_nodelay()?;
    let mut buf = BytesMut::new();
    if read_at_most(&mut stream, &mut buf, HANDSHAKE_READ).await? == 0 {
        return Err(eof("connection closed before the handshake").into());
    }
    let (mut handshake, buf) = match (buf.first() == Some(&MAGIC), opts) {
        (
            true,
            AcceptOptions {
                rawsocket: true, ..
            },
        ) => accept_rawsocket(&mut stream, buf, opts).await?,
        (
            false,
            AcceptOptions {
                websocket: true, ..
            },
        ) => accept_websocket(&mut stream, buf, opts).await?,
        (true, _) => return Err(TransportError::Handshake("RawSocket is not enabled here")),
        (false, _) => return Err(TransportError::Handshake("WebSocket is not enabled here")),
    };
    handshake.client_cert = stream.peer_certificate().map(|der| {
        use sha2::Digest;
        sha2::Sha256::digest(der).into()
    });
    let compress_from = handshake.deflate.and(opts.compression).map(|c| c.threshold);
    let framing = Framing {
        decoder: FrameDecoder::new(handshake.kind, Role::Server, opts.max_message_size)
            .with_deflate(handshake.deflate, Role::Server),
        encoder: FrameEncoder::new(handshake.kind, handshake.serializer, Role::Server)
            .with_deflate(compress_from),
        peer_max: handshake.peer_max_message_size,
    };
    let (reader, writer) = split(stream, buf, framing)?;
    Ok((handshake, reader, writer))
}

async fn accept_rawsocket(
    stream: &mut Conn,
    mut buf: BytesMut,
    opts: &AcceptOptions,
) -> Result<(Handshake, BytesMut), TransportError> {
    let hello = loop {
        if let Some(&octets) = buf.first_chunk::<{ rawsocket::HEADER_LEN }>() {
            break octets;
        }
        let missing = rawsocket::HEADER_LEN - buf.len();
        if read_at_most(stream, &mut buf, missing).await? == 0 {
            return Err(eof("connection closed inside the RawSocket handshake").into());
        }
    };
    buf.advance(rawsocket::HEADER_LEN);
    match rawsocket::parse_hello(hello) {
        Ok(hello) => {
            let reply = rawsocket::accept_reply(hello.serializer, opts.max_message_size);
            stream.write_all(&reply).await?;
            let handshake = Handshake {
                kind: TransportKind::RawSocket,
                serializer: hello.serializer,
                peer_max_message_size: hello.max_message_size,
                client_cert: None,
                deflate: None,
            };
            Ok((handshake, buf))
        }
        Err(HelloError::Refuse(code)) => {
            refuse(stream, &rawsocket::refuse_reply(code)).await;
            Err(TransportError::Refused(Refusal::RawSocket(code.code())))
        }
        Err(HelloError::NotRawSocket) => Err(TransportError::Handshake("not RawSocket")),
    }
}

async fn accept_websocket(
    stream: &mut Conn,
    mut buf: BytesMut,
    opts: &AcceptOptions,
) -> Result<(Handshake, BytesMut), TransportError> {
    loop {
        let deflate = opts.compression.is_some();
        match handshake::parse_request(&buf, &opts.ws_path, deflate) {
            Ok(Some(upgrade)) => {
                stream.write_all(&upgrade.response).await?;
                buf.advance(upgrade.head_len);
                let handshake = Handshake {
                    kind: TransportKind::WebSocket,
                    serializer: upgrade.serializer,
                    peer_max_message_size: usize::MAX,
                    client_cert: None,
                    deflate: upgrade.deflate,
                };
                return Ok((handshake, buf));
            }
            Ok(None) => {}
            Err(rejection) => {
                refuse(stream, &rejection.response()).await;
                return Err(TransportError::Refused(Refusal::Http(rejection.status)));
            }
        }
        if read_at_most(stream, &mut buf, HANDSHAKE_READ).await? == 0 {
            return Err(eof("connection closed inside the HTTP request").into());
        }
    }
}

/// Sends a refusal and the FIN after it, as far as the peer lets us (the
/// connection is refused either way).
async fn refuse(stream: &mut Conn, reply: &[u8]) {
    if stream.write_all(reply).await.is_ok() {
        let _ = stream.close().await;
    }
}
