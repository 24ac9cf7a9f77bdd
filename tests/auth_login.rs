//! Logging in over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer, against principals configured in TOML: every method
//! and secret source succeeds with the principal's WELCOME.Details; wrong
//! secrets, unknown authids and keys, methods the realm does not offer and
//! anonymous HELLOs are refused with an ABORT that closes the transport;
//! the client's order of authmethods decides; out-of-order, oversized and
//! stalled handshakes get a clear ABORT without disturbing anyone else;
//! failed logins throttle their address for a window; and the meta API
//! reports how a session logged in.
#![allow(clippy::unwrap_used)]

mod common;

use common::auth::{abort_message, detail, for_each_setup_from_toml, welcome_details, Credentials};
use common::{abort_reason, Client, Kind, Router, Setup};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use switchyard::auth::crypto::cryptosign::SigningKey;
use switchyard::auth::crypto::ticket::TicketHash;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, Text, Value};

/// The realm of every principal (anonymous sessions not admitted).
const REALM: &str = "auth.login";
/// A realm offering the ticket method only.
const TICKET_ONLY: &str = "auth.ticketonly";
const FAILED: &str = "wamp.error.authentication_failed";
const NO_METHOD: &str = "wamp.error.no_auth_method";
const VIOLATION: &str = "wamp.error.protocol_violation";
/// The environment variable holding eve's ticket.
const TICKET_ENV: &str = "SWITCHYARD_TEST_AUTH_LOGIN_TICKET";
/// How large an oversized signature is.
const MIB: usize = 1 << 20;

/// kim's cryptosign key (configured).
fn kim_key() -> SigningKey {
    SigningKey::from_seed_hex(&"11".repeat(32)).unwrap()
}

/// A key no principal holds.
fn stranger_key() -> SigningKey {
    SigningKey::from_seed_hex(&"22".repeat(32)).unwrap()
}

/// The file holding fred's ticket; also sets eve's environment variable
/// (both once, before the first router reads them).
fn secret_sources() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::set_var(TICKET_ENV, "env-t1cket");
        let path = std::env::temp_dir().join(format!(
            "switchyard-auth-login-{}.ticket",
            std::process::id()
        ));
        std::fs::write(&path, "f1le-ticket\n").unwrap();
        path
    })
}

/// The `[session]` keys of most routers here: failed-login throttling off
/// (the tests fail logins on purpose, many times).
const NO_THROTTLE: &str = "auth_failures_max = 0";

/// The routers' config: `session` keys, the realm of every principal and
/// the ticket-only realm.
fn config(session: &str) -> String {
    let file = secret_sources().display().to_string();
    let hash = TicketHash::new("h4shed-ticket", 1000).to_string();
    let pubkey = kim_key().public().to_hex();
    format!(
        r#"
[session]
{session}

[[realms.realm]]
name = "{REALM}"
anonymous = false
[[realms.realm.principals]]
authid = "tina"
authrole = "user"
ticket = "t1cket"
authextra = {{ team = "blue", level = 3 }}
[[realms.realm.principals]]
authid = "eve"
authrole = "user"
ticket = {{ env = "{TICKET_ENV}" }}
[[realms.realm.principals]]
authid = "fred"
authrole = "user"
ticket = {{ file = "{file}" }}
[[realms.realm.principals]]
authid = "hank"
authrole = "user"
ticket = {{ hash = "{hash}" }}
[[realms.realm.principals]]
authid = "carl"
authrole = "user"
wampcra = "cra-s3cret"
[[realms.realm.principals]]
authid = "cora"
authrole = "user"
wampcra = {{ value = "cra-salt-secret", salt = "cra-salt", iterations = 100, keylen = 32 }}
[[realms.realm.principals]]
authid = "kim"
authrole = "signer"
cryptosign = ["{pubkey}"]
authextra = {{ device = "laptop" }}
[[realms.realm.principals]]
authid = "pam"
authrole = "user"
scram = {{ value = "pencil", kdf = "pbkdf2", iterations = 16 }}
[[realms.realm.principals]]
authid = "ari"
authrole = "user"
scram = {{ value = "argon-pw", kdf = "argon2id", iterations = 1, memory = 64 }}
authextra = {{ tier = "gold" }}
[[realms.realm.principals]]
authid = "multi"
authrole = "user"
ticket = "m-ticket"
wampcra = "m-secret"
[[realms.realm.principals]]
authid = "root"
authrole = "admin"
ticket = "r00t"
[[realms.realm.roles]]
name = "user"
permissions = [{{ uri = "com.", match = "prefix", allow = {{ call = true }} }}]
[[realms.realm.roles]]
name = "signer"
permissions = [{{ uri = "com.", match = "prefix", allow = {{ call = true }} }}]
[[realms.realm.roles]]
name = "admin"
permissions = [{{ uri = "wamp.", match = "prefix", allow = {{ call = true }} }}]

[[realms.realm]]
name = "{TICKET_ONLY}"
anonymous = false
[[realms.realm.principals]]
authid = "tina"
authrole = "user"
ticket = "t1cket"
[[realms.realm.roles]]
name = "user"
"#
    )
}

/// `for_each_setup_from_toml` with `config(NO_THROTTLE)`.
fn for_each_setup(scenario: impl Fn(&Router, Setup)) {
    for_each_setup_from_toml(|_| config(NO_THROTTLE), scenario);
}

fn tina() -> Credentials {
    Credentials::ticket("tina", "t1cket")
}

fn carl() -> Credentials {
    Credentials::cra("carl", "cra-s3cret")
}

fn kim() -> Credentials {
    Credentials::cryptosign(Some("kim"), &kim_key())
}

fn pam() -> Credentials {
    Credentials::scram("pam", "pencil", "wamp-scram")
}

/// A correct login per method and secret source, with the authid and
/// authrole WELCOME must carry.
fn good_logins() -> Vec<(Credentials, &'static str, &'static str)> {
    vec![
        (tina(), "tina", "user"),
        (Credentials::ticket("eve", "env-t1cket"), "eve", "user"),
        (Credentials::ticket("fred", "f1le-ticket"), "fred", "user"),
        (Credentials::ticket("hank", "h4shed-ticket"), "hank", "user"),
        (carl(), "carl", "user"),
        (Credentials::cra("cora", "cra-salt-secret"), "cora", "user"),
        (kim(), "kim", "signer"),
        (Credentials::cryptosign(None, &kim_key()), "kim", "signer"),
        (pam(), "pam", "user"),
        (Credentials::scram("pam", "pencil", "scram"), "pam", "user"),
        (
            Credentials::scram("ari", "argon-pw", "wamp-scram"),
            "ari",
            "user",
        ),
        (
            Credentials::scram("ari", "argon-pw", "scram"),
            "ari",
            "user",
        ),
    ]
}

/// The `authextra` WELCOME must carry for principal `authid` (`None`: no
/// authextra), in key order.
fn expected_authextra(authid: &str) -> Option<Dict> {
    match authid {
        "tina" => Some(Dict::new().with("level", 3u64).with("team", "blue")),
        "kim" => Some(Dict::new().with("device", "laptop")),
        "ari" => Some(Dict::new().with("tier", "gold")),
        _ => None,
    }
}

/// `d` with its keys in order (the order of a dict's keys carries no meaning).
fn sorted(d: Option<Dict>) -> Option<Dict> {
    d.map(|mut d| {
        d.0.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        d
    })
}

/// Asserts `reply` is the WELCOME of `creds` as principal `authid`/`authrole`
/// after a CHALLENGE with `challenge` extra (SCRAM: the router's signature
/// is the one the password gives, beside the principal's authextra).
fn assert_welcome(reply: &Message, creds: &Credentials, challenge: &Dict, who: (&str, &str)) {
    let (authid, authrole) = who;
    assert_eq!(detail(reply, "authid"), authid, "{reply:?}");
    assert_eq!(detail(reply, "authrole"), authrole);
    assert_eq!(detail(reply, "authmethod"), creds.method());
    assert_eq!(detail(reply, "authprovider"), "static");
    let extra = welcome_details(reply).get("authextra").map(|e| {
        e.as_dict()
            .cloned()
            .unwrap_or_else(|| panic!("authextra is not a dict: {reply:?}"))
    });
    let success_key = match creds.method() {
        "wamp-scram" => Some("verifier"),
        "scram" => Some("scram_server_signature"),
        _ => None,
    };
    let rest = match success_key {
        Some(key) => {
            let Some(mut extra) = extra else {
                panic!("{} WELCOME without authextra: {reply:?}", creds.method())
            };
            let signature = extra.remove(key).unwrap_or_else(|| panic!("no {key}"));
            let want = creds.scram_server_signature(challenge);
            assert_eq!(signature.as_str(), Some(want.as_str()), "{key}");
            (!extra.is_empty()).then_some(extra)
        }
        None => extra,
    };
    assert_eq!(sorted(rest), expected_authextra(authid), "{reply:?}");
}

fn connect(router: &Router, setup: Setup) -> Client {
    Client::connect(&router.url(setup.kind), setup.serializer)
}

/// Asserts `reply` is an ABORT for `reason` with a message, and that the
/// router then closed the transport.
fn assert_refused(c: &mut Client, reply: &Message, reason: &str, case: &str) {
    assert_eq!(abort_reason(reply), reason, "{case}: {reply:?}");
    abort_message(reply);
    c.expect_closed();
}

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
