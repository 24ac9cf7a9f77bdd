//! From a realm's configured principals and roles to its `RealmAuth`:
//! secrets read, salted WAMP-CRA keys and SCRAM credentials derived once
//! (not per login), roles compiled.

use crate::auth::crypto::cryptosign::PublicKey;
use crate::auth::crypto::{cra, scram, ticket::TicketHash};
use crate::auth::principal::{CraSalt, HashedTicket, ScramSecret};
use crate::auth::{Action, Authorizer, CraSecret, Principal, RealmAuth, Role, Rule, Ticket};
use crate::config::{PrincipalConfig, RealmConfig, RoleConfig, Secret};
use crate::routing::MatchPolicy;
use crate::wire::{Dict, Text, Value};

/// The authentication and authorization of a validated realm config. A
/// secret that can no longer be read (validated earlier) leaves its method
/// unusable for that principal, and is logged.
pub fn realm_auth(r: &RealmConfig) -> RealmAuth {
    let principals = r.principals.iter().map(|p| principal(&r.name, p)).collect();
    let roles = r.roles.iter().map(role).collect();
    r.authenticators
        .iter()
        .fold(RealmAuth::new(r.anonymous, principals, roles), |auth, a| {
            auth.with_authenticator(&a.method, Text::from(a.procedure.as_str()))
        })
}

fn role(r: &RoleConfig) -> Role {
    let rules: Vec<Rule> = r
        .permissions
        .iter()
        .filter_map(|p| {
            let allow = [
                (p.allow.call, Action::Call),
                (p.allow.register, Action::Register),
                (p.allow.publish, Action::Publish),
                (p.allow.subscribe, Action::Subscribe),
            ];
            Some(Rule {
                uri: Text::from(p.uri.as_str()),
                policy: MatchPolicy::from_name(&p.match_policy)?,
                allow: allow
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, a)| *a)
                    .collect(),
                disclose_caller: p.disclose.caller,
                disclose_publisher: p.disclose.publisher,
            })
        })
        .collect();
    let role = Role::new(Text::from(r.name.as_str()), &rules);
    if r.authorizer.is_empty() {
        return role;
    }
    role.with_authorizer(Authorizer {
        procedure: Text::from(r.authorizer.as_str()),
        ttl: std::time::Duration::from_millis(r.authorizer_cache_ttl_ms),
    })
}

fn secret(realm: &str, authid: &str, method: &str, s: &Secret) -> Option<String> {
    s.resolve()
        .map_err(|why| {
            tracing::error!(realm, authid, method, %why, "secret unreadable; method disabled");
        })
        .ok()
}

fn principal(realm: &str, c: &PrincipalConfig) -> Principal {
    let id = c.authid.as_str();
    let mut p = Principal::new(id, c.authrole.as_str());
    p.authextra = c.authextra.as_ref().map(dict);
    p.ticket = c.ticket.as_ref().and_then(|t| match t.params().hash {
        Some(h) => TicketHash::parse(&h)
            .ok()
            .map(|h| Ticket::Hashed(HashedTicket::new(h))),
        None => secret(realm, id, "ticket", t).map(Ticket::Plain),
    });
    p.cra = c.wampcra.as_ref().and_then(|s| {
        let text = secret(realm, id, "wampcra", s)?;
        let params = s.params();
        let salt = match (params.salt, params.iterations, params.keylen) {
            (Some(salt), Some(iterations), Some(keylen)) => Some(CraSalt {
                salt,
                iterations,
                keylen,
            }),
            _ => None,
        };
        let key = match &salt {
            Some(s) => cra::derive_key(&text, &s.salt, s.iterations, s.keylen as usize),
            None => text,
        };
        Some(CraSecret {
            key: key.into_bytes(),
            salt,
        })
    });
    p.cryptosign = c
        .cryptosign
        .iter()
        .filter_map(|k| PublicKey::from_hex(k))
        .collect();
    p.scram = c
        .scram
        .as_ref()
        .and_then(|s| scram_credential(realm, id, s));
    p.tls = c
        .tls_certificates
        .iter()
        .filter_map(|f| crate::config::fingerprint(f))
        .collect();
    p
}

fn scram_credential(realm: &str, id: &str, s: &Secret) -> Option<ScramSecret> {
    let password = secret(realm, id, "scram", s)?;
    let params = s.params();
    let kdf = match params.kdf.as_deref() {
        Some("argon2id") => scram::Kdf::Argon2id {
            memory_kib: params.memory.unwrap_or(65_536),
        },
        _ => scram::Kdf::Pbkdf2,
    };
    let default_iterations = match kdf {
        scram::Kdf::Pbkdf2 => 4096,
        scram::Kdf::Argon2id { .. } => 3,
    };
    let salt = match params.salt {
        Some(s) => s.into_bytes(),
        None => crate::auth::crypto::random_bytes::<16>().to_vec(),
    };
    let iterations = params.iterations.unwrap_or(default_iterations);
    let derive =
        |dialect| scram::Credential::derive_for(dialect, &password, &salt, kdf, iterations);
    match (
        derive(scram::Dialect::Spec),
        derive(scram::Dialect::Autobahn),
    ) {
        (Ok(spec), Ok(autobahn)) => Some(ScramSecret { spec, autobahn }),
        (Err(why), _) | (_, Err(why)) => {
            tracing::error!(realm, authid = id, %why, "SCRAM credential not derived");
            None
        }
    }
}

/// A TOML table as a WAMP dict.
fn dict(t: &toml::Table) -> Dict {
    Dict(
        t.iter()
            .map(|(k, v)| (Text::from(k.as_str()), value(v)))
            .collect(),
    )
}

fn value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::str(d.to_string().as_str()),
        toml::Value::Array(a) => Value::List(a.iter().map(value).collect()),
        toml::Value::Table(t) => Value::Dict(dict(t)),
    }
}
