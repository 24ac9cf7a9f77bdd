//! The JSON format (`wamp.2.json`).
//!
//! - `scan`: a validating structural scanner; `split` uses it to find the
//!   element ranges of the top-level list without building values, so the
//!   payload elements it accepts are always valid JSON that can be forwarded
//!   as raw slices.
//! - `decode`: full decoding of Options/Details and payloads into `Value`.
//! - `encode`: compact output with the WAMP binary convention.
//!
//! Strings without escapes (URIs, topics) are borrowed from the frame.

mod decode;
mod encode;
mod scan;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vector_tests;

use super::{Elements, Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value};
use bytes::{BufMut, Bytes, BytesMut};
use std::ops::Range;

/// The json serializer.
pub(crate) struct Json;

impl Format for Json {
    const SERIALIZER: Serializer = Serializer::Json;

    fn split(frame: &[u8]) -> Result<Elements, DecodeError> {
        scan::split(frame)
    }

    fn read_uint(elem: &[u8]) -> Option<u64> {
        decode::parse_u64(elem)
    }

    fn read_text(frame: &Bytes, range: Range<usize>) -> Option<Text> {
        let body = match frame.get(range.clone())? {
            [b'"', body @ .., b'"'] => body,
            _ => return None,
        };
        if scan::first_special(body, 0) == body.len() {
            Text::from_utf8(frame.slice(range.start + 1..range.end - 1)).ok()
        } else {
            decode::unescape(body).ok().map(Text::from)
        }
    }

    fn read_dict(elem: &[u8]) -> Result<Option<Dict>, DecodeError> {
        decode::read_dict(elem)
    }

    fn read_value(elem: &[u8]) -> Result<Value, DecodeError> {
        decode::read_value(elem)
    }

    fn kind(elem: &[u8]) -> Kind {
        match elem.first() {
            Some(b'[') => Kind::List,
            Some(b'{') => Kind::Dict,
            Some(b'"') if elem.starts_with(b"\"\\u0000") => Kind::Bytes,
            Some(b'"') => Kind::Str,
            _ => Kind::Other,
        }
    }

    fn list_open(out: &mut BytesMut, _len: usize) {
        out.put_u8(b'[');
    }

    fn list_sep(out: &mut BytesMut) {
        out.put_u8(b',');
    }

    fn list_close(out: &mut BytesMut) {
        out.put_u8(b']');
    }

    fn write_uint(out: &mut BytesMut, v: u64) {
        encode::write_uint(out, v);
    }

    fn write_str(out: &mut BytesMut, s: &str) {
        encode::write_str(out, s);
    }

    fn write_dict(out: &mut BytesMut, d: &Dict) {
        encode::write_dict(out, d);
    }

    fn write_value(out: &mut BytesMut, v: &Value) {
        encode::write_value(out, v);
    }
}
