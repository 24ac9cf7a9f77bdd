//! `Value` and `Dict`: the serializer-neutral data model used for
//! Options/Details and for transcoding payloads between serializers.
//!
//! Binary data is a first-class `Bytes` value; the JSON codec maps it to the
//! `"\u0000" + base64` convention, MsgPack to `bin`, CBOR to a byte string.

use super::text::Text;
use bytes::Bytes;

/// Nesting limit for any decoded value (hostile input must not blow the stack).
pub const MAX_DEPTH: usize = 64;

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON null, MsgPack nil, CBOR null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A non-negative integer.
    UInt(u64),
    /// A negative integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A UTF-8 string.
    Str(Text),
    /// Binary data.
    Bytes(Bytes),
    /// A list.
    List(Vec<Value>),
    /// A dictionary with string keys, in wire order.
    Dict(Dict),
}

impl Value {
    /// The value as an unsigned integer, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a bool, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The value as a list, if it is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a dict, if it is one.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A string value.
    pub fn str(s: impl Into<Text>) -> Value {
        Value::Str(s.into())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UInt(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        if v >= 0 {
            Value::UInt(v as u64)
        } else {
            Value::Int(v)
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(Text::from(v))
    }
}

impl From<Text> for Value {
    fn from(v: Text) -> Self {
        Value::Str(v)
    }
}

impl From<Dict> for Value {
    fn from(v: Dict) -> Self {
        Value::Dict(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

/// A small ordered dictionary with string keys (Options, Details, kwargs).
///
/// Unknown keys are kept, so the router can forward what it does not read.
/// Lookups are linear: these dicts hold a handful of keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Text, Value)>);

impl Dict {
    /// An empty dict (no allocation).
    pub const fn new() -> Self {
        Dict(Vec::new())
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key` (replacing an earlier value) and returns self, for building.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k.as_str() == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((Text::from(key), value)),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k.as_str() == key)?;
        Some(self.0.remove(at).1)
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The bool at `key`: `Ok(None)` when absent, `Err` when present with another type.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, WrongType> {
        typed(self.get(key), key, Value::as_bool)
    }

    /// The string at `key`: `Ok(None)` when absent, `Err` when present with another type.
    pub fn get_str(&self, key: &str) -> Result<Option<&str>, WrongType> {
        typed(self.get(key), key, Value::as_str)
    }

    /// The unsigned integer at `key`: `Ok(None)` when absent, `Err` on another type.
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>, WrongType> {
        typed(self.get(key), key, Value::as_u64)
    }

    /// The dict at `key`: `Ok(None)` when absent, `Err` on another type.
    pub fn get_dict(&self, key: &str) -> Result<Option<&Dict>, WrongType> {
        typed(self.get(key), key, Value::as_dict)
    }
}

/// A known option or detail key holding a value of the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option '{0}' has the wrong type")]
pub struct WrongType(pub String);

fn typed<'a, T>(
    v: Option<&'a Value>,
    key: &str,
    f: impl Fn(&'a Value) -> Option<T>,
) -> Result<Option<T>, WrongType> {
    match v {
        None => Ok(None),
        Some(v) => f(v).map(Some).ok_or_else(|| WrongType(key.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_insert_replaces_and_keeps_order() {
        let mut d = Dict::new().with("a", 1u64).with("b", true);
        d.insert("a", 2u64);
        let keys: Vec<&str> = d.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(d.get_u64("a"), Ok(Some(2)));
    }

    #[test]
    fn typed_getters_reject_wrong_types() {
        let d = Dict::new().with("acknowledge", 1u64);
        assert!(d.get_bool("acknowledge").is_err());
        assert_eq!(d.get_bool("missing"), Ok(None));
    }
}
