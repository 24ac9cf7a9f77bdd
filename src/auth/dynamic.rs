//! Dynamic authentication: a realm may name, per method, a WAMP procedure
//! (registered by a trusted session, on any shard) that decides logins the
//! static principals do not cover. The router calls it with
//! `(realm, authid, details)` and reads its answer:
//!
//! - `ticket`: called at AUTHENTICATE, `details.ticket` holding the ticket;
//!   answers the role (a string) or `{role, authid?, extra?}`.
//! - `wampcra`: called at HELLO; answers `{secret, role, authid?, salt?,
//!   iterations?, keylen?, extra?}` and the router challenges with it.
//! - `cryptosign`: called at HELLO, `details.authextra.pubkey` holding the
//!   key; answers `{pubkey | pubkeys, role, authid?, extra?}` and the router
//!   challenges if the client's key is among them.
//!
//! An ERROR from the authenticator refuses the login with its URI; an
//! authenticator that is missing, times out or fails refuses it with
//! `wamp.error.authentication_failed` and says why.

use super::crypto::{cra, cryptosign::PublicKey};
use super::login::{Login, Outcome, Refusal};
use super::principal::{CraSalt, CraSecret, RealmAuth};
use super::Identity;
use crate::wire::{Dict, ErrorUri, Text, Value};

/// What a login waits for from its authenticator.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    Ticket { authid: Text },
    Cra { authid: Text, session: u64 },
    Cryptosign { authid: Option<Text>, key: [u8; 32] },
}

impl Asked {
    /// The method the authenticator was asked about.
    pub fn method(&self) -> &'static str {
        match self {
            Asked::Ticket { .. } => "ticket",
            Asked::Cra { .. } => "wampcra",
            Asked::Cryptosign { .. } => "cryptosign",
        }
    }
}

/// The authenticator's reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// RESULT: its first positional argument (or its kwargs as a dict).
    Result(Value),
    /// ERROR: the URI and the message (the first argument, if a string).
    Error { uri: Text, message: String },
}

/// A call the handshake makes before it can go on.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub procedure: Text,
    pub args: Vec<Value>,
    pub asked: Asked,
}

/// URIs that mean the authenticator could not answer (not that it refused).
const UNANSWERED: [ErrorUri; 5] = [
    ErrorUri::NoSuchProcedure,
    ErrorUri::Timeout,
    ErrorUri::Canceled,
    ErrorUri::NoAvailableCallee,
    ErrorUri::Unavailable,
];

impl RealmAuth {
    /// The call asking the authenticator of `method` about `login`, if the
    /// realm has one.
    pub(super) fn ask(
        &self,
        method: &'static str,
        login: &Login<'_>,
        extra: Dict,
        asked: Asked,
    ) -> Option<Outcome> {
        let procedure = self.authenticator(method)?.clone();
        let mut details = Dict::new()
            .with("authmethod", method)
            .with("session", login.session);
        if let Some(e) = login.authextra {
            details = details.with("authextra", e.clone());
        }
        if let Some(t) = login.transport {
            details = details.with("transport", t.clone());
        }
        details.0.extend(extra.0);
        let authid = login.authid.map_or(Value::Null, Value::str);
        let args = vec![Value::str(login.realm), authid, Value::Dict(details)];
        Some(Outcome::Ask(Box::new(Ask {
            procedure,
            args,
            asked,
        })))
    }

    /// Goes on with a login once its authenticator answered.
    pub fn answered(&self, asked: Asked, answer: Answer) -> Outcome {
        let value = match answer {
            Answer::Result(v) => v,
            Answer::Error { uri, message } => return refused_by(uri, message),
        };
        match asked {
            Asked::Ticket { authid } => match principal_of(&value, &authid) {
                Ok((authid, role, extra)) => dynamic_welcome(authid, role, "ticket", extra),
                Err(r) => Outcome::Deny(r),
            },
            Asked::Cra { authid, session } => self.cra_answered(&value, authid, session),
            Asked::Cryptosign { authid, key } => cryptosign_answered(&value, authid, key),
        }
    }

    fn cra_answered(&self, v: &Value, authid: Text, session: u64) -> Outcome {
        let (authid, role, extra) = match principal_of(v, &authid) {
            Ok(p) => p,
            Err(r) => return Outcome::Deny(r),
        };
        let d = v.as_dict();
        let Some(secret) = d.and_then(|d| d.get("secret")).and_then(Value::as_str) else {
            return Outcome::Deny(bad_answer("has no 'secret'"));
        };
        let num = |k: &str| d.and_then(|d| d.get(k)).and_then(Value::as_u64);
        let salt = d.and_then(|d| d.get("salt")).and_then(Value::as_str);
        let salt = match (salt, num("iterations"), num("keylen")) {
            (None, _, _) => None,
            (Some(s), Some(i @ 1..=10_000_000), Some(k @ 16..=256)) => Some(CraSalt {
                salt: s.to_owned(),
                iterations: i as u32,
                keylen: k as u32,
            }),
            _ => {
                return Outcome::Deny(bad_answer("has a salt without valid iterations and keylen"))
            }
        };
        let key = match &salt {
            Some(s) => cra::derive_key(secret, &s.salt, s.iterations, s.keylen as usize),
            None => secret.to_owned(),
        };
        let secret = CraSecret {
            key: key.into_bytes(),
            salt,
        };
        let who = Identity {
            authid,
            authrole: role,
            authmethod: Text::from_static("wampcra"),
            authprovider: Text::from_static("dynamic"),
            authextra: extra,
        };
        self.cra_challenge_for(who, &secret, session)
    }
}

fn cryptosign_answered(v: &Value, authid: Option<Text>, key: [u8; 32]) -> Outcome {
    let claimed = authid.clone().unwrap_or_default();
    let (authid, role, extra) = match principal_of(v, &claimed) {
        Ok(p) => p,
        Err(r) => return Outcome::Deny(r),
    };
    let d = v.as_dict();
    let one = d.and_then(|d| d.get("pubkey")).into_iter();
    let many = d
        .and_then(|d| d.get("pubkeys"))
        .and_then(Value::as_list)
        .unwrap_or_default();
    let held = one
        .chain(many)
        .filter_map(Value::as_str)
        .filter_map(PublicKey::from_hex)
        .any(|k| k.to_bytes() == key);
    if !held {
        return Outcome::Deny(Refusal {
            reason: Text::from(ErrorUri::AuthenticationFailed),
            message: "the authenticator does not know this public key".into(),
            failed: true,
        });
    }
    if authid.is_empty() {
        return Outcome::Deny(bad_answer("gives no authid"));
    }
    let who = Identity {
        authid,
        authrole: role,
        authmethod: Text::from_static("cryptosign"),
        authprovider: Text::from_static("dynamic"),
        authextra: extra,
    };
    super::login::cryptosign_challenge_for(who, key)
}

/// (authid, role, extra) of an answer: a role string, or a dict with
/// `role` (or `authrole`) and optional `authid`, `extra`.
fn principal_of(v: &Value, claimed: &Text) -> Result<(Text, Text, Option<Dict>), Refusal> {
    if let Some(role) = v.as_str() {
        return Ok((claimed.clone(), Text::from(role), None));
    }
    let Some(d) = v.as_dict() else {
        return Err(bad_answer("is neither a role nor a dict"));
    };
    let role = d.get("role").or_else(|| d.get("authrole"));
    let Some(role) = role.and_then(Value::as_str) else {
        return Err(bad_answer("has no 'role'"));
    };
    let authid = d.get("authid").and_then(Value::as_str).map(Text::from);
    let extra = d.get("extra").and_then(Value::as_dict).cloned();
    Ok((
        authid.unwrap_or_else(|| claimed.clone()),
        Text::from(role),
        extra,
    ))
}

fn dynamic_welcome(authid: Text, role: Text, method: &'static str, extra: Option<Dict>) -> Outcome {
    if authid.is_empty() {
        return Outcome::Deny(bad_answer("gives no authid"));
    }
    Outcome::Welcome(Identity {
        authid,
        authrole: role,
        authmethod: Text::from_static(method),
        authprovider: Text::from_static("dynamic"),
        authextra: extra,
    })
}

fn bad_answer(what: &str) -> Refusal {
    Refusal {
        reason: Text::from(ErrorUri::AuthenticationFailed),
        message: format!("the authenticator's answer {what}"),
        failed: false,
    }
}

fn refused_by(uri: Text, message: String) -> Outcome {
    let unanswered = UNANSWERED.iter().any(|u| u.uri() == uri.as_str());
    let message = if message.is_empty() {
        format!("the authenticator refused ({uri})")
    } else {
        message
    };
    Outcome::Deny(if unanswered {
        Refusal {
            reason: Text::from(ErrorUri::AuthenticationFailed),
            message: format!("no answer from the authenticator ({uri})"),
            failed: false,
        }
    } else {
        Refusal {
            reason: uri,
            message,
            failed: true,
        }
    })
}
