//! CBOR decoding (RFC 8949): a cursor (the shared bounds-checked
//! `ByteCursor` plus the CBOR item grammar) that splits frames, skips
//! (validating) items and builds `Value`s.
//!
//! Every length is checked against the bytes actually present before it is
//! used, and nothing is reserved from a declared count beyond what the
//! remaining input could hold, so hostile headers fail fast. Tags are read
//! in a loop (a chain of tags costs no stack).

use crate::wire::codec::cursor::{ByteCursor, CursorError};
use crate::wire::codec::{Elements, Kind};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use bytes::Bytes;
use std::borrow::Cow;

const TRUNCATED: DecodeError = DecodeError::Malformed("cbor: truncated");
const TRAILING: DecodeError = DecodeError::Malformed("cbor: trailing bytes");
const RESERVED: DecodeError = DecodeError::Malformed("cbor: reserved additional info");
const BAD_INDEF: DecodeError = DecodeError::Malformed("cbor: indefinite length not allowed here");
const BAD_SIMPLE: DecodeError = DecodeError::Malformed("cbor: two-byte simple value below 32");
const BAD_UTF8: DecodeError = DecodeError::Malformed("cbor: invalid UTF-8 in text string");
const BAD_CHUNK: DecodeError = DecodeError::Malformed("cbor: bad indefinite-length string chunk");
const BAD_KEY: DecodeError = DecodeError::Malformed("cbor: map key is not a text string");
const BAD_BREAK: DecodeError = DecodeError::Malformed("cbor: unexpected break");

/// The most list or dict entries reserved up front; more grow on demand, so a
/// declared count costs nothing until its items are actually read.
const PREALLOC_MAX: usize = 64;

/// The header of one item. Lengths are `None` for indefinite-length items
/// and are not yet checked against the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Head {
    UInt(u64),
    /// A negative integer `-1 - n`.
    NegInt(u64),
    Bytes(Option<usize>),
    Text(Option<usize>),
    Array(Option<usize>),
    Map(Option<usize>),
    Tag(u64),
    Bool(bool),
    Null,
    Undefined,
    /// Any other simple value.
    Simple(u8),
    Float(f64),
    Break,
}

/// The CBOR truncation error, for the shared `ByteCursor`.
pub(super) struct CborBytes;

impl CursorError for CborBytes {
    const TRUNCATED: DecodeError = TRUNCATED;
}

/// A read position in a CBOR buffer: the shared `ByteCursor` plus the CBOR
/// item grammar.
pub(super) type Cursor<'a> = ByteCursor<'a, CborBytes>;

impl<'a> Cursor<'a> {
    /// The argument of an initial byte with additional info `ai`
    /// (`None`: indefinite length).
    fn argument(&mut self, ai: u8) -> Result<Option<u64>, DecodeError> {
        Ok(Some(match ai {
            0..=23 => u64::from(ai),
            24 => u64::from(self.u8()?),
            25 => u64::from(self.u16_be()?),
            26 => u64::from(self.u32_be()?),
            27 => self.u64_be()?,
            28..=30 => return Err(RESERVED),
            _ => return Ok(None),
        }))
    }

    /// Reads one item header (a tag is a header of its own).
    pub(super) fn head(&mut self) -> Result<Head, DecodeError> {
        let ib = self.u8()?;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        if major == 7 {
            return self.simple(ai);
        }
        let arg = self.argument(ai)?;
        Ok(match (major, arg) {
            (0, Some(v)) => Head::UInt(v),
            (1, Some(v)) => Head::NegInt(v),
            (2, len) => Head::Bytes(length(len)?),
            (3, len) => Head::Text(length(len)?),
            (4, len) => Head::Array(length(len)?),
            (5, len) => Head::Map(length(len)?),
            (6, Some(t)) => Head::Tag(t),
            _ => return Err(BAD_INDEF),
        })
    }

    /// Major type 7: simple values, floats and break.
    fn simple(&mut self, ai: u8) -> Result<Head, DecodeError> {
        Ok(match ai {
            20 => Head::Bool(false),
            21 => Head::Bool(true),
            22 => Head::Null,
            23 => Head::Undefined,
            24 => match self.u8()? {
                v if v < 32 => return Err(BAD_SIMPLE),
                v => Head::Simple(v),
            },
            25 => Head::Float(f16_to_f64(self.u16_be()?)),
            26 => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            27 => Head::Float(f64::from_be_bytes(self.array()?)),
            28..=30 => return Err(RESERVED),
            31 => Head::Break,
            v => Head::Simple(v),
        })
    }

    /// The next header that is not a tag (tags are skipped).
    pub(super) fn item_head(&mut self) -> Result<Head, DecodeError> {
        loop {
            match self.head()? {
                Head::Tag(_) => {}
                h => return Ok(h),
            }
        }
    }

    /// Whether a container with `left` items to go (`None`: indefinite) has
    /// another item; consumes the break that ends an indefinite container.
    fn more(&mut self, left: &mut Option<usize>) -> Result<bool, DecodeError> {
        match left {
            Some(0) => Ok(false),
            Some(n) => {
                *n -= 1;
                Ok(true)
            }
            None => match self.peek() {
                Some(0xff) => {
                    self.bump();
                    Ok(false)
                }
                Some(_) => Ok(true),
                None => Err(TRUNCATED),
            },
        }
    }

    /// The content of a definite text string of `len` bytes.
    fn str_body(&mut self, len: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.take(len)?).map_err(|_| BAD_UTF8)
    }

    /// Calls `chunk` on each chunk of an indefinite-length string (`text`:
    /// text chunks, else byte chunks) up to and including its break. Text
    /// chunks are passed unchecked: the caller validates their UTF-8.
    fn chunks(
        &mut self,
        text: bool,
        mut chunk: impl FnMut(&'a [u8]) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        loop {
            match self.head()? {
                Head::Break => return Ok(()),
                Head::Text(Some(n)) if text => chunk(self.take(n)?)?,
                Head::Bytes(Some(n)) if !text => chunk(self.take(n)?)?,
                _ => return Err(BAD_CHUNK),
            }
        }
    }

    /// The content of a text string whose header gave `len`.
    fn text_body(&mut self, len: Option<usize>) -> Result<Cow<'a, str>, DecodeError> {
        match len {
            Some(n) => self.str_body(n).map(Cow::Borrowed),
            None => {
                let mut s = String::new();
                // Each chunk must be UTF-8 on its own (RFC 8949 3.2.3).
                self.chunks(true, |c| {
                    s.push_str(std::str::from_utf8(c).map_err(|_| BAD_UTF8)?);
                    Ok(())
                })?;
                Ok(Cow::Owned(s))
            }
        }
    }

    /// The content of a byte string whose header gave `len`.
    fn bytes_body(&mut self, len: Option<usize>) -> Result<Bytes, DecodeError> {
        match len {
            Some(n) => Ok(Bytes::copy_from_slice(self.take(n)?)),
            None => {
                let mut v = Vec::new();
                self.chunks(false, |c| {
                    v.extend_from_slice(c);
                    Ok(())
                })?;
                Ok(Bytes::from(v))
            }
        }
    }

    /// Skips a map key (a text string, possibly tagged), validating it.
    fn skip_key(&mut self) -> Result<(), DecodeError> {
        match self.item_head()? {
            Head::Text(Some(n)) => self.str_body(n).map(drop),
            Head::Text(None) => self.chunks(true, check_utf8),
            _ => Err(BAD_KEY),
        }
    }

    /// Skips one item at nesting level `depth`, validating all of it.
    pub(super) fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        // Fast path for the one-byte heads most payloads are made of.
        match self.peek() {
            Some(0x00..=0x17 | 0x20..=0x37 | 0xf4..=0xf7) => {
                self.bump();
                return Ok(());
            }
            Some(m @ (0x40..=0x57 | 0x60..=0x77)) => {
                self.bump();
                let body = self.take(usize::from(m & 0x1f))?;
                return if m >= 0x60 { check_utf8(body) } else { Ok(()) };
            }
            _ => {}
        }
        match self.item_head()? {
            Head::Text(Some(n)) => check_utf8(self.take(n)?)?,
            Head::Bytes(Some(n)) => {
                self.take(n)?;
            }
            Head::Text(None) => self.chunks(true, check_utf8)?,
            Head::Bytes(None) => self.chunks(false, |_| Ok(()))?,
            Head::Array(mut left) => {
                check_depth(depth)?;
                while self.more(&mut left)? {
                    self.skip(depth + 1)?;
                }
            }
            Head::Map(mut left) => {
                check_depth(depth)?;
                while self.more(&mut left)? {
                    self.skip_key()?;
                    self.skip(depth + 1)?;
                }
            }
            Head::Break | Head::Tag(_) => return Err(BAD_BREAK),
            _ => {}
        }
        Ok(())
    }

    /// Decodes one item at nesting level `depth`; `None` is `undefined`.
    fn value_or_undefined(&mut self, depth: usize) -> Result<Option<Value>, DecodeError> {
        Ok(Some(match self.item_head()? {
            Head::UInt(v) => Value::UInt(v),
            Head::NegInt(n) => negative(n),
            Head::Bytes(len) => Value::Bytes(self.bytes_body(len)?),
            Head::Text(len) => Value::Str(match self.text_body(len)? {
                Cow::Borrowed(s) => Text::from(s),
                Cow::Owned(s) => Text::from(s),
            }),
            Head::Array(mut left) => {
                check_depth(depth)?;
                let cap = left.unwrap_or(0).min(self.remaining()).min(PREALLOC_MAX);
                let mut items = Vec::with_capacity(cap);
                while self.more(&mut left)? {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            Head::Map(left) => Value::Dict(self.dict_body(left, depth)?),
            Head::Bool(b) => Value::Bool(b),
            Head::Null | Head::Simple(_) => Value::Null,
            Head::Undefined => return Ok(None),
            Head::Float(v) => Value::Float(v),
            Head::Break | Head::Tag(_) => return Err(BAD_BREAK),
        }))
    }

    /// Decodes one item (`undefined` reads as `Null`).
    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        Ok(self.value_or_undefined(depth)?.unwrap_or(Value::Null))
    }

    /// The entries of a map at level `depth`, without `undefined` values.
    fn dict_body(&mut self, mut left: Option<usize>, depth: usize) -> Result<Dict, DecodeError> {
        check_depth(depth)?;
        let cap = left
            .unwrap_or(0)
            .min(self.remaining() / 2)
            .min(PREALLOC_MAX);
        let mut entries = Vec::with_capacity(cap);
        while self.more(&mut left)? {
            let key = match self.item_head()? {
                Head::Text(len) => self.text_body(len)?,
                _ => return Err(BAD_KEY),
            };
            if let Some(v) = self.value_or_undefined(depth + 1)? {
                let key = match key {
                    Cow::Borrowed(s) => Text::from(s),
                    Cow::Owned(s) => Text::from(s),
                };
                entries.push((key, v));
            }
        }
        Ok(Dict(entries))
    }
}

/// Fails unless `chunk` is UTF-8 (ASCII, the common case, is checked inline).
#[inline]
fn check_utf8(chunk: &[u8]) -> Result<(), DecodeError> {
    if chunk.is_ascii() || std::str::from_utf8(chunk).is_ok() {
        Ok(())
    } else {
        Err(BAD_UTF8)
    }
}

/// A length argument as `usize` (one that does not fit cannot be satisfied
/// by the input either).
fn length(arg: Option<u64>) -> Result<Option<usize>, DecodeError> {
    arg.map(|v| usize::try_from(v).map_err(|_| TRUNCATED))
        .transpose()
}

/// The negative integer `-1 - n` (as a float when it is below `i64::MIN`).
fn negative(n: u64) -> Value {
    match i64::try_from(n) {
        Ok(n) => Value::Int(-1 - n),
        Err(_) => Value::Float(-1.0 - n as f64),
    }
}

/// An IEEE 754 half-precision float (RFC 8949 appendix D).
pub(super) fn f16_to_f64(h: u16) -> f64 {
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = f64::from(h & 0x3ff);
    let mag = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (mant + 1024.0) * 2f64.powi(e - 25),
    };
    if h & 0x8000 != 0 {
        -mag
    } else {
        mag
    }
}

fn check_depth(depth: usize) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        Err(DecodeError::TooDeep(MAX_DEPTH))
    } else {
        Ok(())
    }
}

/// Splits a frame holding exactly one (possibly tagged) array into element ranges.
pub(super) fn split(frame: &[u8]) -> Result<Elements, DecodeError> {
    let mut c = Cursor::new(frame);
    let mut left = match c.item_head()? {
        Head::Array(left) => left,
        _ => return Err(DecodeError::NotAList),
    };
    let mut els = Elements::default();
    while c.more(&mut left)? {
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
    match c.item_head() {
        Ok(Head::UInt(v)) if c.at_end() => Some(v),
        _ => None,
    }
}

/// The text string at `frame[range]`, borrowing the frame when it has a
/// definite length (indefinite ones are concatenated into a new buffer).
pub(super) fn read_text(frame: &Bytes, range: std::ops::Range<usize>) -> Option<Text> {
    let elem = frame.get(range.clone())?;
    let mut c = Cursor::new(elem);
    match c.item_head().ok()? {
        Head::Text(Some(len)) if len == c.remaining() => {
            let start = range.start + c.pos();
            Text::from_utf8(frame.slice(start..start + len)).ok()
        }
        Head::Text(None) => {
            let s = c.text_body(None).ok()?.into_owned();
            c.at_end().then(|| Text::from(s))
        }
        _ => None,
    }
}

/// The element as a dict (`Ok(None)` when it is not a map).
pub(super) fn read_dict(elem: &[u8]) -> Result<Option<Dict>, DecodeError> {
    let mut c = Cursor::new(elem);
    let left = match c.item_head()? {
        Head::Map(left) => left,
        _ => return Ok(None),
    };
    let d = c.dict_body(left, 1)?;
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

/// The kind of the element, from its (tag-skipped) header.
pub(super) fn kind(elem: &[u8]) -> Kind {
    match Cursor::new(elem).item_head() {
        Ok(Head::Array(_)) => Kind::List,
        Ok(Head::Map(_)) => Kind::Dict,
        Ok(Head::Text(_)) => Kind::Str,
        Ok(Head::Bytes(_)) => Kind::Bytes,
        _ => Kind::Other,
    }
}
