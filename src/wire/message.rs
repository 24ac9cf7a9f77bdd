//! `Message`: the 25 WAMP message types of the spec catalogue with typed fields.
//!
//! Field names follow the spec (`request`, `options`, `details`, ...). Options
//! and Details are `Dict`s that keep unknown keys; Arguments/ArgumentsKw are a
//! `Payload` that is normally left undecoded (see `payload`).

use super::id::{PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId};
use super::payload::Payload;
use super::text::Text;
use super::value::Dict;

/// Message type codes (spec-digest 1.2).
pub mod code {
    pub const HELLO: u64 = 1;
    pub const WELCOME: u64 = 2;
    pub const ABORT: u64 = 3;
    pub const CHALLENGE: u64 = 4;
    pub const AUTHENTICATE: u64 = 5;
    pub const GOODBYE: u64 = 6;
    pub const ERROR: u64 = 8;
    pub const PUBLISH: u64 = 16;
    pub const PUBLISHED: u64 = 17;
    pub const SUBSCRIBE: u64 = 32;
    pub const SUBSCRIBED: u64 = 33;
    pub const UNSUBSCRIBE: u64 = 34;
    pub const UNSUBSCRIBED: u64 = 35;
    pub const EVENT: u64 = 36;
    pub const CALL: u64 = 48;
    pub const CANCEL: u64 = 49;
    pub const RESULT: u64 = 50;
    pub const REGISTER: u64 = 64;
    pub const REGISTERED: u64 = 65;
    pub const UNREGISTER: u64 = 66;
    pub const UNREGISTERED: u64 = 67;
    pub const INVOCATION: u64 = 68;
    pub const INTERRUPT: u64 = 69;
    pub const YIELD: u64 = 70;
    pub const EVENT_RECEIVED: u64 = 337;
}

/// One WAMP message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Hello {
        realm: Text,
        details: Dict,
    },
    Welcome {
        session: SessionId,
        details: Dict,
    },
    /// Always encoded as 3 elements; a received 4/5-element ABORT keeps its payload.
    Abort {
        details: Dict,
        reason: Text,
        payload: Payload,
    },
    Challenge {
        auth_method: Text,
        extra: Dict,
    },
    Authenticate {
        signature: Text,
        extra: Dict,
    },
    Goodbye {
        details: Dict,
        reason: Text,
    },
    Error {
        request_type: u64,
        request: RequestId,
        details: Dict,
        error: Text,
        payload: Payload,
    },
    Publish {
        request: RequestId,
        options: Dict,
        topic: Text,
        payload: Payload,
    },
    Published {
        request: RequestId,
        publication: PublicationId,
    },
    Subscribe {
        request: RequestId,
        options: Dict,
        topic: Text,
    },
    Subscribed {
        request: RequestId,
        subscription: SubscriptionId,
    },
    /// `options` is the optional 4th element some clients send; encoded only when non-empty.
    Unsubscribe {
        request: RequestId,
        subscription: SubscriptionId,
        options: Dict,
    },
    /// `request` is 0 and `details` is `Some` in the revocation form.
    Unsubscribed {
        request: RequestId,
        details: Option<Dict>,
    },
    Event {
        subscription: SubscriptionId,
        publication: PublicationId,
        details: Dict,
        payload: Payload,
    },
    Call {
        request: RequestId,
        options: Dict,
        procedure: Text,
        payload: Payload,
    },
    Cancel {
        request: RequestId,
        options: Dict,
    },
    Result {
        request: RequestId,
        details: Dict,
        payload: Payload,
    },
    Register {
        request: RequestId,
        options: Dict,
        procedure: Text,
    },
    Registered {
        request: RequestId,
        registration: RegistrationId,
    },
    /// `options` is the optional 4th element some clients send; encoded only when non-empty.
    Unregister {
        request: RequestId,
        registration: RegistrationId,
        options: Dict,
    },
    /// `request` is 0 and `details` is `Some` in the revocation form.
    Unregistered {
        request: RequestId,
        details: Option<Dict>,
    },
    Invocation {
        request: RequestId,
        registration: RegistrationId,
        details: Dict,
        payload: Payload,
    },
    Interrupt {
        request: RequestId,
        options: Dict,
    },
    Yield {
        request: RequestId,
        options: Dict,
        payload: Payload,
    },
    EventReceived {
        publication: PublicationId,
    },
}

impl Message {
    /// The message type code.
    pub fn code(&self) -> u64 {
        use code::*;
        match self {
            Message::Hello { .. } => HELLO,
            Message::Welcome { .. } => WELCOME,
            Message::Abort { .. } => ABORT,
            Message::Challenge { .. } => CHALLENGE,
            Message::Authenticate { .. } => AUTHENTICATE,
            Message::Goodbye { .. } => GOODBYE,
            Message::Error { .. } => ERROR,
            Message::Publish { .. } => PUBLISH,
            Message::Published { .. } => PUBLISHED,
            Message::Subscribe { .. } => SUBSCRIBE,
            Message::Subscribed { .. } => SUBSCRIBED,
            Message::Unsubscribe { .. } => UNSUBSCRIBE,
            Message::Unsubscribed { .. } => UNSUBSCRIBED,
            Message::Event { .. } => EVENT,
            Message::Call { .. } => CALL,
            Message::Cancel { .. } => CANCEL,
            Message::Result { .. } => RESULT,
            Message::Register { .. } => REGISTER,
            Message::Registered { .. } => REGISTERED,
            Message::Unregister { .. } => UNREGISTER,
            Message::Unregistered { .. } => UNREGISTERED,
            Message::Invocation { .. } => INVOCATION,
            Message::Interrupt { .. } => INTERRUPT,
            Message::Yield { .. } => YIELD,
            Message::EventReceived { .. } => EVENT_RECEIVED,
        }
    }

    /// The spec name of the message type, for errors and logs.
    pub fn name(&self) -> &'static str {
        type_name(self.code())
    }
}

/// The spec name of a message type code ("UNKNOWN" for unassigned codes).
pub fn type_name(code: u64) -> &'static str {
    use code::*;
    match code {
        HELLO => "HELLO",
        WELCOME => "WELCOME",
        ABORT => "ABORT",
        CHALLENGE => "CHALLENGE",
        AUTHENTICATE => "AUTHENTICATE",
        GOODBYE => "GOODBYE",
        ERROR => "ERROR",
        PUBLISH => "PUBLISH",
        PUBLISHED => "PUBLISHED",
        SUBSCRIBE => "SUBSCRIBE",
        SUBSCRIBED => "SUBSCRIBED",
        UNSUBSCRIBE => "UNSUBSCRIBE",
        UNSUBSCRIBED => "UNSUBSCRIBED",
        EVENT => "EVENT",
        CALL => "CALL",
        CANCEL => "CANCEL",
        RESULT => "RESULT",
        REGISTER => "REGISTER",
        REGISTERED => "REGISTERED",
        UNREGISTER => "UNREGISTER",
        UNREGISTERED => "UNREGISTERED",
        INVOCATION => "INVOCATION",
        INTERRUPT => "INTERRUPT",
        YIELD => "YIELD",
        EVENT_RECEIVED => "EVENT_RECEIVED",
        _ => "UNKNOWN",
    }
}
