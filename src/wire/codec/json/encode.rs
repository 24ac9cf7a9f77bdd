//! JSON encoding of strings, dicts and values: compact output (no spaces),
//! as autobahn-python produces.
//!
//! Strings escape `"`, `\` and control characters (`\b \f \n \r \t` in short
//! form, the others as `\u00XX`, like Python's `json`); non-ASCII text is
//! written as UTF-8. `Value::Bytes` becomes `"\u0000" + Base64`; non-finite
//! floats become `null`.

use super::scan::first_special;
use crate::wire::value::{Dict, Value};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{BufMut, BytesMut};

/// Writes a non-negative integer.
#[inline]
pub(super) fn write_uint(out: &mut BytesMut, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes a string with JSON escaping.
pub(super) fn write_str(out: &mut BytesMut, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.put_u8(b'"');
    let mut i = 0;
    loop {
        let j = first_special(b, i);
        out.extend_from_slice(&b[i..j]);
        let Some(&c) = b.get(j) else { break };
        write_escape(out, c);
        i = j + 1;
    }
    out.put_u8(b'"');
}

/// Writes the escape sequence for `c` (`"`, `\` or a control character).
fn write_escape(out: &mut BytesMut, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match c {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0C => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        out.extend_from_slice(&[b'\\', short]);
    } else {
        let hex = [HEX[(c >> 4) as usize], HEX[(c & 0xF) as usize]];
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex[0], hex[1]]);
    }
}

/// Writes binary data as `"\u0000" + Base64`.
fn write_bytes(out: &mut BytesMut, data: &[u8]) {
    out.extend_from_slice(b"\"\\u0000");
    let start = out.len();
    let n = base64::encoded_len(data.len(), true).unwrap_or(0);
    out.resize(start + n, 0);
    match STANDARD.encode_slice(data, &mut out[start..]) {
        Ok(written) => out.truncate(start + written),
        // Unreachable (the buffer has the exact size); stay well-formed.
        Err(_) => out.truncate(start),
    }
    out.put_u8(b'"');
}

/// Writes a float; NaN and infinities (not representable) become `null`.
fn write_float(out: &mut BytesMut, f: f64) {
    if f.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Writes a dict as a JSON object.
pub(super) fn write_dict(out: &mut BytesMut, d: &Dict) {
    out.put_u8(b'{');
    for (i, (k, v)) in d.0.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        write_str(out, k);
        out.put_u8(b':');
        write_value(out, v);
    }
    out.put_u8(b'}');
}

/// Writes any value.
pub(super) fn write_value(out: &mut BytesMut, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::UInt(n) => write_uint(out, *n),
        Value::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::Bytes(b) => write_bytes(out, b),
        Value::List(items) => {
            out.put_u8(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                write_value(out, item);
            }
            out.put_u8(b']');
        }
        Value::Dict(d) => write_dict(out, d),
    }
}
