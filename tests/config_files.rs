#![allow(clippy::unwrap_used)]
//! The shipped config files: `config/default.toml` is exactly the built-in
//! defaults (so its documentation cannot drift from the code), the profiles
//! parse and validate, and the effective config round-trips through TOML.

use std::path::PathBuf;

use switchyard::config::{Config, Placement};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

fn raw_table(name: &str) -> toml::Table {
    std::fs::read_to_string(path(name))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn default_toml_parses_to_exactly_the_built_in_defaults() {
    assert_eq!(
        Config::load(path("default.toml")).unwrap(),
        Config::default()
    );
}

#[test]
fn default_toml_documents_every_key_and_no_other() {
    let documented = toml::Value::Table(raw_table("default.toml"));
    let built_in = toml::Value::try_from(Config::default()).unwrap();
    assert_eq!(documented, built_in);
}

#[test]
fn dev_profile_parses_and_validates() {
    let c = Config::load(path("dev.toml")).unwrap();
    assert!((1..=2).contains(&c.shards));
    assert_eq!(c.placement, Placement::Unpinned);
    assert_eq!(c.log_level, "debug");
    assert!(c.realms.auto_create);
    assert!(c.session.handshake_timeout() < Config::default().session.handshake_timeout());
}

#[test]
fn bench_profile_parses_and_validates() {
    let c = Config::load(path("bench.toml")).unwrap();
    assert_eq!(c.placement, Placement::Pinned);
    assert_eq!(c.log_level, "warn");
    assert_eq!(c.session.ping_interval(), None);
    assert!(c.session.outbound_budget_bytes > Config::default().session.outbound_budget_bytes);
    assert!(
        !c.websocket.compression,
        "benchmarks run without compression"
    );
}

#[test]
fn prod_profile_parses_and_validates() {
    let c = Config::load(path("prod.toml")).unwrap();
    assert_eq!(c.placement, Placement::Pinned);
    assert!(c.websocket.address.ip().is_unspecified());
    assert!(c.rawsocket.address.ip().is_unspecified());
    assert!(!c.realms.auto_create);
}

#[test]
fn every_profile_round_trips_through_to_toml_string() {
    for name in ["default.toml", "dev.toml", "bench.toml", "prod.toml"] {
        let c = Config::load(path(name)).unwrap();
        let text = c.to_toml_string().unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), c, "{name}");
    }
}

#[test]
fn profiles_only_override_keys_that_exist() {
    let built_in = toml::Value::try_from(Config::default()).unwrap();
    for name in ["dev.toml", "bench.toml", "prod.toml"] {
        for (table, value) in raw_table(name) {
            let known = built_in.get(&table).unwrap();
            if let (toml::Value::Table(keys), toml::Value::Table(defaults)) = (&value, known) {
                assert!(
                    keys.keys().all(|k| defaults.contains_key(k)),
                    "{name} [{table}]"
                );
            }
        }
    }
}
