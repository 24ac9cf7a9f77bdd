#![allow(clippy::unwrap_used)]
//! `config/secure.toml` as shipped: it serves, its three principals log in
//! with their methods, anonymous sessions are refused, and its two roles
//! get the permissions it documents (the frontend calls the API, disclosed
//! to the callee, but not its admin part, and cannot register; the backend
//! registers and may use the meta API), over two shards.

mod common;

use common::auth::{detail, welcome_details, Credentials};
use common::{abort_reason, arg, Client, Kind, Router};
use switchyard::auth::crypto::cryptosign::SigningKey;
use switchyard::wire::message::code;
use switchyard::wire::{Message, Payload, Serializer, Value};

/// The private key of `orders-service` (its public key is in the config).
const ORDERS_SEED: &str = "5ec0e2a1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";

fn router() -> Router {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/secure.toml");
    Router::from_toml(2, &std::fs::read_to_string(path).unwrap())
}

fn backend() -> Credentials {
    Credentials::Cryptosign {
        authid: Some("orders-service".into()),
        key: SigningKey::from_seed_hex(ORDERS_SEED).unwrap(),
    }
}

/// The error URI of the reply to `request` (None for a RESULT).
fn call_error(c: &mut Client, procedure: &str) -> Option<String> {
    let request = c.call(procedure, Payload::empty());
    match c.recv() {
        Message::Result { request: r, .. } if r == request => None,
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Some(error.as_str().to_owned()),
        other => panic!("expected RESULT or ERROR, got {other:?}"),
    }
}

#[test]
fn principals_log_in_and_anonymous_is_refused() {
    let router = router();
    for kind in [Kind::WebSocket, Kind::RawSocket] {
        let url = router.url(kind);
        let mut alice = Client::connect(&url, Serializer::Json);
        let welcome = alice.login("realm1", &Credentials::ticket("alice", "alice-ticket"));
        assert_eq!(detail(&welcome, "authrole"), "frontend");
        let extra = welcome_details(&welcome).get("authextra").unwrap();
        assert_eq!(
            extra.as_dict().unwrap().get("display_name"),
            Some(&Value::str("Alice"))
        );
        let mut bob = Client::connect(&url, Serializer::MsgPack);
        let welcome = bob.login("realm1", &Credentials::cra("bob", "bob-secret"));
        assert_eq!(detail(&welcome, "authmethod"), "wampcra");
        let mut svc = Client::connect(&url, Serializer::Cbor);
        let welcome = svc.login("realm1", &backend());
        assert_eq!(detail(&welcome, "authrole"), "backend");
        let mut anon = Client::connect(&url, Serializer::Json);
        assert_eq!(
            abort_reason(&anon.hello("realm1")),
            "wamp.error.no_auth_method"
        );
    }
}

#[test]
fn roles_get_the_permissions_the_file_documents() {
    let router = router();
    let url = router.url(Kind::RawSocket);
    let mut svc = Client::join_as(&url, Serializer::Json, "realm1", &backend());
    svc.register("com.example.api.add").unwrap();
    svc.register("com.example.api.admin.reset").unwrap();
    let mut alice = Client::join_as(
        &url,
        Serializer::Json,
        "realm1",
        &Credentials::ticket("alice", "alice-ticket"),
    );
    let request = alice.call("com.example.api.add", arg(1));
    match svc.recv() {
        Message::Invocation {
            request: inv,
            details,
            ..
        } => {
            assert_eq!(details.get("caller_authid"), Some(&Value::str("alice")));
            svc.send(&Message::Yield {
                request: inv,
                options: Default::default(),
                payload: arg(2),
            });
        }
        other => panic!("expected INVOCATION, got {other:?}"),
    }
    assert!(matches!(alice.recv(), Message::Result { request: r, .. } if r == request));
    let denied = Some("wamp.error.not_authorized".to_owned());
    assert_eq!(
        call_error(&mut alice, "com.example.api.admin.reset"),
        denied
    );
    assert_eq!(call_error(&mut alice, "wamp.session.count"), denied);
    assert_eq!(
        alice
            .register("com.example.api.other")
            .unwrap_err()
            .as_str(),
        "wamp.error.not_authorized"
    );
    assert_eq!(call_error(&mut svc, "wamp.session.count"), None);
}
