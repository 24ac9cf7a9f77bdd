//! Validation of a realm's principals and roles: names unique, every
//! principal's role defined, every secret readable (its error names the
//! key, never the secret), keys and hashes well-formed, KDF parameters in
//! range, permission URIs valid for their match policy.

use super::auth::{PrincipalConfig, RoleConfig, Secret};
use super::error::Problem;
use super::tree::RealmConfig;
use crate::auth::crypto::{cryptosign::PublicKey, ticket::TicketHash};
use crate::routing::{is_valid_uri, MatchPolicy, UriCheck};
use std::collections::HashSet;

/// Bounds of KDF iterations (WAMP-CRA salting, SCRAM).
pub const ITERATIONS: std::ops::RangeInclusive<u32> = 1..=10_000_000;
/// Bounds of a salted WAMP-CRA key length, in bytes.
pub const KEYLEN: std::ops::RangeInclusive<u32> = 16..=256;
/// Bounds of SCRAM argon2id memory, in KiB (8 KiB ..= 4 GiB).
pub const MEMORY_KIB: std::ops::RangeInclusive<u32> = 8..=4 << 20;

/// Checks `realms.realm[i]`'s principals and roles.
pub fn check_auth(i: usize, realm: &RealmConfig, out: &mut Vec<Problem>) {
    let base = format!("realms.realm[{i}]");
    let roles = check_roles(&base, &realm.roles, out);
    if realm.anonymous && !roles.contains("anonymous") {
        out.push(Problem::invalid(
            format!("{base}.anonymous"),
            format!("anonymous sessions are admitted but {base}.roles defines no role 'anonymous'"),
        ));
    }
    check_authenticators(&base, realm, out);
    let cache_max = realm.authorizer_cache_max as u64;
    at_most(
        &format!("{base}.authorizer_cache_max"),
        cache_max,
        10_000_000,
        out,
    );
    let mut authids = HashSet::new();
    let mut keys = HashSet::new();
    for (j, p) in realm.principals.iter().enumerate() {
        let key = format!("{base}.principals[{j}]");
        if p.authid.is_empty() {
            out.push(Problem::invalid(
                format!("{key}.authid"),
                "must not be empty",
            ));
        } else if !authids.insert(p.authid.as_str()) {
            out.push(Problem::invalid(
                format!("{key}.authid"),
                format!("duplicate authid {:?}", p.authid),
            ));
        }
        if !roles.contains(p.authrole.as_str()) {
            out.push(Problem::invalid(
                format!("{key}.authrole"),
                format!("no role {:?} in {base}.roles", p.authrole),
            ));
        }
        check_principal(&key, p, &mut keys, out);
    }
}

/// Dynamic authenticators: a known method each, at most one per method, and
/// a valid procedure URI.
fn check_authenticators(base: &str, realm: &RealmConfig, out: &mut Vec<Problem>) {
    let mut methods = HashSet::new();
    for (i, a) in realm.authenticators.iter().enumerate() {
        let key = format!("{base}.authenticators[{i}]");
        if !["ticket", "wampcra", "cryptosign"].contains(&a.method.as_str()) {
            out.push(Problem::invalid(
                format!("{key}.method"),
                format!("{:?} is not one of ticket, wampcra, cryptosign", a.method),
            ));
        } else if !methods.insert(a.method.as_str()) {
            out.push(Problem::invalid(
                format!("{key}.method"),
                format!("a second authenticator for {:?}", a.method),
            ));
        }
        if !is_valid_uri(&a.procedure, MatchPolicy::Exact, UriCheck::Loose) {
            out.push(Problem::invalid(
                format!("{key}.procedure"),
                format!("{:?} is not a valid procedure URI", a.procedure),
            ));
        }
    }
}

/// Checks the roles; returns their names.
fn check_roles<'a>(
    base: &str,
    roles: &'a [RoleConfig],
    out: &mut Vec<Problem>,
) -> HashSet<&'a str> {
    let mut names = HashSet::new();
    for (r, role) in roles.iter().enumerate() {
        let key = format!("{base}.roles[{r}]");
        if role.name.is_empty() {
            out.push(Problem::invalid(format!("{key}.name"), "must not be empty"));
        } else if !names.insert(role.name.as_str()) {
            out.push(Problem::invalid(
                format!("{key}.name"),
                format!("duplicate role {:?}", role.name),
            ));
        }
        if !role.authorizer.is_empty()
            && !is_valid_uri(&role.authorizer, MatchPolicy::Exact, UriCheck::Loose)
        {
            out.push(Problem::invalid(
                format!("{key}.authorizer"),
                format!("{:?} is not a valid procedure URI", role.authorizer),
            ));
        }
        let ttl_key = format!("{key}.authorizer_cache_ttl_ms");
        at_most(&ttl_key, role.authorizer_cache_ttl_ms, 86_400_000, out);
        for (k, p) in role.permissions.iter().enumerate() {
            let key = format!("{key}.permissions[{k}]");
            let Some(policy) = MatchPolicy::from_name(&p.match_policy) else {
                out.push(Problem::invalid(
                    format!("{key}.match"),
                    format!("{:?} is not one of exact, prefix, wildcard", p.match_policy),
                ));
                continue;
            };
            if !is_valid_uri(&p.uri, policy, UriCheck::Loose) {
                out.push(Problem::invalid(
                    format!("{key}.uri"),
                    format!("{:?} is not a valid {} URI pattern", p.uri, p.match_policy),
                ));
            }
        }
    }
    names
}

fn check_principal<'a>(
    key: &str,
    p: &'a PrincipalConfig,
    keys: &mut HashSet<&'a str>,
    out: &mut Vec<Problem>,
) {
    let none = p.ticket.is_none() && p.wampcra.is_none() && p.scram.is_none();
    if none && p.cryptosign.is_empty() && p.tls_certificates.is_empty() {
        out.push(Problem::invalid(
            key,
            "a principal needs at least one of ticket, wampcra, cryptosign, scram, tls_certificates",
        ));
    }
    for (k, fp) in p.tls_certificates.iter().enumerate() {
        if fingerprint(fp).is_none() {
            out.push(Problem::invalid(
                format!("{key}.tls_certificates[{k}]"),
                "not a SHA-256 fingerprint (64 hex digits, colons allowed)",
            ));
        }
    }
    if let Some(t) = &p.ticket {
        check_ticket(&format!("{key}.ticket"), t, out);
    }
    if let Some(s) = &p.wampcra {
        check_cra(&format!("{key}.wampcra"), s, out);
    }
    if let Some(s) = &p.scram {
        check_scram(&format!("{key}.scram"), s, out);
    }
    for (k, hex) in p.cryptosign.iter().enumerate() {
        let key = format!("{key}.cryptosign[{k}]");
        if PublicKey::from_hex(hex).is_none() {
            out.push(Problem::invalid(
                key,
                "not an Ed25519 public key (64 hex characters)",
            ));
        } else if !keys.insert(hex.as_str()) {
            out.push(Problem::invalid(
                key,
                "this public key is held by another principal",
            ));
        }
    }
}

fn resolvable(key: &str, s: &Secret, out: &mut Vec<Problem>) {
    if let Err(why) = s.resolve() {
        out.push(Problem::invalid(key, why));
    }
}

fn check_ticket(key: &str, s: &Secret, out: &mut Vec<Problem>) {
    match s.params().hash {
        Some(hash) => {
            if let Err(why) = TicketHash::parse(&hash) {
                out.push(Problem::invalid(key, format!("hash: {why}")));
            }
            let p = s.params();
            if p.value.is_some() || p.env.is_some() || p.file.is_some() {
                out.push(Problem::invalid(
                    key,
                    "give either hash or the ticket, not both",
                ));
            }
        }
        None => resolvable(key, s, out),
    }
}

fn check_cra(key: &str, s: &Secret, out: &mut Vec<Problem>) {
    resolvable(key, s, out);
    let p = s.params();
    let salting = [p.salt.is_some(), p.iterations.is_some(), p.keylen.is_some()];
    if salting.contains(&true) && salting.contains(&false) {
        out.push(Problem::invalid(
            key,
            "a salted secret needs all of salt, iterations and keylen",
        ));
    }
    range(&format!("{key}.iterations"), p.iterations, ITERATIONS, out);
    range(&format!("{key}.keylen"), p.keylen, KEYLEN, out);
}

fn check_scram(key: &str, s: &Secret, out: &mut Vec<Problem>) {
    resolvable(key, s, out);
    let p = s.params();
    match p.kdf.as_deref() {
        None | Some("pbkdf2") => {}
        Some("argon2id") => range(&format!("{key}.memory"), p.memory, MEMORY_KIB, out),
        Some(other) => out.push(Problem::invalid(
            format!("{key}.kdf"),
            format!("{other:?} is not one of pbkdf2, argon2id"),
        )),
    }
    range(&format!("{key}.iterations"), p.iterations, ITERATIONS, out);
}

fn range(key: &str, v: Option<u32>, bounds: std::ops::RangeInclusive<u32>, out: &mut Vec<Problem>) {
    if let Some(v) = v.filter(|v| !bounds.contains(v)) {
        let (lo, hi) = (bounds.start(), bounds.end());
        out.push(Problem::invalid(
            key,
            format!("must be in {lo}..={hi}, got {v}"),
        ));
    }
}

fn at_most(key: &str, v: u64, max: u64, out: &mut Vec<Problem>) {
    if v > max {
        out.push(Problem::invalid(
            key,
            format!("must be in 0..={max}, got {v}"),
        ));
    }
}

/// A certificate's SHA-256 fingerprint from hex (colons allowed).
pub fn fingerprint(text: &str) -> Option<[u8; 32]> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    crate::auth::crypto::hex_decode(&hex)?.try_into().ok()
}
