//! The structural JSON scanner: validates JSON text byte by byte (strings,
//! escapes, UTF-8, numbers, literals, nesting) without building values.
//!
//! `Cursor` holds the primitives shared by `split` (which only skips) and the
//! value parser in `decode`, so both accept exactly the same language:
//! RFC 8259 JSON in UTF-8, with lone surrogate escapes rejected (they cannot
//! be decoded into a Rust string).

use super::super::Elements;
use crate::wire::error::DecodeError;
use crate::wire::value::MAX_DEPTH;
use std::ops::Range;

/// Why JSON text was rejected. A one-byte error keeps the scanner's results
/// in registers; it becomes a `DecodeError` at the `Format` boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Error {
    /// Input ended in the middle of a value.
    Truncated,
    /// A character that cannot start a value.
    BadValue,
    BadString,
    BadEscape,
    BadUtf8,
    BadNumber,
    BadLiteral,
    BadList,
    BadObject,
    BadKey,
    BadColon,
    /// Something other than whitespace after the value.
    Trailing,
    /// Nesting deeper than `MAX_DEPTH`.
    TooDeep,
}

impl From<Error> for DecodeError {
    fn from(e: Error) -> Self {
        DecodeError::Malformed(match e {
            Error::TooDeep => return DecodeError::TooDeep(MAX_DEPTH),
            Error::Truncated => "truncated json",
            Error::BadValue => "json: expected a value",
            Error::BadString => "json: invalid string",
            Error::BadEscape => "json: invalid escape",
            Error::BadUtf8 => "json: invalid utf-8",
            Error::BadNumber => "json: invalid number",
            Error::BadLiteral => "json: invalid literal",
            Error::BadList => "json: expected ',' or ']'",
            Error::BadObject => "json: expected ',' or '}'",
            Error::BadKey => "json: object key must be a string",
            Error::BadColon => "json: expected ':'",
            Error::Trailing => "json: trailing data",
        })
    }
}

/// The scanner's result type.
pub(super) type Result<T> = std::result::Result<T, Error>;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in (at least) the first byte of `x` (little endian) equal to `b`.
/// Bytes after a true match may be flagged too (borrow), never bytes before it.
#[inline(always)]
fn eq_mask(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * b as u64);
    y.wrapping_sub(ONES) & !y
}

/// Flags (exact up to the first hit) the bytes a string scanner must look
/// at: `"`, `\`, control characters, and with `non_ascii` bytes >= 0x80.
#[inline(always)]
pub(super) fn special_mask(x: u64, non_ascii: bool) -> u64 {
    let ctl = x.wrapping_sub(ONES * 0x20) & !x;
    let hi = if non_ascii { x } else { 0 };
    (eq_mask(x, b'"') | eq_mask(x, b'\\') | ctl | hi) & HIGHS
}

/// The offset from `pos` of the first byte flagged by `special_mask`, or of
/// the last few bytes when none is found 8 at a time.
#[inline(always)]
pub(super) fn skip_plain(b: &[u8], mut pos: usize, non_ascii: bool) -> usize {
    while let Some(chunk) = b.get(pos..pos + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = special_mask(u64::from_le_bytes(w), non_ascii);
        if m != 0 {
            return pos + (m.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    pos
}

/// The position of the first `"`, `\\` or control character in `b` at or
/// after `pos` (`b.len()` when there is none).
pub(super) fn first_special(b: &[u8], pos: usize) -> usize {
    let mut pos = skip_plain(b, pos, false);
    while let Some(&c) = b.get(pos) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        pos += 1;
    }
    pos
}

/// The length of the well-formed UTF-8 sequence starting at `b[i]` (a
/// non-ASCII lead byte), per Unicode table 3-7.
fn utf8_len(b: &[u8], i: usize) -> Result<usize> {
    let (n, lo, hi) = match b[i] {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return Err(Error::BadUtf8),
    };
    let c1 = *b.get(i + 1).ok_or(Error::Truncated)?;
    if !(lo..=hi).contains(&c1) {
        return Err(Error::BadUtf8);
    }
    for k in 2..n {
        if b.get(i + k).ok_or(Error::Truncated)? & 0xC0 != 0x80 {
            return Err(Error::BadUtf8);
        }
    }
    Ok(n)
}

/// Four hex digits at `b[i..i + 4]`.
fn hex4(b: &[u8], i: usize) -> Result<u32> {
    let digits = b.get(i..i + 4).ok_or(Error::Truncated)?;
    digits.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16).ok_or(Error::BadEscape)?;
        Ok(acc << 4 | d)
    })
}

/// Decodes the escape sequence at `b[i]` (a backslash): the character and
/// the position after the sequence. Surrogates must come in valid pairs.
pub(super) fn escape(b: &[u8], i: usize) -> Result<(char, usize)> {
    let c = match *b.get(i + 1).ok_or(Error::Truncated)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode_escape(b, i),
        _ => return Err(Error::BadEscape),
    };
    Ok((c, i + 2))
}

/// `\uXXXX`, or a `\uD8xx\uDCxx` surrogate pair, at `b[i]`.
fn unicode_escape(b: &[u8], i: usize) -> Result<(char, usize)> {
    let u = hex4(b, i + 2)?;
    let code = match u {
        0xD800..=0xDBFF => {
            match b.get(i + 6..i + 8) {
                Some(b"\\u") => {}
                Some(_) => return Err(Error::BadEscape),
                None => return Err(Error::Truncated),
            }
            let lo = hex4(b, i + 8)?;
            if !(0xDC00..=0xDFFF).contains(&lo) {
                return Err(Error::BadEscape);
            }
            let c = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            return char::from_u32(c)
                .map(|c| (c, i + 12))
                .ok_or(Error::BadEscape);
        }
        0xDC00..=0xDFFF => return Err(Error::BadEscape),
        _ => u,
    };
    char::from_u32(code)
        .map(|c| (c, i + 6))
        .ok_or(Error::BadEscape)
}

/// A position in JSON text being validated.
pub(super) struct Cursor<'a> {
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Cursor { b, pos: 0 }
    }

    /// The current byte.
    #[inline(always)]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Skips JSON whitespace.
    #[inline(always)]
    pub(super) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace and then takes one byte (`Err` at end of input).
    #[inline(always)]
    pub(super) fn next_token(&mut self) -> Result<u8> {
        self.ws();
        let c = self.peek().ok_or(Error::Truncated)?;
        self.pos += 1;
        Ok(c)
    }

    /// Skips whitespace and fails unless the input ends there.
    pub(super) fn finish(&mut self) -> Result<()> {
        self.ws();
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(Error::Trailing)
        }
    }

    /// Scans a string whose opening quote is at `pos`; leaves `pos` after the
    /// closing quote. Returns whether the string holds escapes.
    pub(super) fn string(&mut self) -> Result<bool> {
        let b = self.b;
        let mut pos = self.pos + 1;
        let mut escaped = false;
        loop {
            pos = skip_plain(b, pos, true);
            match *b.get(pos).ok_or(Error::Truncated)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    pos = escape(b, pos)?.1;
                }
                0..=0x1F => return Err(Error::BadString),
                0x80.. => pos += utf8_len(b, pos)?,
                _ => pos += 1,
            }
        }
        self.pos = pos + 1;
        Ok(escaped)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Scans a number starting at `pos`. Returns true for an integer (no
    /// fraction, no exponent).
    pub(super) fn number(&mut self) -> Result<bool> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            Some(_) => return Err(Error::BadNumber),
            None => return Err(Error::Truncated),
        }
        let mut int = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
            int = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
            int = false;
        }
        Ok(int)
    }

    fn required_digits(&mut self) -> Result<()> {
        if self.digits() > 0 {
            Ok(())
        } else if self.pos == self.b.len() {
            Err(Error::Truncated)
        } else {
            Err(Error::BadNumber)
        }
    }

    /// Matches `lit` (`true`, `false`, `null`) at `pos`.
    pub(super) fn literal(&mut self, lit: &[u8]) -> Result<()> {
        let end = self.pos + lit.len();
        match self.b.get(self.pos..end) {
            Some(s) if s == lit => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(Error::BadLiteral),
            None if lit.starts_with(self.b.get(self.pos..).unwrap_or_default()) => {
                Err(Error::Truncated)
            }
            None => Err(Error::BadLiteral),
        }
    }

    /// Skips one value at `pos` (no leading whitespace) nested inside
    /// `depth` containers. Iterative: the containers it opens are a bit
    /// stack (1 = object), so nesting costs no recursion.
    pub(super) fn skip_value(&mut self, depth: usize) -> Result<()> {
        let mut open = 0u64;
        let mut n = 0;
        loop {
            match self.peek().ok_or(Error::Truncated)? {
                c @ (b'[' | b'{') => {
                    enter(depth + n)?;
                    let obj = c == b'{';
                    self.pos += 1;
                    self.ws();
                    if self.peek() == Some(if obj { b'}' } else { b']' }) {
                        self.pos += 1;
                    } else {
                        open = open << 1 | obj as u64;
                        n += 1;
                        if obj {
                            self.key()?;
                            self.ws();
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(Error::BadValue),
            }
            if !self.after_value(&mut open, &mut n)? {
                return Ok(());
            }
        }
    }

    /// After a value inside the `n` containers of `open`: reads a comma
    /// (and in an object the next key) and returns true when another value
    /// follows, or closes containers; false once the outermost is closed.
    fn after_value(&mut self, open: &mut u64, n: &mut usize) -> Result<bool> {
        while *n > 0 {
            let obj = *open & 1 == 1;
            match (self.next_token()?, obj) {
                (b',', _) => {
                    self.ws();
                    if obj {
                        self.key()?;
                        self.ws();
                    }
                    return Ok(true);
                }
                (b']', false) | (b'}', true) => {
                    *open >>= 1;
                    *n -= 1;
                }
                (_, false) => return Err(Error::BadList),
                (_, true) => return Err(Error::BadObject),
            }
        }
        Ok(false)
    }

    /// Scans an object key at `pos` and the colon after it. Returns the
    /// range of the key's contents (inside the quotes) and whether it holds
    /// escapes.
    pub(super) fn key(&mut self) -> Result<(Range<usize>, bool)> {
        match self.peek() {
            Some(b'"') => {}
            Some(_) => return Err(Error::BadKey),
            None => return Err(Error::Truncated),
        }
        let start = self.pos + 1;
        let escaped = self.string()?;
        let body = start..self.pos - 1;
        if self.next_token()? != b':' {
            return Err(Error::BadColon);
        }
        Ok((body, escaped))
    }
}

/// The nesting level inside a container entered at level `depth`.
#[inline(always)]
pub(super) fn enter(depth: usize) -> Result<usize> {
    if depth >= MAX_DEPTH {
        Err(Error::TooDeep)
    } else {
        Ok(depth + 1)
    }
}

/// Splits a frame holding exactly one list into its element ranges.
pub(super) fn split(frame: &[u8]) -> std::result::Result<Elements, DecodeError> {
    let mut c = Cursor::new(frame);
    match c.next_token() {
        Ok(b'[') => Ok(c.list_elements()?),
        Ok(_) => Err(DecodeError::NotAList),
        Err(e) => Err(e.into()),
    }
}

impl Cursor<'_> {
    /// The elements of the top-level list whose `[` was just read, then
    /// the end of input.
    fn list_elements(&mut self) -> Result<Elements> {
        let mut els = Elements::default();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                let start = self.pos;
                self.skip_value(1)?;
                els.push(start, self.pos);
                match self.next_token()? {
                    b',' => self.ws(),
                    b']' => break,
                    _ => return Err(Error::BadList),
                }
            }
        }
        self.finish()?;
        Ok(els)
    }
}
