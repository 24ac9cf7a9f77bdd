//! `Shard`: everything one core owns, alone and without locks: its sessions,
//! its part of every realm's routing tables, the home tables, ID allocation
//! and counters. State changes only in plain `fn`s that never await; the
//! async side (connections, mesh pump) calls into it between awaits.

pub mod envelope;
pub mod ids;
pub mod mesh;
mod pending;
mod pubsub;
mod rpc;
pub mod session_ops;

use crate::realm::{Home, Realm};
use crate::routing::UriCheck;
use crate::session::outbound::{FrameKind, Pushed, SlowConsumer};
use crate::session::Session;
use crate::wire::{encode, Dict, Message, Payload, RequestId, SessionId, Text};
use bytes::BytesMut;
use envelope::Envelope;
use ids::{IdAlloc, ShardId};
use mesh::MeshOut;
use pending::Pending;
use std::collections::HashMap;

pub use session_ops::Opened;

/// Router settings a shard needs (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    pub uri_check: UriCheck,
    pub outbound_budget: usize,
    pub slow_consumer: SlowConsumer,
    pub realms: Vec<String>,
    pub auto_create_realms: bool,
    /// Request IDs must go 1, 2, 3, ... per session (a gap is a protocol violation).
    pub strict_request_ids: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            uri_check: UriCheck::Loose,
            outbound_budget: 4 << 20,
            slow_consumer: SlowConsumer::Disconnect,
            realms: vec!["realm1".to_string()],
            auto_create_realms: false,
            strict_request_ids: false,
        }
    }
}

/// Per-shard counters (plain integers: only this shard touches them).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub sessions_opened: u64,
    pub events_delivered: u64,
    pub events_dropped: u64,
    pub slow_consumer_disconnects: u64,
    pub calls: u64,
    pub protocol_violations: u64,
}

/// How much routing state a shard holds (for tests and diagnostics).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub sessions: usize,
    pub topics: usize,
    pub interest: usize,
    pub procedures: usize,
    pub home_subscriptions: usize,
    pub home_registrations: usize,
    pub invocations: usize,
    pub pending: usize,
}

/// A client message broke the protocol: the session must be aborted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl Violation {
    pub fn new(message: impl Into<String>) -> Self {
        Violation(message.into())
    }
}

/// One shard's routing state.
pub struct Shard {
    pub id: ShardId,
    pub nr_shards: usize,
    pub settings: Settings,
    pub stats: Stats,
    ids: IdAlloc,
    sessions: HashMap<SessionId, Session>,
    realms: HashMap<Text, Realm>,
    home: Home,
    pending: Pending,
    /// Invocations in flight to this shard's callees: (callee, INVOCATION id) -> caller.
    invocations: HashMap<(SessionId, u64), envelope::CallerAddr>,
    pub mesh: MeshOut,
}

impl Shard {
    /// A shard `id` of `nr_shards` with the configured realms.
    pub fn new(id: ShardId, nr_shards: usize, settings: Settings) -> Self {
        let realms = settings
            .realms
            .iter()
            .map(|r| (Text::from(r.as_str()), Realm::default()))
            .collect();
        Shard {
            id,
            nr_shards,
            ids: IdAlloc::new(id, nr_shards),
            settings,
            stats: Stats::default(),
            sessions: HashMap::new(),
            realms,
            home: Home::default(),
            pending: Pending::default(),
            invocations: HashMap::new(),
            mesh: MeshOut::new(id, nr_shards),
        }
    }

    /// Number of established sessions on this shard.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Counts the routing state this shard holds.
    pub fn footprint(&self) -> Footprint {
        let (home_subscriptions, home_registrations) = self.home.len();
        let realms = self.realms.values();
        Footprint {
            sessions: self.sessions.len(),
            topics: realms.clone().map(|r| r.broker.topics.len()).sum(),
            interest: realms.clone().map(|r| r.broker.interest_len()).sum(),
            procedures: realms.map(|r| r.dealer.len()).sum(),
            home_subscriptions,
            home_registrations,
            invocations: self.invocations.len(),
            pending: self.pending.len(),
        }
    }

    /// True when `realm` exists (or may be created) on this router.
    pub fn realm_allowed(&self, realm: &str) -> bool {
        self.realms.contains_key(realm) || self.settings.auto_create_realms
    }

    fn realm_mut(&mut self, realm: &Text) -> &mut Realm {
        self.realms.entry(realm.clone()).or_default()
    }

    /// Queues `env` for shard `dest` (itself included: applied before the
    /// current entry point returns).
    fn send(&mut self, dest: ShardId, env: Envelope) {
        self.mesh.push(dest, env);
    }

    /// Sends `make()` to every shard but this one.
    fn broadcast(&mut self, make: impl Fn() -> Envelope) {
        let me = self.id;
        for dest in (0..self.nr_shards).filter(|d| *d != me) {
            self.send(dest, make());
        }
    }

    /// Applies a batch of envelopes from another shard.
    pub fn apply_batch(&mut self, batch: Vec<Envelope>) {
        for env in batch {
            self.apply(env);
        }
        self.drain_local();
    }

    /// Applies envelopes this shard sent itself, until none are left.
    fn drain_local(&mut self) {
        while let Some(batch) = self.mesh.take_local() {
            for env in batch {
                self.apply(env);
            }
        }
    }

    fn apply(&mut self, env: Envelope) {
        use Envelope::*;
        match env {
            Publish { .. } | InterestAdd { .. } | InterestRemove { .. } => self.apply_broker(env),
            SubscriptionAcquire { .. }
            | SubscriptionAcquired { .. }
            | SubscriptionRelease { .. } => self.apply_broker(env),
            Ack { op } => self.apply_ack(op),
            Shutdown => {}
            _ => self.apply_dealer(env),
        }
    }

    /// Encodes `msg` for session `sid` and queues it as a reply.
    fn reply(&mut self, sid: SessionId, msg: &Message) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        let mut out = BytesMut::with_capacity(32);
        encode(s.serializer, msg, &mut out);
        if s.outbound.push(out.freeze(), FrameKind::Reply) == Pushed::Overflow {
            self.stats.slow_consumer_disconnects += 1;
        }
    }

    /// Sends `[ERROR, request_type, request, {}, error]` to `sid`.
    fn reply_error(
        &mut self,
        sid: SessionId,
        request_type: u64,
        request: RequestId,
        error: &'static str,
    ) {
        let msg = Message::Error {
            request_type,
            request,
            details: Dict::new(),
            error: Text::from_static(error),
            payload: Payload::empty(),
        };
        self.reply(sid, &msg);
    }
}
