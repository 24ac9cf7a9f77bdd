//! MessagePack encoding into a `BytesMut`, always with the smallest integer
//! and length encodings and definite lengths.
//!
//! Written by hand rather than through `rmp::encode` (which works on
//! `RmpWrite` and returns `Result`s that cannot fail here): a few `put_*`
//! calls per item. The unit tests check the output against `rmp`.

use crate::wire::value::{Dict, Value};
use bytes::{BufMut, BytesMut};

/// Writes a non-negative integer.
pub(super) fn uint(out: &mut BytesMut, v: u64) {
    if v < 0x80 {
        out.put_u8(v as u8);
    } else if let Ok(v) = u8::try_from(v) {
        out.put_u8(0xcc);
        out.put_u8(v);
    } else if let Ok(v) = u16::try_from(v) {
        out.put_u8(0xcd);
        out.put_u16(v);
    } else if let Ok(v) = u32::try_from(v) {
        out.put_u8(0xce);
        out.put_u32(v);
    } else {
        out.put_u8(0xcf);
        out.put_u64(v);
    }
}

/// Writes a signed integer (non-negative values as unsigned).
pub(super) fn int(out: &mut BytesMut, v: i64) {
    if v >= 0 {
        uint(out, v as u64);
    } else if v >= -32 {
        out.put_i8(v as i8);
    } else if let Ok(v) = i8::try_from(v) {
        out.put_u8(0xd0);
        out.put_i8(v);
    } else if let Ok(v) = i16::try_from(v) {
        out.put_u8(0xd1);
        out.put_i16(v);
    } else if let Ok(v) = i32::try_from(v) {
        out.put_u8(0xd2);
        out.put_i32(v);
    } else {
        out.put_u8(0xd3);
        out.put_i64(v);
    }
}

/// The markers of one length-prefixed type: its fix form (marker bits and
/// largest length), its 8-bit form, and its 16-bit form (the 32-bit form
/// follows it).
struct Markers {
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
}

const ARRAY: Markers = Markers {
    fix: Some((0x90, 15)),
    m8: None,
    m16: 0xdc,
};
const MAP: Markers = Markers {
    fix: Some((0x80, 15)),
    m8: None,
    m16: 0xde,
};
const STR: Markers = Markers {
    fix: Some((0xa0, 31)),
    m8: Some(0xd9),
    m16: 0xda,
};
const BIN: Markers = Markers {
    fix: None,
    m8: Some(0xc4),
    m16: 0xc5,
};

/// Writes the smallest length header for `len`. False when `len` does not
/// fit 32 bits (nothing is written then; no real frame gets there).
fn header(out: &mut BytesMut, len: usize, m: &Markers) -> bool {
    match (
        m.fix,
        m.m8,
        u8::try_from(len),
        u16::try_from(len),
        u32::try_from(len),
    ) {
        (Some((fix, max)), ..) if len <= max => out.put_u8(fix | len as u8),
        (_, Some(m8), Ok(l), ..) => {
            out.put_u8(m8);
            out.put_u8(l);
        }
        (.., Ok(l), _) => {
            out.put_u8(m.m16);
            out.put_u16(l);
        }
        (.., Ok(l)) => {
            out.put_u8(m.m16 + 1);
            out.put_u32(l);
        }
        _ => return false,
    }
    true
}

/// Starts an array of `len` items.
pub(super) fn array_header(out: &mut BytesMut, len: usize) {
    if !header(out, len, &ARRAY) {
        out.put_u8(0x90);
    }
}

/// Writes a str.
pub(super) fn str(out: &mut BytesMut, s: &str) {
    if header(out, s.len(), &STR) {
        out.put_slice(s.as_bytes());
    } else {
        out.put_u8(0xa0);
    }
}

/// Writes a bin.
fn bin(out: &mut BytesMut, b: &[u8]) {
    if header(out, b.len(), &BIN) {
        out.put_slice(b);
    } else {
        out.put_slice(&[0xc4, 0]);
    }
}

/// Writes a float (always float64, so every `f64` round-trips).
fn float(out: &mut BytesMut, v: f64) {
    out.put_u8(0xcb);
    out.put_f64(v);
}

/// Writes a dict as a map with str keys.
pub(super) fn dict(out: &mut BytesMut, d: &Dict) {
    if !header(out, d.len(), &MAP) {
        out.put_u8(0x80);
        return;
    }
    for (k, v) in d.iter() {
        str(out, k);
        value(out, v);
    }
}

/// Writes a list of values.
fn list(out: &mut BytesMut, items: &[Value]) {
    if !header(out, items.len(), &ARRAY) {
        out.put_u8(0x90);
        return;
    }
    for item in items {
        value(out, item);
    }
}

/// Writes any value.
pub(super) fn value(out: &mut BytesMut, v: &Value) {
    match v {
        Value::Null => out.put_u8(0xc0),
        Value::Bool(false) => out.put_u8(0xc2),
        Value::Bool(true) => out.put_u8(0xc3),
        Value::UInt(v) => uint(out, *v),
        Value::Int(v) => int(out, *v),
        Value::Float(v) => float(out, *v),
        Value::Str(s) => str(out, s),
        Value::Bytes(b) => bin(out, b),
        Value::List(items) => list(out, items),
        Value::Dict(d) => dict(out, d),
    }
}
