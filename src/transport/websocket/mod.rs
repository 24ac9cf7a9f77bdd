//! WebSocket (RFC 6455) for WAMP, sans-IO: the opening handshake
//! (`handshake`, with `extension` negotiating permessage-deflate) and the
//! frame codec (`frame`, compressing with `deflate`). One WAMP message is
//! one WebSocket message: text frames for JSON, binary for MsgPack and CBOR.

pub mod deflate;
pub mod extension;
pub mod frame;
pub mod handshake;

pub use frame::{Decoder, Role};
