//! RawSocket framing, sans-IO (spec-digest 6.2): the 4-octet opening
//! handshake in both directions, the 4-octet frame header, and an incremental
//! frame decoder over a `BytesMut`.
//!
//! Handshake: `0x7F`, `LLLL SSSS`, `0x00`, `0x00`, where `LLLL` announces the
//! sender's receive limit 2^(9+L) and `SSSS` the serializer. An error reply
//! is `0x7F`, `EEEE 0000`, `0x00`, `0x00`.
//!
//! Frame header: `RRRR XTTT` then a 24-bit big-endian length. `TTT` is 0
//! message, 1 PING, 2 PONG; `X` is a 25th length bit, legal only for a
//! payload of exactly 2^24 bytes with the 24 length bits zero.

use super::error::{FrameError, TransportError};
use super::Inbound;
use crate::wire::Serializer;
use bytes::{Buf, BytesMut};

/// The first octet of every RawSocket handshake.
pub const MAGIC: u8 = 0x7F;
/// Length of the handshake and of a frame header.
pub const HEADER_LEN: usize = 4;
/// The largest payload one frame can carry (2^24, using the X bit).
pub const MAX_FRAME_LEN: usize = 1 << 24;

/// Error codes of a router's handshake error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseCode {
    /// 1: serializer unsupported.
    SerializerUnsupported = 1,
    /// 2: maximum message length unacceptable.
    MaxLengthUnacceptable = 2,
    /// 3: use of reserved bits.
    ReservedBitsUsed = 3,
    /// 4: maximum connection count reached.
    MaxConnectionsReached = 4,
}

impl RefuseCode {
    /// The code as sent on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A client's handshake, as read by the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// The serializer the client asks for.
    pub serializer: Serializer,
    /// The largest message the client accepts: 2^(9+L) octets.
    pub max_message_size: usize,
}

/// Why a client handshake cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloError {
    /// The first octet is not 0x7F: not a RawSocket client (no reply).
    NotRawSocket,
    /// Refuse with this error reply.
    Refuse(RefuseCode),
}

/// Parses a client handshake. Reserved octets are checked before the
/// serializer; serializers other than JSON, MsgPack and CBOR are refused.
pub fn parse_hello(octets: [u8; 4]) -> Result<Hello, HelloError> {
    if octets[0] != MAGIC {
        return Err(HelloError::NotRawSocket);
    }
    if octets[2] != 0 || octets[3] != 0 {
        return Err(HelloError::Refuse(RefuseCode::ReservedBitsUsed));
    }
    let serializer = Serializer::from_rawsocket_id(octets[1] & 0x0F)
        .ok_or(HelloError::Refuse(RefuseCode::SerializerUnsupported))?;
    Ok(Hello {
        serializer,
        max_message_size: max_len_for_exponent(octets[1] >> 4),
    })
}

/// The router's success reply: echoes the serializer and announces our own
/// receive limit (see `length_exponent`).
pub fn accept_reply(serializer: Serializer, max_message_size: usize) -> [u8; 4] {
    hello_octets(serializer, max_message_size)
}

/// The router's error reply.
pub fn refuse_reply(code: RefuseCode) -> [u8; 4] {
    [MAGIC, code.code() << 4, 0, 0]
}

/// A client handshake asking for `serializer`, announcing `max_message_size`.
pub fn client_hello(serializer: Serializer, max_message_size: usize) -> [u8; 4] {
    hello_octets(serializer, max_message_size)
}

fn hello_octets(serializer: Serializer, max_message_size: usize) -> [u8; 4] {
    let l = length_exponent(max_message_size);
    [MAGIC, (l << 4) | serializer.rawsocket_id(), 0, 0]
}

/// Parses the router's reply to our `client_hello(serializer, _)`: the
/// router's receive limit, or why the handshake failed.
pub fn parse_reply(octets: [u8; 4], serializer: Serializer) -> Result<usize, TransportError> {
    if octets[0] != MAGIC {
        return Err(TransportError::Handshake("RawSocket reply without 0x7F"));
    }
    if octets[2] != 0 || octets[3] != 0 {
        return Err(TransportError::Handshake(
            "RawSocket reply with reserved octets set",
        ));
    }
    if octets[1] & 0x0F == 0 {
        return Err(TransportError::Refused(super::Refusal::RawSocket(
            octets[1] >> 4,
        )));
    }
    if octets[1] & 0x0F != serializer.rawsocket_id() {
        return Err(TransportError::Handshake(
            "RawSocket reply with another serializer",
        ));
    }
    Ok(max_len_for_exponent(octets[1] >> 4))
}

/// The largest `L` (0..=15) with 2^(9+L) <= `max_message_size`, so a peer
/// honouring the announced limit never exceeds ours; 0 below 512 bytes.
pub fn length_exponent(max_message_size: usize) -> u8 {
    let mut l = 0u8;
    while l < 15 && max_len_for_exponent(l + 1) <= max_message_size {
        l += 1;
    }
    l
}

/// 2^(9+L) for the low four bits of `l`.
pub fn max_len_for_exponent(l: u8) -> usize {
    1usize << (9 + (l & 0x0F))
}

/// The type of a RawSocket frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// 0: a WAMP message.
    Message = 0,
    /// 1: PING.
    Ping = 1,
    /// 2: PONG.
    Pong = 2,
}

/// The header of a frame with a `len`-byte payload, or `None` when `len`
/// exceeds `MAX_FRAME_LEN`.
pub fn header(ty: FrameType, len: usize) -> Option<[u8; 4]> {
    if len > MAX_FRAME_LEN {
        return None;
    }
    let x = if len == MAX_FRAME_LEN { 0x08 } else { 0 };
    let [_, a, b, c] = (len as u32).to_be_bytes();
    Some([x | ty as u8, a, b, c])
}

/// Parses a frame header into its type and payload length.
pub fn parse_header(h: [u8; 4]) -> Result<(FrameType, usize), FrameError> {
    if h[0] & 0xF0 != 0 {
        return Err(FrameError::Protocol(
            "RawSocket frame with reserved bits set",
        ));
    }
    let ty = match h[0] & 0x07 {
        0 => FrameType::Message,
        1 => FrameType::Ping,
        2 => FrameType::Pong,
        _ => return Err(FrameError::Protocol("RawSocket frame of a reserved type")),
    };
    let low = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
    let len = match (h[0] & 0x08 != 0, low) {
        (false, n) => n,
        (true, 0) => MAX_FRAME_LEN,
        (true, _) => {
            return Err(FrameError::Protocol(
                "RawSocket X bit with a non-zero length",
            ))
        }
    };
    Ok((ty, len))
}

/// Incremental RawSocket frame decoder. Feed it the received bytes in a
/// `BytesMut`; it yields the same frames however the stream was split.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_len: usize,
    wanted: usize,
}

impl Decoder {
    /// A decoder refusing frames over `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Decoder {
            max_len: max_message_size,
            wanted: HEADER_LEN,
        }
    }

    /// Takes the next complete frame off the front of `buf`. `Ok(None)`:
    /// more bytes are needed (see `wanted`). A header announcing more than
    /// the limit fails at once, before its body is buffered.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Inbound>, FrameError> {
        let Some(&[h0, h1, h2, h3]) = buf.first_chunk::<HEADER_LEN>() else {
            self.wanted = HEADER_LEN - buf.len();
            return Ok(None);
        };
        let (ty, len) = parse_header([h0, h1, h2, h3])?;
        if len > self.max_len {
            return Err(FrameError::TooLarge {
                size: len as u64,
                limit: self.max_len,
            });
        }
        let total = HEADER_LEN + len;
        if buf.len() < total {
            self.wanted = total - buf.len();
            return Ok(None);
        }
        buf.advance(HEADER_LEN);
        let payload = buf.split_to(len).freeze();
        self.wanted = HEADER_LEN;
        Ok(Some(match ty {
            FrameType::Message => Inbound::Message(payload),
            FrameType::Ping => Inbound::Ping(payload),
            FrameType::Pong => Inbound::Pong(payload),
        }))
    }

    /// How many more bytes the frame being received needs, after the last
    /// `decode` returned `Ok(None)` (a lower bound, at least 1).
    pub fn wanted(&self) -> usize {
        self.wanted.max(1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bytes::{BufMut, Bytes};
    use proptest::prelude::*;

    #[test]
    fn hello_round_trips_and_announces_a_floor_limit() {
        let h = client_hello(Serializer::MsgPack, 1 << 20);
        assert_eq!(h, [0x7F, 0xB2, 0, 0]);
        let hello = parse_hello(h).unwrap();
        assert_eq!(hello.serializer, Serializer::MsgPack);
        assert_eq!(hello.max_message_size, 1 << 20);
        assert_eq!(length_exponent(1_000_000), 10); // 512 KiB <= 1e6 < 1 MiB
        assert_eq!(length_exponent(100), 0);
        assert_eq!(length_exponent(usize::MAX), 15);
        assert_eq!(max_len_for_exponent(15), 1 << 24);
    }

    #[test]
    fn hello_errors_map_to_reply_codes() {
        let refuse = |o| parse_hello(o).unwrap_err();
        assert_eq!(refuse([0x47, 0x11, 0, 0]), HelloError::NotRawSocket);
        for s in [0u8, 4, 5, 15] {
            assert_eq!(
                refuse([0x7F, 0xF0 | s, 0, 0]),
                HelloError::Refuse(RefuseCode::SerializerUnsupported)
            );
        }
        for o in [
            [0x7F, 0xF1, 1, 0],
            [0x7F, 0xF1, 0, 0x80],
            [0x7F, 0xF0, 0, 1],
        ] {
            assert_eq!(refuse(o), HelloError::Refuse(RefuseCode::ReservedBitsUsed));
        }
        assert_eq!(
            refuse_reply(RefuseCode::SerializerUnsupported),
            [0x7F, 0x10, 0, 0]
        );
        assert_eq!(
            refuse_reply(RefuseCode::MaxConnectionsReached),
            [0x7F, 0x40, 0, 0]
        );
    }

    #[test]
    fn client_parses_replies() {
        let ok = accept_reply(Serializer::Cbor, 1 << 16);
        assert_eq!(ok, [0x7F, 0x73, 0, 0]);
        assert_eq!(parse_reply(ok, Serializer::Cbor).unwrap(), 1 << 16);
        let err = parse_reply(
            refuse_reply(RefuseCode::MaxLengthUnacceptable),
            Serializer::Json,
        );
        assert_eq!(
            err.unwrap_err().refusal(),
            Some(super::super::Refusal::RawSocket(2))
        );
        assert!(parse_reply(ok, Serializer::Json).is_err());
        assert!(parse_reply([0x7E, 0x73, 0, 0], Serializer::Cbor).is_err());
        assert!(parse_reply([0x7F, 0x73, 0, 9], Serializer::Cbor).is_err());
    }

    #[test]
    fn header_covers_every_type_and_the_x_bit() {
        assert_eq!(header(FrameType::Message, 5), Some([0, 0, 0, 5]));
        assert_eq!(header(FrameType::Ping, 0x010203), Some([1, 1, 2, 3]));
        assert_eq!(
            header(FrameType::Pong, MAX_FRAME_LEN),
            Some([0x0A, 0, 0, 0])
        );
        assert_eq!(header(FrameType::Message, MAX_FRAME_LEN + 1), None);
        assert_eq!(
            parse_header([0x08, 0, 0, 0]),
            Ok((FrameType::Message, MAX_FRAME_LEN))
        );
        assert_eq!(
            parse_header([2, 0xFF, 0xFF, 0xFF]),
            Ok((FrameType::Pong, MAX_FRAME_LEN - 1))
        );
        for bad in [
            [0x08, 0, 0, 1],
            [0x10, 0, 0, 1],
            [0x80, 0, 0, 0],
            [3, 0, 0, 0],
            [7, 0, 0, 0],
        ] {
            assert!(
                matches!(parse_header(bad), Err(FrameError::Protocol(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn oversized_header_fails_before_the_body_arrives() {
        let mut d = Decoder::new(1000);
        let mut buf = BytesMut::from(&[0u8, 0, 0x03, 0xE9][..]);
        let err = d.decode(&mut buf).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLarge {
                size: 1001,
                limit: 1000
            }
        );
        assert_eq!(buf.capacity(), 4, "nothing was reserved for the body");
        let mut ok = BytesMut::from(&[0u8, 0, 0x03, 0xE8][..]);
        assert_eq!(d.decode(&mut ok), Ok(None));
        assert_eq!(d.wanted(), 1000);
    }

    fn frame(ty: FrameType, payload: &[u8]) -> Vec<u8> {
        let mut v = header(ty, payload.len()).unwrap().to_vec();
        v.extend_from_slice(payload);
        v
    }

    fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Vec<Inbound> {
        let mut d = Decoder::new(1 << 16);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut start = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        ends.push(stream.len());
        ends.sort_unstable();
        for end in ends {
            buf.put_slice(&stream[start..end]);
            start = end;
            while let Some(f) = d.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        assert!(buf.is_empty());
        out
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(
            msgs in prop::collection::vec((0u8..3, prop::collection::vec(any::<u8>(), 0..300)), 0..8),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for (t, p) in &msgs {
                let (ty, f): (FrameType, fn(Bytes) -> Inbound) = match t {
                    0 => (FrameType::Message, Inbound::Message),
                    1 => (FrameType::Ping, Inbound::Ping),
                    _ => (FrameType::Pong, Inbound::Pong),
                };
                stream.extend(frame(ty, p));
                expected.push(f(Bytes::copy_from_slice(p)));
            }
            prop_assert_eq!(decode_in_pieces(&stream, &cuts), expected);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let mut d = Decoder::new(32);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = d.decode(&mut buf) {}
            let _ = parse_hello([bytes.first().copied().unwrap_or(0x7F), 0x11, 0, 0]);
        }
    }
}
