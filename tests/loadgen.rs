//! `switchyard-load` against an in-process router: a short run of every
//! scenario must lose, duplicate and reorder nothing, and exit 0; bad rpc
//! options and a router refusing a shared registration or answering a
//! progressive call in one piece are reported as errors, promptly. Logins,
//! TLS and the Unix socket: `loadgen_secure.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use common::loadgen::*;
use common::Router;
use std::process::Command;
use std::time::{Duration, Instant};

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
