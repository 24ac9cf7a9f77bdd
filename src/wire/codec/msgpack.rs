//! The MessagePack format (`wamp.2.msgpack`, RawSocket serializer 2).
//!
//! Decoding and encoding are hand-written over byte slices (`dec`, `enc`):
//! the decoder validates every element while splitting a frame (so a raw
//! payload slice it accepted always decodes later), borrows strings from the
//! frame, treats declared lengths as hostile (nothing is reserved before the
//! bytes are there) and caps nesting at `value::MAX_DEPTH`. The encoder always
//! picks the smallest integer and length encodings.
//!
//! Mapping: str and bin stay distinct (`Value::Str` / `Value::Bytes`); ext type
//! 0 is JavaScript `undefined` (dropped from dicts, `Null` elsewhere); other
//! ext types read as their data bytes; float32/64 read as `Value::Float`.

mod dec;
mod enc;
#[cfg(test)]
mod tests;

use super::{Elements, Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value};
use bytes::{Bytes, BytesMut};

/// The msgpack serializer.
pub(crate) struct MsgPack;

impl Format for MsgPack {
    const SERIALIZER: Serializer = Serializer::MsgPack;

    fn split(frame: &[u8]) -> Result<Elements, DecodeError> {
        dec::split(frame)
    }
    fn read_uint(elem: &[u8]) -> Option<u64> {
        dec::read_uint(elem)
    }
    fn read_text(frame: &Bytes, range: std::ops::Range<usize>) -> Option<Text> {
        dec::read_text(frame, range)
    }
    fn read_dict(elem: &[u8]) -> Result<Option<Dict>, DecodeError> {
        dec::read_dict(elem)
    }
    fn read_value(elem: &[u8]) -> Result<Value, DecodeError> {
        dec::read_value(elem)
    }
    fn kind(elem: &[u8]) -> Kind {
        dec::kind(elem)
    }
    fn list_open(out: &mut BytesMut, len: usize) {
        enc::array_header(out, len);
    }
    fn list_sep(_out: &mut BytesMut) {}
    fn list_close(_out: &mut BytesMut) {}
    fn write_uint(out: &mut BytesMut, v: u64) {
        enc::uint(out, v);
    }
    fn write_str(out: &mut BytesMut, s: &str) {
        enc::str(out, s);
    }
    fn write_dict(out: &mut BytesMut, d: &Dict) {
        enc::dict(out, d);
    }
    fn write_value(out: &mut BytesMut, v: &Value) {
        enc::value(out, v);
    }
}
