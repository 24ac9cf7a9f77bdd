#![allow(clippy::unwrap_used)]
//! Dynamic authenticators: a service session registers the realm's
//! authenticator procedures and decides ticket, WAMP-CRA (plain and salted)
//! and cryptosign logins that no static principal covers, whatever shard
//! the joining session lands on; its ERROR refuses the login with its URI;
//! a missing authenticator, or one that never answers, refuses the login
//! with `wamp.error.authentication_failed` (the latter at the handshake
//! timeout) and leaves the router serving.

mod common;

use common::auth::{detail, Credentials};
use common::{abort_reason, Client, Kind, Router};
use switchyard::auth::crypto::cryptosign::SigningKey;
use switchyard::wire::{Dict, Message, Payload, Serializer, Text, Value};

const REALM: &str = "auth.dynamic";

fn config() -> String {
    r#"
[session]
handshake_timeout_ms = 1500
[[realms.realm]]
name = "auth.dynamic"
anonymous = false
[[realms.realm.principals]]
authid = "authsvc"
authrole = "service"
ticket = "service-ticket"
[[realms.realm.authenticators]]
method = "ticket"
procedure = "com.auth.ticket"
[[realms.realm.authenticators]]
method = "wampcra"
procedure = "com.auth.cra"
[[realms.realm.authenticators]]
method = "cryptosign"
procedure = "com.auth.cryptosign"
[[realms.realm.roles]]
name = "service"
[[realms.realm.roles.permissions]]
uri = "com.auth."
match = "prefix"
allow = { register = true }
[[realms.realm.roles]]
name = "user"
[[realms.realm.roles.permissions]]
uri = "com.app."
match = "prefix"
allow = { call = true }
[[realms.realm.roles.permissions]]
uri = "wamp.session.count"
allow = { call = true }
"#
    .to_owned()
}

/// The authenticator's decision for one invocation (`None`: no answer).
fn decide(procedure: &str, args: &[Value], device: &str) -> Option<Result<Value, &'static str>> {
    let authid = args.get(1).and_then(Value::as_str).unwrap_or("");
    let details = args.get(2).and_then(Value::as_dict).unwrap();
    assert_eq!(args.first().and_then(Value::as_str), Some(REALM));
    assert!(details.get("transport").is_some(), "{details:?}");
    if authid == "slowpoke" {
        return None;
    }
    Some(match procedure {
        "com.auth.ticket" => {
            let ticket = details.get("ticket").and_then(Value::as_str).unwrap();
            if ticket == format!("ticket-of-{authid}") {
                let extra = Dict::new().with("tier", "gold");
                Ok(Value::Dict(
                    Dict::new().with("role", "user").with("extra", extra),
                ))
            } else {
                Err("com.example.invalid_ticket")
            }
        }
        "com.auth.cra" if authid == "salty" => Ok(Value::Dict(
            Dict::new()
                .with("secret", "cra-of-salty")
                .with("role", "user")
                .with("salt", "pepper")
                .with("iterations", 100u64)
                .with("keylen", 32u64),
        )),
        "com.auth.cra" if authid.starts_with("cra-") => Ok(Value::Dict(
            Dict::new()
                .with("secret", Value::str(format!("secret-of-{authid}")))
                .with("role", "user"),
        )),
        "com.auth.cryptosign" => Ok(Value::Dict(
            Dict::new()
                .with("pubkeys", Value::List(vec![Value::str(device)]))
                .with("role", "user")
                .with("authid", "device-1"),
        )),
        _ => Err("wamp.error.not_authorized"),
    })
}

/// The authenticator service: registers the procedures, then answers
/// INVOCATIONs on its own thread until the router goes away.
fn start_service(router: &Router, device: String) -> std::thread::JoinHandle<()> {
    let url = router.url(Kind::RawSocket);
    let creds = Credentials::ticket("authsvc", "service-ticket");
    let mut svc = Client::join_as(&url, Serializer::MsgPack, REALM, &creds);
    let mut procedures = std::collections::HashMap::new();
    for p in ["com.auth.ticket", "com.auth.cra", "com.auth.cryptosign"] {
        procedures.insert(svc.register(p).unwrap(), p);
    }
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
            let (args, _) = payload.to_values().unwrap();
            let args = args.as_ref().and_then(Value::as_list).unwrap_or_default();
            let reply = match decide(procedures[&registration], args, &device) {
                None => continue,
                Some(Ok(v)) => Message::Yield {
                    request,
                    options: Dict::new(),
                    payload: Payload::args(vec![v]),
                },
                Some(Err(uri)) => Message::Error {
                    request_type: switchyard::wire::message::code::INVOCATION,
                    request,
                    details: Dict::new(),
                    error: Text::from(uri),
                    payload: Payload::args(vec![Value::str("refused by the test")]),
                },
            };
            svc.send(&reply);
        }
    })
}

#[test]
fn authenticators_decide_logins_on_every_shard() {
    for shards in [1, 3] {
        let device = SigningKey::generate();
        let router = Router::from_toml(shards, &config());
        start_service(&router, device.public().to_hex());
        let mut seen = vec![false; shards];
        for round in 0..200 {
            if round >= 3 && seen.iter().all(|s| *s) {
                break;
            }
            let kind = [Kind::WebSocket, Kind::RawSocket][round % 2];
            let serializer = Serializer::ALL[round % 3];
            let logins = [
                Credentials::ticket("tom", "ticket-of-tom"),
                Credentials::cra("cra-ann", "secret-of-cra-ann"),
                Credentials::cra("salty", "cra-of-salty"),
                Credentials::Cryptosign {
                    authid: None,
                    key: device.clone(),
                },
            ];
            for creds in &logins {
                let mut c = Client::connect(&router.url(kind), serializer);
                let welcome = c.login(REALM, creds);
                assert_eq!(detail(&welcome, "authprovider"), "dynamic", "{welcome:?}");
                assert_eq!(detail(&welcome, "authrole"), "user");
                assert_eq!(detail(&welcome, "authmethod"), creds.method());
                seen[(c.session.0 % shards as u64) as usize] = true;
            }
        }
        assert!(seen.iter().all(|s| *s), "logins on every shard: {seen:?}");
    }
}

#[test]
fn authenticator_answers_shape_the_session() {
    let device = SigningKey::generate();
    let router = Router::from_toml(2, &config());
    start_service(&router, device.public().to_hex());
    let url = router.url(Kind::WebSocket);
    let mut c = Client::connect(&url, Serializer::Json);
    let welcome = c.login(REALM, &Credentials::ticket("tom", "ticket-of-tom"));
    let extra = common::auth::welcome_details(&welcome)
        .get("authextra")
        .cloned();
    assert_eq!(
        extra.and_then(|e| e.as_dict().and_then(|d| d.get("tier").cloned())),
        Some(Value::str("gold"))
    );
    let mut c = Client::connect(&url, Serializer::Json);
    let welcome = c.login(
        REALM,
        &Credentials::Cryptosign {
            authid: None,
            key: device.clone(),
        },
    );
    assert_eq!(detail(&welcome, "authid"), "device-1");
    let request = c.call("wamp.session.count", Payload::empty());
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => {
            // The service and the two users: the router's own callers of
            // the authenticator are not sessions of the realm.
            assert_eq!(common::first_arg(&payload), 3);
        }
        other => panic!("expected RESULT, got {other:?}"),
    }
    let mut stranger = Client::connect(&url, Serializer::Json);
    let other = Credentials::Cryptosign {
        authid: None,
        key: SigningKey::generate(),
    };
    let refused = stranger.login(REALM, &other);
    assert_eq!(abort_reason(&refused), "wamp.error.authentication_failed");
}

#[test]
fn authenticator_refusals_and_failures_are_clear_aborts() {
    let router = Router::from_toml(2, &config());
    let url = router.url(Kind::RawSocket);
    let mut early = Client::connect(&url, Serializer::Json);
    let reply = early.login(REALM, &Credentials::ticket("tom", "ticket-of-tom"));
    assert_eq!(abort_reason(&reply), "wamp.error.authentication_failed");
    assert!(
        format!("{reply:?}").contains("no_such_procedure"),
        "{reply:?}"
    );
    start_service(&router, SigningKey::generate().public().to_hex());
    let mut wrong = Client::connect(&url, Serializer::Cbor);
    let reply = wrong.login(REALM, &Credentials::ticket("tom", "guess"));
    assert_eq!(abort_reason(&reply), "com.example.invalid_ticket");
    assert!(
        format!("{reply:?}").contains("refused by the test"),
        "{reply:?}"
    );
    let mut unknown = Client::connect(&url, Serializer::Json);
    let reply = unknown.login(REALM, &Credentials::cra("nobody", "x"));
    assert_eq!(abort_reason(&reply), "wamp.error.not_authorized");
    let mut slow = Client::connect(&url, Serializer::Json);
    let reply = slow.login(REALM, &Credentials::ticket("slowpoke", "t"));
    assert_eq!(abort_reason(&reply), "wamp.error.authentication_failed");
    let late = format!("{reply:?}");
    assert!(
        late.contains("wamp.error.timeout") || late.contains("handshake timeout"),
        "{reply:?}"
    );
    let mut after = Client::connect(&url, Serializer::MsgPack);
    let welcome = after.login(REALM, &Credentials::ticket("tom", "ticket-of-tom"));
    assert_eq!(detail(&welcome, "authid"), "tom");
}
