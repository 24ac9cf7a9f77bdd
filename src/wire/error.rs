//! `DecodeError`: why a frame is not a valid WAMP message. Every decoder
//! failure is one of these values (a protocol violation), never a panic.

/// Why bytes could not be decoded into a WAMP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid for the serializer (syntax, truncation, trailing data).
    #[error("malformed data: {0}")]
    Malformed(&'static str),
    /// The top-level value is not a list.
    #[error("message is not a list")]
    NotAList,
    /// The top-level list is empty.
    #[error("message is an empty list")]
    Empty,
    /// Element 0 is not a known message type code.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// The message has an element count its type does not allow.
    #[error("{message} cannot have {len} elements")]
    BadLength { message: &'static str, len: usize },
    /// A field has the wrong type or an illegal value.
    #[error("{message}.{field}: {problem}")]
    BadField {
        message: &'static str,
        field: &'static str,
        problem: &'static str,
    },
    /// Nesting deeper than the decoder allows.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
}
