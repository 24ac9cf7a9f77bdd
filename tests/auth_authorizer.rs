#![allow(clippy::unwrap_used)]
//! Dynamic authorizers: a role whose rules do not match a URI asks its
//! authorizer procedure (registered by a service session, on any shard),
//! and caches the decision per shard for the TTL the answer gives (per
//! authid, or for the whole role with `scope = "role"`). While it is asked,
//! the session's later messages wait and then go out in order. An ERROR,
//! a missing authorizer or a decision without TTL is not cached.

mod common;

use common::auth::Credentials;
use common::{arg, first_arg, Client, Kind, Router};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, Text, Value};

const REALM: &str = "auth.authz";

const CONFIG: &str = r#"
[[realms.realm]]
name = "auth.authz"
anonymous = false
[[realms.realm.principals]]
authid = "svc"
authrole = "service"
ticket = "svc-ticket"
[[realms.realm.principals]]
authid = "ann"
authrole = "user"
ticket = "ann-ticket"
[[realms.realm.principals]]
authid = "ben"
authrole = "user"
ticket = "ben-ticket"
[[realms.realm.roles]]
name = "service"
[[realms.realm.roles.permissions]]
uri = ""
match = "prefix"
allow = { call = true, register = true, publish = true, subscribe = true }
[[realms.realm.roles]]
name = "user"
authorizer = "com.authz.decide"
authorizer_cache_ttl_ms = 60000
[[realms.realm.roles.permissions]]
uri = "com.open."
match = "prefix"
allow = { publish = true, call = true }
"#;

/// How often the authorizer was asked, per "action uri".
type Asked = Arc<Mutex<HashMap<String, usize>>>;

/// The authorizer's answer for `uri` asked by `authid`.
fn decide(authid: &str, uri: &str) -> Result<Value, &'static str> {
    let yes = |ttl: Option<u64>, scope: Option<&str>| {
        let mut d = Dict::new().with("allow", true);
        if let Some(t) = ttl {
            d = d.with("ttl_ms", t);
        }
        if let Some(s) = scope {
            d = d.with("scope", s);
        }
        Ok(Value::Dict(d))
    };
    match uri {
        u if u.starts_with("com.app.shared.") => yes(None, Some("role")),
        u if u.starts_with("com.app.mine.") => Ok(Value::Bool(u.ends_with(authid))),
        "com.app.nocache" => yes(Some(0), None),
        "com.app.short" => yes(Some(200), Some("role")),
        "com.app.error" => Err("com.example.authorizer_failed"),
        _ => Ok(Value::Bool(false)),
    }
}

/// The authorizer service on its own thread; also the callee of every
/// `com.` procedure (answering with its argument plus one).
fn start_service(router: &Router, asked: Asked) {
    let url = router.url(Kind::RawSocket);
    let creds = Credentials::ticket("svc", "svc-ticket");
    let mut svc = Client::join_as(&url, Serializer::Json, REALM, &creds);
    let decide_id = svc.register("com.authz.decide").unwrap();
    svc.register_with("com.", Dict::new().with("match", "prefix"))
        .unwrap();
    std::thread::spawn(move || {
        while let Some(msg) = svc.recv_or_closed() {
            let Message::Invocation {
                request,
                registration,
                payload,
                ..
            } = msg
            else {
                continue;
            };
            let reply = if registration == decide_id {
                let (args, _) = payload.to_values().unwrap();
                let args = args.as_ref().and_then(Value::as_list).unwrap();
                let details = args[0].as_dict().unwrap();
                let authid = details.get("authid").and_then(Value::as_str).unwrap();
                let (uri, action) = (args[1].as_str().unwrap(), args[2].as_str().unwrap());
                *asked
                    .lock()
                    .unwrap()
                    .entry(format!("{action} {uri}"))
                    .or_default() += 1;
                decide(authid, uri)
            } else {
                Ok(Value::UInt(first_arg(&payload) + 1))
            };
            svc.send(&match reply {
                Ok(v) => Message::Yield {
                    request,
                    options: Dict::new(),
                    payload: Payload::args(vec![v]),
                },
                Err(uri) => Message::Error {
                    request_type: code::INVOCATION,
                    request,
                    details: Dict::new(),
                    error: Text::from(uri),
                    payload: Payload::empty(),
                },
            });
        }
    });
}

fn user(router: &Router, authid: &str, kind: Kind, serializer: Serializer) -> Client {
    let creds = Credentials::ticket(authid, &format!("{authid}-ticket"));
    Client::join_as(&router.url(kind), serializer, REALM, &creds)
}

/// Calls `procedure` with 1: the RESULT's value, or the ERROR's URI.
fn call(c: &mut Client, procedure: &str) -> Result<u64, String> {
    let request = c.call(procedure, arg(1));
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => Ok(first_arg(&payload)),
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Err(error.as_str().to_owned()),
        other => panic!("expected RESULT or ERROR, got {other:?}"),
    }
}

fn times(asked: &Asked, key: &str) -> usize {
    asked.lock().unwrap().get(key).copied().unwrap_or(0)
}

const DENIED: &str = "wamp.error.not_authorized";

#[test]
fn decisions_are_asked_once_and_cached_per_role_or_authid() {
    let router = Router::from_toml(1, CONFIG);
    let asked = Asked::default();
    start_service(&router, asked.clone());
    let mut ann = user(&router, "ann", Kind::WebSocket, Serializer::MsgPack);
    let mut ben = user(&router, "ben", Kind::RawSocket, Serializer::Cbor);
    for _ in 0..3 {
        assert_eq!(call(&mut ann, "com.app.shared.add"), Ok(2));
        assert_eq!(call(&mut ben, "com.app.shared.add"), Ok(2));
    }
    assert_eq!(
        times(&asked, "call com.app.shared.add"),
        1,
        "cached for the role"
    );
    for _ in 0..3 {
        assert_eq!(call(&mut ann, "com.app.mine.ann"), Ok(2));
        assert_eq!(call(&mut ben, "com.app.mine.ann"), Err(DENIED.into()));
    }
    assert_eq!(
        times(&asked, "call com.app.mine.ann"),
        2,
        "cached per authid"
    );
    assert_eq!(call(&mut ann, "com.open.add"), Ok(2), "a rule decides");
    assert_eq!(times(&asked, "call com.open.add"), 0);
    for n in 1..=3 {
        assert_eq!(call(&mut ann, "com.app.nocache"), Ok(2));
        assert_eq!(
            times(&asked, "call com.app.nocache"),
            n,
            "ttl_ms 0: not cached"
        );
    }
    for n in 1..=2 {
        assert_eq!(call(&mut ann, "com.app.error"), Err(DENIED.into()));
        assert_eq!(
            times(&asked, "call com.app.error"),
            n,
            "an ERROR is not cached"
        );
    }
    assert_eq!(call(&mut ann, "com.app.other"), Err(DENIED.into()));
    assert_eq!(call(&mut ann, "com.app.shared.add"), Ok(2), "still usable");
}

#[test]
fn a_decision_expires_after_its_ttl() {
    let router = Router::from_toml(1, CONFIG);
    let asked = Asked::default();
    start_service(&router, asked.clone());
    let mut ann = user(&router, "ann", Kind::RawSocket, Serializer::Json);
    assert_eq!(call(&mut ann, "com.app.short"), Ok(2));
    assert_eq!(call(&mut ann, "com.app.short"), Ok(2));
    assert_eq!(times(&asked, "call com.app.short"), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while times(&asked, "call com.app.short") == 1 {
        assert!(
            Instant::now() < deadline,
            "the 200 ms decision never expired"
        );
        assert_eq!(call(&mut ann, "com.app.short"), Ok(2));
    }
}

#[test]
fn messages_behind_an_asked_request_keep_their_order() {
    for shards in [1, 3] {
        let router = Router::from_toml(shards, CONFIG);
        start_service(&router, Asked::default());
        let url = router.url(Kind::WebSocket);
        let creds = Credentials::ticket("svc", "svc-ticket");
        let mut sub = Client::join_as(&url, Serializer::Json, REALM, &creds);
        let request = sub.request();
        sub.send(&Message::Subscribe {
            request,
            options: Dict::new().with("match", "prefix"),
            topic: Text::from("com."),
        });
        assert!(matches!(sub.recv(), Message::Subscribed { .. }));
        for kind in [Kind::WebSocket, Kind::RawSocket] {
            for serializer in Serializer::ALL {
                let mut ann = user(&router, "ann", kind, serializer);
                // Asked (shared), allowed by a rule, asked (mine), denied,
                // then a sentinel: published in this order, delivered so.
                let topics = [
                    "com.app.shared.t",
                    "com.open.t",
                    "com.app.mine.ann",
                    "com.app.mine.ben",
                    "com.open.end",
                ];
                for (n, topic) in topics.iter().enumerate() {
                    ann.publish(topic, Dict::new(), arg(n as u64));
                }
                let mut got = Vec::new();
                while got.last() != Some(&4) {
                    match sub.recv() {
                        Message::Event { payload, .. } => got.push(first_arg(&payload)),
                        other => panic!("expected EVENT, got {other:?}"),
                    }
                }
                assert_eq!(got, [0, 1, 2, 4], "{kind:?} {serializer:?}");
            }
        }
    }
}

#[test]
fn without_an_authorizer_requests_are_denied_and_not_cached() {
    let router = Router::from_toml(2, CONFIG);
    let mut ann = user(&router, "ann", Kind::WebSocket, Serializer::Json);
    assert_eq!(call(&mut ann, "com.app.shared.add"), Err(DENIED.into()));
    let asked = Asked::default();
    start_service(&router, asked.clone());
    assert_eq!(call(&mut ann, "com.app.shared.add"), Ok(2));
    assert_eq!(times(&asked, "call com.app.shared.add"), 1);
}
