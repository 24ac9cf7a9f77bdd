//! `switchyard-load` against an in-process router: a short run of every
//! scenario must lose, duplicate and reorder nothing, and exit 0.
#![allow(clippy::unwrap_used)]

mod common;

use common::Router;
use std::process::Command;

/// Runs the generator with `args`; returns its JSON report.
fn load(args: &[&str], url: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("switchyard-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join(format!(
        "{}.json",
        args.join("_").replace(['/', ':', '.'], "-")
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-load"))
        .args(args)
        .args([
            "--url",
            url,
            "--warmup",
            "0.3",
            "--duration",
            "1",
            "--quiet",
            "--json",
        ])
        .arg(&report)
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "switchyard-load {args:?} failed:\n{printed}"
    );
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
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
