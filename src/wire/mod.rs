//! The wire layer: WAMP messages and their three serializers.
//!
//! `Message` is the typed form of every message; `codec::decode` and
//! `codec::encode` turn frames into messages and back. Options/Details are
//! decoded into small `Dict`s; Arguments/ArgumentsKw stay raw (`Payload`)
//! and are transcoded only when the target serializer differs. `options`
//! turns a client's Options dict into typed, checked options; `uris` names
//! every URI the router sends; `counts` tallies messages per type (with
//! `codec::peek_type` for frames already encoded).

pub mod codec;
pub mod counts;
pub mod error;
pub mod id;
pub mod message;
pub mod options;
pub mod payload;
pub mod text;
pub mod timestamp;
pub mod uris;
pub mod value;

pub use codec::{decode, encode, encode_to_bytes, peek_type, Serializer};
pub use error::DecodeError;
pub use id::{PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId};
pub use message::Message;
pub use options::{
    CallOptions, CancelMode, CancelOptions, InterruptOptions, InvokePolicy, MatchPolicy,
    OptionError, PublishOptions, Recipients, RegisterOptions, SubscribeOptions, YieldOptions,
};
pub use payload::{Elem, Payload};
pub use text::Text;
pub use uris::{CloseReason, ErrorUri};
pub use value::{Dict, Value};
