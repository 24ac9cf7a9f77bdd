//! The operators' HTTP endpoints over real sockets: `/metrics` in the
//! Prometheus text format, gathered from every shard at scrape time,
//! `/health`, `/ready`, and the answers to bad requests, with the plain
//! HTTP client of `common::http`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::http::{exchange, request};
use common::metrics::{assert_sums, float, scrape, value};
use common::{Client, Kind, Router, Setup};
use std::io::Write;
use switchyard::runtime::RouterOptions;
use switchyard::wire::{Message, Payload, Serializer};

const SETUP: Setup = Setup {
    shards: 3,
    kind: Kind::RawSocket,
    serializer: Serializer::Json,
};

/// One publish to `topic`, seen by `sub`, and one call of `procedure`.
fn traffic(publisher: &mut Client, sub: &mut Client, caller: &mut Client, callee: &mut Client) {
    publisher.publish_acked("com.metrics.news", Payload::empty());
    assert!(matches!(sub.recv(), Message::Event { .. }));
    caller.call("com.metrics.add", Payload::empty());
    callee.serve_one(|_| Payload::empty());
    assert!(matches!(caller.recv(), Message::Result { .. }));
}

#[test]
fn metrics_count_each_shards_sessions_events_and_calls_and_grow_with_traffic() {
    let router = Router::start(SETUP.shards);
    let mut callee = router.join_on(SETUP, 0);
    let mut sub = router.join_on(SETUP, 1);
    let mut caller = router.join_on(SETUP, 1);
    let mut publisher = router.join_on(SETUP, 2);
    sub.subscribe("com.metrics.news");
    callee.register("com.metrics.add").unwrap();
    for _ in 0..5 {
        traffic(&mut publisher, &mut sub, &mut caller, &mut callee);
    }
    let first = scrape(&router);
    for (shard, sessions) in [("0", 1), ("1", 2), ("2", 1), ("all", 4)] {
        assert_eq!(value(&first, "switchyard_sessions_open", shard), sessions);
        assert!(value(&first, "switchyard_sessions_opened_total", shard) >= sessions);
    }
    for shard in ["0", "1", "2"] {
        assert_eq!(value(&first, "switchyard_shard_up", shard), 1);
    }
    assert_eq!(value(&first, "switchyard_events_delivered_total", "1"), 5);
    assert_eq!(value(&first, "switchyard_events_delivered_total", "all"), 5);
    assert_eq!(value(&first, "switchyard_calls_total", "1"), 5);
    assert_eq!(value(&first, "switchyard_topics", "1"), 1);
    assert_eq!(
        value(&first, "switchyard_procedures", "all"),
        3,
        "a replica per shard"
    );
    assert_eq!(value(&first, "switchyard_calls_in_flight", "all"), 0);
    assert_sums(&first, SETUP.shards);
    for _ in 0..3 {
        traffic(&mut publisher, &mut sub, &mut caller, &mut callee);
    }
    let second = scrape(&router);
    assert_eq!(value(&second, "switchyard_events_delivered_total", "1"), 8);
    assert_eq!(value(&second, "switchyard_calls_total", "all"), 8);
    for ((name, shard), before) in &first {
        if name.ends_with("_total") || name.contains("_total{") {
            assert!(float(&second, name, shard) >= *before, "{name} went down");
        }
    }
    assert_sums(&second, SETUP.shards);
}

#[test]
fn messages_are_counted_per_type_in_and_out_for_every_serializer() {
    const N: u64 = 7;
    let router = Router::start(2);
    let realm = SETUP.realm();
    let ws_msgpack = Setup {
        shards: 2,
        kind: Kind::WebSocket,
        serializer: Serializer::MsgPack,
    };
    let rs_cbor = Setup {
        serializer: Serializer::Cbor,
        ..SETUP
    };
    let mut sub_msgpack = router.join_on_in(ws_msgpack, 0, &realm);
    let mut sub_cbor = router.join_on_in(rs_cbor, 1, &realm);
    let mut publisher = router.join_on_in(SETUP, 1, &realm);
    sub_msgpack.subscribe("com.metrics.types");
    sub_cbor.subscribe("com.metrics.types");
    let before = scrape(&router);
    for _ in 0..N {
        publisher.publish_acked("com.metrics.types", Payload::empty());
        assert!(matches!(sub_msgpack.recv(), Message::Event { .. }));
        assert!(matches!(sub_cbor.recv(), Message::Event { .. }));
    }
    let after = scrape(&router);
    let grew = |dir: &str, ty: &str, shard: &str| {
        let name = format!("switchyard_messages_{dir}_total{{type=\"{ty}\"}}");
        value(&after, &name, shard) - value(&before, &name, shard)
    };
    assert!(grew("in", "PUBLISH", "1") >= N);
    assert!(grew("in", "PUBLISH", "all") >= N);
    assert!(grew("out", "PUBLISHED", "1") >= N, "JSON frames peeked");
    assert!(grew("out", "EVENT", "0") >= N, "MessagePack frames peeked");
    assert!(grew("out", "EVENT", "1") >= N, "CBOR frames peeked");
    assert!(grew("out", "EVENT", "all") >= 2 * N);
    let seen = [
        ("in", "HELLO", 3),
        ("out", "WELCOME", 3),
        ("in", "SUBSCRIBE", 2),
    ];
    for (dir, ty, at_least) in seen {
        let name = format!("switchyard_messages_{dir}_total{{type=\"{ty}\"}}");
        assert!(value(&before, &name, "all") >= at_least, "{name}");
    }
    assert_sums(&after, 2);
}

#[test]
fn health_and_ready_answer_200_with_json_when_every_shard_answers() {
    let router = Router::start(3);
    let addr = router.running.http_addr().unwrap();
    let health = request(addr, "GET", "/health");
    assert_eq!(health.status, 200, "{}", health.body);
    assert!(health.headers.contains("content-type: application/json"));
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["shards"], 3);
    let ready = request(addr, "GET", "/ready?verbose=1");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert!(ready.body.contains("ready"));
}

#[test]
fn unknown_paths_other_methods_and_malformed_requests_are_refused() {
    let router = Router::start(2);
    let addr = router.running.http_addr().unwrap();
    assert_eq!(request(addr, "GET", "/nothing-here").status, 404);
    let post = request(addr, "POST", "/metrics");
    assert_eq!(post.status, 405);
    assert!(post.headers.contains("allow: get"));
    assert_eq!(exchange(addr, b"NOT HTTP AT ALL\r\n\r\n").status, 400);
    assert_eq!(exchange(addr, b"GET /metrics HTTP/1.1\r\n").status, 400);
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.resize(switchyard::runtime::HTTP_MAX_HEAD, b'a');
    assert_eq!(exchange(addr, &huge).status, 431);
    // The listener still serves after all that.
    assert_eq!(request(addr, "GET", "/health").status, 200);
}

#[test]
fn logins_and_failed_logins_are_counted_per_method() {
    let router = Router::from_toml(
        2,
        "[[realms.realm]]\nname = \"realm1\"\n\
         [[realms.realm.principals]]\nauthid = \"tina\"\nauthrole = \"anonymous\"\n\
         ticket = \"t1cket\"\n",
    );
    let url = router.url(Kind::RawSocket);
    let ticket = |t: &str| common::auth::Credentials::ticket("tina", t);
    for t in ["t1cket", "t1cket", "wrong"] {
        let mut c = Client::connect(&url, Serializer::Json);
        c.login("realm1", &ticket(t));
    }
    let _anonymous = Client::join(&url, Serializer::Json, "realm1");
    let m = scrape(&router);
    let logins = "switchyard_logins_total{method=\"ticket\"}";
    assert_eq!(value(&m, logins, "all"), 2);
    let failures = "switchyard_login_failures_total{method=\"ticket\"}";
    assert_eq!(value(&m, failures, "all"), 1);
    let anonymous = "switchyard_logins_total{method=\"anonymous\"}";
    assert_eq!(value(&m, anonymous, "all"), 1);
    assert_sums(&m, 2);
}

#[test]
fn the_http_listener_can_be_turned_off() {
    let mut opts = RouterOptions::local(1);
    opts.http = None;
    let router = Router::start_with(opts);
    assert_eq!(router.running.http_addr(), None);
}

#[test]
fn the_exposition_passes_promtool_check() {
    use std::process::{Command, Stdio};
    // Debian's prometheus package carries promtool; installed when missing.
    common::apt::ensure("/usr/bin/promtool", "prometheus");
    let router = Router::start(2);
    let mut c = router.join_on(Setup { shards: 2, ..SETUP }, 1);
    c.publish_acked("com.metrics.lint", Payload::empty());
    let reply = request(router.running.http_addr().unwrap(), "GET", "/metrics");
    let mut child = Command::new("/usr/bin/promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(reply.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}
