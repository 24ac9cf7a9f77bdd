//! WebSocket (RFC 6455) for WAMP, sans-IO: the opening handshake
//! (`handshake`) and the frame codec (`frame`). One WAMP message is one
//! WebSocket message: text frames for JSON, binary for MsgPack and CBOR.

pub mod frame;
pub mod handshake;

pub use frame::{Decoder, Role};
