//! `Envelope`: what shards send each other over the mesh. Data (events,
//! invocations, results) and control (interest, registrations, acks) share
//! one FIFO channel per shard pair, so per-source ordering holds.

use super::ids::ShardId;
use crate::routing::MatchPolicy;
use crate::wire::{
    Dict, Payload, PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId, Text,
};

/// A shard-local token naming an operation that waits for replies.
pub type OpId = u64;

/// Where a RESULT or call ERROR must go: the caller's shard, session and CALL request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallerAddr {
    pub shard: ShardId,
    pub session: SessionId,
    pub request: RequestId,
}

/// A callee: the session and the shard it lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CalleeAddr {
    pub shard: ShardId,
    pub session: SessionId,
}

/// One message between shards.
#[derive(Debug)]
pub enum Envelope {
    /// An event to deliver to this shard's subscribers of `topic`.
    Publish {
        realm: Text,
        topic: Text,
        publication: PublicationId,
        details: Dict,
        payload: Payload,
    },
    /// Home shard: give me the router-wide ID of (topic, match).
    SubscriptionAcquire {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        op: OpId,
    },
    /// Home shard's answer to `SubscriptionAcquire`.
    SubscriptionAcquired {
        op: OpId,
        subscription: SubscriptionId,
    },
    /// Home shard: `from` has no more subscribers of (topic, match).
    SubscriptionRelease {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
    },
    /// `from` now has subscribers of `topic`: route its events there. Acked.
    InterestAdd {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        op: OpId,
    },
    /// `from` has no more subscribers of `topic`.
    InterestRemove {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
    },
    /// Home shard: register `callee` for (procedure, match), or refuse.
    RegistrationAcquire {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        callee: CalleeAddr,
        op: OpId,
    },
    /// Home shard's answer: the ID, or an error URI.
    RegistrationAcquired {
        op: OpId,
        result: Result<RegistrationId, Text>,
    },
    /// Home shard: `callee` no longer holds (procedure, match).
    RegistrationRelease {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        callee: CalleeAddr,
    },
    /// Add `callee` to this shard's replica of the registration. Acked.
    RegistrationAdd {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
        callee: CalleeAddr,
        from: ShardId,
        op: OpId,
    },
    /// Remove `callee` from this shard's replica. Acked.
    RegistrationRemove {
        realm: Text,
        registration: RegistrationId,
        callee: CalleeAddr,
        from: ShardId,
        op: OpId,
    },
    /// A completed step of a multi-shard operation.
    Ack { op: OpId },
    /// Invoke `callee` (which lives on this shard) for `caller`.
    Invoke {
        registration: RegistrationId,
        callee: SessionId,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
    },
    /// A callee's YIELD, for the caller (on this shard).
    Yielded {
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
    },
    /// A failed call, for the caller (on this shard).
    CallFailed {
        caller: CallerAddr,
        error: Text,
        details: Dict,
        payload: Payload,
    },
    /// The caller session left: forget its pending invocations on this shard.
    CallerGone { shard: ShardId, session: SessionId },
    /// Stop: say GOODBYE to every session and exit.
    Shutdown,
}
