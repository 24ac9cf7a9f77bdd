//! From the configuration tree to the options the runtime runs with.

use super::{ListenerOptions, RouterOptions};
use crate::config::{self, Config, Placement};
use crate::routing::UriCheck;
use crate::session::outbound::SlowConsumer;
use crate::shard::{RealmSettings, Settings};
use crate::transport::Compression;

impl RouterOptions {
    /// The runtime options a validated configuration describes.
    pub fn from_config(c: &Config) -> RouterOptions {
        let ws = &c.websocket;
        let websocket = ws.enabled.then(|| {
            let mut accept = super::websocket_accept(&ws.path, ws.max_message_size);
            accept.compression = ws.compression.then_some(Compression {
                threshold: ws.compression_threshold_bytes,
            });
            accept.rawsocket = ws.rawsocket_on_same_port;
            ListenerOptions {
                address: ws.address,
                accept,
                tls: None,
            }
        });
        let rs = &c.rawsocket;
        let rawsocket = rs.enabled.then(|| ListenerOptions {
            address: rs.address,
            accept: super::rawsocket_accept(rs.max_message_size),
            tls: None,
        });
        let websocket_tls = ws.tls.enabled.then(|| ListenerOptions {
            address: ws.tls.address,
            accept: super::websocket_accept(&ws.path, ws.max_message_size),
            tls: Some(ws.tls.files()),
        });
        let rawsocket_tls = rs.tls.enabled.then(|| ListenerOptions {
            address: rs.tls.address,
            accept: super::rawsocket_accept(rs.max_message_size),
            tls: Some(rs.tls.files()),
        });
        let unix = c.unix.enabled.then(|| super::UnixOptions {
            path: c.unix.path.clone().into(),
            mode: c.unix.mode_bits(),
            accept: super::rawsocket_accept(rs.max_message_size),
        });
        let slow_consumer = match c.session.slow_consumer {
            config::SlowConsumer::Disconnect => SlowConsumer::Disconnect,
            config::SlowConsumer::DropEvents => SlowConsumer::DropEvents,
        };
        RouterOptions {
            shards: c.shard_count(),
            pinned: c.placement == Placement::Pinned,
            websocket,
            rawsocket,
            websocket_tls,
            rawsocket_tls,
            unix,
            http: c.http.enabled.then_some(c.http.address),
            bridge: bridge_options(c),
            handshake_timeout: c.session.handshake_timeout(),
            ping_interval: c.session.ping_interval(),
            ping_timeout: c.session.ping_timeout(),
            ping_rawsocket: c.rawsocket.ping,
            max_sessions: c.session.max_sessions,
            max_connections_per_address: c.session.max_connections_per_address,
            max_handshakes_per_address: c.session.max_handshakes_per_address,
            outbound_budget: c.session.outbound_budget_bytes,
            outbound_watermark: c.session.outbound_watermark_bytes,
            stall_timeout: std::time::Duration::from_millis(c.session.stall_timeout_ms),
            slow_consumer,
            shutdown_grace: c.shutdown_grace(),
            spin_before_park: (c.spin_before_park_us > 0)
                .then(|| std::time::Duration::from_micros(c.spin_before_park_us)),
            mesh_capacity: c.mesh.channel_capacity,
            mesh_batch_max: c.mesh.batch_max,
            panic_shard: None,
            settings: Settings {
                uri_check: if c.session.strict_uris {
                    UriCheck::Strict
                } else {
                    UriCheck::Loose
                },
                realms: c
                    .realms
                    .realm
                    .iter()
                    .map(|r| RealmSettings {
                        name: r.name.clone(),
                        auth: std::sync::Arc::new(super::auth_options::realm_auth(r)),
                        rpc: rpc_policy(
                            r,
                            (r.session.max_invocations_in_flight)
                                .unwrap_or(c.session.max_invocations_in_flight),
                        ),
                        pubsub: pubsub_policy(r),
                        limits: (!r.session.is_empty()).then(|| r.session.limits(&c.session)),
                        stall_timeout: (r.session.stall_timeout_ms)
                            .map(std::time::Duration::from_millis),
                    })
                    .collect(),
                auto_create_realms: c.realms.auto_create,
                strict_request_ids: c.session.strict_request_ids,
                auth_failures_max: c.session.auth_failures_max,
                auth_failure_window: std::time::Duration::from_millis(
                    c.session.auth_failure_window_ms,
                ),
                handshake_timeout: c.session.handshake_timeout(),
                limits: crate::session::limits::Limits {
                    subscriptions: c.session.max_subscriptions,
                    registrations: c.session.max_registrations,
                    calls_in_flight: c.session.max_calls_in_flight,
                    publications_per_s: c.session.max_publications_per_s,
                },
            },
        }
    }
}

/// The HTTP bridge of a validated configuration, if enabled. A secret
/// that can no longer be read (validated earlier) leaves the bridge off,
/// and is logged.
fn bridge_options(c: &Config) -> Option<super::BridgeOptions> {
    let b = &c.http.bridge;
    if !(c.http.enabled && b.enabled) {
        return None;
    }
    let secrets = match b.secrets() {
        Ok(s) => s,
        Err(why) => {
            tracing::error!(%why, "the HTTP bridge is off: its secret cannot be read");
            return None;
        }
    };
    Some(super::BridgeOptions {
        authid: b.authid.clone(),
        authrole: b.authrole.clone(),
        ticket: secrets.ticket,
        signing: secrets.signing.map(|(key, secret)| super::Signing {
            key,
            secret,
            window: std::time::Duration::from_secs(b.timestamp_window_s),
        }),
        max_body_bytes: b.max_body_bytes,
        max_concurrent: b.max_concurrent,
        call_timeout: std::time::Duration::from_millis(b.call_timeout_ms),
    })
}

/// The RPC policy of a configured realm (0 ms: not set).
fn rpc_policy(r: &crate::config::RealmConfig, max_invocations: usize) -> crate::realm::RpcPolicy {
    let ms = |v: u64| (v > 0).then(|| std::time::Duration::from_millis(v));
    crate::realm::RpcPolicy {
        meta_api: r.meta_api,
        disclose_caller: r.disclose_caller,
        default_timeout: ms(r.call_timeout_default_ms),
        max_timeout: ms(r.call_timeout_max_ms),
        max_invocations,
    }
}

/// The publish & subscribe policy of a configured realm (validated: match
/// names are known).
fn pubsub_policy(r: &crate::config::RealmConfig) -> crate::realm::PubSubPolicy {
    use crate::realm::{HistorySpec, PubSubPolicy, Retention};
    let ms = |v: u64| (v > 0).then(|| std::time::Duration::from_millis(v));
    PubSubPolicy {
        meta_api: r.meta_api,
        disclose_publisher: r.disclose_publisher,
        retention: Retention {
            enabled: r.retention,
            max_topics: r.retained_max_topics,
            max_bytes: r.retained_max_bytes,
            ttl: ms(r.retained_ttl_ms),
        },
        history: r
            .history
            .iter()
            .filter_map(|h| {
                Some(HistorySpec {
                    topic: crate::wire::Text::from(h.topic.as_str()),
                    policy: crate::routing::MatchPolicy::from_name(&h.match_policy)?,
                    limit: h.limit,
                    max_age: ms(h.max_age_ms),
                })
            })
            .collect(),
    }
}
