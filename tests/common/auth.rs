//! Logging in with credentials: the client side of ticket, WAMP-CRA,
//! cryptosign and WAMP-SCRAM over the test client (whole logins, or a HELLO
//! and its answer step by step, or several methods offered at once), and a
//! router started from TOML config text (so tests go through the config's
//! principals and roles exactly as a deployment does), alone or once per
//! shard count of the test matrix.

use super::{matrix, roles, Client, Router, Setup};
use switchyard::auth::crypto::{cra, cryptosign, scram};
use switchyard::config::Config;
use switchyard::runtime::{self, RouterOptions};
use switchyard::wire::{Dict, Message, Serializer, Text, Value};

/// A client's credentials.
#[derive(Clone)]
pub enum Credentials {
    Anonymous,
    Ticket {
        authid: String,
        ticket: String,
    },
    /// `secret` is the raw secret; a salted CHALLENGE derives the key.
    Cra {
        authid: String,
        secret: String,
    },
    Cryptosign {
        authid: Option<String>,
        key: cryptosign::SigningKey,
    },
    Scram {
        authid: String,
        password: String,
        /// "wamp-scram" or "scram".
        method: &'static str,
    },
}

impl Credentials {
    pub fn ticket(authid: &str, ticket: &str) -> Credentials {
        Credentials::Ticket {
            authid: authid.into(),
            ticket: ticket.into(),
        }
    }

    pub fn cra(authid: &str, secret: &str) -> Credentials {
        Credentials::Cra {
            authid: authid.into(),
            secret: secret.into(),
        }
    }

    pub fn cryptosign(authid: Option<&str>, key: &cryptosign::SigningKey) -> Credentials {
        Credentials::Cryptosign {
            authid: authid.map(str::to_owned),
            key: key.clone(),
        }
    }

    /// `method`: "wamp-scram" or "scram".
    pub fn scram(authid: &str, password: &str, method: &'static str) -> Credentials {
        Credentials::Scram {
            authid: authid.into(),
            password: password.into(),
            method,
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            Credentials::Anonymous => "anonymous",
            Credentials::Ticket { .. } => "ticket",
            Credentials::Cra { .. } => "wampcra",
            Credentials::Cryptosign { .. } => "cryptosign",
            Credentials::Scram { method, .. } => method,
        }
    }

    fn authid(&self) -> Option<&str> {
        match self {
            Credentials::Anonymous => None,
            Credentials::Ticket { authid, .. }
            | Credentials::Cra { authid, .. }
            | Credentials::Scram { authid, .. } => Some(authid),
            Credentials::Cryptosign { authid, .. } => authid.as_deref(),
        }
    }

    /// HELLO.Details for these credentials.
    pub fn hello_details(&self) -> Dict {
        let mut d = Dict::new()
            .with("roles", roles())
            .with("authmethods", Value::List(vec![Value::str(self.method())]));
        if let Some(a) = self.authid() {
            d = d.with("authid", a);
        }
        match self {
            Credentials::Cryptosign { key, .. } => {
                let extra = Dict::new().with("pubkey", Value::str(key.public().to_hex()));
                d.with("authextra", extra)
            }
            Credentials::Scram { .. } => {
                let extra = Dict::new().with("nonce", SCRAM_CLIENT_NONCE);
                d.with("authextra", extra)
            }
            _ => d,
        }
    }

    /// The AUTHENTICATE answering `extra` of a CHALLENGE.
    pub fn answer(&self, extra: &Dict) -> Message {
        let (signature, extra) = match self {
            Credentials::Anonymous => panic!("anonymous logins get no CHALLENGE"),
            Credentials::Ticket { ticket, .. } => (ticket.clone(), Dict::new()),
            Credentials::Cra { secret, .. } => (cra_signature(secret, extra), Dict::new()),
            Credentials::Cryptosign { key, .. } => {
                let hex = extra.get("challenge").and_then(Value::as_str).unwrap();
                let challenge = cryptosign::challenge_from_hex(hex).unwrap();
                (cryptosign::sign(key, &challenge, None), Dict::new())
            }
            Credentials::Scram {
                authid,
                password,
                method,
            } => scram_answer(authid, password, method, extra),
        };
        Message::Authenticate {
            signature: Text::from(signature),
            extra,
        }
    }
}

const SCRAM_CLIENT_NONCE: &str = "cGVuY2lsLWNsaWVudC1ub25jZQ==";

fn cra_signature(secret: &str, extra: &Dict) -> String {
    let challenge = extra.get("challenge").and_then(Value::as_str).unwrap();
    let key = match extra.get("salt").and_then(Value::as_str) {
        Some(salt) => {
            let n = |k: &str| extra.get(k).and_then(Value::as_u64).unwrap();
            cra::derive_key(secret, salt, n("iterations") as u32, n("keylen") as usize)
        }
        None => secret.to_owned(),
    };
    cra::sign(key.as_bytes(), challenge)
}

/// What a SCRAM login computes from the CHALLENGE.
struct ScramRound {
    dialect: scram::Dialect,
    nonce: String,
    salt: Vec<u8>,
    kdf: scram::Kdf,
    iterations: u32,
    auth_message: String,
}

impl ScramRound {
    fn new(authid: &str, method: &str, extra: &Dict) -> ScramRound {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let s = |k: &str| extra.get(k).and_then(Value::as_str).unwrap().to_owned();
        let nonce = s("nonce");
        let salt_b64 = s("salt");
        let iterations = extra.get("iterations").and_then(Value::as_u64).unwrap() as u32;
        let kdf = match s("kdf").as_str() {
            "pbkdf2" => scram::Kdf::Pbkdf2,
            _ => scram::Kdf::Argon2id {
                memory_kib: extra.get("memory").and_then(Value::as_u64).unwrap() as u32,
            },
        };
        let dialect = if method == "scram" {
            scram::Dialect::Autobahn
        } else {
            scram::Dialect::Spec
        };
        let auth_message = scram::auth_message(
            dialect,
            authid,
            SCRAM_CLIENT_NONCE,
            &nonce,
            &salt_b64,
            iterations,
            None,
        );
        ScramRound {
            dialect,
            nonce,
            salt: b64.decode(&salt_b64).unwrap(),
            kdf,
            iterations,
            auth_message,
        }
    }
}

fn scram_answer(authid: &str, password: &str, method: &str, extra: &Dict) -> (String, Dict) {
    let r = ScramRound::new(authid, method, extra);
    let proof = scram::client_proof_for(
        r.dialect,
        password,
        &r.salt,
        r.kdf,
        r.iterations,
        &r.auth_message,
    )
    .unwrap();
    (proof, Dict::new().with("nonce", Value::str(r.nonce)))
}

impl Credentials {
    /// SCRAM only: the server signature a router that knows the password
    /// must send in WELCOME after the CHALLENGE with `extra`.
    pub fn scram_server_signature(&self, extra: &Dict) -> String {
        let Credentials::Scram {
            authid,
            password,
            method,
        } = self
        else {
            panic!("{} has no server signature", self.method())
        };
        let r = ScramRound::new(authid, method, extra);
        let cred = scram::Credential::derive_for(r.dialect, password, &r.salt, r.kdf, r.iterations)
            .unwrap();
        scram::server_signature(&cred, &r.auth_message)
    }
}

impl Client {
    /// Sends HELLO with `creds`, answers a CHALLENGE, and returns the final
    /// answer (WELCOME or ABORT); a WELCOME sets `session`.
    pub fn login(&mut self, realm: &str, creds: &Credentials) -> Message {
        let reply = self.hello_as(realm, creds.hello_details());
        self.finish_login(reply, &[creds])
    }

    /// Sends HELLO with `details` and returns the answer (a CHALLENGE,
    /// WELCOME or ABORT), for tests that look at the CHALLENGE or answer it
    /// with other credentials than the HELLO's.
    pub fn hello_as(&mut self, realm: &str, details: Dict) -> Message {
        self.send(&Message::Hello {
            realm: Text::from(realm),
            details,
        });
        self.recv()
    }

    /// Answers `reply` if it is a CHALLENGE (with the credentials of its
    /// method, which must be among `creds`) and returns the final answer; a
    /// WELCOME sets `session`.
    pub fn finish_login(&mut self, reply: Message, creds: &[&Credentials]) -> Message {
        let mut reply = reply;
        if let Message::Challenge {
            auth_method, extra, ..
        } = &reply
        {
            let creds = creds
                .iter()
                .find(|c| c.method() == auth_method.as_str())
                .unwrap_or_else(|| panic!("no credentials for a {auth_method} CHALLENGE"));
            let answer = creds.answer(extra);
            self.send(&answer);
            reply = self.recv();
        }
        if let Message::Welcome { session, .. } = &reply {
            self.session = *session;
        }
        reply
    }

    /// Logs in offering `offered` as HELLO.Details.authmethods (in that
    /// order), with the HELLO details of every one of `creds` merged (they
    /// share an authid); the CHALLENGE is answered with the credentials of
    /// the method the router chose.
    pub fn login_offering(
        &mut self,
        realm: &str,
        offered: &[&str],
        creds: &[&Credentials],
    ) -> Message {
        let mut details = Dict::new();
        let mut authextra = Dict::new();
        for c in creds {
            for (k, v) in c.hello_details().iter() {
                match v {
                    Value::Dict(extra) if k == "authextra" => {
                        for (ek, ev) in extra.iter() {
                            authextra.insert(ek, ev.clone());
                        }
                    }
                    _ => details.insert(k, v.clone()),
                }
            }
        }
        if !authextra.is_empty() {
            details.insert("authextra", authextra);
        }
        let methods = offered.iter().map(|m| Value::str(*m)).collect();
        details.insert("authmethods", Value::List(methods));
        let reply = self.hello_as(realm, details);
        self.finish_login(reply, creds)
    }

    /// A joined client logged in with `creds` (fails the test otherwise).
    pub fn join_as(url: &str, serializer: Serializer, realm: &str, creds: &Credentials) -> Client {
        let mut c = Client::connect(url, serializer);
        match c.login(realm, creds) {
            Message::Welcome { .. } => c,
            other => panic!("expected WELCOME for {}, got {other:?}", creds.method()),
        }
    }
}

/// WELCOME.Details of a reply (fails the test on anything else).
pub fn welcome_details(m: &Message) -> &Dict {
    match m {
        Message::Welcome { details, .. } => details,
        other => panic!("expected WELCOME, got {other:?}"),
    }
}

/// A string of WELCOME.Details.
pub fn detail<'a>(m: &'a Message, key: &str) -> &'a str {
    welcome_details(m)
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("WELCOME.Details.{key} missing in {m:?}"))
}

/// `Details.message` of an ABORT (fails the test if it is not a non-empty string).
pub fn abort_message(m: &Message) -> &str {
    let Message::Abort { details, .. } = m else {
        panic!("expected ABORT, got {m:?}")
    };
    match details.get_str("message") {
        Ok(Some(text)) if !text.is_empty() => text,
        _ => panic!("ABORT without a Details.message: {m:?}"),
    }
}

/// Runs `scenario` once per shard count (1-3), with a fresh router
/// configured by `toml(shards)` (see `Router::from_toml`), for every
/// transport x serializer of that shard count.
pub fn for_each_setup_from_toml(toml: impl Fn(usize) -> String, scenario: impl Fn(&Router, Setup)) {
    for shards in 1..=3 {
        let router = Router::from_toml(shards, &toml(shards));
        for setup in matrix().into_iter().filter(|s| s.shards == shards) {
            eprintln!("-- {setup:?}");
            scenario(&router, setup);
        }
    }
}

impl Router {
    /// A client of `setup` logged in to `realm` with `creds`, whose session
    /// lives on `shard` (session IDs encode their shard; sessions that land
    /// elsewhere are closed with GOODBYE before the next try).
    pub fn login_on(&self, setup: Setup, shard: usize, realm: &str, creds: &Credentials) -> Client {
        for _ in 0..500 {
            let mut c = Client::join_as(&self.url(setup.kind), setup.serializer, realm, creds);
            if c.session.0 % self.shards as u64 == shard as u64 {
                return c;
            }
            c.goodbye();
        }
        panic!("no session landed on shard {shard} in 500 tries");
    }

    /// A router of `shards` shards configured by TOML `text`, which starts
    /// with a table header (listeners on free loopback ports, shards unpinned).
    pub fn from_toml(shards: usize, text: &str) -> Router {
        let head = format!(
            "shards = {shards}\nplacement = \"unpinned\"\n\
             [websocket]\naddress = \"127.0.0.1:0\"\n\
             [rawsocket]\naddress = \"127.0.0.1:0\"\n\
             [http]\naddress = \"127.0.0.1:0\"\n"
        );
        let config = Config::from_toml_str(&format!("{head}{text}"))
            .unwrap_or_else(|e| panic!("test config rejected: {e}"));
        let opts = RouterOptions::from_config(&config);
        Router {
            running: runtime::start(opts).expect("router starts"),
            shards,
        }
    }
}

/// The realm `auth.interop` of the interop login scripts
/// (tests/interop/auth_realm.toml), with `kim` holding `key`.
pub fn interop_auth_realm(key: &cryptosign::PublicKey) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/auth_realm.toml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.replace("PUBKEY_HEX", &key.to_hex())
}
