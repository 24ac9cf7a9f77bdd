//! The principals, realms and credentials the login tests share: a realm
//! with a principal per method and secret source (ticket inline, from the
//! environment, a file and a hash; WAMP-CRA plain and salted; cryptosign;
//! SCRAM in both dialects and KDFs), a ticket-only realm, and the checks of
//! a WELCOME or an ABORT.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common;
use common::auth::{abort_message, detail, for_each_setup_from_toml, welcome_details, Credentials};
use common::{abort_reason, Client, Router, Setup};
use std::path::PathBuf;
use std::sync::OnceLock;
use switchyard::auth::crypto::cryptosign::SigningKey;
use switchyard::auth::crypto::ticket::TicketHash;
use switchyard::wire::{Dict, Message};

/// The realm of every principal (anonymous sessions not admitted).
pub const REALM: &str = "auth.login";
/// A realm offering the ticket method only.
pub const TICKET_ONLY: &str = "auth.ticketonly";
pub const FAILED: &str = "wamp.error.authentication_failed";
pub const NO_METHOD: &str = "wamp.error.no_auth_method";
pub const VIOLATION: &str = "wamp.error.protocol_violation";
/// The environment variable holding eve's ticket.
pub const TICKET_ENV: &str = "SWITCHYARD_TEST_AUTH_LOGIN_TICKET";
/// How large an oversized signature is.
pub const MIB: usize = 1 << 20;

/// kim's cryptosign key (configured).
pub fn kim_key() -> SigningKey {
    SigningKey::from_seed_hex(&"11".repeat(32)).unwrap()
}

/// A key no principal holds.
pub fn stranger_key() -> SigningKey {
    SigningKey::from_seed_hex(&"22".repeat(32)).unwrap()
}

/// The file holding fred's ticket; also sets eve's environment variable
/// (both once, before the first router reads them).
pub fn secret_sources() -> &'static PathBuf {
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
pub const NO_THROTTLE: &str = "auth_failures_max = 0";

/// The routers' config: `session` keys, the realm of every principal and
/// the ticket-only realm.
pub fn config(session: &str) -> String {
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
pub fn for_each_setup(scenario: impl Fn(&Router, Setup)) {
    for_each_setup_from_toml(|_| config(NO_THROTTLE), scenario);
}

pub fn tina() -> Credentials {
    Credentials::ticket("tina", "t1cket")
}

pub fn carl() -> Credentials {
    Credentials::cra("carl", "cra-s3cret")
}

pub fn kim() -> Credentials {
    Credentials::cryptosign(Some("kim"), &kim_key())
}

pub fn pam() -> Credentials {
    Credentials::scram("pam", "pencil", "wamp-scram")
}

/// A correct login per method and secret source, with the authid and
/// authrole WELCOME must carry.
pub fn good_logins() -> Vec<(Credentials, &'static str, &'static str)> {
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
pub fn expected_authextra(authid: &str) -> Option<Dict> {
    match authid {
        "tina" => Some(Dict::new().with("level", 3u64).with("team", "blue")),
        "kim" => Some(Dict::new().with("device", "laptop")),
        "ari" => Some(Dict::new().with("tier", "gold")),
        _ => None,
    }
}

/// `d` with its keys in order (the order of a dict's keys carries no meaning).
pub fn sorted(d: Option<Dict>) -> Option<Dict> {
    d.map(|mut d| {
        d.0.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        d
    })
}

/// Asserts `reply` is the WELCOME of `creds` as principal `authid`/`authrole`
/// after a CHALLENGE with `challenge` extra (SCRAM: the router's signature
/// is the one the password gives, beside the principal's authextra).
pub fn assert_welcome(reply: &Message, creds: &Credentials, challenge: &Dict, who: (&str, &str)) {
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

pub fn connect(router: &Router, setup: Setup) -> Client {
    Client::connect(&router.url(setup.kind), setup.serializer)
}

/// Asserts `reply` is an ABORT for `reason` with a message, and that the
/// router then closed the transport.
pub fn assert_refused(c: &mut Client, reply: &Message, reason: &str, case: &str) {
    assert_eq!(abort_reason(reply), reason, "{case}: {reply:?}");
    abort_message(reply);
    c.expect_closed();
}
