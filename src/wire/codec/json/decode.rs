//! Full JSON decoding into `Value` and `Dict`, hand-written on top of the
//! scanner's `Cursor` (same grammar, same depth limit, no intermediate tree).
//!
//! Strings that start with U+0000 followed by valid padded Base64 become
//! `Value::Bytes` (the WAMP JSON binary convention). Duplicate object keys
//! keep the position of their first occurrence and the last value, as in
//! Python's `json`.

use super::scan::{enter, escape, first_special, Cursor, Error, Result};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use std::collections::HashMap;
use std::ops::Range;

/// Decodes one JSON value (whitespace around it allowed).
pub(super) fn read_value(elem: &[u8]) -> std::result::Result<Value, DecodeError> {
    let mut c = Cursor::new(elem);
    c.ws();
    let v = c.value(0)?;
    c.finish()?;
    Ok(v)
}

/// Decodes a JSON object (`Ok(None)` when the element is another value).
pub(super) fn read_dict(elem: &[u8]) -> std::result::Result<Option<Dict>, DecodeError> {
    if elem == b"{}" {
        return Ok(Some(Dict::new()));
    }
    let mut c = Cursor::new(elem);
    c.ws();
    if c.peek() != Some(b'{') {
        return Ok(None);
    }
    let d = c.object(enter(0)?)?;
    c.finish()?;
    Ok(Some(d))
}

/// Unescapes the contents of a JSON string (between the quotes). Fails on
/// bad escapes, lone surrogates, unescaped quotes or control characters,
/// and invalid UTF-8.
pub(super) fn unescape(body: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    loop {
        let j = first_special(body, i);
        out.extend_from_slice(body.get(i..j).ok_or(Error::BadString)?);
        match body.get(j) {
            None => break,
            Some(b'\\') => {
                let (ch, next) = escape(body, j)?;
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                i = next;
            }
            Some(_) => return Err(Error::BadString),
        }
    }
    String::from_utf8(out).map_err(|_| Error::BadUtf8)
}

/// The decoded contents of the string whose body is `b[body]`.
fn string_at(b: &[u8], body: Range<usize>, escaped: bool) -> Result<Text> {
    let raw = b.get(body).ok_or(Error::BadString)?;
    if escaped {
        unescape(raw).map(Text::from)
    } else {
        std::str::from_utf8(raw)
            .map(known_key)
            .map_err(|_| Error::BadUtf8)
    }
}

/// A static `Text` for common WAMP Options/Details keys (no allocation),
/// otherwise a copy.
fn known_key(s: &str) -> Text {
    macro_rules! keys {
        ($($k:literal),* $(,)?) => {
            match s {
                $($k => Text::from_static($k),)*
                other => Text::from(other),
            }
        };
    }
    keys!(
        "acknowledge",
        "exclude_me",
        "exclude",
        "exclude_authid",
        "exclude_authrole",
        "eligible",
        "eligible_authid",
        "eligible_authrole",
        "retain",
        "match",
        "get_retained",
        "receive_progress",
        "progress",
        "timeout",
        "disclose_me",
        "invoke",
        "publisher",
        "caller",
        "procedure",
        "topic",
        "forward_for",
        "roles",
        "features",
        "authid",
        "authrole",
        "authmethods",
        "session",
        "enc_algo",
        "enc_serializer",
        "enc_key",
    )
}

/// Parses a run of ASCII digits into a `u64` (`None`: not digits, a
/// leading zero, or overflow).
pub(super) fn parse_u64(digits: &[u8]) -> Option<u64> {
    match digits {
        [b'0'] => Some(0),
        [b'1'..=b'9', ..] => digits.iter().try_fold(0u64, |acc, &c| {
            let d = c.checked_sub(b'0').filter(|d| *d <= 9)?;
            acc.checked_mul(10)?.checked_add(d as u64)
        }),
        _ => None,
    }
}

impl Cursor<'_> {
    /// One value at `pos`, nested inside `depth` containers.
    fn value(&mut self, depth: usize) -> Result<Value> {
        match self.peek().ok_or(Error::Truncated)? {
            b'"' => self.string_value(),
            b'[' => self.list(enter(depth)?).map(Value::List),
            b'{' => self.object(enter(depth)?).map(Value::Dict),
            b'-' | b'0'..=b'9' => self.number_value(),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            _ => Err(Error::BadValue),
        }
    }

    fn string_value(&mut self) -> Result<Value> {
        let start = self.pos + 1;
        let escaped = self.string()?;
        let raw = self.b.get(start..self.pos - 1).ok_or(Error::BadString)?;
        if !escaped {
            return std::str::from_utf8(raw)
                .map(|s| Value::Str(Text::from(s)))
                .map_err(|_| Error::BadUtf8);
        }
        let s = unescape(raw)?;
        if let Some(b64) = s.strip_prefix('\0') {
            if let Ok(bytes) = STANDARD.decode(b64) {
                return Ok(Value::Bytes(Bytes::from(bytes)));
            }
        }
        Ok(Value::Str(Text::from(s)))
    }

    fn number_value(&mut self) -> Result<Value> {
        let start = self.pos;
        let int = self.number()?;
        let s = self.b.get(start..self.pos).ok_or(Error::BadNumber)?;
        if int {
            match s.split_first() {
                Some((b'-', digits)) => {
                    // "-0" stays a float so its sign survives.
                    let neg = parse_u64(digits)
                        .filter(|m| *m != 0)
                        .and_then(|m| 0i64.checked_sub_unsigned(m));
                    if let Some(v) = neg {
                        return Ok(Value::Int(v));
                    }
                }
                _ => {
                    if let Some(v) = parse_u64(s) {
                        return Ok(Value::UInt(v));
                    }
                }
            }
        }
        // Fractions, exponents and integers too large for 64 bits. A number
        // beyond f64's range is refused (as serde_json does): it could not be
        // written back (JSON has no infinity).
        let text = std::str::from_utf8(s).map_err(|_| Error::BadNumber)?;
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Float)
            .ok_or(Error::BadNumber)
    }

    /// A list at `pos`, itself at nesting level `depth`.
    fn list(&mut self, depth: usize) -> Result<Vec<Value>> {
        self.pos += 1;
        self.ws();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth)?);
            match self.next_token()? {
                b',' => self.ws(),
                b']' => return Ok(items),
                _ => return Err(Error::BadList),
            }
        }
    }

    /// An object at `pos`, itself at nesting level `depth`.
    fn object(&mut self, depth: usize) -> Result<Dict> {
        self.pos += 1;
        self.ws();
        let mut entries = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Dict::new());
        }
        loop {
            let (body, escaped) = self.key()?;
            let key = string_at(self.b, body, escaped)?;
            self.ws();
            entries.push((key, self.value(depth)?));
            match self.next_token()? {
                b',' => self.ws(),
                b'}' => return Ok(dedup(entries)),
                _ => return Err(Error::BadObject),
            }
        }
    }
}

/// Merges duplicate keys: first position, last value.
fn dedup(entries: Vec<(Text, Value)>) -> Dict {
    let n = entries.len();
    let dup_at = |i: usize| entries[..i].iter().any(|(k, _)| *k == entries[i].0);
    if n <= 16 && !(1..n).any(dup_at) {
        return Dict(entries);
    }
    // first[i]: the index of the first entry with the key of entry i.
    let first: Vec<usize> = {
        let mut seen = HashMap::with_capacity(n);
        (0..n)
            .map(|i| *seen.entry(entries[i].0.as_str()).or_insert(i))
            .collect()
    };
    if first.iter().enumerate().all(|(i, &f)| f == i) {
        return Dict(entries);
    }
    let mut out: Vec<(Text, Value)> = Vec::with_capacity(n);
    let mut slot = vec![0; n];
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if first[i] == i {
            slot[i] = out.len();
            out.push((k, v));
        } else {
            out[slot[first[i]]].1 = v;
        }
    }
    Dict(out)
}
