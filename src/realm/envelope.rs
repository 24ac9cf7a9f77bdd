//! `Envelope`: what shards send each other over the mesh, one enum per role
//! that receives it. Envelopes are plain data (no `Rc`, no closures, no
//! shard-local pointers), so they could be encoded to cross machines. Data
//! (events, invocations, results) and control (interest, registrations,
//! acks) share one FIFO channel per shard pair, so per-source ordering holds.

use super::broker::StoredEvent;
use super::dealer::CalleeEntry;
use super::ids::{CalleeAddr, CallerAddr, OpId, ShardId};
use super::meta::{MetaPart, SessionQuery, SubscriptionQuery};
pub use super::report::ReportMsg;
use crate::routing::MatchPolicy;
use crate::wire::options::{CancelMode, InvokePolicy, Recipients};
use crate::wire::{
    Dict, ErrorUri, Payload, PublicationId, RegistrationId, SessionId, SubscriptionId, Text, Value,
};

/// Who reads kept events (a new subscriber, or a `get_events` caller): the
/// values receiver lists are tested against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub shard: ShardId,
    pub session: SessionId,
    pub subscription: SubscriptionId,
    pub authid: Text,
    pub authrole: Text,
}

/// One message between shards, addressed to a role.
#[derive(Debug)]
pub enum Envelope {
    /// For the broker of `realm` on the receiving shard.
    Broker { realm: Text, msg: BrokerMsg },
    /// For the dealer of `realm` on the receiving shard.
    Dealer { realm: Text, msg: DealerMsg },
    /// For the home tables of the receiving shard.
    Home(HomeMsg),
    /// For the receiving shard itself: reports for metrics and health.
    Report(ReportMsg),
    /// Flow control: queues on shard `from` fed by the receiver are above
    /// their watermark (`on`), or drained again; the receiver's sessions
    /// that send to `from` stop being read meanwhile.
    Pressure { from: ShardId, on: bool },
}

/// Envelopes a broker receives.
#[derive(Debug)]
pub enum BrokerMsg {
    /// An event to deliver to this shard's subscribers of `topic` (that
    /// the publish's receiver lists admit).
    Publish {
        topic: Text,
        publication: PublicationId,
        details: Dict,
        payload: Payload,
        recipients: Option<Box<Recipients>>,
    },
    /// Publish meta event `topic` (from this shard: the home of what it is about).
    PublishMeta { topic: Text, args: Vec<Value> },
    /// Keep `event` as the retained event of `topic` (this shard is its
    /// home); then ack `ack`, if given.
    Retain {
        topic: Text,
        event: StoredEvent,
        ack: Option<(ShardId, OpId)>,
    },
    /// A shard kept an event of an acknowledged publication of this one.
    KeptAcked { op: OpId },
    /// Send `reader` the retained events of this shard's topics matching (pattern, policy).
    GetRetained {
        pattern: Text,
        policy: MatchPolicy,
        reader: Reader,
    },
    /// Retained events for a new subscriber of this shard.
    RetainedEvents {
        reader: Reader,
        policy: MatchPolicy,
        events: Vec<(Text, StoredEvent)>,
    },
    /// Append `event`, published to `topic`, to the history of subscription
    /// (pattern, policy) (this shard is its home); then ack `ack`, if given.
    HistoryAppend {
        pattern: Text,
        policy: MatchPolicy,
        topic: Text,
        event: StoredEvent,
        ack: Option<(ShardId, OpId)>,
    },
    /// `wamp.subscription.get_events` for subscription (pattern, policy), kept here.
    History {
        pattern: Text,
        policy: MatchPolicy,
        subscription: SubscriptionId,
        limit: usize,
        reader: Reader,
        caller: CallerAddr,
    },
    /// The meta API asks about this shard's subscriptions; answer
    /// `DealerMsg::MetaPart` to `from`.
    SubscriptionQuery {
        query: SubscriptionQuery,
        from: ShardId,
        op: OpId,
    },
    /// `wamp.subscription.remove_subscriber`: end `session`'s subscription (it lives here).
    Revoke {
        subscription: SubscriptionId,
        session: SessionId,
        reason: Option<Text>,
        caller: CallerAddr,
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
    /// The home shard's verdict on `HomeMsg::RegistrationAcquire`: the ID
    /// and the callee's router-wide registration order, or an error URI.
    RegistrationAcquired {
        op: OpId,
        result: Result<(RegistrationId, u64), ErrorUri>,
    },
    /// Add `callee` to this shard's replica of the registration. Acked.
    ReplicaAdd {
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
        invoke: InvokePolicy,
        callee: CalleeEntry,
        from: ShardId,
        op: OpId,
    },
    /// A shard applied a `ReplicaAdd` of this one.
    ReplicaAcked { op: OpId },
    /// Remove `callee` from this shard's replica; then ack `ack`, if given
    /// (an UNREGISTER answers once every replica dropped the callee).
    ReplicaRemove {
        registration: RegistrationId,
        callee: CalleeAddr,
        ack: Option<(ShardId, OpId)>,
    },
    /// Invoke `callee` (which lives on this shard) for `caller`; `progress`:
    /// the first chunk of a progressive invocation.
    Invoke {
        registration: RegistrationId,
        callee: SessionId,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
        progress: bool,
    },
    /// The next chunk of `caller`'s progressive invocation (`progress`: more follow).
    InvokeMore {
        caller: CallerAddr,
        progress: bool,
        payload: Payload,
    },
    /// A callee's YIELD, for the caller (on this shard); `progress`: more follow.
    Yielded {
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
        progress: bool,
    },
    /// A failed call, for the caller (on this shard).
    CallFailed {
        caller: CallerAddr,
        error: Text,
        payload: Payload,
    },
    /// The meta API asks about this shard's sessions; answer `MetaPart` to `from`.
    SessionQuery {
        query: SessionQuery,
        from: ShardId,
        op: OpId,
    },
    /// One shard's part of the answer to meta operation `op`.
    MetaPart { op: OpId, part: MetaPart },
    /// The answer of a meta procedure for `caller` (on this shard).
    MetaAnswer {
        caller: CallerAddr,
        result: Result<Payload, ErrorUri>,
    },
    /// The call of `caller` was canceled (`mode`) or ended (`killnowait`):
    /// forget or interrupt its invocation (its callee lives on this shard).
    Interrupt {
        caller: CallerAddr,
        mode: CancelMode,
        reason: ErrorUri,
    },
}

/// Envelopes the home tables receive: router-wide IDs and arbitration.
#[derive(Debug)]
pub enum HomeMsg {
    /// Give `from` the router-wide ID of (realm, topic, policy), for `session`.
    SubscriptionAcquire {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        session: SessionId,
        op: OpId,
    },
    /// `from` has no more subscribers of (realm, topic, policy); `session` was the last.
    SubscriptionRelease {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        from: ShardId,
        session: SessionId,
    },
    /// Register `callee` for (realm, procedure, policy) under invocation
    /// policy `invoke`, or refuse.
    RegistrationAcquire {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        invoke: InvokePolicy,
        callee: CalleeAddr,
        op: OpId,
    },
    /// `wamp.subscription.get_events`: find the subscription this shard
    /// handed out and ask its history.
    SubscriptionEvents {
        realm: Text,
        subscription: SubscriptionId,
        limit: usize,
        reader: Reader,
        caller: CallerAddr,
    },
    /// `callee` no longer holds (realm, procedure, policy).
    RegistrationRelease {
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        callee: CalleeAddr,
    },
}
