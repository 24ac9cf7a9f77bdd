//! `Shard`: everything one core owns, alone and without locks: its sessions,
//! its realms (each with its broker and dealer role), its home tables, ID
//! allocation, counters, and the outbox of envelopes for other shards.
//!
//! The shard itself only dispatches: a client message goes to the role of
//! the session's realm (`dispatch.rs`), an envelope to the role it names
//! (`apply`), a HELLO through the handshake (`lifecycle.rs`). Everything
//! here is plain sync code that never awaits; the runtime calls into it
//! between awaits, and tests drive it directly (`pump`).

mod authorize;
mod bridge;
mod dispatch;
mod lifecycle;
mod login;
mod pump;
mod report;

pub use crate::realm::report::{Footprint, ShardReport};
pub use bridge::{reply_request, BridgeIdentity, BridgeRefusal, BridgeRequest};
pub use lifecycle::Opened;
pub use login::{auth_answer, HandshakeOutcome};
pub use pump::pump;
pub use report::Scrapes;

use crate::auth::limiter::Limiter;
use crate::auth::RealmAuth;
use crate::realm::ids::{IdAlloc, ShardId};
use crate::realm::timers::CallTimers;
use crate::realm::{Cx, Envelope, Home, Outbox, PubSubPolicy, Realm, RpcPolicy, Stats};
use crate::routing::UriCheck;
use crate::session::notify::Notify;
use crate::session::outbound::Outbound;
use crate::session::{SessionEnd, Sessions};
use crate::wire::counts::TypeCells;
use crate::wire::{RequestId, Serializer, SessionId, Text};
use rustc_hash::FxHashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A realm the router serves from the start.
#[derive(Debug, Clone)]
pub struct RealmSettings {
    pub name: String,
    /// Who may join (principals, methods) and what each role may do.
    pub auth: Arc<RealmAuth>,
    /// Caller disclosure and call timeouts.
    pub rpc: RpcPolicy,
    /// Publisher disclosure, event retention and history.
    pub pubsub: PubSubPolicy,
    /// Per-session limits of this realm's sessions (`None`: the router's).
    pub limits: Option<crate::session::limits::Limits>,
    /// Stall timeout of this realm's sessions (`None`: the router's).
    pub stall_timeout: Option<Duration>,
}

impl RealmSettings {
    /// A realm open to anonymous sessions.
    pub fn open(name: impl Into<String>) -> Self {
        RealmSettings {
            name: name.into(),
            auth: Arc::new(RealmAuth::open()),
            rpc: RpcPolicy::default(),
            pubsub: PubSubPolicy::default(),
            limits: None,
            stall_timeout: None,
        }
    }
}

/// Router settings a shard needs (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    pub uri_check: UriCheck,
    pub realms: Vec<RealmSettings>,
    /// Unknown realms are created on first HELLO (open to anonymous sessions).
    pub auto_create_realms: bool,
    /// Request IDs must go 1, 2, 3, ... per session (a gap is a protocol violation).
    pub strict_request_ids: bool,
    /// Failed logins from one address before its logins are refused for
    /// the rest of `auth_failure_window` (0: never).
    pub auth_failures_max: u32,
    pub auth_failure_window: Duration,
    /// Time allowed from connect to WELCOME (bounds authenticator calls).
    pub handshake_timeout: Duration,
    /// Per-session limits.
    pub limits: crate::session::limits::Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            uri_check: UriCheck::Loose,
            realms: vec![RealmSettings::open("realm1")],
            auto_create_realms: false,
            strict_request_ids: false,
            auth_failures_max: 10,
            auth_failure_window: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            limits: crate::session::limits::Limits {
                subscriptions: 10_000,
                registrations: 10_000,
                calls_in_flight: 10_000,
                publications_per_s: 0,
            },
        }
    }
}

/// One shard's routing state.
pub struct Shard {
    pub id: ShardId,
    pub nr_shards: usize,
    pub settings: Settings,
    pub stats: Stats,
    ids: IdAlloc,
    sessions: Sessions,
    /// Few keys, looked up per message: a fast non-keyed hash.
    realms: FxHashMap<Text, Realm>,
    home: Home,
    timers: CallTimers,
    /// Sessions killed through the meta API, closed after the current entry point.
    closing: Vec<SessionId>,
    /// Failed logins per source address.
    limiter: Limiter,
    /// Per realm, the hidden session that calls its dynamic authenticators.
    internal: FxHashMap<Text, SessionId>,
    /// Per realm, the hidden session of the HTTP bridge (`bridge.rs`).
    bridge: FxHashMap<Text, SessionId>,
    /// Where the replies of those hidden sessions land.
    internal_outbound: Rc<Outbound>,
    /// The last request ID of a hidden session (authenticator or authorizer
    /// call, bridge request): one counter, so each reply finds its waiter.
    internal_requests: u64,
    /// Authorizer calls in flight, by request ID.
    authz_asked: FxHashMap<RequestId, authorize::AuthzAsked>,
    /// Collections of shard reports this shard started (metrics, health).
    pub scrapes: Scrapes,
    pub outbox: Outbox,
    /// Messages the shard's connection writers sent, per type.
    sent: Rc<TypeCells>,
    /// When the shard was made (shard 0's is the router's start).
    pub started: Instant,
}

impl Shard {
    /// A shard `id` of `nr_shards` with the configured realms.
    pub fn new(id: ShardId, nr_shards: usize, settings: Settings) -> Self {
        let realms = settings
            .realms
            .iter()
            .map(|r| {
                let name = Text::from(r.name.as_str());
                let mut realm = Realm::new(name.clone(), r.auth.clone(), r.rpc, r.pubsub.clone());
                realm.limits = r.limits;
                realm.stall_timeout = r.stall_timeout;
                realm.labelled = true;
                (name, realm)
            })
            .collect();
        let limiter = Limiter::new(settings.auth_failures_max, settings.auth_failure_window);
        Shard {
            id,
            nr_shards,
            limiter,
            ids: IdAlloc::new(id, nr_shards),
            settings,
            stats: Stats::for_shards(nr_shards),
            sessions: Sessions::default(),
            realms,
            home: Home::default(),
            timers: CallTimers::default(),
            closing: Vec::new(),
            internal: FxHashMap::default(),
            bridge: FxHashMap::default(),
            internal_outbound: Rc::new(Outbound::new(
                1 << 30,
                crate::session::outbound::SlowConsumer::Disconnect,
            )),
            internal_requests: 0,
            authz_asked: FxHashMap::default(),
            scrapes: Scrapes::default(),
            outbox: Outbox::new(id, nr_shards),
            sent: Rc::default(),
            started: Instant::now(),
        }
    }

    /// The counters of messages sent, per type, that the shard's connection
    /// writers bump (a report includes them).
    pub fn sent_counter(&self) -> Rc<TypeCells> {
        self.sent.clone()
    }

    /// Number of established client sessions on this shard (the router's
    /// own hidden callers not counted).
    pub fn session_count(&self) -> usize {
        let hidden = self.internal.len() + self.bridge.len();
        self.sessions.len().saturating_sub(hidden)
    }

    /// The request ID of the next request of a hidden session.
    fn next_internal_request(&mut self) -> RequestId {
        self.internal_requests += 1;
        RequestId(self.internal_requests)
    }

    /// Counts the routing state this shard holds.
    pub fn footprint(&self) -> Footprint {
        let (home_subscriptions, home_registrations) = self.home.len();
        let realms = self.realms.values();
        let sum = |f: fn(&Realm) -> usize| realms.clone().map(f).sum::<usize>();
        Footprint {
            sessions: self.session_count(),
            topics: sum(|r| r.broker.topic_count()),
            interest: sum(|r| r.broker.interest_count()),
            procedures: sum(|r| r.dealer.registration_count()),
            home_subscriptions,
            home_registrations,
            invocations: sum(|r| r.dealer.invocation_count()),
            calls: sum(|r| r.dealer.call_count()),
            retained: sum(|r| r.broker.retained_usage().0),
            retained_bytes: sum(|r| r.broker.retained_usage().1),
            pending: sum(|r| r.broker.pending_count() + r.dealer.pending_count()),
            queued_bytes: self
                .sessions
                .values()
                .map(|s| s.outbound.queued_bytes())
                .sum(),
            queue_peak_bytes: (self.sessions.values())
                .map(|s| s.outbound.peak_bytes())
                .max()
                .unwrap_or(0),
        }
    }

    /// The context roles work through, and the realms and home tables beside it.
    fn split(&mut self) -> (Cx<'_>, &mut FxHashMap<Text, Realm>, &mut Home) {
        let cx = Cx {
            me: self.id,
            nr_shards: self.nr_shards,
            uri_check: self.settings.uri_check,
            outbox: &mut self.outbox,
            ids: &mut self.ids,
            stats: &mut self.stats,
            sessions: &mut self.sessions,
            timers: &mut self.timers,
            closing: &mut self.closing,
        };
        (cx, &mut self.realms, &mut self.home)
    }

    /// The flag raised when a call timeout is armed ahead of the planned wake-up.
    pub fn timers_notifier(&self) -> Rc<Notify> {
        self.timers.notifier()
    }

    /// When call timers may next be due (`None`: none armed); the runtime
    /// sleeps until then or until notified.
    pub fn plan_timer_wakeup(&mut self) -> Option<Instant> {
        self.timers.plan_wakeup()
    }

    /// Fires the call timeouts due at `now`.
    pub fn fire_call_timers(&mut self, now: Instant) {
        let mut due = Vec::new();
        self.timers.expire(now, &mut due);
        for t in due {
            let (mut cx, realms, _) = self.split();
            if let Some(realm) = realms.get_mut(t.realm.as_str()) {
                realm
                    .dealer
                    .call_timed_out(&mut cx, t.session, t.request, t.token);
            }
        }
        self.drain_local();
    }

    /// Applies a batch of envelopes from another shard.
    pub fn apply_batch(&mut self, batch: Vec<Envelope>) {
        for env in batch {
            self.apply(env);
        }
        self.drain_local();
    }

    /// Applies envelopes this shard sent itself, until none are left.
    /// Also closes the sessions killed meanwhile.
    fn drain_local(&mut self) {
        loop {
            let batch = self.outbox.take(self.id);
            if batch.is_empty() {
                let Some(sid) = self.closing.pop() else {
                    return;
                };
                self.close_session(sid, SessionEnd::Killed);
                continue;
            }
            for env in batch {
                self.apply(env);
            }
        }
    }

    /// Hands an envelope to the role it is for (reports: to the shard itself).
    fn apply(&mut self, env: Envelope) {
        let (mut cx, realms, home) = self.split();
        match env {
            Envelope::Broker { realm, msg } => realm_entry(realms, realm, cx.stats)
                .broker
                .apply(&mut cx, msg),
            Envelope::Dealer { realm, msg } => realm_entry(realms, realm, cx.stats)
                .dealer
                .apply(&mut cx, msg),
            Envelope::Home(msg) => home.apply(&mut cx, msg),
            Envelope::Report(msg) => self.apply_report(msg),
            Envelope::Pressure { from, on: true } => self.outbox.peer(from).press(None),
            Envelope::Pressure { from, on: false } => self.outbox.peer(from).release(),
        }
    }

    /// Tells shard `to` that queues here fed by it are above their
    /// watermark (`on`) or drained again.
    pub fn press_peer(&mut self, to: ShardId, on: bool) {
        if on {
            self.stats.flow_pauses += 1;
        }
        let from = self.id;
        self.outbox.push(to, Envelope::Pressure { from, on });
    }

    /// Every session's outbound queue (for a shutdown GOODBYE).
    pub fn sessions(&self) -> impl Iterator<Item = (SessionId, Serializer, &Rc<Outbound>)> {
        self.sessions
            .values()
            .map(|s| (s.id, s.serializer, &s.outbound))
    }
}

/// The realm named in an envelope (created when another shard created it
/// first, which only an auto-created realm can be: those admit anonymous
/// sessions).
fn realm_entry<'r>(
    realms: &'r mut FxHashMap<Text, Realm>,
    name: Text,
    stats: &mut Stats,
) -> &'r mut Realm {
    realms
        .entry(name)
        .or_insert_with_key(|name| auto_realm(name, stats))
}

/// A realm created on first use (open to anonymous sessions); the first
/// `REALM_LABELS` of a shard get their own label in the metrics.
fn auto_realm(name: &Text, stats: &mut Stats) -> Realm {
    let mut realm = Realm::new(
        name.clone(),
        Arc::new(RealmAuth::open()),
        RpcPolicy::default(),
        PubSubPolicy::default(),
    );
    realm.labelled = stats.label_auto_realm();
    realm
}
