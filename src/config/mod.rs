//! Configuration: the `Config` tree, TOML loading, validation and the CLI.
//!
//! Sources, in order: the built-in defaults (`Config::default()`, documented
//! key by key in `config/default.toml`), then an optional TOML file whose
//! missing keys keep their defaults (profiles in `config/{dev,bench,prod}.toml`),
//! then command-line overrides (`cli::Cli`). `cli::resolve` does all three and
//! validates the result.
//!
//! Every problem is reported at once, each naming its full key path: unknown
//! keys (`unknown key 'session.handshake_timeot_ms'`), wrong types, bad values
//! and semantic rules (ranges, powers of two, listeners, realms). See
//! `ConfigError` and `Problem`.
//!
//! - `auth`: principals, secrets and roles of a realm.
//! - `tree`: the structs, enums, defaults and typed helpers.
//! - `load`: TOML text/file -> `Config`, and back (`to_toml_string`).
//! - `validate`: the semantic rules.
//! - `error`: `ConfigError`, `Problem`.
//! - `cli`: `Cli`, `resolve`, `check_config`, `print_config`.
//! - `secure_listeners`, `http`: the TLS, Unix-socket and HTTP listeners;
//!   `bridge`: the HTTP bridge on the latter.

mod auth;
mod auth_check;
mod bridge;
pub use auth_check::fingerprint;
pub mod cli;
mod error;
mod http;
mod load;
mod secure_listeners;
mod tree;
mod validate;

pub use auth::{
    AllowConfig, AuthenticatorConfig, DiscloseConfig, PermissionConfig, PrincipalConfig,
    RoleConfig, Secret, SecretFrom, REDACTED,
};
pub use bridge::{BridgeConfig, BridgeSecrets, OptionalSecret};
pub use error::{ConfigError, Problem, ProblemKind};
pub use http::HttpConfig;
pub use secure_listeners::{TlsConfig, UnixConfig};
pub use tree::{
    Config, HistoryConfig, LogFormat, MeshConfig, Placement, RawSocketConfig, RealmConfig,
    RealmsConfig, SessionConfig, SlowConsumer, WebSocketConfig, MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE,
};
pub use validate::MAX_SHARDS;
