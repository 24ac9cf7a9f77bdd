//! The HTTP bridge's authentication over real sockets: a bearer ticket, a
//! Crossbar-style HMAC signature over the body (good, forged, tampered,
//! stale), and a dynamic authorizer that sees the bridge's authid and role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::bridge::*;
use common::http::{post, send};
use common::{roles, Client, Kind, Router, Setup};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::time::{Duration, SystemTime};
use switchyard::wire::{Dict, Message, Payload, Value};

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
