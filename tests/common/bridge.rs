//! The HTTP bridge's test fixtures: a router configured from TOML with
//! the bridge on and realms whose rules the bridge meets, the arguments
//! every test sends (a binary one among them), and the client-side steps
//! (POST a body, receive an EVENT or INVOCATION, check a refusal).

use super::http::{post, Reply};
use super::{roles, Client, Kind, Router, Setup};
use serde_json::json;
use std::net::SocketAddr;
use switchyard::wire::{Dict, Message, Payload, Value};

pub const REALM: &str = "bridge.test";

/// Realm `bridge.test`: anonymous sessions may do anything; the bridge's
/// role `bridge` may call and publish under `com.bridge.`, except
/// `com.bridge.secret`. Realm `bridge.norole` has no role `bridge`.
pub const REALMS: &str = r#"
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
pub fn router(shards: usize, bridge: &str) -> Router {
    let text = format!("[http.bridge]\nenabled = true\nauthrole = \"bridge\"\n{bridge}\n{REALMS}");
    Router::from_toml(shards, &text)
}

pub fn http(router: &Router) -> SocketAddr {
    router.running.http_addr().unwrap()
}

/// A client of `kind` x `serializer` in the test realm, on `shard`.
pub fn join(
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
pub fn post_json(router: &Router, path: &str, body: &serde_json::Value) -> Reply {
    post(http(router), path, &[], &body.to_string())
}

/// Asserts a refusal's status and that its JSON names `error` and says
/// something containing `says`.
pub fn assert_refused(reply: &Reply, status: u16, error: &str, says: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], error, "{}", reply.body);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} lacks {says:?}");
}

/// The arguments every test sends: a binary one (WAMP's JSON convention)
/// among them.
pub fn sent_args() -> serde_json::Value {
    json!([1, "two", {"three": 3}, "\u{0}AAEC/w=="])
}

pub fn sent_kwargs() -> serde_json::Value {
    json!({"k": [true, null, 1.5], "neg": -4})
}

/// The same arguments as WAMP values.
pub fn want_payload() -> Payload {
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
pub fn next_event(c: &mut Client) -> (u64, Payload) {
    match c.recv() {
        Message::Event {
            publication,
            payload,
            ..
        } => (publication.0, payload),
        other => panic!("expected EVENT, got {other:?}"),
    }
}

/// Sends `body` to `/call` on a thread of its own (the callee answers on
/// this one).
pub fn call_in_background(
    router: &Router,
    body: serde_json::Value,
) -> std::thread::JoinHandle<Reply> {
    let addr = http(router);
    std::thread::spawn(move || post(addr, "/call", &[], &body.to_string()))
}

/// Receives an INVOCATION: (request, payload).
pub fn invocation(callee: &mut Client) -> (switchyard::wire::RequestId, Payload) {
    match callee.recv() {
        Message::Invocation {
            request, payload, ..
        } => (request, payload),
        other => panic!("expected INVOCATION, got {other:?}"),
    }
}
