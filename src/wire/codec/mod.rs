//! Codecs: the three WAMP serializers behind one `Format` trait, and the
//! public `decode` / `encode` entry points.
//!
//! A format knows how to split a top-level list into element byte ranges and
//! how to read and write scalars, dicts and values. The generic `read` and
//! `write` modules turn elements into `Message`s and back, so the message
//! layouts are written once for all serializers.

mod cbor;
mod cursor;
mod json;
mod msgpack;
mod peek;
mod read;
#[cfg(test)]
mod suite;
mod write;

use super::error::DecodeError;
use super::message::Message;
use super::text::Text;
use super::value::{Dict, Value};
use bytes::{Bytes, BytesMut};

pub use peek::peek_type;

/// A WAMP serializer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Serializer {
    /// `wamp.2.json`, RawSocket serializer 1.
    Json,
    /// `wamp.2.msgpack`, RawSocket serializer 2.
    MsgPack,
    /// `wamp.2.cbor`, RawSocket serializer 3.
    Cbor,
}

impl Serializer {
    /// All serializers, in RawSocket id order.
    pub const ALL: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Json => "wamp.2.json",
            Serializer::MsgPack => "wamp.2.msgpack",
            Serializer::Cbor => "wamp.2.cbor",
        }
    }

    /// The serializer for a WebSocket subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<Serializer> {
        Serializer::ALL
            .into_iter()
            .find(|s| s.subprotocol() == name)
    }

    /// The RawSocket serializer id (1, 2, 3).
    pub fn rawsocket_id(self) -> u8 {
        match self {
            Serializer::Json => 1,
            Serializer::MsgPack => 2,
            Serializer::Cbor => 3,
        }
    }

    /// The serializer for a RawSocket serializer id.
    pub fn from_rawsocket_id(id: u8) -> Option<Serializer> {
        Serializer::ALL.into_iter().find(|s| s.rawsocket_id() == id)
    }

    /// A short name: `json`, `msgpack`, `cbor`.
    pub fn name(self) -> &'static str {
        match self {
            Serializer::Json => "json",
            Serializer::MsgPack => "msgpack",
            Serializer::Cbor => "cbor",
        }
    }

    /// The serializer named `json`, `msgpack` or `cbor`.
    pub fn from_name(name: &str) -> Option<Serializer> {
        Serializer::ALL.into_iter().find(|s| s.name() == name)
    }

    /// True for the text serializer (sent in WebSocket text frames).
    pub fn is_text(self) -> bool {
        self == Serializer::Json
    }

    /// A small index (0..3) for per-serializer caches.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The most elements any message has (ERROR: 7).
pub(crate) const MAX_ELEMENTS: usize = 7;

/// Byte ranges of the elements of a top-level list. `len` counts every
/// element; only the first `MAX_ELEMENTS` ranges are kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct Elements {
    ranges: [(usize, usize); MAX_ELEMENTS],
    len: usize,
}

impl Elements {
    /// Records the next element's range `start..end`.
    pub(crate) fn push(&mut self, start: usize, end: usize) {
        if self.len < MAX_ELEMENTS {
            self.ranges[self.len] = (start, end);
        }
        self.len += 1;
    }

    /// How many elements the list has.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The range of element `i` (`i < min(len, MAX_ELEMENTS)`).
    pub(crate) fn range(&self, i: usize) -> std::ops::Range<usize> {
        let (s, e) = self.ranges[i];
        s..e
    }
}

/// What kind of value an element holds (for payload shape checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    List,
    Dict,
    Str,
    Bytes,
    Other,
}

/// One serializer: reading elements of a frame and writing values.
pub(crate) trait Format {
    /// The serializer this format implements.
    const SERIALIZER: Serializer;

    /// Splits `frame`, which must hold exactly one list, into element ranges.
    /// Fails on anything else (not a list, truncation, trailing bytes, depth).
    fn split(frame: &[u8]) -> Result<Elements, DecodeError>;
    /// The element as a non-negative integer (`None`: another type).
    fn read_uint(elem: &[u8]) -> Option<u64>;
    /// The element `frame[range]` as a string, borrowing `frame` when it can.
    fn read_text(frame: &Bytes, range: std::ops::Range<usize>) -> Option<Text>;
    /// The element as a dict (`Ok(None)`: another type). Keys whose value is
    /// JavaScript `undefined` (MsgPack ext 0, CBOR simple 23) are dropped.
    fn read_dict(elem: &[u8]) -> Result<Option<Dict>, DecodeError>;
    /// The element as a value (binary maps to `Value::Bytes`).
    fn read_value(elem: &[u8]) -> Result<Value, DecodeError>;
    /// The kind of the element (cheap: looks at its first bytes).
    fn kind(elem: &[u8]) -> Kind;

    /// Starts a list of `len` elements.
    fn list_open(out: &mut BytesMut, len: usize);
    /// Goes between two list elements (JSON's comma).
    fn list_sep(out: &mut BytesMut);
    /// Ends a list.
    fn list_close(out: &mut BytesMut);
    /// Writes a non-negative integer.
    fn write_uint(out: &mut BytesMut, v: u64);
    /// Writes a string.
    fn write_str(out: &mut BytesMut, s: &str);
    /// Writes a dict.
    fn write_dict(out: &mut BytesMut, d: &Dict);
    /// Writes any value.
    fn write_value(out: &mut BytesMut, v: &Value);
}

/// Decodes one frame into a message. The payload keeps slices of `frame`.
pub fn decode(ser: Serializer, frame: Bytes) -> Result<Message, DecodeError> {
    match ser {
        Serializer::Json => read::decode::<json::Json>(frame),
        Serializer::MsgPack => read::decode::<msgpack::MsgPack>(frame),
        Serializer::Cbor => read::decode::<cbor::Cbor>(frame),
    }
}

/// Appends the encoding of `msg` to `out`.
pub fn encode(ser: Serializer, msg: &Message, out: &mut BytesMut) {
    match ser {
        Serializer::Json => write::encode::<json::Json>(msg, out),
        Serializer::MsgPack => write::encode::<msgpack::MsgPack>(msg, out),
        Serializer::Cbor => write::encode::<cbor::Cbor>(msg, out),
    }
}

/// Encodes `msg` into a new buffer.
pub fn encode_to_bytes(ser: Serializer, msg: &Message) -> Bytes {
    let mut out = BytesMut::with_capacity(128);
    encode(ser, msg, &mut out);
    out.freeze()
}

/// Decodes one standalone value (a payload element) in `ser`.
pub fn decode_value(ser: Serializer, bytes: &[u8]) -> Result<Value, DecodeError> {
    match ser {
        Serializer::Json => json::Json::read_value(bytes),
        Serializer::MsgPack => msgpack::MsgPack::read_value(bytes),
        Serializer::Cbor => cbor::Cbor::read_value(bytes),
    }
}

/// Appends the encoding of one standalone value in `ser`.
pub fn encode_value(ser: Serializer, v: &Value, out: &mut BytesMut) {
    match ser {
        Serializer::Json => json::Json::write_value(out, v),
        Serializer::MsgPack => msgpack::MsgPack::write_value(out, v),
        Serializer::Cbor => cbor::Cbor::write_value(out, v),
    }
}
