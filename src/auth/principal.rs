//! A realm's principals and roles, built once from the configuration and
//! shared read-only by every shard (`Arc<RealmAuth>`): each principal's
//! credentials per method, the public-key index of cryptosign, the
//! compiled roles, and the methods the realm therefore offers.

use super::crypto::cryptosign::PublicKey;
use super::crypto::scram::{Credential, Dialect};
use super::crypto::ticket::TicketHash;
use super::role::Role;
use crate::wire::{Dict, Text};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How a ticket is checked.
pub enum Ticket {
    /// The ticket itself (compared in constant time).
    Plain(String),
    /// A salted PBKDF2 hash of it.
    Hashed(HashedTicket),
}

/// A ticket stored as a PBKDF2 hash. Deriving it costs milliseconds of a
/// shard's time, so once a ticket is found right, a keyed HMAC of it is
/// kept: from then on every login (right or wrong, since only one ticket
/// is right) costs one HMAC.
pub struct HashedTicket {
    hash: TicketHash,
    key: [u8; 32],
    proven: std::sync::OnceLock<String>,
}

impl HashedTicket {
    pub fn new(hash: TicketHash) -> HashedTicket {
        HashedTicket {
            hash,
            key: super::crypto::random_bytes(),
            proven: std::sync::OnceLock::new(),
        }
    }

    /// Is `ticket` the one hashed?
    pub fn verify(&self, ticket: &str) -> bool {
        let mac = super::crypto::cra::sign(&self.key, ticket);
        if let Some(proven) = self.proven.get() {
            return super::crypto::constant_time_eq(proven.as_bytes(), mac.as_bytes());
        }
        let right = self.hash.verify(ticket);
        if right {
            let _ = self.proven.set(mac);
        }
        right
    }
}

/// A WAMP-CRA secret: the HMAC key, and the salt parameters a salted key
/// was derived with (sent in the CHALLENGE).
pub struct CraSecret {
    pub key: Vec<u8>,
    pub salt: Option<CraSalt>,
}

/// The PBKDF2 parameters of a salted WAMP-CRA secret.
pub struct CraSalt {
    pub salt: String,
    pub iterations: u32,
    pub keylen: u32,
}

/// One configured principal.
pub struct Principal {
    pub authid: Text,
    pub authrole: Text,
    pub authextra: Option<Dict>,
    pub ticket: Option<Ticket>,
    pub cra: Option<CraSecret>,
    pub cryptosign: Vec<PublicKey>,
    pub scram: Option<ScramSecret>,
    /// SHA-256 fingerprints of the client certificates that log in as it.
    pub tls: Vec<[u8; 32]>,
}

/// A WAMP-SCRAM credential in each dialect (they differ for argon2id:
/// Autobahn keys off the base64 text of the hash).
pub struct ScramSecret {
    pub spec: Credential,
    pub autobahn: Credential,
}

impl ScramSecret {
    pub fn get(&self, dialect: Dialect) -> &Credential {
        match dialect {
            Dialect::Spec => &self.spec,
            Dialect::Autobahn => &self.autobahn,
        }
    }
}

impl Principal {
    /// A principal with no credentials yet.
    pub fn new(authid: impl Into<Text>, authrole: impl Into<Text>) -> Principal {
        Principal {
            authid: authid.into(),
            authrole: authrole.into(),
            authextra: None,
            ticket: None,
            cra: None,
            cryptosign: Vec::new(),
            scram: None,
            tls: Vec::new(),
        }
    }
}

/// Authentication methods in the order a realm lists them.
pub const METHODS: [&str; 7] = [
    "anonymous",
    "tls",
    "ticket",
    "wampcra",
    "cryptosign",
    "wamp-scram",
    "scram",
];

/// The position of method `name` in `METHODS` (per-method counters).
pub fn method_index(name: &str) -> Option<usize> {
    METHODS.iter().position(|m| *m == name)
}

/// Everything a realm knows of who may join and what they may do.
pub struct RealmAuth {
    pub anonymous: bool,
    /// The most dynamic authorizer decisions each shard caches.
    pub authorizer_cache_max: usize,
    principals: FxHashMap<Text, Principal>,
    /// Cryptosign public key -> authid.
    by_key: FxHashMap<[u8; 32], Text>,
    /// Client certificate fingerprint -> authid.
    by_cert: FxHashMap<[u8; 32], Text>,
    /// The authids with a WAMP-CRA secret, sorted (decoys for unknown ones).
    cra_authids: Vec<Text>,
    roles: FxHashMap<Text, Arc<Role>>,
    /// Method -> the procedure deciding logins no static principal covers.
    authenticators: FxHashMap<&'static str, Text>,
    methods: Vec<&'static str>,
    /// Keys the mock SCRAM salts of unknown authids (stable per process).
    pub(crate) mock_key: [u8; 32],
}

impl std::fmt::Debug for RealmAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmAuth")
            .field("anonymous", &self.anonymous)
            .field("principals", &self.principals.len())
            .field("roles", &self.roles.keys().collect::<Vec<_>>())
            .field("methods", &self.methods)
            .field("authenticators", &self.authenticators)
            .finish()
    }
}

impl RealmAuth {
    /// The realm of the embedded defaults: anonymous sessions that may do
    /// everything.
    pub fn open() -> RealmAuth {
        let anonymous = Text::from_static("anonymous");
        RealmAuth::new(true, Vec::new(), vec![Role::allow_all(anonymous)])
    }

    /// A realm with these principals and roles (validated by the config:
    /// authids and keys unique, every principal's role defined).
    pub fn new(anonymous: bool, principals: Vec<Principal>, roles: Vec<Role>) -> RealmAuth {
        let has = |f: &dyn Fn(&Principal) -> bool| principals.iter().any(f);
        let offered = [
            anonymous,
            has(&|p| !p.tls.is_empty()),
            has(&|p| p.ticket.is_some()),
            has(&|p| p.cra.is_some()),
            has(&|p| !p.cryptosign.is_empty()),
            has(&|p| p.scram.is_some()),
            has(&|p| p.scram.is_some()),
        ];
        let methods = METHODS
            .iter()
            .zip(offered)
            .filter_map(|(m, on)| on.then_some(*m))
            .collect();
        let mut cra_authids: Vec<Text> = principals
            .iter()
            .filter(|p| p.cra.is_some())
            .map(|p| p.authid.clone())
            .collect();
        cra_authids.sort();
        let mut by_key = FxHashMap::default();
        let mut by_cert = FxHashMap::default();
        for p in &principals {
            for k in &p.cryptosign {
                by_key.insert(k.to_bytes(), p.authid.clone());
            }
            for c in &p.tls {
                by_cert.insert(*c, p.authid.clone());
            }
        }
        RealmAuth {
            anonymous,
            authorizer_cache_max: 10_000,
            principals: principals
                .into_iter()
                .map(|p| (p.authid.clone(), p))
                .collect(),
            by_key,
            by_cert,
            cra_authids,
            roles: roles
                .into_iter()
                .map(|r| (r.name.clone(), Arc::new(r)))
                .collect(),
            authenticators: FxHashMap::default(),
            methods,
            mock_key: super::crypto::random_bytes(),
        }
    }

    /// Adds a dynamic authenticator: `procedure` decides the `method`
    /// logins of authids (or keys) no static principal has a credential
    /// for. `method` is one of ticket, wampcra, cryptosign.
    pub fn with_authenticator(mut self, method: &str, procedure: Text) -> RealmAuth {
        let Some(method) = ["ticket", "wampcra", "cryptosign"]
            .into_iter()
            .find(|m| *m == method)
        else {
            return self;
        };
        self.authenticators.insert(method, procedure);
        if !self.methods.contains(&method) {
            self.methods.push(method);
            self.methods
                .sort_by_key(|m| METHODS.iter().position(|k| k == m));
        }
        self
    }

    /// The authenticator procedure of `method`, if any.
    pub fn authenticator(&self, method: &str) -> Option<&Text> {
        self.authenticators.get(method)
    }

    /// The methods offered, in the router's order.
    pub fn methods(&self) -> &[&'static str] {
        &self.methods
    }

    pub fn principal(&self, authid: &str) -> Option<&Principal> {
        self.principals.get(authid)
    }

    /// The principal holding cryptosign key `key`.
    pub fn principal_by_key(&self, key: &PublicKey) -> Option<&Principal> {
        self.by_key
            .get(&key.to_bytes())
            .and_then(|id| self.principals.get(id))
    }

    /// The principal a client certificate (by SHA-256) logs in as.
    pub fn principal_by_cert(&self, fingerprint: &[u8; 32]) -> Option<&Principal> {
        self.by_cert
            .get(fingerprint)
            .and_then(|id| self.principals.get(id))
    }

    /// The WAMP-CRA principal number `n` (modulo their count), if any.
    pub(crate) fn cra_decoy_for(&self, n: u64) -> Option<&Principal> {
        let len = self.cra_authids.len() as u64;
        let authid = self.cra_authids.get(n.checked_rem(len)? as usize)?;
        self.principals.get(authid)
    }

    /// The compiled role named `name`.
    pub fn role(&self, name: &str) -> Option<&Arc<Role>> {
        self.roles.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_ticket_is_checked_by_its_hash_until_proven_then_by_hmac() {
        let t = HashedTicket::new(TicketHash::new("right", 10));
        assert!(!t.verify("wrong"));
        assert!(t.proven.get().is_none(), "a wrong ticket proves nothing");
        assert!(t.verify("right"));
        assert!(t.proven.get().is_some());
        assert!(t.verify("right"));
        assert!(!t.verify("wrong"));
        assert!(!t.verify(""));
    }
}
