//! The HTTP bridge over real sockets: `POST /publish` reaches WAMP
//! subscribers of every transport and serializer on every shard, `POST
//! /call` reaches callees on other shards and brings back their RESULT or
//! ERROR, the realm's rules for the bridge's role apply, and bad requests
//! (malformed, oversized, unauthenticated, badly signed, too many at once)
//! are refused with a status and a JSON reason. Routers are configured from
//! TOML, as a deployment is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::bridge::*;
use common::http::{post, request, send};
use common::Kind;
use serde_json::json;
use std::time::Duration;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Text, Value};

#[test]
fn publish_reaches_subscribers_of_every_transport_and_serializer_on_every_shard() {
    let router = router(3, "");
    let mut subs = Vec::new();
    for (i, kind) in [Kind::WebSocket, Kind::RawSocket].into_iter().enumerate() {
        for (j, serializer) in switchyard::wire::Serializer::ALL.into_iter().enumerate() {
            let mut c = join(&router, kind, serializer, (i * 3 + j) % 3);
            c.subscribe("com.bridge.news");
            subs.push(c);
        }
    }
    let body = json!({
        "realm": REALM,
        "topic": "com.bridge.news",
        "args": sent_args(),
        "kwargs": sent_kwargs(),
    });
    let reply = post_json(&router, "/publish", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.headers.contains("content-type: application/json"));
    let id = reply.json()["id"].as_u64().expect("a publication id");
    for c in &mut subs {
        let (publication, payload) = next_event(c);
        assert_eq!(publication, id, "{:?}", c.serializer);
        common::assert_same_payload(&payload, &want_payload());
    }
    // Not acknowledged: 202 at once, and the event still goes out.
    let quiet = json!({"realm": REALM, "topic": "com.bridge.news", "args": [2],
                       "options": {"acknowledge": false}});
    let reply = post_json(&router, "/publish", &quiet);
    assert_eq!((reply.status, reply.json()), (202, json!({})));
    for c in &mut subs {
        common::assert_same_payload(&next_event(c).1, &common::arg(2));
    }
}

#[test]
fn publish_options_select_receivers_and_retain_the_event() {
    let router = router(3, "");
    let mut a = join(
        &router,
        Kind::WebSocket,
        switchyard::wire::Serializer::Json,
        1,
    );
    let mut b = join(
        &router,
        Kind::RawSocket,
        switchyard::wire::Serializer::Cbor,
        2,
    );
    a.subscribe("com.bridge.pick");
    b.subscribe("com.bridge.pick");
    let only_b = json!({"realm": REALM, "topic": "com.bridge.pick", "args": [1],
                        "options": {"eligible": [b.session.0]}});
    assert_eq!(post_json(&router, "/publish", &only_b).status, 200);
    let not_b = json!({"realm": REALM, "topic": "com.bridge.pick", "args": [2],
                       "options": {"exclude": [b.session.0], "retain": true}});
    assert_eq!(post_json(&router, "/publish", &not_b).status, 200);
    // One publisher's events arrive in order: each sees only its own.
    assert_eq!(common::first_arg(&next_event(&mut b).1), 1);
    assert_eq!(common::first_arg(&next_event(&mut a).1), 2);
    let mut late = join(
        &router,
        Kind::RawSocket,
        switchyard::wire::Serializer::MsgPack,
        0,
    );
    let request = late.request();
    late.send(&Message::Subscribe {
        request,
        options: Dict::new().with("get_retained", true),
        topic: Text::from("com.bridge.pick"),
    });
    assert!(matches!(late.recv(), Message::Subscribed { .. }));
    assert_eq!(
        common::first_arg(&next_event(&mut late).1),
        2,
        "the retained event"
    );
}

#[test]
fn call_reaches_a_callee_on_another_shard_and_returns_its_result() {
    let router = router(3, "");
    for (shard, kind, serializer) in [
        (1, Kind::WebSocket, switchyard::wire::Serializer::MsgPack),
        (2, Kind::RawSocket, switchyard::wire::Serializer::Cbor),
    ] {
        let mut callee = join(&router, kind, serializer, shard);
        let procedure = format!("com.bridge.echo{shard}");
        callee.register(&procedure).unwrap();
        let body = json!({"realm": REALM, "procedure": procedure,
                          "args": sent_args(), "kwargs": sent_kwargs()});
        let pending = call_in_background(&router, body);
        let got = callee.serve_one(|p| {
            let (args, kwargs) = p.to_values().unwrap();
            let Some(Value::List(mut args)) = args else {
                panic!("no args")
            };
            args.push(Value::str("back"));
            let Some(Value::Dict(kwargs)) = kwargs else {
                panic!("no kwargs")
            };
            Payload::from_values(Some(args), Some(kwargs))
        });
        common::assert_same_payload(&got, &want_payload());
        let reply = pending.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut args = sent_args();
        args.as_array_mut().unwrap().push(json!("back"));
        assert_eq!(reply.json(), json!({"args": args, "kwargs": sent_kwargs()}));
        callee.goodbye();
    }
}

#[test]
fn call_errors_map_to_statuses_with_the_error_uri() {
    let router = router(2, "");
    let call = |procedure: &str| json!({"realm": REALM, "procedure": procedure});
    let none = post_json(&router, "/call", &call("com.bridge.nobody"));
    assert_eq!(none.status, 404, "{}", none.body);
    assert_eq!(none.json()["error"], "wamp.error.no_such_procedure");
    let denied = post_json(&router, "/call", &call("com.bridge.secret"));
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.json()["error"], "wamp.error.not_authorized");
    let outside = post_json(&router, "/call", &call("com.other.thing"));
    assert_eq!(outside.status, 403, "{}", outside.body);
    let bad_uri = post_json(&router, "/call", &call("com.bridge..bad"));
    assert_eq!(bad_uri.status, 400, "{}", bad_uri.body);
    assert_eq!(bad_uri.json()["error"], "wamp.error.invalid_uri");

    let mut callee = join(
        &router,
        Kind::RawSocket,
        switchyard::wire::Serializer::Json,
        1,
    );
    callee.register("com.bridge.fails").unwrap();
    let pending = call_in_background(&router, call("com.bridge.fails"));
    let (request, _) = invocation(&mut callee);
    callee.send(&Message::Error {
        request_type: code::INVOCATION,
        request,
        details: Dict::new(),
        error: Text::from("com.example.oops"),
        payload: Payload::from_values(
            Some(vec![Value::str("boom")]),
            Some(Dict::new().with("code", Value::UInt(7))),
        ),
    });
    let failed = pending.join().unwrap();
    assert_eq!(failed.status, 502, "{}", failed.body);
    let want = json!({"error": "com.example.oops", "args": ["boom"], "kwargs": {"code": 7}});
    assert_eq!(failed.json(), want);

    callee.register("com.bridge.silent").unwrap();
    let slow = json!({"realm": REALM, "procedure": "com.bridge.silent",
                      "options": {"timeout": 300}});
    let started = std::time::Instant::now();
    let pending = call_in_background(&router, slow);
    invocation(&mut callee); // and never answered
    let timed_out = pending.join().unwrap();
    assert_eq!(timed_out.status, 504, "{}", timed_out.body);
    assert_eq!(timed_out.json()["error"], "wamp.error.timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the call's own timeout"
    );
}

#[test]
fn publish_is_checked_by_the_role_and_the_topic_rules() {
    let router = router(1, "");
    let publish = |topic: &str| json!({"realm": REALM, "topic": topic});
    let denied = post_json(&router, "/publish", &publish("com.bridge.secret"));
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.json()["error"], "wamp.error.not_authorized");
    let reserved = post_json(
        &router,
        "/publish",
        &json!({"realm": REALM, "topic": "wamp.x"}),
    );
    assert_eq!(reserved.status, 403, "no rule of the role allows wamp.x");
    let unknown = post_json(
        &router,
        "/publish",
        &json!({"realm": "nowhere", "topic": "a.b"}),
    );
    assert_refused(&unknown, 404, "wamp.error.no_such_realm", "nowhere");
    let norole = post_json(
        &router,
        "/publish",
        &json!({"realm": "bridge.norole", "topic": "a"}),
    );
    assert_refused(&norole, 403, "wamp.error.no_such_role", "'bridge'");
    let bad_option = json!({"realm": REALM, "topic": "com.bridge.x", "options": {"retain": 3}});
    let reply = post_json(&router, "/publish", &bad_option);
    assert_refused(&reply, 400, "bad_request", "retain");
}

#[test]
fn malformed_and_misaddressed_requests_are_refused_with_a_reason() {
    let router = router(2, "max_body_bytes = 1024");
    let addr = http(&router);
    let p = |body: &str| post(addr, "/publish", &[], body);
    assert_refused(&p(r#"{"realm": "#), 400, "bad_request", "malformed JSON");
    assert_refused(
        &p(r#"{"realm": "r"}"#),
        400,
        "bad_request",
        "field 'topic' is missing",
    );
    let typed = p(r#"{"realm": "r", "topic": 5}"#);
    assert_refused(&typed, 400, "bad_request", "field 'topic' must be a string");
    let args = p(r#"{"realm": "r", "topic": "t", "args": {"a": 1}}"#);
    assert_refused(&args, 400, "bad_request", "field 'args' must be an array");
    let call = post(addr, "/call", &[], r#"{"realm": "r"}"#);
    assert_refused(&call, 400, "bad_request", "field 'procedure' is missing");

    let get = request(addr, "GET", "/publish");
    assert_refused(&get, 405, "method_not_allowed", "POST");
    assert!(get.headers.contains("allow: post"), "{}", get.headers);
    let head = format!("POST /call HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let no_length = send(addr, head.as_bytes(), true);
    assert_refused(&no_length, 411, "length_required", "Content-Length");
    let chunked = format!(
        "POST /call HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
    );
    let chunked = send(addr, chunked.as_bytes(), true);
    assert_refused(&chunked, 411, "length_required", "chunked");

    let big = format!(
        r#"{{"realm": "r", "topic": "t", "args": ["{}"]}}"#,
        "x".repeat(1100)
    );
    assert_refused(&p(&big), 413, "payload_too_large", "1024");
    // Announced but never sent: refused from the head alone, the request
    // side still open.
    let head =
        format!("POST /publish HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 50000000\r\n\r\n");
    let started = std::time::Instant::now();
    let huge = send(addr, head.as_bytes(), false);
    assert_refused(&huge, 413, "payload_too_large", "50000000");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "no wait for the body"
    );
    // The other endpoints of the listener are still there.
    assert_eq!(request(addr, "GET", "/ready").status, 200);
}

#[test]
fn requests_past_max_concurrent_are_refused_until_one_ends() {
    let router = router(2, "max_concurrent = 2");
    let mut callee = join(
        &router,
        Kind::WebSocket,
        switchyard::wire::Serializer::Json,
        1,
    );
    callee.register("com.bridge.hold").unwrap();
    let call = json!({"realm": REALM, "procedure": "com.bridge.hold"});
    let first = call_in_background(&router, call.clone());
    let second = call_in_background(&router, call.clone());
    let (r1, _) = invocation(&mut callee);
    let (r2, _) = invocation(&mut callee);
    let third = post_json(&router, "/call", &call);
    assert_refused(&third, 503, "unavailable", "2 bridge requests in flight");
    for request in [r1, r2] {
        callee.send(&Message::Yield {
            request,
            options: Dict::new(),
            payload: common::arg(9),
        });
    }
    for pending in [first, second] {
        let reply = pending.join().unwrap();
        assert_eq!(
            (reply.status, reply.json()["args"].clone()),
            (200, json!([9]))
        );
    }
    let publish = json!({"realm": REALM, "topic": "com.bridge.free"});
    assert_eq!(post_json(&router, "/publish", &publish).status, 200);
}
