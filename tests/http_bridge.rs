//! The HTTP bridge over real sockets: `POST /publish` reaches WAMP
//! subscribers of every transport and serializer on every shard, `POST
//! /call` reaches callees on other shards and brings back their RESULT or
//! ERROR, the realm's rules for the bridge's role apply, and bad requests
//! (malformed, oversized, unauthenticated, badly signed, too many at once)
//! are refused with a status and a JSON reason. Routers are configured from
//! TOML, as a deployment is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::http::{post, request, send, Reply};
use common::{roles, Client, Kind, Router, Setup};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Text, Value};

const REALM: &str = "bridge.test";

/// Realm `bridge.test`: anonymous sessions may do anything; the bridge's
/// role `bridge` may call and publish under `com.bridge.`, except
/// `com.bridge.secret`. Realm `bridge.norole` has no role `bridge`.
const REALMS: &str = r#"
[[realms.realm]]
name = "bridge.test"
[[realms.realm.roles]]
name = "anonymous"
[[realms.realm.roles.permissions]]
uri = ""
match = "prefix"
allow = { call = true, register = true, publish = true, subscribe = true }
[[realms.realm.roles]]
name = "bridge"
[[realms.realm.roles.permissions]]
uri = "com.bridge."
match = "prefix"
allow = { call = true, publish = true }
[[realms.realm.roles.permissions]]
uri = "com.bridge.secret"
allow = {}
[[realms.realm]]
name = "bridge.norole"
"#;

/// A router of `shards` shards whose bridge has `bridge` (TOML keys) set.
fn router(shards: usize, bridge: &str) -> Router {
    let text = format!("[http.bridge]\nenabled = true\nauthrole = \"bridge\"\n{bridge}\n{REALMS}");
    Router::from_toml(shards, &text)
}

fn http(router: &Router) -> SocketAddr {
    router.running.http_addr().unwrap()
}

/// A client of `kind` x `serializer` in the test realm, on `shard`.
fn join(
    router: &Router,
    kind: Kind,
    serializer: switchyard::wire::Serializer,
    shard: usize,
) -> Client {
    let setup = Setup {
        shards: router.shards,
        kind,
        serializer,
    };
    router.join_on_as(setup, shard, REALM, roles())
}

/// `body` POSTed to `path` (no extra headers).
fn post_json(router: &Router, path: &str, body: &serde_json::Value) -> Reply {
    post(http(router), path, &[], &body.to_string())
}

/// Asserts a refusal's status and that its JSON names `error` and says
/// something containing `says`.
fn assert_refused(reply: &Reply, status: u16, error: &str, says: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], error, "{}", reply.body);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} lacks {says:?}");
}

/// The arguments every test sends: a binary one (WAMP's JSON convention)
/// among them.
fn sent_args() -> serde_json::Value {
    json!([1, "two", {"three": 3}, "\u{0}AAEC/w=="])
}

fn sent_kwargs() -> serde_json::Value {
    json!({"k": [true, null, 1.5], "neg": -4})
}

/// The same arguments as WAMP values.
fn want_payload() -> Payload {
    let bytes = Value::Bytes(bytes::Bytes::from_static(&[0, 1, 2, 255]));
    Payload::from_values(
        Some(vec![
            Value::UInt(1),
            "two".into(),
            Value::Dict(Dict::new().with("three", Value::UInt(3))),
            bytes,
        ]),
        Some(
            Dict::new()
                .with(
                    "k",
                    Value::List(vec![Value::Bool(true), Value::Null, Value::Float(1.5)]),
                )
                .with("neg", Value::Int(-4)),
        ),
    )
}

/// The next EVENT of `c`: (publication ID, payload).
fn next_event(c: &mut Client) -> (u64, Payload) {
    match c.recv() {
        Message::Event {
            publication,
            payload,
            ..
        } => (publication.0, payload),
        other => panic!("expected EVENT, got {other:?}"),
    }
}

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

/// Sends `body` to `/call` on a thread of its own (the callee answers on
/// this one).
fn call_in_background(router: &Router, body: serde_json::Value) -> std::thread::JoinHandle<Reply> {
    let addr = http(router);
    std::thread::spawn(move || post(addr, "/call", &[], &body.to_string()))
}

/// Receives an INVOCATION: (request, payload).
fn invocation(callee: &mut Client) -> (switchyard::wire::RequestId, Payload) {
    match callee.recv() {
        Message::Invocation {
            request, payload, ..
        } => (request, payload),
        other => panic!("expected INVOCATION, got {other:?}"),
    }
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

#[test]
fn a_bridge_with_a_ticket_needs_it_as_a_bearer_token() {
    let router = router(2, "ticket = \"s3cret-ticket\"");
    let addr = http(&router);
    let body = json!({"realm": REALM, "topic": "com.bridge.t"}).to_string();
    let missing = post(addr, "/publish", &[], &body);
    assert_refused(&missing, 401, "unauthorized", "Bearer");
    assert!(missing.headers.contains("www-authenticate: bearer"));
    let wrong = post(
        addr,
        "/publish",
        &["Authorization: Bearer s3cret-tickeT"],
        &body,
    );
    assert_refused(&wrong, 401, "unauthorized", "wrong ticket");
    assert!(!wrong.body.contains("s3cret"), "the ticket is never echoed");
    let basic = post(addr, "/publish", &["Authorization: Basic czNjcmV0"], &body);
    assert_eq!(basic.status, 401);
    let right = post(
        addr,
        "/publish",
        &["Authorization: Bearer s3cret-ticket"],
        &body,
    );
    assert_eq!(right.status, 200, "{}", right.body);
}

/// The query of a request signed by `secret` at `at`, as Crossbar's
/// clients sign them.
fn signed_query(key: &str, secret: &str, at: SystemTime, body: &str) -> String {
    let ts = switchyard::wire::timestamp::rfc3339(at);
    let (seq, nonce) = ("12", "938403");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    for part in [key, &ts, seq, nonce, body] {
        mac.update(part.as_bytes());
    }
    let signature = base64::engine::general_purpose::URL_SAFE.encode(mac.finalize().into_bytes());
    let signature = signature.replace('=', "%3D");
    format!("key={key}&timestamp={ts}&seq={seq}&nonce={nonce}&signature={signature}")
}

#[test]
fn a_signing_bridge_accepts_good_signatures_only() {
    let router = router(2, "key = \"client1\"\nsecret = \"s1gning-secret\"");
    let addr = http(&router);
    let mut sub = join(
        &router,
        Kind::RawSocket,
        switchyard::wire::Serializer::MsgPack,
        1,
    );
    sub.subscribe("com.bridge.signed");
    let body = json!({"realm": REALM, "topic": "com.bridge.signed", "args": [5]}).to_string();
    let now = SystemTime::now();
    let good = signed_query("client1", "s1gning-secret", now, &body);
    let reply = post(addr, &format!("/publish?{good}"), &[], &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(common::first_arg(&next_event(&mut sub).1), 5);

    let forged = signed_query("client1", "guessed", now, &body);
    let reply = post(addr, &format!("/publish?{forged}"), &[], &body);
    assert_refused(&reply, 401, "unauthorized", "wrong signature");
    let other_body = json!({"realm": REALM, "topic": "com.bridge.signed", "args": [6]});
    let reply = post(
        addr,
        &format!("/publish?{good}"),
        &[],
        &other_body.to_string(),
    );
    assert_refused(&reply, 401, "unauthorized", "wrong signature");
    let stale = signed_query(
        "client1",
        "s1gning-secret",
        now - Duration::from_secs(600),
        &body,
    );
    let reply = post(addr, &format!("/publish?{stale}"), &[], &body);
    assert_refused(&reply, 401, "unauthorized", "from the router's clock");
    let reply = post(addr, "/publish", &[], &body);
    assert_refused(&reply, 401, "unauthorized", "'key'");
    // Refused from the query alone: the body is not waited for.
    let head =
        format!("POST /publish?{stale} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n");
    let reply = send(addr, head.as_bytes(), false);
    assert_refused(&reply, 401, "unauthorized", "from the router's clock");
    let wrong_key = signed_query("client2", "s1gning-secret", now, &body);
    let reply = post(addr, &format!("/publish?{wrong_key}"), &[], &body);
    assert_refused(&reply, 401, "unauthorized", "unknown key");
    // Only the signed event came through.
    let again = signed_query("client1", "s1gning-secret", SystemTime::now(), &body);
    assert_eq!(
        post(addr, &format!("/publish?{again}"), &[], &body).status,
        200
    );
    assert_eq!(common::first_arg(&next_event(&mut sub).1), 5);
}

/// Realm `bridge.authz`: the bridge's role has no rules, only an
/// authorizer, served by an anonymous session.
const AUTHZ: &str = r#"
[http.bridge]
enabled = true
authid = "billing-system"
authrole = "bridge"
[[realms.realm]]
name = "bridge.authz"
[[realms.realm.roles]]
name = "anonymous"
[[realms.realm.roles.permissions]]
uri = ""
match = "prefix"
allow = { call = true, register = true, publish = true, subscribe = true }
[[realms.realm.roles]]
name = "bridge"
authorizer = "com.authz.decide"
authorizer_cache_ttl_ms = 0
"#;

/// Answers one authorizer INVOCATION with `allow`; returns its arguments
/// (session details, URI, action).
fn authorize_one(authorizer: &mut Client, allow: bool) -> Vec<Value> {
    let (request, payload) = invocation(authorizer);
    authorizer.send(&Message::Yield {
        request,
        options: Dict::new(),
        payload: Payload::args(vec![Value::Bool(allow)]),
    });
    match payload.to_values().unwrap().0 {
        Some(Value::List(args)) => args,
        other => panic!("authorizer arguments: {other:?}"),
    }
}

#[test]
fn the_bridge_is_authorized_as_its_authid_and_role_by_a_dynamic_authorizer() {
    let router = Router::from_toml(2, AUTHZ);
    let setup = Setup {
        shards: 2,
        kind: Kind::WebSocket,
        serializer: switchyard::wire::Serializer::Cbor,
    };
    let mut authorizer = router.join_on_as(setup, 1, "bridge.authz", roles());
    authorizer.register("com.authz.decide").unwrap();
    let addr = http(&router);
    let publish = |topic: &str| {
        let body = json!({"realm": "bridge.authz", "topic": topic}).to_string();
        std::thread::spawn(move || post(addr, "/publish", &[], &body))
    };
    let allowed = publish("com.app.ok");
    let args = authorize_one(&mut authorizer, true);
    let details = args[0].as_dict().expect("session details");
    assert_eq!(
        details.get("authid").and_then(Value::as_str),
        Some("billing-system")
    );
    assert_eq!(
        details.get("authrole").and_then(Value::as_str),
        Some("bridge")
    );
    assert_eq!(args[1].as_str(), Some("com.app.ok"));
    assert_eq!(args[2].as_str(), Some("publish"));
    assert_eq!(allowed.join().unwrap().status, 200);
    let denied = publish("com.app.no");
    authorize_one(&mut authorizer, false);
    let denied = denied.join().unwrap();
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.json()["error"], "wamp.error.not_authorized");
    // A bad option is refused before the authorizer is asked.
    let body = json!({"realm": "bridge.authz", "topic": "com.app.x", "options": {"exclude": "me"}});
    assert_eq!(post(addr, "/publish", &[], &body.to_string()).status, 400);
    let again = publish("com.app.again");
    assert_eq!(
        authorize_one(&mut authorizer, true)[1].as_str(),
        Some("com.app.again")
    );
    assert_eq!(again.join().unwrap().status, 200);
}
