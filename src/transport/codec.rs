//! What both transports have in common once the handshake is done: the
//! `Inbound` frames a reader yields, the `FrameDecoder` picking the right
//! sans-IO decoder, and the `FrameEncoder` appending complete outbound frames
//! to a caller's buffer (so many frames can go out in one write).
//!
//! With permessage-deflate negotiated, the encoder compresses messages of
//! at least its threshold (when that makes them smaller: RSV1 set); shorter
//! ones, and control frames, are copied into the buffer as before.

use super::error::{eof, TransportError};
use super::rawsocket::{self, FrameType};
use super::websocket::deflate;
use super::websocket::extension::PerMessageDeflate;
use super::websocket::frame::{self as ws, opcode, Role};
use super::TransportKind;
use crate::wire::Serializer;
use bytes::{BufMut, Bytes, BytesMut};

/// One thing received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A complete WAMP message (WebSocket fragments reassembled).
    Message(Bytes),
    /// A ping; answer it with a pong echoing the payload.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer sent a WebSocket close frame (nothing follows it).
    Close,
}

/// The decoder of one connection's transport.
#[derive(Debug)]
pub(crate) enum FrameDecoder {
    RawSocket(rawsocket::Decoder),
    WebSocket(ws::Decoder),
}

impl FrameDecoder {
    pub(crate) fn new(kind: TransportKind, role: Role, max_message_size: usize) -> Self {
        match kind {
            TransportKind::RawSocket => {
                FrameDecoder::RawSocket(rawsocket::Decoder::new(max_message_size))
            }
            TransportKind::WebSocket => {
                FrameDecoder::WebSocket(ws::Decoder::new(role, max_message_size))
            }
        }
    }

    /// Accepts compressed messages as `agreed` (WebSocket only).
    pub(crate) fn with_deflate(self, agreed: Option<PerMessageDeflate>, role: Role) -> Self {
        match (self, agreed) {
            (FrameDecoder::WebSocket(d), Some(a)) => FrameDecoder::WebSocket(
                d.with_deflate(a.peer_takes_over_context(role == Role::Server)),
            ),
            (other, _) => other,
        }
    }

    /// Whether the last message decoded came compressed.
    pub(crate) fn last_compressed(&self) -> bool {
        matches!(self, FrameDecoder::WebSocket(d) if d.last_compressed())
    }

    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<Inbound>, super::FrameError> {
        match self {
            FrameDecoder::RawSocket(d) => d.decode(buf),
            FrameDecoder::WebSocket(d) => d.decode(buf),
        }
    }

    /// What EOF means with `buf` left undecoded: clean (`Ok(None)`) only
    /// between frames and outside a fragmented message.
    pub(crate) fn at_eof(&self, buf: &BytesMut) -> Result<Option<Inbound>, TransportError> {
        let between_messages = match self {
            FrameDecoder::RawSocket(_) => true,
            FrameDecoder::WebSocket(d) => d.between_messages(),
        };
        if buf.is_empty() && between_messages {
            return Ok(None);
        }
        Err(eof("connection closed inside a message").into())
    }

    /// Bytes the frame being received still needs (at least 1).
    pub(crate) fn wanted(&self) -> usize {
        match self {
            FrameDecoder::RawSocket(d) => d.wanted(),
            FrameDecoder::WebSocket(d) => d.wanted(),
        }
    }
}

/// Writes complete frames for one connection. A small `Copy` value: take
/// one from the `FrameWriter` and use it wherever frames are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEncoder {
    kind: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    RawSocket,
    WebSocket {
        data_opcode: u8,
        masked: bool,
        /// permessage-deflate: the size from which messages are compressed.
        compress_from: Option<usize>,
    },
}

impl FrameEncoder {
    /// The encoder for `kind` carrying `serializer`, at the `role` end.
    pub fn new(kind: TransportKind, serializer: Serializer, role: Role) -> Self {
        let kind = match kind {
            TransportKind::RawSocket => Encoding::RawSocket,
            TransportKind::WebSocket => Encoding::WebSocket {
                data_opcode: if serializer.is_text() {
                    opcode::TEXT
                } else {
                    opcode::BINARY
                },
                masked: role == Role::Client,
                compress_from: None,
            },
        };
        FrameEncoder { kind }
    }

    /// This encoder compressing messages of at least `threshold` bytes (once
    /// permessage-deflate is agreed; `None`: never). No effect on RawSocket.
    pub fn with_deflate(mut self, threshold: Option<usize>) -> Self {
        if let Encoding::WebSocket { compress_from, .. } = &mut self.kind {
            *compress_from = threshold;
        }
        self
    }

    /// Whether this encoder may compress messages.
    pub fn compresses(&self) -> bool {
        matches!(
            self.kind,
            Encoding::WebSocket {
                compress_from: Some(_),
                ..
            }
        )
    }

    /// Appends a frame carrying one WAMP message. Returns false, writing
    /// nothing, when the payload cannot be framed (over 16 MiB on RawSocket;
    /// callers must keep within the peer's limit anyway).
    pub fn message(&self, out: &mut BytesMut, payload: &[u8]) -> bool {
        match self.kind {
            Encoding::RawSocket => raw_frame(out, FrameType::Message, payload),
            Encoding::WebSocket {
                data_opcode,
                masked,
                compress_from,
            } => {
                let compressed = compress_from.is_some_and(|t| payload.len() >= t)
                    && deflate::compress(payload, |c| {
                        ws::write_compressed(out, data_opcode, c, mask(masked));
                    })
                    .is_some();
                if !compressed {
                    ws::write_frame(out, data_opcode, payload, mask(masked));
                }
                true
            }
        }
    }

    /// Appends a ping. Returns false, writing nothing, when the payload is
    /// too long (over 125 bytes on WebSocket).
    pub fn ping(&self, out: &mut BytesMut, payload: &[u8]) -> bool {
        self.control(out, FrameType::Ping, opcode::PING, payload)
    }

    /// Appends a pong (answer a ping with its payload). Returns false,
    /// writing nothing, when the payload is too long.
    pub fn pong(&self, out: &mut BytesMut, payload: &[u8]) -> bool {
        self.control(out, FrameType::Pong, opcode::PONG, payload)
    }

    /// Appends a WebSocket close frame (the reason is cut to fit 125 bytes).
    /// RawSocket has no close frame: nothing is written; just shut down.
    pub fn close(&self, out: &mut BytesMut, code: u16, reason: &str) {
        if let Encoding::WebSocket { masked, .. } = self.kind {
            ws::write_close(out, code, reason, mask(masked));
        }
    }

    fn control(&self, out: &mut BytesMut, ty: FrameType, op: u8, payload: &[u8]) -> bool {
        match self.kind {
            Encoding::RawSocket => raw_frame(out, ty, payload),
            Encoding::WebSocket { .. } if payload.len() > ws::MAX_CONTROL_LEN => false,
            Encoding::WebSocket { masked, .. } => {
                ws::write_frame(out, op, payload, mask(masked));
                true
            }
        }
    }
}

fn raw_frame(out: &mut BytesMut, ty: FrameType, payload: &[u8]) -> bool {
    let Some(header) = rawsocket::header(ty, payload.len()) else {
        return false;
    };
    out.reserve(header.len() + payload.len());
    out.put_slice(&header);
    out.put_slice(payload);
    true
}

fn mask(masked: bool) -> Option<[u8; 4]> {
    masked.then(rand::random::<[u8; 4]>)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn round_trip(kind: TransportKind, ser: Serializer, payload: &[u8]) -> Vec<Inbound> {
        let enc = FrameEncoder::new(kind, ser, Role::Client);
        let mut out = BytesMut::new();
        assert!(enc.message(&mut out, payload));
        assert!(enc.ping(&mut out, b"p"));
        assert!(enc.pong(&mut out, b""));
        enc.close(&mut out, 1000, "done");
        let mut dec = FrameDecoder::new(kind, Role::Server, 1 << 20);
        let mut got = Vec::new();
        while let Some(f) = dec.decode(&mut out).unwrap() {
            got.push(f);
        }
        assert!(out.is_empty());
        got
    }

    #[test]
    fn encoder_output_decodes_on_both_transports() {
        let payload = vec![0x5Au8; 70_000];
        let ws = round_trip(TransportKind::WebSocket, Serializer::Json, &payload);
        assert_eq!(ws.len(), 4);
        assert_eq!(ws[0], Inbound::Message(Bytes::from(payload.clone())));
        assert_eq!(ws[3], Inbound::Close);
        let raw = round_trip(TransportKind::RawSocket, Serializer::Cbor, &payload);
        assert_eq!(raw.len(), 3, "RawSocket has no close frame");
        assert_eq!(raw[1], Inbound::Ping(Bytes::from_static(b"p")));
    }

    #[test]
    fn json_goes_in_text_frames_and_servers_do_not_mask() {
        let mut out = BytesMut::new();
        FrameEncoder::new(TransportKind::WebSocket, Serializer::Json, Role::Server)
            .message(&mut out, b"[]");
        assert_eq!(&out[..], b"\x81\x02[]");
        out.clear();
        FrameEncoder::new(TransportKind::WebSocket, Serializer::MsgPack, Role::Server)
            .message(&mut out, b"\x90");
        assert_eq!(&out[..], b"\x82\x01\x90");
    }

    #[test]
    fn unframeable_payloads_write_nothing() {
        let mut out = BytesMut::new();
        let ws = FrameEncoder::new(TransportKind::WebSocket, Serializer::Json, Role::Server);
        assert!(!ws.ping(&mut out, &[0; 126]));
        let raw = FrameEncoder::new(TransportKind::RawSocket, Serializer::Json, Role::Server);
        assert!(!raw.message(&mut out, &vec![0; rawsocket::MAX_FRAME_LEN + 1]));
        assert!(out.is_empty());
    }
}
