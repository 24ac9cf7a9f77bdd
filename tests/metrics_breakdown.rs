//! The breakdowns of `/metrics` over real sockets: sessions closed by
//! reason, calls by outcome, protocol violations by reason, the mesh per
//! destination, the sampled latency histograms and the per-realm series,
//! each checked against what the test made happen and summed over shards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::metrics::{assert_sums, float, grew, scrape, scrape_until, value};
use common::{Client, Kind, Router, Setup};
use std::time::Duration;
use switchyard::runtime::RouterOptions;
use switchyard::wire::{Dict, Message, Payload, RequestId, Serializer, Text, Value};

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
