//! The operators' HTTP endpoints over real sockets: `/metrics` in the
//! Prometheus text format, gathered from every shard at scrape time,
//! `/health`, `/ready`, and the answers to bad requests, with the plain
//! HTTP client of `common::http`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::http::{exchange, request};
use common::{Client, Kind, Router, Setup};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};
use switchyard::runtime::RouterOptions;
use switchyard::wire::{Dict, Message, Payload, RequestId, Serializer, Text, Value};

type Samples = BTreeMap<(String, String), f64>;

/// Samples by (metric name and labels other than `shard`, `shard` label);
/// every line must be a comment
/// (`# HELP`/`# TYPE`) or a sample `name{labels} value`.
fn parse(text: &str) -> Samples {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap();
            assert!(kind == "HELP" || kind == "TYPE", "bad comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample");
        let (name, labels) = series.split_once('{').expect("labels");
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        assert!(name.chars().all(valid), "bad metric name: {line}");
        // `shard` first; any other labels (login counters' `method`) become
        // part of the key's name.
        let labels = labels.strip_suffix('}').expect("closed labels");
        let (shard, rest) = labels.split_once(',').unwrap_or((labels, ""));
        let shard = shard
            .strip_prefix("shard=\"")
            .and_then(|l| l.strip_suffix('"'))
            .expect("a shard label first");
        let key = if rest.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{rest}}}")
        };
        let value: f64 = value.parse().expect("a number");
        out.insert((key, shard.to_string()), value);
    }
    out
}

fn scrape(router: &Router) -> Samples {
    let reply = request(router.running.http_addr().unwrap(), "GET", "/metrics");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply
        .headers
        .contains("content-type: text/plain; version=0.0.4"));
    parse(&reply.body)
}

/// A sample's value, as an integer (every series but a histogram's `_sum`).
fn value(m: &Samples, name: &str, shard: &str) -> u64 {
    float(m, name, shard) as u64
}

fn float(m: &Samples, name: &str, shard: &str) -> f64 {
    *m.get(&(name.to_string(), shard.to_string()))
        .unwrap_or_else(|| panic!("{name}{{shard=\"{shard}\"}} missing"))
}

/// The `shard="all"` series of every metric is the sum of the shards'
/// that have it (a shard has no mesh series to itself, and only the
/// realms it knows); every shard has the series without another label.
fn assert_sums(m: &Samples, shards: usize) {
    let names: Vec<&String> = m.keys().map(|(n, _)| n).collect();
    for name in names.into_iter().filter(|n| *n != "switchyard_shard_up") {
        let per_shard = (0..shards).filter_map(|s| m.get(&(name.clone(), s.to_string())));
        if !name.contains('{') {
            assert_eq!(per_shard.clone().count(), shards, "{name} on every shard");
        }
        let sum: f64 = per_shard.sum();
        let all = float(m, name, "all");
        assert!(
            (all - sum).abs() <= 1e-9 * all.abs().max(1.0),
            "{name}: {all} != {sum}"
        );
    }
}

/// Scrapes until `ready` holds (a connection's end is counted once its
/// task has run), for at most 10 s; the last scrape.
fn scrape_until(router: &Router, ready: impl Fn(&Samples) -> bool) -> Samples {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = scrape(router);
        if ready(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How much series `name` grew on `shard` from `before` to `after`.
fn grew(before: &Samples, after: &Samples, name: &str, shard: &str) -> u64 {
    value(after, name, shard) - value(before, name, shard)
}

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
    let mut c = router.join_on(SETUP_2, 1);
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

const SETUP_2: Setup = Setup {
    shards: 2,
    kind: Kind::WebSocket,
    serializer: Serializer::MsgPack,
};

const RS_JSON: Setup = Setup {
    shards: 2,
    kind: Kind::RawSocket,
    serializer: Serializer::Json,
};

/// The reasons a session can end with, as labelled.
const CLOSE_REASONS: [&str; 8] = [
    "goodbye",
    "abort",
    "transport_closed",
    "protocol_violation",
    "slow_consumer",
    "ping_timeout",
    "killed",
    "shutdown",
];

fn closed(reason: &str) -> String {
    format!("switchyard_sessions_closed_total{{reason=\"{reason}\"}}")
}

fn violations(reason: &str) -> String {
    format!("switchyard_protocol_violations_by_reason_total{{reason=\"{reason}\"}}")
}

/// `[ABORT, {}, reason]` from the client.
fn abort() -> Message {
    Message::Abort {
        details: Dict::new(),
        reason: Text::from("wamp.close.system_shutdown"),
        payload: Payload::empty(),
    }
}

#[test]
fn each_ended_session_is_counted_once_with_its_reason() {
    let router = Router::start(2);
    let setup = RS_JSON;
    let before = scrape(&router);
    let mut leaving = router.join(setup);
    leaving.goodbye();
    drop(leaving);
    let mut aborting = router.join(setup);
    aborting.send(&abort());
    aborting.expect_closed();
    drop(router.join(setup));
    let mut garbled = router.join(setup);
    garbled.send_raw(b"[48, 1, {}");
    garbled.expect_closed();
    let mut victim = router.join(setup);
    let mut asker = router.join(setup);
    let id = Value::UInt(victim.session.0);
    asker.call("wamp.session.kill", Payload::args(vec![id]));
    assert!(matches!(asker.recv(), Message::Result { .. }));
    assert!(matches!(victim.recv(), Message::Goodbye { .. }));
    victim.expect_closed();
    let expected = [1, 1, 1, 1, 0, 0, 1, 0];
    let after = scrape_until(&router, |m| {
        let n = |r: &str| grew(&before, m, &closed(r), "all");
        n("transport_closed") >= 1 && n("killed") >= 1
    });
    for (reason, want) in CLOSE_REASONS.iter().zip(expected) {
        assert_eq!(
            grew(&before, &after, &closed(reason), "all"),
            want,
            "{reason}"
        );
    }
    assert_eq!(grew(&before, &after, &violations("decode"), "all"), 1);
    assert_eq!(value(&after, "switchyard_sessions_open", "all"), 1);
    let realm = format!(
        "switchyard_realm_sessions_open{{realm=\"{}\"}}",
        setup.realm()
    );
    assert_eq!(value(&after, &realm, "all"), 1);
    assert_sums(&after, 2);
}

#[test]
fn a_peer_that_does_not_answer_pings_is_counted_as_a_ping_timeout() {
    let mut opts = RouterOptions::local(1);
    opts.ping_interval = Some(Duration::from_millis(100));
    opts.ping_timeout = Duration::from_millis(100);
    opts.ping_rawsocket = true;
    let router = Router::start_with(opts);
    let mut silent = router.join(RS_JSON);
    // Read frames without answering pings until the router gives up.
    while let Ok(Some(frame)) = silent.conn.recv_frame() {
        if matches!(frame, switchyard::transport::Inbound::Close) {
            break;
        }
    }
    let m = scrape_until(&router, |m| value(m, &closed("ping_timeout"), "all") == 1);
    assert_eq!(value(&m, &closed("ping_timeout"), "0"), 1);
    assert_eq!(value(&m, &closed("transport_closed"), "all"), 0);
}

#[test]
fn a_stuck_subscriber_is_counted_as_a_slow_consumer() {
    let mut opts = RouterOptions::local(1);
    opts.outbound_budget = 64 * 1024;
    opts.outbound_watermark = 16 * 1024;
    opts.stall_timeout = Duration::from_millis(200);
    let router = Router::start_with(opts);
    let mut stuck = router.join(RS_JSON);
    stuck.subscribe("com.metrics.flood");
    let mut publisher = router.join(RS_JSON);
    let flooding = std::thread::spawn(move || {
        let filler = Payload::args(vec![Value::Bytes(vec![0x5a; 4096].into())]);
        for _ in 0..4000 {
            publisher.publish("com.metrics.flood", Dict::new(), filler.clone());
        }
        publisher.publish_acked("com.metrics.done", Payload::empty());
        publisher
    });
    let _publisher = flooding.join().unwrap();
    let m = scrape_until(&router, |m| value(m, &closed("slow_consumer"), "all") == 1);
    assert_eq!(value(&m, &closed("slow_consumer"), "all"), 1);
    assert_eq!(
        value(&m, "switchyard_slow_consumer_disconnects_total", "all"),
        1
    );
    assert_eq!(
        value(&m, "switchyard_sessions_open", "all"),
        1,
        "the publisher"
    );
    assert_eq!(value(&m, &closed("transport_closed"), "all"), 0);
}

/// The next INVOCATION's request ID.
fn invocation(callee: &mut Client) -> RequestId {
    match callee.recv() {
        Message::Invocation { request, .. } => request,
        other => panic!("expected INVOCATION, got {other:?}"),
    }
}

/// The error URI of the caller's next message, an ERROR.
fn call_error(caller: &mut Client) -> String {
    match caller.recv() {
        Message::Error { error, .. } => error.as_str().to_string(),
        other => panic!("expected ERROR, got {other:?}"),
    }
}

#[test]
fn calls_are_counted_by_outcome_on_the_callers_shard() {
    let router = Router::start(2);
    let mut callee = router.join_on(RS_JSON, 0);
    let mut caller = router.join_on(RS_JSON, 1);
    for p in ["com.metrics.ok", "com.metrics.fail", "com.metrics.slow"] {
        callee.register(p).unwrap();
    }
    let before = scrape(&router);
    caller.call("com.metrics.ok", Payload::empty());
    callee.serve_one(|_| Payload::empty());
    assert!(matches!(caller.recv(), Message::Result { .. }));
    caller.call("com.metrics.fail", Payload::empty());
    let request = invocation(&mut callee);
    callee.send(&Message::Error {
        request_type: 68,
        request,
        details: Dict::new(),
        error: Text::from("com.example.oops"),
        payload: Payload::empty(),
    });
    assert_eq!(call_error(&mut caller), "com.example.oops");
    let timeout = Dict::new().with("timeout", 100u64);
    caller.call_with("com.metrics.slow", timeout, Payload::empty());
    invocation(&mut callee);
    assert_eq!(call_error(&mut caller), "wamp.error.timeout");
    let request = caller.call("com.metrics.slow", Payload::empty());
    invocation(&mut callee);
    let options = Dict::new();
    caller.send(&Message::Cancel { request, options });
    assert_eq!(call_error(&mut caller), "wamp.error.canceled");
    caller.call("com.metrics.nobody", Payload::empty());
    assert_eq!(call_error(&mut caller), "wamp.error.no_such_procedure");
    let after = scrape(&router);
    let outcomes = [
        ("answered", 1),
        ("errored", 1),
        ("timed_out", 1),
        ("canceled", 1),
        ("unroutable", 1),
    ];
    for (outcome, n) in outcomes {
        let name = format!("switchyard_calls_{outcome}_total");
        assert_eq!(grew(&before, &after, &name, "1"), n, "{name}");
        assert_eq!(
            grew(&before, &after, &name, "0"),
            0,
            "{name} on the callee's shard"
        );
    }
    assert_eq!(grew(&before, &after, "switchyard_calls_total", "1"), 4);
    assert_sums(&after, 2);
}

#[test]
fn protocol_violations_are_counted_by_reason() {
    let mut opts = RouterOptions::local(2);
    opts.settings.strict_request_ids = true;
    let router = Router::start_with(opts);
    let before = scrape(&router);
    let publish = |request: u64, options: Dict| Message::Publish {
        request: RequestId(request),
        options,
        topic: Text::from("com.metrics.bad"),
        payload: Payload::empty(),
    };
    let mut garbled = router.join(RS_JSON);
    garbled.send_raw(b"{{{");
    let mut bad_option = router.join(RS_JSON);
    bad_option.send(&publish(1, Dict::new().with("acknowledge", "yes")));
    let mut skipping = router.join(RS_JSON);
    skipping.send(&publish(5, Dict::new()));
    let mut repeating = router.join(RS_JSON);
    repeating.send(&Message::Hello {
        realm: Text::from(RS_JSON.realm()),
        details: Dict::new().with("roles", common::roles()),
    });
    let mut early = Client::connect(&router.url(Kind::RawSocket), Serializer::Json);
    early.send(&publish(1, Dict::new()));
    for mut c in [garbled, bad_option, skipping, repeating, early] {
        let reason = common::abort_reason(&c.recv()).to_string();
        assert_eq!(reason, "wamp.error.protocol_violation");
        c.expect_closed();
    }
    let after = scrape_until(&router, |m| {
        grew(&before, m, &closed("protocol_violation"), "all") == 4
    });
    for reason in ["decode", "options", "sequence", "unexpected", "handshake"] {
        assert_eq!(
            grew(&before, &after, &violations(reason), "all"),
            1,
            "{reason}"
        );
    }
    assert_eq!(grew(&before, &after, &violations("other"), "all"), 0);
    let total = "switchyard_protocol_violations_total";
    assert_eq!(grew(&before, &after, total, "all"), 5);
    assert_eq!(
        grew(&before, &after, &closed("protocol_violation"), "all"),
        4
    );
    assert_sums(&after, 2);
}

#[test]
fn mesh_counters_count_what_each_shard_sent_each_other_shard() {
    const N: u64 = 10;
    let router = Router::start(3);
    let setup = Setup {
        shards: 3,
        ..RS_JSON
    };
    let mut subs = [router.join_on(setup, 1), router.join_on(setup, 2)];
    for s in &mut subs {
        s.subscribe("com.metrics.mesh");
    }
    let mut publisher = router.join_on(setup, 0);
    let before = scrape(&router);
    for _ in 0..N {
        publisher.publish_acked("com.metrics.mesh", Payload::empty());
        for s in &mut subs {
            assert!(matches!(s.recv(), Message::Event { .. }));
        }
    }
    let after = scrape(&router);
    let series = |what: &str, to: usize| format!("switchyard_mesh_{what}_total{{to=\"{to}\"}}");
    for to in [1, 2] {
        let envelopes = grew(&before, &after, &series("envelopes_sent", to), "0");
        let batches = grew(&before, &after, &series("batches_sent", to), "0");
        assert!(envelopes >= N, "{envelopes} envelopes to shard {to}");
        assert!(
            batches >= 1 && batches <= envelopes,
            "{batches} batches to {to}"
        );
        // Present (a full channel is possible, if unlikely, on a busy machine).
        value(&after, &series("full", to), "0");
    }
    assert!(!after.contains_key(&(series("envelopes_sent", 0), "0".to_string())));
    assert_sums(&after, 3);
}

#[test]
fn one_call_and_one_publish_in_64_are_timed_into_histograms() {
    let router = Router::start(2);
    let mut callee = router.join_on(RS_JSON, 0);
    let mut caller = router.join_on(RS_JSON, 1);
    callee.register("com.metrics.timed").unwrap();
    for _ in 0..130 {
        caller.call("com.metrics.timed", Payload::empty());
        callee.serve_one(|_| Payload::empty());
        assert!(matches!(caller.recv(), Message::Result { .. }));
    }
    for _ in 0..65 {
        caller.publish_acked("com.metrics.timed", Payload::empty());
    }
    let m = scrape(&router);
    let calls = "switchyard_call_duration_seconds";
    assert_eq!(
        value(&m, &format!("{calls}_count"), "1"),
        3,
        "calls 1, 65 and 129"
    );
    assert_eq!(value(&m, &format!("{calls}_count"), "0"), 0);
    assert_eq!(value(&m, &format!("{calls}_count"), "all"), 3);
    let inf = format!("{calls}_bucket{{le=\"+Inf\"}}");
    assert_eq!(value(&m, &inf, "1"), 3);
    let sum = float(&m, &format!("{calls}_sum"), "1");
    assert!(sum > 0.0 && sum < 30.0, "{sum}");
    let publishes = "switchyard_publish_fanout_duration_seconds_count";
    assert_eq!(value(&m, publishes, "1"), 2, "publishes 1 and 65");
    assert_eq!(value(&m, "switchyard_calls_answered_total", "1"), 130);
    assert_sums(&m, 2);
}

#[test]
fn realms_are_labelled_by_name_up_to_a_bound_and_the_rest_as_other() {
    let mut opts = RouterOptions::local(1);
    opts.settings.auto_create_realms = true;
    let router = Router::start_with(opts);
    let url = router.url(Kind::RawSocket);
    let mut configured = router.join(RS_JSON);
    for _ in 0..3 {
        configured.publish_acked("com.metrics.realm", Payload::empty());
    }
    let mut auto: Vec<Client> = (0..34)
        .map(|i| Client::join(&url, Serializer::Json, &format!("com.auto.{i}")))
        .collect();
    auto[33].goodbye();
    let m = scrape(&router);
    let sessions = |realm: &str| format!("switchyard_realm_sessions_open{{realm=\"{realm}\"}}");
    let messages = |realm: &str| format!("switchyard_realm_messages_in_total{{realm=\"{realm}\"}}");
    assert_eq!(value(&m, &sessions(&RS_JSON.realm()), "0"), 1);
    assert_eq!(value(&m, &messages(&RS_JSON.realm()), "0"), 3);
    assert_eq!(value(&m, &sessions("com.auto.0"), "0"), 1);
    assert_eq!(value(&m, &sessions("com.auto.31"), "0"), 1);
    assert!(!m.contains_key(&(sessions("com.auto.32"), "0".to_string())));
    assert_eq!(
        value(&m, &sessions("other"), "0"),
        1,
        "com.auto.32 (33 left)"
    );
    assert_eq!(
        value(&m, &messages("other"), "0"),
        1,
        "the GOODBYE of com.auto.33"
    );
    assert_eq!(value(&m, &sessions("other"), "all"), 1);
    assert_sums(&m, 1);
}
