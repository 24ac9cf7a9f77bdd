//! Logging in over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer, against principals configured in TOML: every method
//! and secret source succeeds with the principal's WELCOME.Details; the
//! client's order of authmethods decides; WAMP-CRA challenges name the
//! session and look alike for known and unknown authids; and the meta API
//! reports how a session logged in. Refusals: `auth_login_refusals.rs`.
#![allow(clippy::unwrap_used)]

mod auth_login_support;
mod common;

use auth_login_support::*;
use common::auth::{detail, Credentials};
use common::{Client, Router, Setup};
use switchyard::wire::{Dict, Message, Payload, Value};

#[test]
fn every_method_and_secret_source_logs_in() {
    for_each_setup(|router, setup| {
        for (creds, authid, authrole) in good_logins() {
            let mut c = connect(router, setup);
            let challenge = c.hello_as(REALM, creds.hello_details());
            let Message::Challenge { auth_method, extra } = &challenge else {
                panic!("expected CHALLENGE, got {challenge:?}")
            };
            assert_eq!(auth_method.as_str(), creds.method());
            let extra = extra.clone();
            let reply = c.finish_login(challenge, &[&creds]);
            assert_welcome(&reply, &creds, &extra, (authid, authrole));
            let Message::Welcome { session, .. } = reply else {
                unreachable!()
            };
            assert_eq!(c.session, session);
            c.goodbye();
        }
    });
}

#[test]
fn the_wampcra_challenge_names_the_session_welcome_opens() {
    for_each_setup(|router, setup| {
        for (creds, salted) in [
            (carl(), false),
            (Credentials::cra("cora", "cra-salt-secret"), true),
        ] {
            let mut c = connect(router, setup);
            let challenge = c.hello_as(REALM, creds.hello_details());
            let Message::Challenge {
                auth_method, extra, ..
            } = &challenge
            else {
                panic!("expected CHALLENGE, got {challenge:?}")
            };
            assert_eq!(auth_method.as_str(), "wampcra");
            let text = extra.get_str("challenge").unwrap().unwrap();
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(extra.get_str("salt").unwrap().is_some(), salted);
            if salted {
                assert_eq!(extra.get_str("salt").unwrap(), Some("cra-salt"));
                assert_eq!(extra.get_u64("iterations").unwrap(), Some(100));
                assert_eq!(extra.get_u64("keylen").unwrap(), Some(32));
            }
            let welcome = c.finish_login(challenge.clone(), &[&creds]);
            let Message::Welcome { session, .. } = welcome else {
                panic!("expected WELCOME, got {welcome:?}")
            };
            assert_eq!(json["session"], serde_json::json!(session.0), "{text}");
            assert_eq!(json["authid"], detail(&welcome, "authid"));
            assert_eq!(json["authrole"], "user");
            assert_eq!(json["authmethod"], "wampcra");
            assert_eq!(json["authprovider"], "static");
        }
    });
}

#[test]
fn the_clients_order_of_authmethods_decides() {
    let ticket = Credentials::ticket("multi", "m-ticket");
    let cra = Credentials::cra("multi", "m-secret");
    let cases: [(&str, &[&str], &str); 4] = [
        (REALM, &["wampcra", "ticket"], "wampcra"),
        (REALM, &["ticket", "wampcra"], "ticket"),
        (REALM, &["kerberos", "ticket", "wampcra"], "ticket"),
        (TICKET_ONLY, &["wampcra", "ticket"], "ticket"),
    ];
    for_each_setup(|router, setup| {
        for (realm, offered, chosen) in cases {
            let (ticket, cra) = match realm {
                TICKET_ONLY => (tina(), Credentials::cra("tina", "unused")),
                _ => (ticket.clone(), cra.clone()),
            };
            let mut c = connect(router, setup);
            let reply = c.login_offering(realm, offered, &[&ticket, &cra]);
            assert_eq!(
                detail(&reply, "authmethod"),
                chosen,
                "{offered:?} in {realm}"
            );
        }
    });
}

/// Calls `wamp.session.get(session)`; the details dict.
fn session_get(c: &mut Client, session: u64) -> Dict {
    let request = c.call(
        "wamp.session.get",
        Payload::args(vec![Value::UInt(session)]),
    );
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => match payload.to_values().unwrap().0 {
            Some(Value::List(mut args)) if !args.is_empty() => match args.remove(0) {
                Value::Dict(d) => d,
                other => panic!("expected session details, got {other:?}"),
            },
            other => panic!("expected a result argument, got {other:?}"),
        },
        other => panic!("expected the RESULT of wamp.session.get, got {other:?}"),
    }
}

#[test]
fn session_get_reports_how_a_session_logged_in() {
    for_each_setup(|router, setup| {
        let last = router.shards - 1;
        let mut admin = router.login_on(setup, last, REALM, &Credentials::ticket("root", "r00t"));
        let logins = [
            (tina(), "user", expected_authextra("tina")),
            (kim(), "signer", expected_authextra("kim")),
            (pam(), "user", None),
        ];
        for (shard, (creds, authrole, authextra)) in logins.into_iter().enumerate() {
            let who = router.login_on(setup, shard % router.shards, REALM, &creds);
            let d = session_get(&mut admin, who.session.0);
            assert_eq!(d.get_str("authmethod").unwrap(), Some(creds.method()));
            assert_eq!(d.get_str("authrole").unwrap(), Some(authrole));
            assert_eq!(d.get_str("authprovider").unwrap(), Some("static"));
            let extra = d.get_dict("authextra").unwrap().cloned();
            match creds.method() {
                "wamp-scram" => assert!(extra.unwrap().get("verifier").is_some(), "{d:?}"),
                _ => assert_eq!(sorted(extra), authextra, "{d:?}"),
            }
        }
    });
}

/// The JSON object of a WAMP-CRA CHALLENGE for `authid`.
fn cra_challenge(router: &Router, setup: Setup, authid: &str) -> serde_json::Value {
    let mut c = connect(router, setup);
    let reply = c.hello_as(REALM, Credentials::cra(authid, "x").hello_details());
    let Message::Challenge { extra, .. } = reply else {
        panic!("expected CHALLENGE, got {reply:?}")
    };
    serde_json::from_str(extra.get_str("challenge").unwrap().unwrap()).unwrap()
}

/// login.rs promises that unknown authids are challenged like known ones,
/// so a client cannot learn which principals exist.
#[test]
fn an_unknown_authid_gets_a_wampcra_challenge_like_a_known_ones() {
    for_each_setup(|router, setup| {
        let known = cra_challenge(router, setup, "carl");
        let unknown = cra_challenge(router, setup, "nobody");
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&known), keys(&unknown));
        assert_eq!(known["authrole"], "user");
        assert_ne!(
            unknown["authrole"], "",
            "the empty authrole tells an unknown authid apart: {unknown}"
        );
    });
}
