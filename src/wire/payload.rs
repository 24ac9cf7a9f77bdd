//! `Payload`: a message's Arguments and ArgumentsKw, kept as slices of the
//! received frame tagged with their serializer, so routing never decodes them.
//!
//! Encoding to the same serializer copies the bytes; to another serializer the
//! payload is transcoded once (`Payload::transcoded`, which callers cache per
//! target). The passthru form (a string or binary element in place of the
//! Arguments list) is an `Elem` like any other and passes through unchanged.

use super::codec::{self, Serializer};
use super::error::DecodeError;
use super::value::{Dict, Value};
use bytes::{Bytes, BytesMut};

/// One payload element: raw bytes in some serializer, or a decoded value.
#[derive(Debug, Clone)]
pub enum Elem {
    /// The element exactly as received.
    Raw { ser: Serializer, bytes: Bytes },
    /// A value built by the router (meta API results, error arguments).
    Value(Value),
}

impl Elem {
    /// The decoded value (decodes `Raw`).
    pub fn to_value(&self) -> Result<Value, DecodeError> {
        match self {
            Elem::Raw { ser, bytes } => codec::decode_value(*ser, bytes),
            Elem::Value(v) => Ok(v.clone()),
        }
    }

    /// This element as raw bytes in `target` (copy-free when already there).
    pub fn transcoded(&self, target: Serializer) -> Result<Elem, DecodeError> {
        match self {
            Elem::Raw { ser, .. } if *ser == target => Ok(self.clone()),
            _ => {
                let mut out = BytesMut::new();
                codec::encode_value(target, &self.to_value()?, &mut out);
                Ok(Elem::Raw {
                    ser: target,
                    bytes: out.freeze(),
                })
            }
        }
    }
}

impl PartialEq for Elem {
    /// Two elements are equal when they hold the same value (whatever the encoding).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Elem::Raw { ser: a, bytes: x }, Elem::Raw { ser: b, bytes: y })
                if a == b && x == y =>
            {
                true
            }
            _ => matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b),
        }
    }
}

/// Arguments and ArgumentsKw of a message (both optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    /// Arguments: a list, or (passthru / E2E) a single string or binary element.
    pub args: Option<Elem>,
    /// ArgumentsKw: a dict.
    pub kwargs: Option<Elem>,
}

impl Payload {
    /// No arguments at all.
    pub const fn empty() -> Self {
        Payload {
            args: None,
            kwargs: None,
        }
    }

    /// A payload built from values.
    pub fn from_values(args: Option<Vec<Value>>, kwargs: Option<Dict>) -> Self {
        Payload {
            args: args.map(|a| Elem::Value(Value::List(a))),
            kwargs: kwargs.map(|k| Elem::Value(Value::Dict(k))),
        }
    }

    /// Positional arguments only.
    pub fn args(args: Vec<Value>) -> Self {
        Self::from_values(Some(args), None)
    }

    /// True when neither Arguments nor ArgumentsKw is present.
    pub fn is_empty(&self) -> bool {
        self.args.is_none() && self.kwargs.is_none()
    }

    /// Decodes both elements (for tests, meta procedures and transcoding).
    pub fn to_values(&self) -> Result<(Option<Value>, Option<Value>), DecodeError> {
        let args = self.args.as_ref().map(Elem::to_value).transpose()?;
        let kwargs = self.kwargs.as_ref().map(Elem::to_value).transpose()?;
        Ok((args, kwargs))
    }

    /// The payload with every element in `target` (cheap clone when already there).
    pub fn transcoded(&self, target: Serializer) -> Result<Payload, DecodeError> {
        Ok(Payload {
            args: self
                .args
                .as_ref()
                .map(|e| e.transcoded(target))
                .transpose()?,
            kwargs: self
                .kwargs
                .as_ref()
                .map(|e| e.transcoded(target))
                .transpose()?,
        })
    }

    /// True when every element is already raw bytes in `target` (no transcoding needed).
    pub fn is_native(&self, target: Serializer) -> bool {
        let native = |e: &Option<Elem>| match e {
            None => true,
            Some(Elem::Raw { ser, .. }) => *ser == target,
            Some(Elem::Value(_)) => false,
        };
        native(&self.args) && native(&self.kwargs)
    }
}
