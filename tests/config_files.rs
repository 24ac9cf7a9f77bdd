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

/// A profile with the certificate files of its TLS listeners replaced by a
/// test certificate, validated.
fn load_profile(name: &str) -> Config {
    let mut c = Config::load_unvalidated(path(name)).unwrap();
    let (cert, key) = test_certificate();
    for tls in [&mut c.websocket.tls, &mut c.rawsocket.tls] {
        if tls.enabled {
            tls.cert_file = cert.clone();
            tls.key_file = key.clone();
        }
    }
    c.validate().unwrap();
    c
}

/// A self-signed certificate and its key, as PEM files (made once).
fn test_certificate() -> (String, String) {
    static FILES: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    FILES
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("config-files-tls-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
            let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
            std::fs::write(&c, cert.cert.pem()).unwrap();
            std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
            (c.display().to_string(), k.display().to_string())
        })
        .clone()
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
    let c = load_profile("prod.toml");
    assert_eq!(c.placement, Placement::Pinned);
    assert!(c.websocket.tls.enabled && c.rawsocket.tls.enabled);
    assert!(c.websocket.tls.address.ip().is_unspecified());
    assert!(c.rawsocket.tls.address.ip().is_unspecified());
    assert!(c.websocket.address.ip().is_loopback());
    assert!(c.rawsocket.address.ip().is_loopback());
    assert!(!c.realms.auto_create);
}

#[test]
fn prod_profile_names_its_missing_certificate() {
    let err = Config::load(path("prod.toml")).unwrap_err().to_string();
    assert!(err.contains("websocket.tls"), "{err}");
    assert!(err.contains("/etc/switchyard/tls/cert.pem"), "{err}");
}

#[test]
fn every_profile_round_trips_through_to_toml_string() {
    for name in ["default.toml", "dev.toml", "bench.toml", "prod.toml"] {
        let c = load_profile(name);
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
