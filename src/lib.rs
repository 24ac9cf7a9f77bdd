//! Switchyard: a thread-per-core WAMP v2 router (Broker + Dealer).
//!
//! Layout:
//! - `wire`: WAMP messages and the JSON / MsgPack / CBOR codecs; payloads stay
//!   raw slices of the received frame and are transcoded only when needed.
//! - `transport`: RawSocket and WebSocket framing on glommio streams.
//! - `config`: the configuration tree, profiles and validation.
//! - `runtime`, `shard`, `session`, `realm`, `routing`: the router itself.

pub mod config;
pub mod realm;
pub mod routing;
pub mod runtime;
pub mod session;
pub mod shard;
pub mod transport;
pub mod wire;
