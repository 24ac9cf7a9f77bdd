#![allow(clippy::unwrap_used)]
//! One login per method against a router configured from TOML.

mod common;

use common::auth::{detail, Credentials};
use common::{abort_reason, Client, Kind, Router};
use switchyard::auth::crypto::cryptosign::SigningKey;
use switchyard::wire::Serializer;

#[test]
fn every_method_logs_in() {
    let key = SigningKey::generate();
    let toml = format!(
        r#"
[[realms.realm]]
name = "auth.smoke"
anonymous = false
[[realms.realm.principals]]
authid = "tina"
authrole = "user"
ticket = "t1cket"
[[realms.realm.principals]]
authid = "carl"
authrole = "user"
wampcra = {{ value = "s3cret", salt = "salt123", iterations = 100, keylen = 32 }}
[[realms.realm.principals]]
authid = "kim"
authrole = "user"
cryptosign = ["{}"]
[[realms.realm.principals]]
authid = "sam"
authrole = "user"
scram = {{ value = "pencil", kdf = "argon2id", iterations = 1, memory = 64 }}
[[realms.realm.roles]]
name = "user"
[[realms.realm.roles.permissions]]
uri = ""
match = "prefix"
allow = {{ call = true }}
"#,
        key.public().to_hex()
    );
    let router = Router::from_toml(2, &toml);
    let url = router.url(Kind::RawSocket);
    let logins = [
        Credentials::ticket("tina", "t1cket"),
        Credentials::cra("carl", "s3cret"),
        Credentials::Cryptosign {
            authid: None,
            key: key.clone(),
        },
        Credentials::Scram {
            authid: "sam".into(),
            password: "pencil".into(),
            method: "scram",
        },
        Credentials::Scram {
            authid: "sam".into(),
            password: "pencil".into(),
            method: "wamp-scram",
        },
    ];
    for creds in &logins {
        let mut c = Client::connect(&url, Serializer::Json);
        let reply = c.login("auth.smoke", creds);
        assert_eq!(detail(&reply, "authmethod"), creds.method(), "{reply:?}");
        assert_eq!(detail(&reply, "authrole"), "user");
    }
    let mut c = Client::connect(&url, Serializer::Json);
    let reply = c.login("auth.smoke", &Credentials::ticket("tina", "wrong"));
    assert_eq!(abort_reason(&reply), "wamp.error.authentication_failed");
}
