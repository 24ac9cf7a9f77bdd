//! Transport errors: `FrameError` (why a byte stream is not valid framing,
//! raised by the sans-IO decoders) and `TransportError` (everything a
//! connection can fail with: refused or malformed handshakes, framing, size,
//! I/O).

use std::io;

/// Why received bytes are not valid RawSocket or WebSocket framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A message (or a frame header announcing one) exceeds the limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    /// The framing rules were broken (reserved bits, unknown opcode, ...).
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// A WebSocket text message or close reason is not valid UTF-8.
    #[error("invalid UTF-8 in {0}")]
    InvalidUtf8(&'static str),
    /// A compressed message decompresses to more than the limit (refused
    /// before more than the limit is allocated).
    #[error("compressed message exceeds the limit of {limit} bytes once decompressed")]
    InflatedTooLarge { limit: usize },
}

impl FrameError {
    /// The WebSocket close code that reports this error (RFC 6455 7.4.1).
    pub fn close_code(&self) -> u16 {
        match self {
            FrameError::TooLarge { .. } | FrameError::InflatedTooLarge { .. } => 1009,
            FrameError::Protocol(_) => 1002,
            FrameError::InvalidUtf8(_) => 1007,
        }
    }
}

/// A refused opening handshake, in either direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A RawSocket error reply with this error code (1..=15).
    RawSocket(u8),
    /// A WebSocket upgrade answered with this HTTP status.
    Http(u16),
}

/// Why a transport operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The opening handshake was refused: by us (server side, after the
    /// refusal was written to the peer) or by the peer (client side).
    #[error("handshake refused: {0:?}")]
    Refused(Refusal),
    /// The opening handshake is malformed or not what was asked for.
    #[error("bad handshake: {0}")]
    Handshake(&'static str),
    /// The peer broke the framing rules.
    #[error("framing error: {0}")]
    Framing(FrameError),
    /// A message exceeds the configured limit (checked before buffering it).
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    /// A URL that `connect` cannot use.
    #[error("bad URL: {0}")]
    Url(&'static str),
    /// The socket failed (includes an unexpected EOF and timeouts).
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl TransportError {
    /// The handshake refusal, when this error is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            TransportError::Refused(r) => Some(*r),
            _ => None,
        }
    }

    /// The WebSocket close code reporting this error to the peer, for errors
    /// the peer caused by its framing.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            TransportError::Framing(e) => Some(e.close_code()),
            TransportError::TooLarge { .. } => Some(1009),
            _ => None,
        }
    }
}

impl From<FrameError> for TransportError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::TooLarge { size, limit } => TransportError::TooLarge { size, limit },
            other => TransportError::Framing(other),
        }
    }
}

impl From<glommio::GlommioError<()>> for TransportError {
    fn from(e: glommio::GlommioError<()>) -> Self {
        TransportError::Io(e.into())
    }
}

impl From<TransportError> for io::Error {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// An `UnexpectedEof` I/O error saying what was being read.
pub(crate) fn eof(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what)
}
