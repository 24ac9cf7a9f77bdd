//! The session layer, sync and free of I/O: the record a shard keeps of each
//! established session (`Session`, in the `Sessions` table), its outbound
//! queue, the HELLO handshake state machine, and the per-shard deadline
//! wheel. What a handled message means for the connection (`Flow`) and a
//! broken protocol (`Violation`) are defined here too.

pub mod deadlines;
pub mod features;
pub mod handshake;
pub mod limits;
pub mod notify;
pub mod outbound;
pub mod pressure;

use crate::auth::Role;
use crate::routing::MatchPolicy;
use crate::wire::{RegistrationId, Serializer, SessionId, SubscriptionId, Text};
use features::PeerFeatures;
use outbound::Outbound;
use std::rc::Rc;
use std::sync::Arc;

pub use crate::auth::Identity;

/// What a shard knows of one of its established sessions.
pub struct Session {
    pub id: SessionId,
    pub realm: Text,
    pub serializer: Serializer,
    pub outbound: Rc<Outbound>,
    /// Shared with the subscriptions that test it against receiver lists.
    pub identity: Rc<Identity>,
    /// What the session's authrole may do.
    pub role: Arc<Role>,
    /// The Advanced Profile features the client announced.
    pub features: PeerFeatures,
    /// Subscriptions held (ID, pattern, policy), for UNSUBSCRIBE and cleanup.
    pub subscriptions: Vec<(SubscriptionId, Text, MatchPolicy)>,
    /// Registrations held (ID, pattern, policy), for UNREGISTER and cleanup.
    pub registrations: Vec<(RegistrationId, Text, MatchPolicy)>,
    /// The last INVOCATION request ID sent to this session (as callee).
    pub last_invocation: u64,
    /// The last request ID this client used (for strict sequence checking).
    pub last_request: u64,
    /// Events to publish when the session goes away (testament meta API).
    pub testaments: Vec<Testament>,
    /// The router's own caller of dynamic authenticators, or the HTTP
    /// bridge's session: hidden from the meta API.
    pub internal: bool,
    /// The publication budget (when publications per second are limited).
    pub publish_bucket: Option<limits::Bucket>,
    /// Messages waiting for a dynamic authorizer, in order (`None`: none).
    pub parked: Option<Box<std::collections::VecDeque<crate::wire::Message>>>,
}

/// An event a session left to be published when it goes away.
#[derive(Debug, Clone)]
pub struct Testament {
    pub topic: Text,
    pub payload: crate::wire::Payload,
    /// The PUBLISH options it goes out with (`retain`, receiver lists, ...).
    pub options: crate::wire::options::PublishOptions,
    /// Scope `detached` (published first) rather than `destroyed`.
    pub detached: bool,
}

impl Session {
    /// A new session record.
    pub fn new(
        id: SessionId,
        realm: Text,
        serializer: Serializer,
        outbound: Rc<Outbound>,
        identity: Identity,
        role: Arc<Role>,
    ) -> Self {
        Session {
            id,
            realm,
            serializer,
            outbound,
            identity: Rc::new(identity),
            role,
            features: PeerFeatures::NONE,
            subscriptions: Vec::new(),
            registrations: Vec::new(),
            last_invocation: 0,
            last_request: 0,
            testaments: Vec::new(),
            internal: false,
            publish_bucket: None,
            parked: None,
        }
    }

    /// Checks that `request` follows the previous request ID (1, 2, 3, ...;
    /// after 2^53 comes 1); records it either way.
    pub fn next_request_in_sequence(&mut self, request: u64) -> bool {
        let expected = if self.last_request >= crate::wire::id::MAX_ID {
            1
        } else {
            self.last_request + 1
        };
        self.last_request = request;
        request == expected
    }

    /// The next INVOCATION request ID for this callee (1, 2, 3, ...; wraps at 2^53).
    pub fn next_invocation(&mut self) -> u64 {
        self.last_invocation = if self.last_invocation >= crate::wire::id::MAX_ID {
            1
        } else {
            self.last_invocation + 1
        };
        self.last_invocation
    }
}

/// A shard's established sessions. Keyed by router-made random IDs, so a
/// fast non-keyed hash is safe here (client-chosen keys, like topics, keep
/// the default SipHash).
pub type Sessions = rustc_hash::FxHashMap<SessionId, Session>;

/// What the connection does after a message was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// The session ended with a GOODBYE exchange; the transport may carry a new HELLO.
    Goodbye,
    /// The peer aborted the session; close the transport.
    Aborted,
}

/// A client message broke the protocol: the session must be aborted. The
/// message says what was wrong; the kind is what the metrics count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String, pub ViolationKind);

impl Violation {
    /// A violation of no more specific kind (`ViolationKind::Other`).
    pub fn new(message: impl Into<String>) -> Self {
        Violation(message.into(), ViolationKind::Other)
    }

    /// A violation of kind `kind`.
    pub fn of(kind: ViolationKind, message: impl Into<String>) -> Self {
        Violation(message.into(), kind)
    }
}

/// What kind of protocol violation aborted a session or handshake (the
/// `reason` label of `switchyard_protocol_violations_by_reason_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// A frame that does not decode as a WAMP message.
    Decode,
    /// Options or details of a known message that do not parse.
    Options,
    /// A request ID out of sequence (`strict_request_ids`).
    Sequence,
    /// A message out of place: a type not allowed on an established
    /// session, a reply to an INVOCATION never sent.
    Unexpected,
    /// The handshake broken or not finished in time.
    Handshake,
    /// Anything else (a feature used without announcing it, too many
    /// messages waiting for an authorizer).
    Other,
}

impl ViolationKind {
    /// Every kind, in label order.
    pub const ALL: [ViolationKind; 6] = [
        ViolationKind::Decode,
        ViolationKind::Options,
        ViolationKind::Sequence,
        ViolationKind::Unexpected,
        ViolationKind::Handshake,
        ViolationKind::Other,
    ];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            ViolationKind::Decode => "decode",
            ViolationKind::Options => "options",
            ViolationKind::Sequence => "sequence",
            ViolationKind::Unexpected => "unexpected",
            ViolationKind::Handshake => "handshake",
            ViolationKind::Other => "other",
        }
    }
}

/// Why an established session ended (the `reason` label of
/// `switchyard_sessions_closed_total`). Each session is counted once, with
/// the most specific reason known when its record is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client said GOODBYE.
    Goodbye,
    /// The client sent ABORT.
    Abort,
    /// The connection ended without GOODBYE (closed, reset, transport error).
    TransportClosed,
    /// The router aborted it for a protocol violation.
    ProtocolViolation,
    /// Its outbound queue went over budget or stalled (slow-consumer policy).
    SlowConsumer,
    /// It did not answer a ping in time.
    PingTimeout,
    /// Killed through the meta API (`wamp.session.kill*`).
    Killed,
    /// The router shut down.
    Shutdown,
}

impl SessionEnd {
    /// Every reason, in label order.
    pub const ALL: [SessionEnd; 8] = [
        SessionEnd::Goodbye,
        SessionEnd::Abort,
        SessionEnd::TransportClosed,
        SessionEnd::ProtocolViolation,
        SessionEnd::SlowConsumer,
        SessionEnd::PingTimeout,
        SessionEnd::Killed,
        SessionEnd::Shutdown,
    ];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            SessionEnd::Goodbye => "goodbye",
            SessionEnd::Abort => "abort",
            SessionEnd::TransportClosed => "transport_closed",
            SessionEnd::ProtocolViolation => "protocol_violation",
            SessionEnd::SlowConsumer => "slow_consumer",
            SessionEnd::PingTimeout => "ping_timeout",
            SessionEnd::Killed => "killed",
            SessionEnd::Shutdown => "shutdown",
        }
    }

    /// Why a connection's session ended, from why its outbound queue
    /// closed (`None`: it did not; the connection itself went away).
    pub fn of_queue(closing: Option<&str>) -> SessionEnd {
        use outbound::{KILLED, OVERFLOW, PING_TIMEOUT, SHUTDOWN, STALLED};
        match closing {
            Some(OVERFLOW | STALLED) => SessionEnd::SlowConsumer,
            Some(PING_TIMEOUT) => SessionEnd::PingTimeout,
            Some(SHUTDOWN) => SessionEnd::Shutdown,
            Some(KILLED) => SessionEnd::Killed,
            _ => SessionEnd::TransportClosed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::outbound::{KILLED, OVERFLOW, PING_TIMEOUT, SHUTDOWN, STALLED};
    use super::SessionEnd;

    #[test]
    fn a_closed_queue_says_why_its_session_ended() {
        let cases = [
            (None, SessionEnd::TransportClosed),
            (Some(OVERFLOW), SessionEnd::SlowConsumer),
            (Some(STALLED), SessionEnd::SlowConsumer),
            (Some(PING_TIMEOUT), SessionEnd::PingTimeout),
            (Some(SHUTDOWN), SessionEnd::Shutdown),
            (Some(KILLED), SessionEnd::Killed),
        ];
        for (closing, why) in cases {
            assert_eq!(SessionEnd::of_queue(closing), why, "{closing:?}");
        }
    }
}
