//! Sessions: the per-session record a shard keeps, its outbound queue, and
//! the connection task that runs the session state machine over a transport.

pub mod connection;
pub mod deadlines;
pub mod outbound;

use crate::routing::MatchPolicy;
use crate::wire::{RegistrationId, Serializer, SessionId, SubscriptionId, Text};
use outbound::Outbound;
use std::rc::Rc;

/// What a shard knows of one of its established sessions.
pub struct Session {
    pub id: SessionId,
    pub realm: Text,
    pub serializer: Serializer,
    pub outbound: Rc<Outbound>,
    pub authid: Text,
    pub authrole: Text,
    /// Subscriptions held (ID, pattern, policy), for UNSUBSCRIBE and cleanup.
    pub subscriptions: Vec<(SubscriptionId, Text, MatchPolicy)>,
    /// Registrations held (ID, pattern, policy), for UNREGISTER and cleanup.
    pub registrations: Vec<(RegistrationId, Text, MatchPolicy)>,
    /// The last INVOCATION request ID sent to this session (as callee).
    pub last_invocation: u64,
    /// True once this session called a callee on another shard.
    pub called_remote: bool,
    /// The last request ID this client used (for strict sequence checking).
    pub last_request: u64,
}

impl Session {
    /// A new session record.
    pub fn new(id: SessionId, realm: Text, serializer: Serializer, outbound: Rc<Outbound>) -> Self {
        Session {
            id,
            realm,
            serializer,
            outbound,
            authid: Text::from(format!("anonymous-{id}")),
            authrole: Text::from_static("anonymous"),
            subscriptions: Vec::new(),
            registrations: Vec::new(),
            last_invocation: 0,
            called_remote: false,
            last_request: 0,
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
