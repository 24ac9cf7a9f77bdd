//! The configuration tree: one struct per TOML table, with the built-in
//! defaults as `Default` impls and typed helpers (`Duration`s, enums).
//!
//! Field names are the TOML key names, one to one, so a problem reported for
//! `session.ping_timeout_ms` is the field `config.session.ping_timeout_ms`.
//! Every field must serialize (no `Option` that skips): the loader uses the
//! serialized defaults as the schema of known keys.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::auth::{AuthenticatorConfig, PrincipalConfig, RoleConfig};
use super::http::HttpConfig;
use super::secure_listeners::{TlsConfig, UnixConfig};

/// 16 MiB: the default and largest message size for both transports.
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// 512 bytes: the smallest message size a transport may be limited to
/// (RawSocket announces 2^(9+L) with L >= 0).
pub const MIN_MESSAGE_SIZE: usize = 512;

/// The whole router configuration. `Config::default()` is the embedded
/// default, documented key by key in `config/default.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Number of shards; 0 means one per available core.
    pub shards: usize,
    /// Whether each shard is pinned to its own core.
    pub placement: Placement,
    /// An `EnvFilter` directive string, e.g. `info` or `warn,switchyard=debug`.
    pub log_level: String,
    /// How log lines are written to stderr.
    pub log_format: LogFormat,
    /// How long a graceful shutdown waits for sessions to close.
    pub shutdown_grace_ms: u64,
    /// How long an idle shard polls for work before it sleeps, in
    /// microseconds (0: it sleeps at once).
    pub spin_before_park_us: u64,
    /// The WebSocket listener.
    pub websocket: WebSocketConfig,
    /// The RawSocket listener.
    pub rawsocket: RawSocketConfig,
    /// RawSocket on a Unix domain socket.
    pub unix: UnixConfig,
    /// The operators' HTTP listener: metrics, health, readiness.
    pub http: HttpConfig,
    /// Per-session limits and policies.
    pub session: SessionConfig,
    /// The shard-to-shard channels.
    pub mesh: MeshConfig,
    /// The realms served.
    pub realms: RealmsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            shards: 0,
            placement: Placement::Pinned,
            log_level: "info".to_owned(),
            log_format: LogFormat::Text,
            shutdown_grace_ms: 5000,
            spin_before_park_us: 0,
            websocket: WebSocketConfig::default(),
            rawsocket: RawSocketConfig::default(),
            unix: UnixConfig::default(),
            http: HttpConfig::default(),
            session: SessionConfig::default(),
            mesh: MeshConfig::default(),
            realms: RealmsConfig::default(),
        }
    }
}

impl Config {
    /// How long a graceful shutdown waits for sessions to close.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// The number of shards to start: `shards`, or when it is 0, the number
    /// of cores this process may run on (at least 1).
    pub fn shard_count(&self) -> usize {
        if self.shards > 0 {
            return self.shards;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Whether shards are pinned to cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Shard i runs on core i (of the cores this process may use).
    Pinned,
    /// Shards float; the kernel schedules them (for shared machines).
    Unpinned,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines (colored only when stderr is a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// What happens to a session whose outbound queue is over its byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlowConsumer {
    /// Disconnect the session with a reason.
    Disconnect,
    /// Drop EVENTs for that session; a RESULT or ERROR over budget still
    /// disconnects it (never silently lose a RESULT).
    DropEvents,
}

/// The WebSocket listener (`[websocket]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Whether to listen for WebSocket connections.
    pub enabled: bool,
    /// Address to bind (every shard binds it, SO_REUSEPORT).
    pub address: SocketAddr,
    /// The HTTP path of the upgrade request; starts with '/'.
    pub path: String,
    /// Largest accepted message, in bytes.
    pub max_message_size: usize,
    /// Also accept RawSocket on this port (sniffing the 0x7F magic byte).
    pub rawsocket_on_same_port: bool,
    /// WebSocket over TLS on a port of its own (`[websocket.tls]`).
    pub tls: TlsConfig,
    /// Agree to permessage-deflate when a client offers it.
    pub compression: bool,
    /// Messages from this size on are sent compressed (when agreed).
    pub compression_threshold_bytes: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            address: loopback(8080),
            path: "/ws".to_owned(),
            max_message_size: MAX_MESSAGE_SIZE,
            rawsocket_on_same_port: false,
            tls: TlsConfig::disabled(8443),
            compression: true,
            compression_threshold_bytes: 1024,
        }
    }
}

/// The RawSocket listener (`[rawsocket]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSocketConfig {
    /// Whether to listen for RawSocket connections.
    pub enabled: bool,
    /// Address to bind (every shard binds it, SO_REUSEPORT).
    pub address: SocketAddr,
    /// Largest accepted message, in bytes: a power of two in 512..=16 MiB.
    pub max_message_size: usize,
    /// Whether idle RawSocket peers are sent PING frames (session.ping_*).
    /// Off by default: some clients (Twisted Autobahn) fail on PING.
    pub ping: bool,
    /// RawSocket over TLS on a port of its own (`[rawsocket.tls]`).
    pub tls: TlsConfig,
}

impl Default for RawSocketConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            address: loopback(8081),
            max_message_size: MAX_MESSAGE_SIZE,
            ping: false,
            tls: TlsConfig::disabled(8444),
        }
    }
}

impl RawSocketConfig {
    /// The length exponent L the handshake announces: 2^(9+L) is
    /// `max_message_size` (rounded down to a power of two, clamped to 0..=15).
    pub fn max_length_exponent(&self) -> u8 {
        let size = self
            .max_message_size
            .clamp(MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE);
        let log2 = usize::BITS - 1 - size.leading_zeros();
        u8::try_from(log2.saturating_sub(9)).unwrap_or(15)
    }
}

/// Per-session limits and policies (`[session]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Time allowed from connect to WELCOME.
    pub handshake_timeout_ms: u64,
    /// Most sessions open at once, router-wide.
    pub max_sessions: usize,
    /// Connections one IP address may hold open on each shard (0: no limit).
    pub max_connections_per_address: u32,
    /// Connections of one IP address still in their handshake (not yet
    /// WELCOMEd), on each shard (0: no limit).
    pub max_handshakes_per_address: u32,
    /// Interval between transport pings; 0 turns pings off.
    pub ping_interval_ms: u64,
    /// Time allowed for a pong before the session is closed.
    pub ping_timeout_ms: u64,
    /// Check URIs with the strict rule instead of the loose one.
    pub strict_uris: bool,
    /// Byte budget of one session's outbound queue.
    pub outbound_budget_bytes: usize,
    /// Soft watermark of a session's outbound queue: a session whose
    /// message lands in a queue above it is not read until that queue
    /// drains below half of it.
    pub outbound_watermark_bytes: usize,
    /// How long a queue may stay above its watermark before the
    /// slow-consumer policy applies to its session.
    pub stall_timeout_ms: u64,
    /// What to do with a session over its outbound budget, or stalled.
    pub slow_consumer: SlowConsumer,
    /// Require request IDs to increase by one per session.
    pub strict_request_ids: bool,
    /// Failed logins from one address (per shard) before its logins are
    /// refused for the rest of the window; 0 turns throttling off.
    pub auth_failures_max: u32,
    /// The window of `auth_failures_max`, in milliseconds.
    pub auth_failure_window_ms: u64,
    /// Most subscriptions one session may hold (0: no limit).
    pub max_subscriptions: usize,
    /// Most registrations one session may hold (0: no limit).
    pub max_registrations: usize,
    /// Most calls one session may have in flight as caller (0: no limit).
    pub max_calls_in_flight: usize,
    /// Most invocations one callee may have in flight (0: no limit).
    pub max_invocations_in_flight: usize,
    /// Most publications per second of one session (0: no limit).
    pub max_publications_per_s: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            handshake_timeout_ms: 10_000,
            max_sessions: 100_000,
            max_connections_per_address: 0,
            max_handshakes_per_address: 0,
            ping_interval_ms: 30_000,
            ping_timeout_ms: 10_000,
            strict_uris: false,
            outbound_budget_bytes: 4 * 1024 * 1024,
            outbound_watermark_bytes: 1024 * 1024,
            stall_timeout_ms: 5_000,
            slow_consumer: SlowConsumer::Disconnect,
            strict_request_ids: false,
            auth_failures_max: 10,
            auth_failure_window_ms: 60_000,
            max_subscriptions: 10_000,
            max_registrations: 10_000,
            max_calls_in_flight: 10_000,
            max_invocations_in_flight: 10_000,
            max_publications_per_s: 0,
        }
    }
}

impl SessionConfig {
    /// Time allowed from connect to WELCOME.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }

    /// Interval between transport pings, or `None` when pings are off.
    pub fn ping_interval(&self) -> Option<Duration> {
        (self.ping_interval_ms > 0).then(|| Duration::from_millis(self.ping_interval_ms))
    }

    /// Time allowed for a pong before the session is closed.
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }
}

/// The shard-to-shard channels (`[mesh]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeshConfig {
    /// Most envelopes in one batch to a destination shard (a longer queue
    /// goes as several batches; the receiver yields between turns of batches).
    pub batch_max: usize,
    /// Capacity, in batches, of the channel of each ordered shard pair.
    pub channel_capacity: usize,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            batch_max: 256,
            channel_capacity: 65_536,
        }
    }
}

/// The realms served (`[realms]` and its `[[realms.realm]]` entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealmsConfig {
    /// Create a realm on the first HELLO that names an unknown one.
    pub auto_create: bool,
    /// The realms that exist from startup.
    pub realm: Vec<RealmConfig>,
}

impl Default for RealmsConfig {
    fn default() -> Self {
        Self {
            auto_create: false,
            realm: vec![RealmConfig::new("realm1")],
        }
    }
}

/// One realm (`[[realms.realm]]`); `name` is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmConfig {
    /// The realm URI.
    pub name: String,
    /// Whether anonymous sessions may join.
    #[serde(default = "anonymous_default")]
    pub anonymous: bool,
    /// The meta API: `wamp.session.*`, `wamp.registration.*`,
    /// `wamp.subscription.*` procedures and meta events.
    #[serde(default = "meta_api_default")]
    pub meta_api: bool,
    /// Disclose every caller to its callees (INVOCATION.Details.caller...).
    #[serde(default)]
    pub disclose_caller: bool,
    /// The timeout, in milliseconds, of a CALL that sets none (0: none).
    #[serde(default)]
    pub call_timeout_default_ms: u64,
    /// The longest timeout, in milliseconds, a CALL gets (0: no limit).
    #[serde(default)]
    pub call_timeout_max_ms: u64,
    /// Disclose every publisher to its subscribers (EVENT.Details.publisher...).
    #[serde(default)]
    pub disclose_publisher: bool,
    /// Keep retained events (`PUBLISH.Options.retain`).
    #[serde(default = "retention_default")]
    pub retention: bool,
    /// The most topics with a retained event.
    #[serde(default = "retained_max_topics_default")]
    pub retained_max_topics: usize,
    /// The most bytes of retained events.
    #[serde(default = "retained_max_bytes_default")]
    pub retained_max_bytes: usize,
    /// How long a retained event lives, in milliseconds (0: until replaced or evicted).
    #[serde(default)]
    pub retained_ttl_ms: u64,
    /// The subscriptions with an event history (`[[realms.realm.history]]`).
    #[serde(default)]
    pub history: Vec<HistoryConfig>,
    /// Who may log in with a secret or key (`[[realms.realm.principals]]`).
    #[serde(default)]
    pub principals: Vec<PrincipalConfig>,
    /// Procedures deciding logins no principal covers
    /// (`[[realms.realm.authenticators]]`).
    #[serde(default)]
    pub authenticators: Vec<AuthenticatorConfig>,
    /// The most dynamic authorizer decisions cached per shard.
    #[serde(default = "authorizer_cache_max_default")]
    pub authorizer_cache_max: usize,
    /// What each authrole may do (`[[realms.realm.roles]]`).
    #[serde(default = "roles_default")]
    pub roles: Vec<RoleConfig>,
    /// This realm's own values of the `[session]` limits
    /// (`[realms.realm.session]`; a key left out keeps the router's).
    #[serde(default, skip_serializing_if = "RealmSessionConfig::is_empty")]
    pub session: RealmSessionConfig,
}

/// A realm's overrides of the `[session]` limits and stall timeout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealmSessionConfig {
    pub max_subscriptions: Option<usize>,
    pub max_registrations: Option<usize>,
    pub max_calls_in_flight: Option<usize>,
    pub max_invocations_in_flight: Option<usize>,
    pub max_publications_per_s: Option<u32>,
    pub stall_timeout_ms: Option<u64>,
}

impl RealmSessionConfig {
    /// True when the realm overrides nothing.
    pub fn is_empty(&self) -> bool {
        *self == RealmSessionConfig::default()
    }

    /// The realm's limits: its own values, the router's for the others.
    pub fn limits(&self, router: &SessionConfig) -> crate::session::limits::Limits {
        crate::session::limits::Limits {
            subscriptions: self.max_subscriptions.unwrap_or(router.max_subscriptions),
            registrations: self.max_registrations.unwrap_or(router.max_registrations),
            calls_in_flight: self
                .max_calls_in_flight
                .unwrap_or(router.max_calls_in_flight),
            publications_per_s: (self.max_publications_per_s)
                .unwrap_or(router.max_publications_per_s),
        }
    }
}

fn authorizer_cache_max_default() -> usize {
    10_000
}

fn roles_default() -> Vec<RoleConfig> {
    vec![RoleConfig::anonymous_allow_all()]
}

/// One subscription with an event history (`[[realms.realm.history]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// The subscription's topic pattern.
    pub topic: String,
    /// How it matches: "exact", "prefix" or "wildcard".
    #[serde(default = "match_default", rename = "match")]
    pub match_policy: String,
    /// The most events kept.
    pub limit: usize,
    /// The oldest event kept, in milliseconds (0: no age limit).
    #[serde(default)]
    pub max_age_ms: u64,
}

fn match_default() -> String {
    "exact".into()
}

fn meta_api_default() -> bool {
    true
}

fn retention_default() -> bool {
    true
}

fn retained_max_topics_default() -> usize {
    10_000
}

fn retained_max_bytes_default() -> usize {
    64 << 20
}

impl RealmConfig {
    /// A realm with the given name and the default settings.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            anonymous: anonymous_default(),
            meta_api: meta_api_default(),
            disclose_caller: false,
            call_timeout_default_ms: 0,
            call_timeout_max_ms: 0,
            disclose_publisher: false,
            retention: retention_default(),
            retained_max_topics: retained_max_topics_default(),
            retained_max_bytes: retained_max_bytes_default(),
            retained_ttl_ms: 0,
            history: Vec::new(),
            principals: Vec::new(),
            authenticators: Vec::new(),
            authorizer_cache_max: authorizer_cache_max_default(),
            roles: roles_default(),
            session: RealmSessionConfig::default(),
        }
    }
}

fn anonymous_default() -> bool {
    true
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_exponent_matches_max_message_size() {
        let mut rs = RawSocketConfig::default();
        assert_eq!(rs.max_length_exponent(), 15);
        rs.max_message_size = 512;
        assert_eq!(rs.max_length_exponent(), 0);
        rs.max_message_size = 1 << 20;
        assert_eq!(rs.max_length_exponent(), 11);
    }

    #[test]
    fn ping_interval_zero_means_off() {
        let mut s = SessionConfig::default();
        assert_eq!(s.ping_interval(), Some(Duration::from_secs(30)));
        s.ping_interval_ms = 0;
        assert_eq!(s.ping_interval(), None);
    }

    #[test]
    fn shard_count_zero_means_one_per_core() {
        let mut c = Config::default();
        assert!(c.shard_count() >= 1);
        c.shards = 3;
        assert_eq!(c.shard_count(), 3);
    }
}
