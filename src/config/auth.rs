//! The authentication and authorization keys of a realm: its principals
//! (`[[realms.realm.principals]]`) with their secrets, and its roles
//! (`[[realms.realm.roles]]`) with permission rules.
//!
//! A secret is given inline (`ticket = "..."`) or as a table naming where it
//! is: `{ env = "VAR" }`, `{ file = "PATH" }` or, for tickets only,
//! `{ hash = "pbkdf2-sha256$..." }`; method parameters (WAMP-CRA salt,
//! SCRAM KDF) go in the same table. Secrets are read when the router starts
//! and never serialized: `--print-config` shows `<redacted>`.

use serde::{Deserialize, Serialize, Serializer};
use std::path::PathBuf;

/// What `--print-config` shows in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// A secret, inline or from elsewhere.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Secret {
    Text(String),
    From(SecretFrom),
}

/// Where a secret is, and the method's parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFrom {
    /// The secret inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The environment variable holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The file holding it (one trailing newline is dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Tickets only: a salted hash instead of the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// WAMP-CRA: the PBKDF2 salt (salted secrets); SCRAM: the salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// WAMP-CRA and SCRAM: KDF iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    /// WAMP-CRA: the derived key's length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keylen: Option<u32>,
    /// SCRAM: "pbkdf2" or "argon2id".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<String>,
    /// SCRAM with argon2id: memory in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Secret::Text(_) => s.serialize_str(REDACTED),
            Secret::From(from) => {
                let mut shown = from.clone();
                shown.value = shown.value.map(|_| REDACTED.to_owned());
                shown.hash = shown.hash.map(|_| REDACTED.to_owned());
                shown.serialize(s)
            }
        }
    }
}

impl Secret {
    /// The parameters (an inline secret has none).
    pub fn params(&self) -> SecretFrom {
        match self {
            Secret::Text(_) => SecretFrom::default(),
            Secret::From(f) => f.clone(),
        }
    }

    /// The secret's text (not for hashed tickets). The error names what is
    /// missing, never the secret.
    pub fn resolve(&self) -> Result<String, String> {
        let from = match self {
            Secret::Text(t) => return non_empty(t.clone()),
            Secret::From(f) => f,
        };
        let given = [
            from.value.is_some(),
            from.env.is_some(),
            from.file.is_some(),
            from.hash.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err("give exactly one of value, env, file (or hash, for tickets)".into());
        }
        if let Some(v) = &from.value {
            return non_empty(v.clone());
        }
        if let Some(var) = &from.env {
            let v =
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
            return non_empty(v).map_err(|_| format!("environment variable {var} is empty"));
        }
        if let Some(path) = &from.file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            return non_empty(text.to_owned()).map_err(|_| format!("{} is empty", path.display()));
        }
        Err("a hash is only accepted for tickets".into())
    }
}

fn non_empty(s: String) -> Result<String, String> {
    if s.is_empty() {
        Err("the secret is empty".into())
    } else {
        Ok(s)
    }
}

/// One principal (`[[realms.realm.principals]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    pub authid: String,
    pub authrole: String,
    /// The ticket (`ticket` method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Secret>,
    /// The WAMP-CRA secret, optionally salted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wampcra: Option<Secret>,
    /// Ed25519 public keys (64 hex characters each) for cryptosign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptosign: Vec<String>,
    /// The WAMP-SCRAM password and KDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scram: Option<Secret>,
    /// SHA-256 fingerprints (hex, colons allowed) of client certificates
    /// that log in as this principal with authmethod "tls".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_certificates: Vec<String>,
    /// Sent in `WELCOME.Details.authextra`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authextra: Option<toml::Table>,
}

/// A dynamic authenticator (`[[realms.realm.authenticators]]`): the
/// procedure of the realm that decides `method` logins no principal covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticatorConfig {
    /// "ticket", "wampcra" or "cryptosign".
    pub method: String,
    /// The procedure, called as `procedure(realm, authid, details)`.
    pub procedure: String,
}

/// One role (`[[realms.realm.roles]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// The procedure deciding requests no rule matches ("": none).
    #[serde(default)]
    pub authorizer: String,
    /// How long the authorizer's decisions are cached, in milliseconds,
    /// unless it says otherwise (0: not cached).
    #[serde(default = "authorizer_ttl_default")]
    pub authorizer_cache_ttl_ms: u64,
    /// Permission rules; the most specific matching rule decides.
    #[serde(default)]
    pub permissions: Vec<PermissionConfig>,
}

fn authorizer_ttl_default() -> u64 {
    60_000
}

/// One permission rule (`[[realms.realm.roles.permissions]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionConfig {
    pub uri: String,
    /// "exact", "prefix" or "wildcard".
    #[serde(default = "exact", rename = "match")]
    pub match_policy: String,
    #[serde(default)]
    pub allow: AllowConfig,
    #[serde(default)]
    pub disclose: DiscloseConfig,
}

/// The actions a rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllowConfig {
    pub call: bool,
    pub register: bool,
    pub publish: bool,
    pub subscribe: bool,
}

/// Whom a rule discloses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscloseConfig {
    pub caller: bool,
    pub publisher: bool,
}

fn exact() -> String {
    "exact".into()
}

impl RoleConfig {
    /// The role of the embedded defaults: anonymous, allowed everything.
    pub fn anonymous_allow_all() -> RoleConfig {
        RoleConfig {
            name: "anonymous".into(),
            authorizer: String::new(),
            authorizer_cache_ttl_ms: authorizer_ttl_default(),
            permissions: vec![PermissionConfig {
                uri: String::new(),
                match_policy: "prefix".into(),
                allow: AllowConfig {
                    call: true,
                    register: true,
                    publish: true,
                    subscribe: true,
                },
                disclose: DiscloseConfig::default(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_resolve_from_text_env_and_file_and_never_serialize() {
        assert_eq!(Secret::Text("s".into()).resolve().unwrap(), "s");
        std::env::set_var("SWITCHYARD_TEST_SECRET", "from-env");
        let env = Secret::From(SecretFrom {
            env: Some("SWITCHYARD_TEST_SECRET".into()),
            ..Default::default()
        });
        assert_eq!(env.resolve().unwrap(), "from-env");
        let path = std::env::temp_dir().join(format!("sy-secret-{}", std::process::id()));
        std::fs::write(&path, "from-file\n").unwrap();
        let file = Secret::From(SecretFrom {
            file: Some(path.clone()),
            ..Default::default()
        });
        assert_eq!(file.resolve().unwrap(), "from-file");
        std::fs::remove_file(&path).unwrap();
        let e = file.resolve().unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        let unset = Secret::From(SecretFrom {
            env: Some("SWITCHYARD_TEST_UNSET".into()),
            ..Default::default()
        });
        assert!(unset
            .resolve()
            .unwrap_err()
            .contains("SWITCHYARD_TEST_UNSET"));
        let shown = toml::to_string(&PrincipalConfig {
            authid: "a".into(),
            authrole: "r".into(),
            ticket: Some(Secret::Text("hunter2".into())),
            wampcra: Some(Secret::From(SecretFrom {
                value: Some("hunter3".into()),
                salt: Some("salt".into()),
                ..Default::default()
            })),
            cryptosign: Vec::new(),
            scram: None,
            tls_certificates: Vec::new(),
            authextra: None,
        })
        .unwrap();
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
    }
}
