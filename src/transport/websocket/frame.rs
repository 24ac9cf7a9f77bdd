//! WebSocket frames (RFC 6455 section 5), sans-IO: header parsing, an
//! incremental decoder that reassembles fragmented messages and checks every
//! rule a WAMP peer can break, frame writers, and masking.
//!
//! The one extension is `permessage-deflate` (see `deflate`): when it was
//! negotiated, RSV1 on a message's first frame marks it compressed, and the
//! whole message is decompressed once its last fragment is in. Any other
//! RSV bit, and RSV1 without the extension, is an error. The decoder
//! enforces the message size limit on the header (and on the running total
//! of a fragmented message) before any body is buffered, and again on the
//! decompressed size, which never grows past it.

use super::deflate;
use crate::transport::error::FrameError;
use crate::transport::Inbound;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use flate2::Decompress;

/// Which end of the connection we are: servers receive masked frames and
/// send unmasked ones, clients the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The accepting end.
    Server,
    /// The connecting end.
    Client,
}

/// Opcodes (RFC 6455 5.2).
pub mod opcode {
    /// Continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// A text (UTF-8) message.
    pub const TEXT: u8 = 0x1;
    /// A binary message.
    pub const BINARY: u8 = 0x2;
    /// Close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xA;
}

/// The FIN bit of the first header octet.
pub const FIN: u8 = 0x80;
/// The RSV1 bit of the first header octet: "compressed" under
/// permessage-deflate (RFC 7692 6).
pub const RSV1: u8 = 0x40;
/// The largest control frame payload.
pub const MAX_CONTROL_LEN: usize = 125;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Last frame of its message.
    pub fin: bool,
    /// RSV1: a compressed message's first frame (only valid when
    /// permessage-deflate was negotiated; the decoder checks).
    pub rsv1: bool,
    /// The opcode (one of `opcode::*`).
    pub opcode: u8,
    /// The masking key, when the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Length of the header itself.
    pub header_len: usize,
    /// Length of the payload.
    pub payload_len: u64,
}

/// Parses the header at the front of `buf` (`Ok(None)`: incomplete). Checks
/// RSV2 and RSV3 (never valid), RSV1 on control frames, the opcode, control
/// frame rules and the 64-bit length's MSB.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    let Some(&[b0, b1]) = buf.first_chunk::<2>() else {
        return Ok(None);
    };
    if b0 & 0x30 != 0 {
        return Err(FrameError::Protocol(
            "RSV2 or RSV3 set without an extension",
        ));
    }
    let (fin, rsv1, op) = (b0 & FIN != 0, b0 & RSV1 != 0, b0 & 0x0F);
    match op {
        opcode::CONTINUATION | opcode::TEXT | opcode::BINARY => {}
        opcode::CLOSE | opcode::PING | opcode::PONG => {
            if !fin {
                return Err(FrameError::Protocol("fragmented control frame"));
            }
            if rsv1 {
                return Err(FrameError::Protocol("RSV1 set on a control frame"));
            }
            if usize::from(b1 & 0x7F) > MAX_CONTROL_LEN {
                return Err(FrameError::Protocol("control frame over 125 bytes"));
            }
        }
        _ => return Err(FrameError::Protocol("unknown opcode")),
    }
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(b) if b[0] & 0x80 != 0 => {
                return Err(FrameError::Protocol("64-bit length with the MSB set"))
            }
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        match buf.get(at..at + 4) {
            Some(&[a, b, c, d]) => Some([a, b, c, d]),
            _ => return Ok(None),
        }
    } else {
        None
    };
    if masked {
        at += 4;
    }
    Ok(Some(Header {
        fin,
        rsv1,
        opcode: op,
        mask,
        header_len: at,
        payload_len,
    }))
}

/// A fragmented message being reassembled.
#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    body: BytesMut,
}

/// The decoder's side of a negotiated permessage-deflate.
#[derive(Debug)]
struct Inflate {
    /// The connection's own decompressor, kept between messages, when the
    /// peer takes over context; `None`: the thread's shared one is used.
    own: Option<Decompress>,
}

/// Incremental WebSocket decoder: yields whole messages (fragments
/// reassembled) and control frames, however the byte stream was split.
#[derive(Debug)]
pub struct Decoder {
    role: Role,
    max_len: usize,
    partial: Option<Partial>,
    wanted: usize,
    /// Set when permessage-deflate was negotiated.
    inflate: Option<Inflate>,
    /// Whether the last message was compressed.
    last_compressed: bool,
}

impl Decoder {
    /// A decoder for `role` refusing messages over `max_message_size` bytes.
    pub fn new(role: Role, max_message_size: usize) -> Self {
        Decoder {
            role,
            max_len: max_message_size,
            partial: None,
            wanted: 2,
            inflate: None,
            last_compressed: false,
        }
    }

    /// This decoder with permessage-deflate negotiated: compressed messages
    /// (RSV1) are accepted and decompressed. `peer_takes_over_context`:
    /// the peer may refer to its earlier messages, so a decompressor is kept
    /// for this connection (43 KiB); otherwise the thread's shared one is used.
    pub fn with_deflate(mut self, peer_takes_over_context: bool) -> Self {
        self.inflate = Some(Inflate {
            own: peer_takes_over_context.then(|| Decompress::new(false)),
        });
        self
    }

    /// Whether the last message `decode` returned came compressed.
    pub fn last_compressed(&self) -> bool {
        self.last_compressed
    }

    /// Takes frames off the front of `buf` until a message or a control
    /// frame is complete. `Ok(None)`: more bytes are needed (see `wanted`).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Inbound>, FrameError> {
        loop {
            let Some(h) = parse_header(buf)? else {
                self.wanted = 1;
                return Ok(None);
            };
            self.check(&h)?;
            // `check` bounded the length by `max_len`, a usize.
            let total = h.header_len + h.payload_len as usize;
            if buf.len() < total {
                self.wanted = total - buf.len();
                return Ok(None);
            }
            buf.advance(h.header_len);
            let mut payload = buf.split_to(total - h.header_len);
            if let Some(key) = h.mask {
                apply_mask(&mut payload, key);
            }
            self.wanted = 2;
            if let Some(done) = self.take(h, payload)? {
                return Ok(Some(done));
            }
        }
    }

    /// How many more bytes the frame being received needs, after the last
    /// `decode` returned `Ok(None)` (a lower bound, at least 1).
    pub fn wanted(&self) -> usize {
        self.wanted.max(1)
    }

    /// True when no fragmented message is waiting for its continuation.
    pub fn between_messages(&self) -> bool {
        self.partial.is_none()
    }

    /// Checks a header against the role, the fragmentation state and the
    /// size limit, before its body is buffered.
    fn check(&self, h: &Header) -> Result<(), FrameError> {
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(FrameError::Protocol("unmasked client frame")),
            (Role::Client, true) => return Err(FrameError::Protocol("masked server frame")),
            _ => {}
        }
        if h.rsv1 && self.inflate.is_none() {
            return Err(FrameError::Protocol(
                "RSV1 set without permessage-deflate negotiated",
            ));
        }
        if h.rsv1 && h.opcode == opcode::CONTINUATION {
            return Err(FrameError::Protocol("RSV1 set on a continuation frame"));
        }
        let so_far = match (h.opcode, &self.partial) {
            (opcode::CONTINUATION, None) => {
                return Err(FrameError::Protocol("continuation without a message"))
            }
            (opcode::TEXT | opcode::BINARY, Some(_)) => {
                return Err(FrameError::Protocol("new message inside a fragmented one"))
            }
            (opcode::CONTINUATION, Some(p)) => p.body.len() as u64,
            (opcode::TEXT | opcode::BINARY, None) => 0,
            _ => return Ok(()), // control frames: at most 125 bytes
        };
        let size = so_far.saturating_add(h.payload_len);
        if size > self.max_len as u64 {
            return Err(FrameError::TooLarge {
                size,
                limit: self.max_len,
            });
        }
        Ok(())
    }

    /// Consumes one unmasked frame; returns what it completes, if anything.
    fn take(&mut self, h: Header, payload: BytesMut) -> Result<Option<Inbound>, FrameError> {
        let (text, compressed, body) = match h.opcode {
            opcode::PING => return Ok(Some(Inbound::Ping(payload.freeze()))),
            opcode::PONG => return Ok(Some(Inbound::Pong(payload.freeze()))),
            opcode::CLOSE => return check_close(&payload).map(|()| Some(Inbound::Close)),
            opcode::CONTINUATION => match self.partial.take() {
                Some(mut p) => {
                    p.body.extend_from_slice(&payload);
                    (p.text, p.compressed, p.body)
                }
                None => return Err(FrameError::Protocol("continuation without a message")),
            },
            op => (op == opcode::TEXT, h.rsv1, payload),
        };
        if !h.fin {
            self.partial = Some(Partial {
                text,
                compressed,
                body,
            });
            return Ok(None);
        }
        let body = match &mut self.inflate {
            Some(inflate) if compressed => Bytes::from(deflate::decompress(
                &body,
                self.max_len,
                inflate.own.as_mut(),
            )?),
            _ => body.freeze(),
        };
        self.last_compressed = compressed;
        if text && std::str::from_utf8(&body).is_err() {
            return Err(FrameError::InvalidUtf8("a text message"));
        }
        Ok(Some(Inbound::Message(body)))
    }
}

/// Checks a close frame's payload: empty, or a valid code and UTF-8 reason.
fn check_close(payload: &[u8]) -> Result<(), FrameError> {
    match payload {
        [] => Ok(()),
        [_] => Err(FrameError::Protocol("close frame of one byte")),
        [a, b, reason @ ..] => {
            if !valid_close_code(u16::from_be_bytes([*a, *b])) {
                return Err(FrameError::Protocol("invalid close code"));
            }
            std::str::from_utf8(reason)
                .map(|_| ())
                .map_err(|_| FrameError::InvalidUtf8("a close reason"))
        }
    }
}

/// Close codes a peer may send (RFC 6455 7.4 and the IANA registry).
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends a frame header. `mask`: the client's masking key.
pub fn write_header(out: &mut BytesMut, fin_opcode: u8, len: usize, mask: Option<[u8; 4]>) {
    let m = if mask.is_some() { 0x80 } else { 0 };
    out.put_u8(fin_opcode);
    match len {
        0..=125 => out.put_u8(m | len as u8),
        126..=0xFFFF => {
            out.put_u8(m | 126);
            out.put_u16(len as u16);
        }
        _ => {
            out.put_u8(m | 127);
            out.put_u64(len as u64);
        }
    }
    if let Some(key) = mask {
        out.put_slice(&key);
    }
}

/// Appends a complete final frame (`FIN | op`), masked when `mask` is given.
pub fn write_frame(out: &mut BytesMut, op: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    write_final(out, FIN | op, payload, mask);
}

/// Appends a complete final frame of a compressed message (`FIN | RSV1 |
/// op`): `payload` is already compressed.
pub fn write_compressed(out: &mut BytesMut, op: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    write_final(out, FIN | RSV1 | op, payload, mask);
}

fn write_final(out: &mut BytesMut, first: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    out.reserve(14 + payload.len());
    write_header(out, first, payload.len(), mask);
    let start = out.len();
    out.put_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key);
    }
}

/// Appends a close frame with `code` and `reason` (cut to 123 bytes on a
/// character boundary).
pub fn write_close(out: &mut BytesMut, code: u16, reason: &str, mask: Option<[u8; 4]>) {
    let mut end = reason.len().min(MAX_CONTROL_LEN - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = [0u8; MAX_CONTROL_LEN];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    write_frame(out, opcode::CLOSE, &payload[..2 + end], mask);
}

/// XORs `buf` with the masking key (its own inverse), eight bytes at a time.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    let [a, b, c, d] = key;
    let wide = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "frame_deflate_tests.rs"]
mod deflate_tests;
