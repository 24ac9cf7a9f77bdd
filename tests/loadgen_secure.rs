//! `switchyard-load` logging in and over secure transports: against a realm
//! without anonymous access every session logs in (ticket, salted WAMP-CRA,
//! cryptosign); a wrong secret fails the run with the router's refusal, and
//! bad login options are refused before connecting. Over RawSocket and
//! WebSocket over TLS (trusting the test CA) and over the Unix socket, runs
//! are clean; a CA that did not sign the router's certificate fails the run.
#![allow(clippy::unwrap_used)]

mod common;

use common::loadgen::*;
use common::tls::{Ca, SecureRouter, Via};
use common::{Kind, Router};
use std::time::{Duration, Instant};
use switchyard::auth::crypto::cryptosign::SigningKey;

/// A router of two shards whose realm `load.auth` takes no anonymous
/// sessions: tina logs in with a ticket, sally with a salted WAMP-CRA secret,
/// kim with `key`; all may do everything.
fn auth_router(key: &SigningKey) -> Router {
    let toml = format!(
        r#"
[[realms.realm]]
name = "load.auth"
anonymous = false
[[realms.realm.principals]]
authid = "tina"
authrole = "bench"
ticket = "tina-ticket"
[[realms.realm.principals]]
authid = "sally"
authrole = "bench"
wampcra = {{ value = "cra-salt-secret", salt = "cra-salt", iterations = 1000, keylen = 32 }}
[[realms.realm.principals]]
authid = "kim"
authrole = "bench"
cryptosign = ["{}"]
[[realms.realm.roles]]
name = "bench"
[[realms.realm.roles.permissions]]
uri = ""
match = "prefix"
allow = {{ call = true, register = true, publish = true, subscribe = true }}
"#,
        key.public().to_hex()
    );
    Router::from_toml(2, &toml)
}

const TICKET: [&str; 6] = [
    "--realm",
    "load.auth",
    "--authmethod",
    "ticket",
    "--authid",
    "tina",
];

/// Whether `text` is in `report` outside `config.json` (the report's own
/// path, which this file's `run` makes of the arguments).
fn shows(report: &serde_json::Value, text: &str) -> bool {
    let mut r = report.clone();
    r["config"]["json"] = serde_json::Value::Null;
    r.to_string().contains(text)
}

/// Every session of the connect, pub/sub and RPC scenarios answers its
/// CHALLENGE: ticket (the secret from the environment), salted WAMP-CRA and
/// cryptosign (the key from a file, then from the command line). Anonymous
/// sessions are refused by this realm, so each join is a login; neither
/// secret nor key reaches the JSON report.
#[test]
fn every_session_logs_in_with_ticket_wampcra_or_cryptosign() {
    let key = SigningKey::generate();
    let router = auth_router(&key);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let connect = [
        "connect",
        "--sessions",
        "60",
        "--concurrency",
        "16",
        "--hold",
        "0.1",
    ];
    let short = ["--warmup", "0.2", "--duration", "0.5"];
    let env = [("LOAD_TICKET", "tina-ticket")];
    let ticket = [&TICKET[..], &["--secret-env", "LOAD_TICKET"]].concat();

    let (out, printed, report) = run_env(&[&connect[..], &ticket].concat(), &rs, &env);
    assert!(out.status.success(), "ticket connect:\n{printed}");
    let report = report.unwrap();
    assert_eq!(report["results"]["counts"]["received"], 60, "{report}");
    assert_eq!(report["config"]["secret_env"], "LOAD_TICKET");
    let (out, printed, report) = run_env(
        &[&["pubsub", "--subscribers", "2"][..], &short, &ticket].concat(),
        &ws,
        &env,
    );
    assert!(out.status.success(), "ticket pubsub:\n{printed}");
    assert_clean(&report.unwrap());

    let cra = [
        "--realm",
        "load.auth",
        "--authmethod",
        "wampcra",
        "--authid",
        "sally",
        "--secret",
        "cra-salt-secret",
    ];
    let report = load(&[&connect[..], &cra].concat(), &ws);
    assert_eq!(report["results"]["counts"]["received"], 60, "{report}");
    assert!(!shows(&report, "cra-salt-secret"), "{report}");

    let dir = std::env::temp_dir().join(format!("switchyard-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("kim.seed");
    std::fs::write(&key_file, format!("{}\n", key.seed_hex())).unwrap();
    let by_file = [
        "--realm",
        "load.auth",
        "--authmethod",
        "cryptosign",
        "--key-file",
        key_file.to_str().unwrap(),
    ];
    let report = load(&[&connect[..], &by_file].concat(), &rs);
    assert_eq!(report["results"]["counts"]["received"], 60, "{report}");
    let seed = key.seed_hex();
    let by_key = [
        "--realm",
        "load.auth",
        "--authmethod",
        "cryptosign",
        "--authid",
        "kim",
        "--key",
        &seed,
    ];
    let rpc = load(
        &[
            &["rpc", "--callers", "2", "--window", "8"][..],
            &short,
            &by_key,
        ]
        .concat(),
        &rs,
    );
    assert_clean(&rpc);
    assert!(!shows(&rpc, &seed), "{rpc}");
}

/// A wrong ticket fails the run (non-zero exit) with the router's refusal
/// and the login it refused, once, promptly.
#[test]
fn a_wrong_secret_fails_the_run_with_the_routers_refusal() {
    let router = auth_router(&SigningKey::generate());
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let wrong = [&TICKET[..], &["--secret", "not-the-ticket"]].concat();
    let says = "the router refused the session: wamp.error.authentication_failed";
    let login = "(logging in with ticket as authid 'tina')";
    for scenario in [
        &["connect", "--sessions", "20", "--hold", "0"][..],
        &["pubsub"][..],
    ] {
        let started = Instant::now();
        let (out, printed, _) = run(&[scenario, &wrong].concat(), &rs);
        assert!(started.elapsed() < Duration::from_secs(20), "{printed}");
        assert_eq!(out.status.code(), Some(1), "{scenario:?}: {printed}");
        assert!(
            printed.contains(says) && printed.contains(login),
            "{scenario:?}: {printed}"
        );
        if scenario[0] == "connect" {
            assert_eq!(printed.matches(says).count(), 1, "{printed}");
        }
    }
}

#[test]
fn bad_login_options_are_refused_before_connecting() {
    for (args, says) in [
        (
            &["--authmethod", "ticket", "--secret", "x"][..],
            "--authmethod ticket needs --authid ID",
        ),
        (
            &["--authmethod", "wampcra", "--authid", "carl"][..],
            "--authmethod wampcra needs --secret TEXT or --secret-env VAR",
        ),
        (
            &[
                "--authmethod",
                "ticket",
                "--authid",
                "tina",
                "--secret-env",
                "SWITCHYARD_LOAD_NOT_SET",
            ][..],
            "the environment variable SWITCHYARD_LOAD_NOT_SET is not set",
        ),
        (
            &["--authmethod", "cryptosign"][..],
            "--authmethod cryptosign needs --key HEX or --key-file PATH",
        ),
        (
            &["--authmethod", "cryptosign", "--key", "12ab"][..],
            "--key: expected a 32-byte Ed25519 seed",
        ),
        (
            &[
                "--authmethod",
                "cryptosign",
                "--key-file",
                "/nonexistent/kim.seed",
            ][..],
            "reading --key-file /nonexistent/kim.seed",
        ),
        (
            &[
                "--authmethod",
                "ticket",
                "--authid",
                "tina",
                "--secret",
                "x",
                "--key",
                "12",
            ][..],
            "--key/--key-file apply to --authmethod cryptosign",
        ),
        (
            &["--secret", "x"][..],
            "--secret/--secret-env apply to --authmethod ticket or wampcra",
        ),
        (
            &["--authmethod", "scram"][..],
            "unknown --authmethod 'scram'",
        ),
    ] {
        let (out, printed, _) = run(&[&["connect"][..], args].concat(), "rs://127.0.0.1:9");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {printed}");
        assert!(printed.contains(says), "{args:?}: {printed}");
    }
}

/// RPC over RawSocket over TLS (`--ca` the test CA, or `--insecure true`) and
/// over the Unix socket, and acknowledged pub/sub over WebSocket over TLS,
/// on two shards: nothing lost, duplicated or reordered. A `--ca` that did
/// not sign the router's certificate fails the run with the certificate
/// error; `rss://` with neither `--ca` nor `--insecure` is refused before
/// connecting.
#[test]
fn runs_over_tls_and_the_unix_socket_are_clean() {
    let r = SecureRouter::start(2, "load");
    let ca = r.pki.ca.file.display().to_string();
    let rss = r.url(Via::Tls(Kind::RawSocket));
    let rpc = ["rpc", "--callers", "2", "--callees", "2", "--window", "8"];
    let over_tls = load(&[&rpc[..], &["--ca", &ca]].concat(), &rss);
    assert_clean(&over_tls);
    assert_eq!(
        over_tls["results"]["extra"]["mode"],
        "2 callers x 8 in flight -> 2 callees, one procedure each"
    );
    assert_clean(&load(&[&rpc[..], &["--insecure", "true"]].concat(), &rss));
    assert_clean(&load(&rpc, &r.url(Via::Unix)));
    assert_clean(&load(
        &["pubsub", "--ack", "true", "--window", "16", "--ca", &ca],
        &r.url(Via::Tls(Kind::WebSocket)),
    ));

    let other = Ca::new(&r.pki.dir, "other");
    let started = Instant::now();
    let (out, printed, _) = run(&["rpc", "--ca", &other.file.display().to_string()], &rss);
    assert!(!out.status.success(), "a run trusting another CA succeeded");
    assert!(printed.contains("UnknownIssuer"), "{printed}");
    assert!(started.elapsed() < Duration::from_secs(10), "{printed}");
    let (out, printed, _) = run(&["rpc"], &rss);
    assert!(!out.status.success());
    assert!(printed.contains("needs --ca FILE"), "{printed}");
}
