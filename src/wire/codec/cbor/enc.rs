//! CBOR encoding into a `BytesMut`: definite lengths, the smallest integer
//! and length encodings, floats as float64 (so every `f64` round-trips).
//!
//! Written by hand rather than through `minicbor::Encoder` (which writes to
//! its own `Write` trait and returns `Result`s that cannot fail here): one
//! header per item. The unit tests check the output against `minicbor`.

use crate::wire::value::{Dict, Value};
use bytes::{BufMut, BytesMut};

const UINT: u8 = 0;
const NEGINT: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;

/// Writes an initial byte for `major` with the smallest encoding of `arg`.
fn head(out: &mut BytesMut, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.put_u8(m | arg as u8);
    } else if let Ok(v) = u8::try_from(arg) {
        out.put_u8(m | 24);
        out.put_u8(v);
    } else if let Ok(v) = u16::try_from(arg) {
        out.put_u8(m | 25);
        out.put_u16(v);
    } else if let Ok(v) = u32::try_from(arg) {
        out.put_u8(m | 26);
        out.put_u32(v);
    } else {
        out.put_u8(m | 27);
        out.put_u64(arg);
    }
}

/// A length as a header argument (`usize` always fits `u64` on supported targets).
fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Writes a non-negative integer.
pub(super) fn uint(out: &mut BytesMut, v: u64) {
    head(out, UINT, v);
}

/// Writes a signed integer (non-negative values as unsigned).
fn int(out: &mut BytesMut, v: i64) {
    if v >= 0 {
        head(out, UINT, v as u64);
    } else {
        // -1 - v, which is !v in two's complement and never overflows.
        head(out, NEGINT, !v as u64);
    }
}

/// Starts an array of `n` items.
pub(super) fn array_header(out: &mut BytesMut, n: usize) {
    head(out, ARRAY, len(n));
}

/// Writes a text string.
pub(super) fn str(out: &mut BytesMut, s: &str) {
    head(out, TEXT, len(s.len()));
    out.put_slice(s.as_bytes());
}

/// Writes a byte string.
fn bytes(out: &mut BytesMut, b: &[u8]) {
    head(out, BYTES, len(b.len()));
    out.put_slice(b);
}

/// Writes a dict as a map with text keys.
pub(super) fn dict(out: &mut BytesMut, d: &Dict) {
    head(out, MAP, len(d.len()));
    for (k, v) in d.iter() {
        str(out, k);
        value(out, v);
    }
}

/// Writes any value.
pub(super) fn value(out: &mut BytesMut, v: &Value) {
    match v {
        Value::Null => out.put_u8(0xf6),
        Value::Bool(false) => out.put_u8(0xf4),
        Value::Bool(true) => out.put_u8(0xf5),
        Value::UInt(v) => uint(out, *v),
        Value::Int(v) => int(out, *v),
        Value::Float(v) => {
            out.put_u8(0xfb);
            out.put_f64(*v);
        }
        Value::Str(s) => str(out, s),
        Value::Bytes(b) => bytes(out, b),
        Value::List(items) => {
            array_header(out, items.len());
            for item in items {
                value(out, item);
            }
        }
        Value::Dict(d) => dict(out, d),
    }
}
