//! The router's side of each authentication method: what a HELLO gets (a
//! WELCOME, a CHALLENGE or a refusal) and whether an AUTHENTICATE proves
//! the client's claim. `Pending` carries what a challenge must remember
//! until its answer.
//!
//! Unknown authids are challenged like known ones and fail at
//! AUTHENTICATE, so a client cannot learn which principals exist.

use super::crypto::cryptosign::PublicKey;
use super::crypto::{self, cra, cryptosign, scram};
use super::dynamic::{Ask, Asked};
use super::principal::{CraSalt, CraSecret, Principal, RealmAuth, Ticket};
use super::Identity;
use crate::wire::{Dict, ErrorUri, Text, Value};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// What a HELLO says of the client.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub realm: &'a str,
    pub authid: Option<&'a str>,
    pub authextra: Option<&'a Dict>,
    /// The session ID WELCOME will carry (WAMP-CRA puts it in the challenge).
    pub session: u64,
    /// `{type, peer}` of the connection (told to dynamic authenticators).
    pub transport: Option<&'a Dict>,
    /// The SHA-256 of the client certificate TLS verified, if any.
    pub client_cert: Option<[u8; 32]>,
}

/// The answer to a HELLO or an AUTHENTICATE.
#[derive(Debug)]
pub enum Outcome {
    Welcome(Identity),
    Challenge {
        authmethod: &'static str,
        extra: Dict,
        pending: Pending,
    },
    Deny(Refusal),
    /// Ask the realm's authenticator first (`RealmAuth::answered` goes on).
    Ask(Box<Ask>),
}

/// A refused login: the ABORT reason and message. `failed` marks a wrong
/// credential (counted against the source address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Text,
    pub message: String,
    pub failed: bool,
}

/// What a challenge remembers until its AUTHENTICATE.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Ticket {
        authid: Text,
        /// The authenticator to ask (no static principal has a ticket).
        ask: Option<Box<Ask>>,
    },
    Cra {
        /// Who the session is if the signature is right.
        who: Box<Identity>,
        /// The HMAC key (`None`: an unknown authid, which must fail).
        key: Option<Vec<u8>>,
        challenge: String,
    },
    Cryptosign {
        /// Who holds the key (`None`: nobody, which must fail).
        who: Option<Box<Identity>>,
        key: [u8; 32],
        challenge: [u8; 32],
    },
    Scram {
        authid: Text,
        dialect: scram::Dialect,
        nonce: String,
        auth_message: String,
    },
}

fn refusal(reason: ErrorUri, message: impl Into<String>) -> Refusal {
    Refusal {
        reason: Text::from(reason),
        message: message.into(),
        failed: false,
    }
}

fn failed(message: impl Into<String>) -> Outcome {
    Outcome::Deny(Refusal {
        reason: Text::from(ErrorUri::AuthenticationFailed),
        message: message.into(),
        failed: true,
    })
}

fn required_authid<'a>(login: &Login<'a>, method: &str) -> Result<&'a str, Refusal> {
    match login.authid {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(refusal(
            ErrorUri::AuthenticationFailed,
            format!("{method} needs HELLO.Details.authid"),
        )),
    }
}

impl Pending {
    /// The method whose challenge this answers.
    pub fn method(&self) -> &'static str {
        match self {
            Pending::Ticket { .. } => "ticket",
            Pending::Cra { .. } => "wampcra",
            Pending::Cryptosign { .. } => "cryptosign",
            Pending::Scram { dialect, .. } => dialect.authmethod(),
        }
    }
}

impl RealmAuth {
    /// A HELLO chose `method` (one of `methods()`).
    pub fn hello(&self, method: &str, login: &Login<'_>) -> Outcome {
        let started = match method {
            "anonymous" => Ok(Outcome::Welcome(Identity::anonymous())),
            "tls" => Ok(self.tls_login(login)),
            "ticket" => required_authid(login, method).map(|a| self.ticket_challenge(a, login)),
            "wampcra" => required_authid(login, method).map(|a| self.cra_start(a, login)),
            "cryptosign" => self.cryptosign_challenge(login),
            "wamp-scram" | "scram" => self.scram_challenge(method, login),
            other => Err(refusal(
                ErrorUri::NoAuthMethod,
                format!("authmethod '{other}' is not offered"),
            )),
        };
        started.unwrap_or_else(Outcome::Deny)
    }

    /// An AUTHENTICATE answers the challenge that left `pending`.
    pub fn authenticate(&self, pending: Pending, signature: &str, extra: &Dict) -> Outcome {
        match pending {
            Pending::Ticket { authid, ask } => self.check_ticket(&authid, ask, signature),
            Pending::Cra {
                who,
                key,
                challenge,
            } => check_cra(*who, key.as_deref(), &challenge, signature),
            Pending::Cryptosign {
                who,
                key,
                challenge,
            } => check_cryptosign(who, &key, &challenge, signature),
            Pending::Scram {
                authid,
                dialect,
                nonce,
                auth_message,
            } => {
                let claim = ScramClaim {
                    dialect,
                    nonce: &nonce,
                    auth_message: &auth_message,
                };
                self.check_scram(&authid, &claim, signature, extra)
            }
        }
    }

    fn welcome(&self, p: &Principal, method: &'static str, extra: Option<Dict>) -> Outcome {
        let authextra = match (p.authextra.clone(), extra) {
            (Some(mut mine), Some(more)) => {
                mine.0.extend(more.0);
                Some(mine)
            }
            (mine, more) => mine.or(more),
        };
        Outcome::Welcome(identity(p, method, authextra))
    }

    /// A login by the client certificate TLS verified (and, if the HELLO
    /// names an authid, that principal's).
    fn tls_login(&self, login: &Login<'_>) -> Outcome {
        let Some(cert) = login.client_cert else {
            return failed("authmethod tls needs a verified client certificate");
        };
        match self.principal_by_cert(&cert) {
            Some(p) if login.authid.is_none_or(|a| a == p.authid.as_str()) => {
                self.welcome(p, "tls", None)
            }
            Some(_) => failed("the client certificate belongs to another authid"),
            None => failed("no principal has this client certificate"),
        }
    }

    fn ticket_challenge(&self, authid: &str, login: &Login<'_>) -> Outcome {
        let static_ticket = self.principal(authid).is_some_and(|p| p.ticket.is_some());
        let asked = Asked::Ticket {
            authid: Text::from(authid),
        };
        let ask = match self.ask("ticket", login, Dict::new(), asked) {
            Some(Outcome::Ask(ask)) if !static_ticket => Some(ask),
            _ => None,
        };
        Outcome::Challenge {
            authmethod: "ticket",
            extra: Dict::new(),
            pending: Pending::Ticket {
                authid: Text::from(authid),
                ask,
            },
        }
    }

    fn check_ticket(&self, authid: &str, ask: Option<Box<Ask>>, ticket: &str) -> Outcome {
        if let Some(mut ask) = ask {
            if let Some(Value::Dict(details)) = ask.args.get_mut(2) {
                details.insert("ticket", Value::str(ticket));
            }
            return Outcome::Ask(ask);
        }
        let p = self.principal(authid);
        let ok = match p.and_then(|p| p.ticket.as_ref()) {
            Some(Ticket::Plain(t)) => crypto::constant_time_eq(t.as_bytes(), ticket.as_bytes()),
            Some(Ticket::Hashed(h)) => h.verify(ticket),
            None => false,
        };
        match p {
            Some(p) if ok => self.welcome(p, "ticket", None),
            _ => failed(format!("wrong ticket or unknown authid '{authid}'")),
        }
    }

    /// A WAMP-CRA HELLO: the static principal's challenge, else the
    /// authenticator's, else a challenge no answer passes.
    fn cra_start(&self, authid: &str, login: &Login<'_>) -> Outcome {
        let p = self.principal(authid);
        if let Some((p, secret)) = p.and_then(|p| Some((p, p.cra.as_ref()?))) {
            let who = identity(p, "wampcra", p.authextra.clone());
            return self.cra_challenge_for(who, secret, login.session);
        }
        let asked = Asked::Cra {
            authid: Text::from(authid),
            session: login.session,
        };
        if let Some(ask) = self.ask("wampcra", login, Dict::new(), asked) {
            return ask;
        }
        let (authrole, salt) = self.cra_decoy(authid);
        let nobody = Identity {
            authid: Text::from(authid),
            authrole,
            authmethod: Text::from_static("wampcra"),
            authprovider: Text::from_static("static"),
            authextra: None,
        };
        cra_challenge(nobody, None, salt.as_ref(), login.session)
    }

    /// What the challenge of an unknown authid shows: the role and salt
    /// parameters of a principal picked by a keyed hash of the authid (the
    /// same on every try), with a made-up salt, so it looks like a known
    /// authid's.
    fn cra_decoy(&self, authid: &str) -> (Text, Option<CraSalt>) {
        let pick = scram::mock_salt(&self.mock_key, authid);
        let Some(decoy) =
            self.cra_decoy_for(u64::from_le_bytes(pick[..8].try_into().unwrap_or_default()))
        else {
            return (Text::default(), None);
        };
        let salt = decoy
            .cra
            .as_ref()
            .and_then(|c| c.salt.as_ref())
            .map(|s| CraSalt {
                salt: B64.encode(&pick[8..]),
                iterations: s.iterations,
                keylen: s.keylen,
            });
        (decoy.authrole.clone(), salt)
    }

    /// The CHALLENGE for `who`, whose secret is `secret`.
    pub(super) fn cra_challenge_for(
        &self,
        who: Identity,
        secret: &CraSecret,
        session: u64,
    ) -> Outcome {
        cra_challenge(who, Some(secret.key.clone()), secret.salt.as_ref(), session)
    }

    fn cryptosign_challenge(&self, login: &Login<'_>) -> Result<Outcome, Refusal> {
        let extra = login.authextra;
        let pubkey = extra.and_then(|e| e.get("pubkey")).and_then(Value::as_str);
        let Some(key) = pubkey.and_then(PublicKey::from_hex) else {
            return Err(refusal(
                ErrorUri::AuthenticationFailed,
                "cryptosign needs HELLO.Details.authextra.pubkey (64 hex characters)",
            ));
        };
        let binding = extra.and_then(|e| e.get("channel_binding"));
        if let Some(b) = binding.filter(|b| **b != Value::Null) {
            let name = b.as_str().unwrap_or("?");
            return Err(refusal(
                ErrorUri::AuthenticationFailed,
                format!("channel binding '{name}' is not available on this transport"),
            ));
        }
        let authid = login.authid.filter(|a| !a.is_empty());
        let holder = match authid {
            Some(a) => self.principal(a).filter(|p| p.cryptosign.contains(&key)),
            None => self.principal_by_key(&key),
        };
        if let Some(p) = holder {
            let who = identity(p, "cryptosign", p.authextra.clone());
            return Ok(cryptosign_challenge_for(who, key.to_bytes()));
        }
        let asked = Asked::Cryptosign {
            authid: authid.map(Text::from),
            key: key.to_bytes(),
        };
        if let Some(ask) = self.ask("cryptosign", login, Dict::new(), asked) {
            return Ok(ask);
        }
        Ok(cryptosign_challenge(None, key.to_bytes()))
    }
}

/// The identity of static principal `p` logged in with `method`.
fn identity(p: &Principal, method: &'static str, authextra: Option<Dict>) -> Identity {
    Identity {
        authid: p.authid.clone(),
        authrole: p.authrole.clone(),
        authmethod: Text::from_static(method),
        authprovider: Text::from_static("static"),
        authextra,
    }
}

fn cra_challenge(
    who: Identity,
    key: Option<Vec<u8>>,
    salt: Option<&CraSalt>,
    session: u64,
) -> Outcome {
    let nonce = B64.encode(crypto::random_bytes::<16>());
    let challenge = cra::challenge(
        &who.authid,
        &who.authrole,
        &who.authprovider,
        session,
        &nonce,
        &cra::timestamp(std::time::SystemTime::now()),
    );
    let mut extra = Dict::new().with("challenge", Value::str(challenge.as_str()));
    if let Some(salt) = salt {
        extra = extra
            .with("salt", Value::str(salt.salt.as_str()))
            .with("iterations", u64::from(salt.iterations))
            .with("keylen", u64::from(salt.keylen));
    }
    Outcome::Challenge {
        authmethod: "wampcra",
        extra,
        pending: Pending::Cra {
            who: Box::new(who),
            key,
            challenge,
        },
    }
}

fn check_cra(who: Identity, key: Option<&[u8]>, challenge: &str, signature: &str) -> Outcome {
    match key {
        Some(key) if cra::verify(key, challenge, signature) => Outcome::Welcome(who),
        _ => failed(format!(
            "wrong signature or unknown authid '{}'",
            who.authid
        )),
    }
}

/// The CHALLENGE for the holder of `key`, `who`.
pub(super) fn cryptosign_challenge_for(who: Identity, key: [u8; 32]) -> Outcome {
    cryptosign_challenge(Some(Box::new(who)), key)
}

fn cryptosign_challenge(who: Option<Box<Identity>>, key: [u8; 32]) -> Outcome {
    let challenge = crypto::random_bytes::<32>();
    let extra = Dict::new()
        .with("challenge", Value::str(crypto::hex_encode(&challenge)))
        .with("channel_binding", Value::Null);
    Outcome::Challenge {
        authmethod: "cryptosign",
        extra,
        pending: Pending::Cryptosign {
            who,
            key,
            challenge,
        },
    }
}

fn check_cryptosign(
    who: Option<Box<Identity>>,
    key: &[u8; 32],
    challenge: &[u8; 32],
    signature: &str,
) -> Outcome {
    let Some(who) = who else {
        return failed("no principal holds this public key");
    };
    let ok = PublicKey::from_bytes(key)
        .is_some_and(|pk| cryptosign::verify(&pk, challenge, None, signature));
    if ok {
        Outcome::Welcome(*who)
    } else {
        failed("wrong signature")
    }
}

/// What a SCRAM AUTHENTICATE must match.
struct ScramClaim<'a> {
    dialect: scram::Dialect,
    nonce: &'a str,
    auth_message: &'a str,
}

impl RealmAuth {
    fn scram_challenge(&self, method: &str, login: &Login<'_>) -> Result<Outcome, Refusal> {
        let authid = required_authid(login, method)?;
        let dialect = scram::Dialect::from_authmethod(method).unwrap_or(scram::Dialect::Spec);
        let extra = login.authextra;
        let client_nonce = extra.and_then(|e| e.get("nonce")).and_then(Value::as_str);
        let Some(client_nonce) = client_nonce.filter(|n| !n.is_empty() && n.len() <= 256) else {
            return Err(refusal(
                ErrorUri::AuthenticationFailed,
                format!("{method} needs HELLO.Details.authextra.nonce"),
            ));
        };
        let binding = extra.and_then(|e| e.get("channel_binding"));
        if binding.is_some_and(|b| *b != Value::Null) {
            return Err(refusal(
                ErrorUri::AuthenticationFailed,
                "channel binding is not available on this transport",
            ));
        }
        let (salt, kdf, iterations) = self.scram_params(authid, dialect);
        let nonce = format!("{client_nonce}{}", B64.encode(crypto::random_bytes::<16>()));
        let salt = B64.encode(salt);
        let auth_message = scram::auth_message(
            dialect,
            authid,
            client_nonce,
            &nonce,
            &salt,
            iterations,
            None,
        );
        let mut extra = Dict::new()
            .with("nonce", Value::str(nonce.as_str()))
            .with("salt", Value::str(salt))
            .with("kdf", kdf.name(dialect))
            .with("iterations", u64::from(iterations));
        if let scram::Kdf::Argon2id { memory_kib } = kdf {
            extra = extra.with("memory", u64::from(memory_kib));
        }
        Ok(Outcome::Challenge {
            authmethod: dialect.authmethod(),
            extra,
            pending: Pending::Scram {
                authid: Text::from(authid),
                dialect,
                nonce,
                auth_message,
            },
        })
    }

    /// The salt, KDF and iterations of `authid`, or stable made-up ones for
    /// an unknown authid (so the CHALLENGE does not tell it apart).
    fn scram_params(&self, authid: &str, dialect: scram::Dialect) -> (Vec<u8>, scram::Kdf, u32) {
        match self.principal(authid).and_then(|p| p.scram.as_ref()) {
            Some(s) => {
                let c = s.get(dialect);
                (c.salt.clone(), c.kdf, c.iterations)
            }
            None => (
                scram::mock_salt(&self.mock_key, authid).to_vec(),
                scram::Kdf::Pbkdf2,
                4096,
            ),
        }
    }

    fn check_scram(
        &self,
        authid: &str,
        claim: &ScramClaim<'_>,
        proof: &str,
        extra: &Dict,
    ) -> Outcome {
        // Autobahn's clients send no nonce back (Crossbar uses the one it
        // remembers); the spec's do. A nonce that is sent must match.
        let nonce = extra.get("nonce").and_then(Value::as_str);
        let optional = claim.dialect == scram::Dialect::Autobahn;
        if nonce != Some(claim.nonce) && !(optional && nonce.is_none()) {
            return failed("AUTHENTICATE.Extra.nonce does not match the CHALLENGE");
        }
        let p = self.principal(authid);
        let cred = p
            .and_then(|p| p.scram.as_ref())
            .map(|s| s.get(claim.dialect));
        let ok = cred.is_some_and(|c| scram::verify_proof(c, claim.auth_message, proof));
        let (Some(p), Some(cred), true) = (p, cred, ok) else {
            return failed(format!("wrong proof or unknown authid '{authid}'"));
        };
        let signature = scram::server_signature(cred, claim.auth_message);
        let extra = Dict::new().with(claim.dialect.success_key(), Value::str(signature));
        self.welcome(p, claim.dialect.authmethod(), Some(extra))
    }
}
