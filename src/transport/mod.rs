//! Transports: RawSocket and WebSocket framing, moving opaque WAMP frames
//! (`Bytes`) between sockets and the router.
//!
//! - `rawsocket`, `websocket`: sans-IO handshakes and frame codecs (pure,
//!   unit and property tested).
//! - `accept` / `connect`: the glommio adapters. Both end with a
//!   `FrameReader` and a `FrameWriter` sharing one glommio stream (each
//!   borrows it only inside a poll), so one task can read while another
//!   writes, and a connection costs one file descriptor.
//! - `blocking`: a small `std::net` client for tests.

mod accept;
pub mod blocking;
mod codec;
mod conn;
mod connect;
mod error;
pub mod rawsocket;
mod stream;
pub mod tls;
mod url;
pub mod websocket;

pub use accept::{accept, AcceptOptions, Handshake};
pub use codec::{FrameEncoder, Inbound};
pub use conn::Conn;
pub use connect::{connect, connect_from, connect_to, ClientOptions};
pub use error::{FrameError, Refusal, TransportError};
pub use stream::{FrameReader, FrameWriter};
pub use websocket::deflate::Compression;
pub use websocket::extension::PerMessageDeflate;

/// Which framing a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// WAMP RawSocket (spec-digest 6.2).
    RawSocket,
    /// WebSocket with a `wamp.2.*` subprotocol (spec-digest 6.1).
    WebSocket,
}
