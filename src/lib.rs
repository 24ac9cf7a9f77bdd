//! Switchyard: a thread-per-core WAMP v2 router (Broker + Dealer).
//!
//! # The shard model
//!
//! One process runs N shards, each a glommio executor on its own core. A
//! shard owns, alone and without locks, the sessions it accepted and its
//! part of every realm's routing tables; shards talk only through
//! `runtime::mesh`, one bounded channel per ordered pair carrying batches of
//! plain-data `realm::Envelope`s. Everything that routes is sync code that
//! never awaits (`shard`, `realm`, `session`); only `runtime` is async.
//! Dependencies point one way: `runtime -> shard -> realm -> session ->
//! routing -> wire`, and `transport -> wire`.
//!
//! # The path of a PUBLISH
//!
//! `runtime::connection` reads a frame and `wire::decode`s its header;
//! `Shard::handle_message` -> `Shard::route` parses `PublishOptions` and
//! calls `Broker::handle_publish` of the session's realm, which calls
//! `Broker::deliver` (each matching subscription's EVENT encoded once per
//! serializer by `event_frame` and pushed to each subscriber's `Outbound`)
//! and queues one `BrokerMsg::Publish` per interested shard in the `Outbox`.
//! The flusher sends the batches once the reader yields; on the other shard
//! `Shard::apply_batch` -> `Shard::apply` -> `Broker::apply` ->
//! `Broker::deliver`. Each connection's writer drains its `Outbound`.
//!
//! # The path of a CALL
//!
//! `Shard::route` -> `Dealer::handle_call`: the realm's `Registry` replica
//! picks the callee; a local one gets its INVOCATION from `Dealer::invoke`,
//! a remote one through `DealerMsg::Invoke`, applied by its shard's
//! `Dealer::apply` -> `Dealer::invoke`, which keeps the caller's return
//! address. The YIELD comes back through `Dealer::handle_yield` ->
//! `Dealer::call_result` (locally, or as `DealerMsg::Yielded` to the
//! caller's shard, whose `Dealer::apply` sends the RESULT).
//!
//! # Ordering guarantees
//!
//! Data and control share one FIFO channel per shard pair and each session
//! has one ordered outbound queue, so events from one publisher arrive in
//! publish order and invocations from one caller in call order, whatever
//! shards they cross. SUBSCRIBED and REGISTERED go out only after every
//! shard applied the change, so nothing published or called after them is
//! missed.
//!
//! # Where a new feature goes
//!
//! A new client option: `wire::options`. A new error URI: `wire::uris`. A
//! new pub/sub or RPC behaviour: the role that owns the state
//! (`realm::broker`, `realm::dealer`, `realm::home`), with any new envelope
//! as a variant of that role's message enum (every `apply` matches
//! exhaustively, so the compiler lists what must handle it). A new
//! deadline: an entry in the shard's wheel (`session::deadlines`). A new
//! authentication method: an `Authenticator` for `session::handshake`.
//!
//! # Modules
//!
//! - `wire`: WAMP messages, typed options, error URIs and the JSON /
//!   MsgPack / CBOR codecs; payloads stay raw slices of the received frame.
//! - `transport`: RawSocket and WebSocket framing on glommio streams.
//! - `routing`: URI rules, the `PatternIndex`, the home shard of a key.
//! - `session`: session records, outbound queues, the handshake state
//!   machine, the deadline wheel.
//! - `realm`: the roles (broker, dealer, home), their envelopes and context.
//! - `shard`: the per-core dispatcher of sessions, messages and envelopes.
//! - `runtime`: executors, listeners, connection tasks, mesh, supervision,
//!   the operators' HTTP listener (metrics, health, status page, the HTTP
//!   bridge, whose requests enter `Shard::route` through a hidden session)
//!   on shard 0.
//! - `metrics`: the Prometheus exposition of the shards' reports (`realm::report`),
//!   gathered at scrape time over the mesh.
//! - `config`: the configuration tree, profiles and validation.
//! - `auth`: authentication; `auth::crypto` holds the pure primitives of
//!   WAMP-CRA, WAMP-Cryptosign, WAMP-SCRAM and stored ticket hashes.

pub mod auth;
pub mod config;
pub mod metrics;
pub mod realm;
pub mod routing;
pub mod runtime;
pub mod session;
pub mod shard;
pub mod transport;
pub mod wire;
