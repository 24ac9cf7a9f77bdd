//! The roles of a shard and what they share. Per realm and per shard there
//! is a `Broker` (pub/sub) and a `Dealer` (RPC); per shard a `Home` (the
//! router-wide IDs of the keys this shard is home for). Each role owns its
//! state and works through a narrow context (`Cx`); it handles client
//! messages with `handle_<message>` and the envelopes other shards send it
//! (`Envelope`, one enum per role) with an exhaustive `apply`.

pub mod broker;
pub mod cx;
pub mod dealer;
pub mod envelope;
pub mod home;
pub mod ids;
pub mod latency;
pub mod meta;
mod pending;
pub mod report;
pub mod stats;
pub mod timers;

pub use broker::{Broker, HistorySpec, PubSubPolicy, Retention};
pub use cx::{Cx, Outbox, Stats};
pub use dealer::{Dealer, RpcPolicy};
pub use envelope::Envelope;
pub use home::Home;

use crate::wire::Text;

/// One realm on one shard.
pub struct Realm {
    pub broker: Broker,
    pub dealer: Dealer,
    /// Who may join and what each role may do.
    pub auth: std::sync::Arc<crate::auth::RealmAuth>,
    /// Decisions of the roles' dynamic authorizers, cached on this shard.
    pub authz: crate::auth::authz_cache::AuthzCache,
    /// The realm's own per-session limits (`None`: the router's).
    pub limits: Option<crate::session::limits::Limits>,
    /// The realm's own stall timeout (`None`: the router's).
    pub stall_timeout: Option<std::time::Duration>,
    /// Whether the metrics give the realm its own `realm` label (every
    /// configured realm, the first auto-created ones) or count it as `other`.
    pub labelled: bool,
    /// Client sessions of the realm open on this shard.
    pub sessions_open: u64,
    /// Messages of the realm's client sessions handed to its roles on this shard.
    pub messages_in: u64,
}

impl Realm {
    /// Whether the realm has the meta API (procedures and events).
    pub fn meta_api(&self) -> bool {
        self.broker.meta_api()
    }

    /// The roles of realm `name`.
    pub fn new(
        name: Text,
        auth: std::sync::Arc<crate::auth::RealmAuth>,
        rpc: RpcPolicy,
        pubsub: PubSubPolicy,
    ) -> Self {
        Realm {
            broker: Broker::new(name.clone(), pubsub),
            dealer: Dealer::new(name, rpc),
            authz: crate::auth::authz_cache::AuthzCache::new(auth.authorizer_cache_max),
            auth,
            limits: None,
            stall_timeout: None,
            labelled: false,
            sessions_open: 0,
            messages_in: 0,
        }
    }
}
