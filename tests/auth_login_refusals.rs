//! Refused logins over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer: wrong secrets, unknown authids and keys, methods the
//! realm does not offer and anonymous HELLOs get an ABORT that closes the
//! transport while a correct login still works; out-of-order, oversized and
//! stalled handshakes get a clear ABORT without disturbing anyone else; and
//! failed logins throttle their address for a window.
#![allow(clippy::unwrap_used)]

mod auth_login_support;
mod common;

use auth_login_support::*;
use common::auth::{abort_message, detail, Credentials};
use common::{abort_reason, Client, Kind, Router, Setup};
use std::time::{Duration, Instant};
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, Text, Value};

/// Wrong credentials: (case, HELLO from, AUTHENTICATE from).
fn wrong_logins() -> Vec<(&'static str, Credentials, Credentials)> {
    let same = |c: Credentials| (c.clone(), c);
    let cases = [
        ("wrong ticket", same(Credentials::ticket("tina", "nope"))),
        (
            "wrong hashed ticket",
            same(Credentials::ticket("hank", "nope")),
        ),
        (
            "wrong wampcra secret",
            same(Credentials::cra("carl", "nope")),
        ),
        (
            "wrong salted secret",
            same(Credentials::cra("cora", "nope")),
        ),
        (
            "cryptosign signature of another key",
            (kim(), Credentials::cryptosign(Some("kim"), &stranger_key())),
        ),
        (
            "a key the authid does not hold",
            same(Credentials::cryptosign(Some("kim"), &stranger_key())),
        ),
        (
            "a key no principal holds",
            same(Credentials::cryptosign(None, &stranger_key())),
        ),
        (
            "wrong wamp-scram password",
            same(Credentials::scram("pam", "nope", "wamp-scram")),
        ),
        (
            "wrong scram password",
            same(Credentials::scram("ari", "nope", "scram")),
        ),
        (
            "unknown authid, ticket",
            same(Credentials::ticket("nobody", "x")),
        ),
        (
            "unknown authid, wampcra",
            same(Credentials::cra("nobody", "x")),
        ),
        (
            "unknown authid, wamp-scram",
            same(Credentials::scram("nobody", "x", "wamp-scram")),
        ),
    ];
    cases.into_iter().map(|(n, (h, a))| (n, h, a)).collect()
}

#[test]
fn wrong_credentials_are_refused_and_a_correct_login_still_works() {
    for_each_setup(|router, setup| {
        for (case, hello, answer) in wrong_logins() {
            let mut c = connect(router, setup);
            let challenge = c.hello_as(REALM, hello.hello_details());
            assert!(
                matches!(challenge, Message::Challenge { .. }),
                "{case}: a CHALLENGE first, got {challenge:?}"
            );
            let reply = c.finish_login(challenge, &[&answer]);
            assert_refused(&mut c, &reply, FAILED, case);
        }
        for creds in [tina(), carl(), kim(), pam()] {
            let mut c = connect(router, setup);
            let reply = c.login(REALM, &creds);
            assert_eq!(detail(&reply, "authmethod"), creds.method());
        }
    });
}

#[test]
fn methods_the_realm_does_not_offer_and_anonymous_are_refused() {
    for_each_setup(|router, setup| {
        let cases: [(&str, &str, &[&str]); 4] = [
            ("wampcra on a ticket-only realm", TICKET_ONLY, &["wampcra"]),
            (
                "cryptosign on a ticket-only realm",
                TICKET_ONLY,
                &["cryptosign"],
            ),
            ("anonymous asked for", REALM, &["anonymous"]),
            ("an unknown method", REALM, &["kerberos"]),
        ];
        for (case, realm, methods) in cases {
            let mut c = connect(router, setup);
            let reply = c.hello_with(realm, methods);
            assert_refused(&mut c, &reply, NO_METHOD, case);
        }
        let mut c = connect(router, setup);
        let reply = c.hello(REALM);
        assert_refused(&mut c, &reply, NO_METHOD, "a HELLO without authmethods");
        let mut c = connect(router, setup);
        let reply = c.login(TICKET_ONLY, &tina());
        assert_eq!(detail(&reply, "authid"), "tina");
    });
}

/// `creds`' HELLO, then an AUTHENTICATE whose signature is 1 MiB long.
fn oversized_answer(c: &mut Client, creds: &Credentials) -> Message {
    let challenge = c.hello_as(REALM, creds.hello_details());
    let Message::Challenge { extra, .. } = challenge else {
        panic!("expected CHALLENGE, got {challenge:?}")
    };
    let Message::Authenticate { extra, .. } = creds.answer(&extra) else {
        unreachable!()
    };
    c.send(&Message::Authenticate {
        signature: Text::from("A".repeat(MIB)),
        extra,
    });
    c.recv()
}

/// A HELLO offering `n` methods (the last one ticket).
fn hello_offering(c: &mut Client, n: usize) -> Message {
    let mut methods = vec![Value::str("kerberos"); n - 1];
    methods.push(Value::str("ticket"));
    let details = tina()
        .hello_details()
        .with("authmethods", Value::List(methods));
    c.hello_as(REALM, details)
}

#[test]
fn out_of_order_and_oversized_handshakes_get_a_clear_abort() {
    for_each_setup(|router, setup| {
        let url = router.url(setup.kind);
        let mut bystander = Client::join_as(&url, setup.serializer, REALM, &tina());
        let mut c = connect(router, setup);
        c.send(&tina().answer(&Dict::new()));
        let reply = c.recv();
        assert_refused(&mut c, &reply, VIOLATION, "AUTHENTICATE before HELLO");
        let mut c = Client::join_as(&url, setup.serializer, REALM, &tina());
        c.send(&tina().answer(&Dict::new()));
        let reply = c.recv();
        assert_refused(&mut c, &reply, VIOLATION, "AUTHENTICATE after WELCOME");
        for creds in [tina(), carl(), kim(), pam()] {
            let mut c = connect(router, setup);
            let reply = oversized_answer(&mut c, &creds);
            assert_refused(&mut c, &reply, FAILED, creds.method());
        }
        let mut c = connect(router, setup);
        let reply = hello_offering(&mut c, 1000);
        assert_refused(&mut c, &reply, VIOLATION, "1,000 authmethods");
        let mut c = connect(router, setup);
        assert!(matches!(
            hello_offering(&mut c, 16),
            Message::Challenge { .. }
        ));
        assert_still_usable(&mut bystander);
        let mut c = connect(router, setup);
        assert_eq!(detail(&c.login(REALM, &carl()), "authid"), "carl");
    });
}

/// A CALL of a procedure nobody registered gets its error: the session
/// still works.
fn assert_still_usable(c: &mut Client) {
    let request = c.call("com.nobody.home", Payload::empty());
    match c.recv() {
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => assert_eq!(error.as_str(), "wamp.error.no_such_procedure"),
        other => panic!("expected the CALL's ERROR, got {other:?}"),
    }
}

#[test]
fn a_client_silent_after_the_challenge_is_dropped_at_the_handshake_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    for_each_setup_at_once(
        &config(&format!("{NO_THROTTLE}\nhandshake_timeout_ms = 300")),
        |router, setups| {
            let silent: Vec<(Client, Instant)> = setups
                .iter()
                .map(|&setup| {
                    let started = Instant::now();
                    let mut c = connect(router, setup);
                    let challenge = c.hello_as(REALM, tina().hello_details());
                    assert!(matches!(challenge, Message::Challenge { .. }));
                    (c, started)
                })
                .collect();
            for (mut c, started) in silent {
                let reply = c.recv();
                let waited = started.elapsed();
                assert_refused(&mut c, &reply, VIOLATION, "silent after CHALLENGE");
                assert!(abort_message(&reply).contains("timeout"), "{reply:?}");
                assert!(waited >= TIMEOUT, "dropped after {waited:?}");
                assert!(waited < Duration::from_secs(5), "dropped after {waited:?}");
            }
            for &setup in setups {
                let reply = connect(router, setup).login(REALM, &kim());
                assert_eq!(detail(&reply, "authid"), "kim");
            }
        },
    );
}

/// Runs `scenario` once per shard count with a router configured by
/// `toml`, handing it all setups of that shard count at once.
fn for_each_setup_at_once(toml: &str, scenario: impl Fn(&Router, &[Setup])) {
    for shards in 1..=3 {
        let router = Router::from_toml(shards, toml);
        let setups: Vec<Setup> = common::matrix()
            .into_iter()
            .filter(|s| s.shards == shards)
            .collect();
        scenario(&router, &setups);
    }
}

/// A login's answer: `Ok(authmethod)` for a WELCOME, `Err(message)` for an
/// `authentication_failed` ABORT.
fn try_login(url: &str, serializer: Serializer, creds: &Credentials) -> Result<String, String> {
    let mut c = Client::connect(url, serializer);
    let reply = c.login(REALM, creds);
    match &reply {
        Message::Welcome { .. } => Ok(detail(&reply, "authmethod").to_owned()),
        _ => {
            assert_eq!(abort_reason(&reply), FAILED, "{reply:?}");
            Err(abort_message(&reply).to_owned())
        }
    }
}

#[test]
fn failed_logins_throttle_their_address_until_the_window_ends() {
    let router = Router::from_toml(
        1,
        &config("auth_failures_max = 3\nauth_failure_window_ms = 1000"),
    );
    let ws = router.url(Kind::WebSocket);
    let rs = router.url(Kind::RawSocket);
    let wrong = Credentials::ticket("tina", "nope");
    for _ in 0..3 {
        let message = try_login(&ws, Serializer::Json, &wrong).unwrap_err();
        assert!(!message.contains("too many"), "{message}");
    }
    for (url, creds) in [(&ws, tina()), (&rs, carl()), (&rs, kim())] {
        let message = try_login(url, Serializer::Cbor, &creds).unwrap_err();
        assert!(message.contains("too many failed logins"), "{message}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_login(&rs, Serializer::MsgPack, &tina()) {
            Ok(method) => break assert_eq!(method, "ticket"),
            Err(message) => assert!(message.contains("too many"), "{message}"),
        }
        assert!(Instant::now() < deadline, "still throttled after 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A new window: one failure does not throttle.
    try_login(&ws, Serializer::Json, &wrong).unwrap_err();
    assert_eq!(
        try_login(&ws, Serializer::Json, &carl()).unwrap(),
        "wampcra"
    );
}
