//! MessagePack decoding: a cursor (the shared bounds-checked `ByteCursor`
//! plus the msgpack item grammar) that splits frames, skips (validating)
//! items and builds `Value`s.
//!
//! Every length is checked against the bytes actually present before it is
//! used, and nothing is reserved from a declared count beyond what the
//! remaining input could hold, so hostile headers fail fast.

use crate::wire::codec::cursor::{ByteCursor, CursorError};
use crate::wire::codec::{Elements, Kind};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use bytes::Bytes;

const TRUNCATED: DecodeError = DecodeError::Malformed("msgpack: truncated");
const TRAILING: DecodeError = DecodeError::Malformed("msgpack: trailing bytes");
const BAD_UTF8: DecodeError = DecodeError::Malformed("msgpack: invalid UTF-8 in str");
const BAD_KEY: DecodeError = DecodeError::Malformed("msgpack: map key is not a str");

/// The most list or dict entries reserved up front; more grow on demand, so a
/// declared count costs nothing until its items are actually read.
const PREALLOC_MAX: usize = 64;

/// The header of one item: its type and, for variable-size items, the
/// declared length (not yet checked against the input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Head {
    Nil,
    Bool(bool),
    /// A non-negative integer (from any integer encoding).
    UInt(u64),
    /// A negative integer.
    Int(i64),
    Float(f64),
    Str(usize),
    Bin(usize),
    /// Extension type and data length.
    Ext(i8, usize),
    Array(usize),
    Map(usize),
}

/// The msgpack truncation error, for the shared `ByteCursor`.
pub(super) struct MsgPackBytes;

impl CursorError for MsgPackBytes {
    const TRUNCATED: DecodeError = TRUNCATED;
}

/// A read position in a msgpack buffer: the shared `ByteCursor` plus the
/// msgpack item grammar.
pub(super) type Cursor<'a> = ByteCursor<'a, MsgPackBytes>;

impl<'a> Cursor<'a> {
    /// A 16-bit length.
    #[inline]
    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(self.u16_be()?))
    }

    /// A 32-bit length.
    #[inline]
    fn len32(&mut self) -> Result<usize, DecodeError> {
        // A length that does not fit usize can never be satisfied by the input.
        usize::try_from(self.u32_be()?).map_err(|_| TRUNCATED)
    }

    /// Reads one item header.
    pub(super) fn head(&mut self) -> Result<Head, DecodeError> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Head::UInt(u64::from(m)),
            0x80..=0x8f => Head::Map(usize::from(m & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(m & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(m & 0x1f)),
            0xc0 => Head::Nil,
            0xc1 => return Err(DecodeError::Malformed("msgpack: reserved marker 0xc1")),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(usize::from(self.u8()?)),
            0xc5 => Head::Bin(self.len16()?),
            0xc6 => Head::Bin(self.len32()?),
            0xc7 => {
                let len = usize::from(self.u8()?);
                Head::Ext(self.u8()? as i8, len)
            }
            0xc8 => {
                let len = self.len16()?;
                Head::Ext(self.u8()? as i8, len)
            }
            0xc9 => {
                let len = self.len32()?;
                Head::Ext(self.u8()? as i8, len)
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.array()?)),
            0xcc => Head::UInt(u64::from(self.u8()?)),
            0xcd => Head::UInt(u64::from(self.u16_be()?)),
            0xce => Head::UInt(u64::from(self.u32_be()?)),
            0xcf => Head::UInt(self.u64_be()?),
            0xd0 => int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => int(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => Head::Ext(self.u8()? as i8, 1 << (m - 0xd4)),
            0xd9 => Head::Str(usize::from(self.u8()?)),
            0xda => Head::Str(self.len16()?),
            0xdb => Head::Str(self.len32()?),
            0xdc => Head::Array(self.len16()?),
            0xdd => Head::Array(self.len32()?),
            0xde => Head::Map(self.len16()?),
            0xdf => Head::Map(self.len32()?),
            0xe0..=0xff => Head::Int(i64::from(m as i8)),
        })
    }

    /// The content of a str of `len` bytes, checked to be UTF-8.
    fn str_body(&mut self, len: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.take(len)?).map_err(|_| BAD_UTF8)
    }

    /// A map key (must be a str).
    fn key(&mut self) -> Result<&'a str, DecodeError> {
        match self.head()? {
            Head::Str(len) => self.str_body(len),
            _ => Err(BAD_KEY),
        }
    }

    /// Skips one item at nesting level `depth`, validating all of it.
    pub(super) fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        // Fast path for the one-byte markers most payloads are made of.
        match self.peek() {
            Some(0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff) => {
                self.bump();
                return Ok(());
            }
            Some(m @ 0xa0..=0xbf) => {
                self.bump();
                return check_utf8(self.take(usize::from(m & 0x1f))?);
            }
            _ => {}
        }
        match self.head()? {
            Head::Str(len) => check_utf8(self.take(len)?)?,
            Head::Bin(len) | Head::Ext(_, len) => {
                self.take(len)?;
            }
            Head::Array(n) => {
                check_depth(depth)?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            Head::Map(n) => {
                check_depth(depth)?;
                for _ in 0..n {
                    self.key()?;
                    self.skip(depth + 1)?;
                }
            }
            Head::Nil | Head::Bool(_) | Head::UInt(_) | Head::Int(_) | Head::Float(_) => {}
        }
        Ok(())
    }

    /// Decodes one item at nesting level `depth`; `None` is JavaScript `undefined`.
    fn value_or_undefined(&mut self, depth: usize) -> Result<Option<Value>, DecodeError> {
        Ok(Some(match self.head()? {
            Head::Nil => Value::Null,
            Head::Bool(b) => Value::Bool(b),
            Head::UInt(v) => Value::UInt(v),
            Head::Int(v) => Value::Int(v),
            Head::Float(v) => Value::Float(v),
            Head::Str(len) => Value::Str(Text::from(self.str_body(len)?)),
            Head::Bin(len) => Value::Bytes(Bytes::copy_from_slice(self.take(len)?)),
            Head::Ext(0, len) => {
                self.take(len)?;
                return Ok(None);
            }
            Head::Ext(_, len) => Value::Bytes(Bytes::copy_from_slice(self.take(len)?)),
            Head::Array(n) => {
                check_depth(depth)?;
                let mut items = Vec::with_capacity(n.min(self.remaining()).min(PREALLOC_MAX));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            Head::Map(n) => Value::Dict(self.dict_body(n, depth)?),
        }))
    }

    /// Decodes one item (`undefined` reads as `Null`).
    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        Ok(self.value_or_undefined(depth)?.unwrap_or(Value::Null))
    }

    /// The `n` entries of a map at level `depth`, without `undefined` values.
    fn dict_body(&mut self, n: usize, depth: usize) -> Result<Dict, DecodeError> {
        check_depth(depth)?;
        let mut entries = Vec::with_capacity(n.min(self.remaining() / 2).min(PREALLOC_MAX));
        for _ in 0..n {
            let key = self.key()?;
            if let Some(v) = self.value_or_undefined(depth + 1)? {
                entries.push((Text::from(key), v));
            }
        }
        Ok(Dict(entries))
    }
}

/// A signed integer as a head: non-negative values are `UInt`.
fn int(v: i64) -> Head {
    if v >= 0 {
        Head::UInt(v as u64)
    } else {
        Head::Int(v)
    }
}

/// Fails unless `s` is UTF-8 (ASCII, the common case, is checked inline).
#[inline]
fn check_utf8(s: &[u8]) -> Result<(), DecodeError> {
    if s.is_ascii() || std::str::from_utf8(s).is_ok() {
        Ok(())
    } else {
        Err(BAD_UTF8)
    }
}

fn check_depth(depth: usize) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        Err(DecodeError::TooDeep(MAX_DEPTH))
    } else {
        Ok(())
    }
}

/// Splits a frame holding exactly one array into element ranges.
pub(super) fn split(frame: &[u8]) -> Result<Elements, DecodeError> {
    let mut c = Cursor::new(frame);
    let n = match c.head()? {
        Head::Array(n) => n,
        _ => return Err(DecodeError::NotAList),
    };
    let mut els = Elements::default();
    for _ in 0..n {
        let start = c.pos();
        c.skip(2)?;
        els.push(start, c.pos());
    }
    if !c.at_end() {
        return Err(TRAILING);
    }
    Ok(els)
}

/// The element as a non-negative integer.
pub(super) fn read_uint(elem: &[u8]) -> Option<u64> {
    let mut c = Cursor::new(elem);
    match c.head() {
        Ok(Head::UInt(v)) if c.at_end() => Some(v),
        _ => None,
    }
}

/// The str at `frame[range]`, borrowing the frame.
pub(super) fn read_text(frame: &Bytes, range: std::ops::Range<usize>) -> Option<Text> {
    let elem = frame.get(range.clone())?;
    let mut c = Cursor::new(elem);
    let len = match c.head() {
        Ok(Head::Str(len)) => len,
        _ => return None,
    };
    let start = range.start + c.pos();
    if len != c.remaining() {
        return None;
    }
    Text::from_utf8(frame.slice(start..start + len)).ok()
}

/// The element as a dict (`Ok(None)` when it is not a map).
pub(super) fn read_dict(elem: &[u8]) -> Result<Option<Dict>, DecodeError> {
    let mut c = Cursor::new(elem);
    let n = match c.head()? {
        Head::Map(n) => n,
        _ => return Ok(None),
    };
    let d = c.dict_body(n, 1)?;
    if !c.at_end() {
        return Err(TRAILING);
    }
    Ok(Some(d))
}

/// The element as a value.
pub(super) fn read_value(elem: &[u8]) -> Result<Value, DecodeError> {
    let mut c = Cursor::new(elem);
    let v = c.value(1)?;
    if !c.at_end() {
        return Err(TRAILING);
    }
    Ok(v)
}

/// The kind of the element, from its first byte.
pub(super) fn kind(elem: &[u8]) -> Kind {
    match elem.first() {
        Some(0x80..=0x8f | 0xde | 0xdf) => Kind::Dict,
        Some(0x90..=0x9f | 0xdc | 0xdd) => Kind::List,
        Some(0xa0..=0xbf | 0xd9..=0xdb) => Kind::Str,
        Some(0xc4..=0xc6) => Kind::Bytes,
        _ => Kind::Other,
    }
}
