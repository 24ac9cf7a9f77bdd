//! `switchyard-load` against an in-process router: a short run of every
//! scenario must lose, duplicate and reorder nothing, and exit 0; bad rpc
//! options and a router refusing a shared registration or answering a
//! progressive call in one piece are reported as errors, promptly. Against
//! a realm without anonymous access, every session logs in (ticket, salted
//! WAMP-CRA, cryptosign); a wrong secret fails the run with the router's
//! refusal, and bad login options are refused before connecting. Over
//! RawSocket and WebSocket over TLS (trusting the test CA) and over the Unix
//! socket, runs are as clean; a CA that did not sign the router's
//! certificate fails the run.
#![allow(clippy::unwrap_used)]

mod common;

use common::tls::{Ca, SecureRouter, Via};
use common::{Kind, Router};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use switchyard::auth::crypto::cryptosign::SigningKey;

/// Runs the generator with `args` (1 s measured unless `args` say
/// otherwise); returns how it ended, what it printed and its JSON report.
fn run(args: &[&str], url: &str) -> (Output, String, Option<serde_json::Value>) {
    run_env(args, url, &[])
}

/// `run` with environment variables `env` set for the generator.
fn run_env(
    args: &[&str],
    url: &str,
    env: &[(&str, &str)],
) -> (Output, String, Option<serde_json::Value>) {
    let dir = std::env::temp_dir().join(format!("switchyard-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join(format!(
        "{}.json",
        args.join("_").replace(['/', ':', '.'], "-")
    ));
    let _ = std::fs::remove_file(&report);
    let mut all = args.to_vec();
    for (flag, default) in [("--warmup", "0.3"), ("--duration", "1")] {
        if !args.contains(&flag) {
            all.extend([flag, default]);
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-load"))
        .args(all)
        .envs(env.iter().copied())
        .args(["--url", url, "--quiet", "--json"])
        .arg(&report)
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let json = std::fs::read(&report)
        .ok()
        .map(|r| serde_json::from_slice(&r).unwrap());
    (out, printed, json)
}

/// Runs the generator with `args`, which must succeed; returns its JSON report.
fn load(args: &[&str], url: &str) -> serde_json::Value {
    let (out, printed, json) = run(args, url);
    assert!(
        out.status.success(),
        "switchyard-load {args:?} failed:\n{printed}"
    );
    json.unwrap()
}

fn assert_clean(report: &serde_json::Value) {
    let counts = &report["results"]["counts"];
    for key in ["lost", "duplicated", "out_of_order", "errors"] {
        assert_eq!(counts[key], 0, "{key} in {report}");
    }
    assert!(
        counts["received"].as_u64().unwrap() > 0,
        "nothing received: {report}"
    );
}

#[test]
fn every_scenario_runs_clean_against_the_router() {
    let router = Router::start(2);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let fire = load(
        &[
            "pubsub",
            "--publishers",
            "2",
            "--subscribers",
            "4",
            "--topics",
            "2",
        ],
        &rs,
    );
    assert_clean(&fire);
    assert_eq!(
        fire["results"]["expected"],
        fire["results"]["counts"]["received"]
    );
    assert!(fire["router_agent"]
        .as_str()
        .unwrap()
        .starts_with("switchyard"));
    assert_clean(&load(
        &[
            "pubsub",
            "--ack",
            "true",
            "--window",
            "16",
            "--serializer",
            "cbor",
        ],
        &ws,
    ));
    assert_clean(&load(
        &["pubsub", "--rate", "2000", "--subscribers", "2"],
        &ws,
    ));
    let rpc = load(
        &[
            "rpc",
            "--callers",
            "3",
            "--callees",
            "2",
            "--window",
            "8",
            "--serializer",
            "json",
        ],
        &rs,
    );
    assert_clean(&rpc);
    assert_eq!(
        rpc["results"]["extra"]["mode"],
        "3 callers x 8 in flight -> 2 callees, one procedure each"
    );
    let connect = load(
        &[
            "connect",
            "--sessions",
            "200",
            "--concurrency",
            "16",
            "--hold",
            "0.2",
        ],
        &rs,
    );
    assert_eq!(connect["results"]["counts"]["received"], 200);
    assert_clean(&load(
        &[
            "mixed",
            "--subscribers",
            "2",
            "--callers",
            "2",
            "--rate",
            "1000",
        ],
        &ws,
    ));
}

/// `--compression`: the generator's glommio client offers permessage-deflate
/// and sends its 4 KiB payloads compressed, as the router does the events
/// and results; nothing is lost or reordered.
#[test]
fn pubsub_and_rpc_run_clean_with_compression() {
    let router = Router::start(2);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    for scenario in ["pubsub", "rpc"] {
        assert_clean(&load(
            &[
                scenario,
                "--compression",
                "--payload",
                "4096",
                "--serializer",
                "msgpack",
            ],
            &ws,
        ));
    }
}

#[test]
fn a_refusing_router_is_reported_as_an_error() {
    let router = Router::start(1);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-load"))
        .args([
            "pubsub",
            "--url",
            &rs,
            "--realm",
            "no.such.realm",
            "--duration",
            "0.5",
            "--warmup",
            "0",
            "--quiet",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(printed.contains("wamp.error.no_such_realm"), "{printed}");
}

#[test]
fn bad_rpc_options_are_refused_before_connecting() {
    for (args, says) in [
        (
            &["--shared", "true", "--invoke", "sideways"][..],
            "unknown --invoke 'sideways'",
        ),
        (
            &["--invoke", "random"][..],
            "--invoke applies to a shared registration",
        ),
        (&["--progressive", "0"][..], "--progressive N needs N >= 1"),
    ] {
        let (out, printed, _) = run(&[&["rpc"][..], args].concat(), "rs://127.0.0.1:9");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {printed}");
        assert!(printed.contains(says), "{args:?}: {printed}");
    }
}

/// `rpc --callees 1 --shared true --invoke single --progressive 1` works on
/// any router: one registration, and results that come in one piece.
#[test]
fn shared_and_progressive_options_run_clean_where_the_router_allows_them() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let args = ["rpc", "--shared", "true", "--invoke", "single"];
    let report = load(
        &[&args[..], &["--callees", "1", "--progressive", "1"]].concat(),
        &rs,
    );
    assert_clean(&report);
    let extra = &report["results"]["extra"];
    assert_eq!(
        extra["mode"],
        "8 callers x 64 in flight -> shared 1/single, progressive 1"
    );
    assert_eq!(
        (extra["invoke"].as_str(), extra["progressive"].as_u64()),
        (Some("single"), Some(1))
    );
    assert_eq!(extra["chunks"], report["results"]["latency"]["count"]);
}

#[test]
fn a_refused_registration_stops_the_run_with_the_routers_error() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let started = Instant::now();
    // invoke=single admits one callee: the second REGISTER is refused.
    let args = [
        "rpc",
        "--shared",
        "true",
        "--invoke",
        "single",
        "--callees",
        "2",
    ];
    let (out, printed, report) = run(&[&args[..], &["--duration", "60"]].concat(), &rs);
    assert!(started.elapsed() < Duration::from_secs(30), "{printed}");
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("REGISTER com.switchyard.load.echo with invoke=single refused: wamp.error.procedure_already_exists"), "{printed}");
    let counts = &report.unwrap()["results"]["counts"];
    assert_eq!(
        (counts["sent"].as_u64(), counts["errors"].as_u64()),
        (Some(0), Some(1))
    );
}

/// Every call of a progressive run gets all its chunks, then its final RESULT.
#[test]
fn a_progressive_call_gets_every_chunk() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let (out, printed, report) = run(&["rpc", "--progressive", "10"], &rs);
    assert!(out.status.success(), "{printed}");
    let results = &report.unwrap()["results"];
    assert_eq!(results["counts"]["errors"], 0, "{printed}");
    assert_eq!(
        results["extra"]["chunks"].as_u64().unwrap(),
        10 * results["latency"]["count"].as_u64().unwrap()
    );
}

#[test]
fn a_shared_roundrobin_registration_runs_clean() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let args = [
        "rpc",
        "--shared",
        "true",
        "--callees",
        "4",
        "--invoke",
        "roundrobin",
    ];
    let report = load(&args, &rs);
    assert_clean(&report);
    assert_eq!(
        report["results"]["extra"]["mode"],
        "8 callers x 64 in flight -> shared 4/roundrobin"
    );
}

#[test]
fn progressive_results_run_clean() {
    let router = Router::start(2);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let report = load(&["rpc", "--progressive", "10", "--serializer", "json"], &ws);
    assert_clean(&report);
    let results = &report["results"];
    let calls = results["latency"]["count"].as_u64().unwrap();
    assert!(calls > 0, "{report}");
    assert_eq!(
        results["extra"]["chunks"].as_u64(),
        Some(10 * calls),
        "{report}"
    );
}

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
