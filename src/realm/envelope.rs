//! `Envelope`: what shards send each other over the mesh, one enum per role
//! that receives it. Envelopes are plain data (no `Rc`, no closures, no
//! shard-local pointers), so they could be encoded to cross machines. Data
//! (events, invocations, results) and control (interest, registrations,
//! acks) share one FIFO channel per shard pair, so per-source ordering holds.

use super::ids::{CalleeAddr, CallerAddr, OpId, ShardId};
use crate::routing::MatchPolicy;
use crate::wire::{
    Dict, ErrorUri, Payload, PublicationId, RegistrationId, SessionId, SubscriptionId, Text,
};

/// One message between shards, addressed to a role.
#[derive(Debug)]
pub enum Envelope {
    /// For the broker of `realm` on the receiving shard.
    Broker { realm: Text, msg: BrokerMsg },
    /// For the dealer of `realm` on the receiving shard.
    Dealer { realm: Text, msg: DealerMsg },
    /// For the home tables of the receiving shard.
    Home(HomeMsg),
}

/// Envelopes a broker receives.
#[derive(Debug)]
pub enum BrokerMsg {
    /// An event to deliver to this shard's subscribers of `topic`.
    Publish {
        topic: Text,
        publication: PublicationId,
        details: Dict,
        payload: Payload,
    },
    /// The home shard's answer to `HomeMsg::SubscriptionAcquire`.
    SubscriptionAcquired {
        op: OpId,
        subscription: SubscriptionId,
    },
    /// `from` now has subscribers of (topic, policy): route its events there. Acked.
    InterestAdd {
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        op: OpId,
    },
    /// A shard applied an `InterestAdd` of this one.
    InterestAcked { op: OpId },
    /// `from` has no more subscribers of (topic, policy).
    InterestRemove {
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
    },
}

/// Envelopes a dealer receives.
#[derive(Debug)]
pub enum DealerMsg {
    /// The home shard's verdict on `HomeMsg::RegistrationAcquire`: the ID, or an error URI.
    RegistrationAcquired {
        op: OpId,
        result: Result<RegistrationId, ErrorUri>,
    },
    /// Add `callee` to this shard's replica of the registration. Acked.
    ReplicaAdd {
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
        callee: CalleeAddr,
        from: ShardId,
        op: OpId,
    },
    /// A shard applied a `ReplicaAdd` of this one.
    ReplicaAcked { op: OpId },
    /// Remove `callee` from this shard's replica.
    ReplicaRemove {
        registration: RegistrationId,
        callee: CalleeAddr,
    },
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
}

/// Envelopes the home tables receive: router-wide IDs and arbitration.
#[derive(Debug)]
pub enum HomeMsg {
    /// Give `from` the router-wide ID of (realm, topic, policy).
    SubscriptionAcquire {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        op: OpId,
    },
    /// `from` has no more subscribers of (realm, topic, policy).
    SubscriptionRelease {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
    },
    /// Register `callee` for (realm, procedure, policy), or refuse.
    RegistrationAcquire {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        callee: CalleeAddr,
        op: OpId,
    },
    /// `callee` no longer holds (realm, procedure, policy).
    RegistrationRelease {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        callee: CalleeAddr,
    },
}
