//! The HTTP bridge (`[http.bridge]`): `POST /publish` and `POST /call` on
//! the operators' HTTP listener, for systems that cannot speak WAMP. The
//! bridge acts in every realm as `authid` with the role `authrole`, so its
//! requests meet the same permission rules as any session of that role.
//!
//! Requests may be required to carry a bearer ticket (`ticket`) and/or an
//! HMAC-SHA256 signature over the body (`key` and `secret`, the scheme of
//! Crossbar's HTTP bridge). Both secrets are read like principals' secrets
//! (inline, `{ env = "VAR" }` or `{ file = "PATH" }`) and never printed.

use super::auth::{Secret, REDACTED};
use super::error::Problem;
use super::tree::RealmsConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest accepted `max_body_bytes`: 16 MiB, the largest WAMP message.
pub const MAX_BODY_BYTES: usize = super::tree::MAX_MESSAGE_SIZE;
/// Largest accepted `max_concurrent`.
pub const MAX_CONCURRENT: usize = 65_536;
/// Longest accepted `call_timeout_ms`: one hour.
pub const MAX_CALL_TIMEOUT_MS: u64 = 3_600_000;
/// Widest accepted `timestamp_window_s`: one day.
pub const MAX_TIMESTAMP_WINDOW_S: u64 = 86_400;

/// The HTTP bridge (`[http.bridge]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BridgeConfig {
    /// Whether `/publish` and `/call` are served.
    pub enabled: bool,
    /// The authid the bridge acts as (callees and subscribers may see it).
    pub authid: String,
    /// The role the bridge acts as, in every realm; a realm without a role
    /// of that name refuses the bridge's requests (403).
    pub authrole: String,
    /// A bearer ticket every request must carry (`Authorization: Bearer
    /// <ticket>`); none when empty.
    pub ticket: OptionalSecret,
    /// The key of signed requests (query parameter `key`); with `secret`,
    /// every request must be signed. None when empty.
    pub key: String,
    /// The HMAC-SHA256 secret of signed requests.
    pub secret: OptionalSecret,
    /// How far a signed request's timestamp may be from the router's clock.
    pub timestamp_window_s: u64,
    /// Largest accepted request body (413 beyond, never read).
    pub max_body_bytes: usize,
    /// Most requests served at once (503 beyond).
    pub max_concurrent: usize,
    /// Longest a call (and an acknowledged publish) may take; a call's own
    /// `timeout` option is capped by it.
    pub call_timeout_ms: u64,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            enabled: false,
            authid: "http-bridge".to_owned(),
            authrole: "http-bridge".to_owned(),
            ticket: OptionalSecret(None),
            key: String::new(),
            secret: OptionalSecret(None),
            timestamp_window_s: 300,
            max_body_bytes: 64 * 1024,
            max_concurrent: 64,
            call_timeout_ms: 10_000,
        }
    }
}

/// A secret that may be absent: an empty string in TOML (and in
/// `--print-config`), so the key always shows in the defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptionalSecret(pub Option<Secret>);

impl OptionalSecret {
    /// Whether a secret is given.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The secret's text, if one is given (an error names what is missing,
    /// never the secret).
    pub fn resolve(&self) -> Result<Option<String>, String> {
        self.0.as_ref().map(|s| s.resolve()).transpose()
    }
}

impl Serialize for OptionalSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_str(""),
            Some(secret) => secret.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for OptionalSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Secret::deserialize(d)? {
            Secret::Text(t) if t.is_empty() => OptionalSecret(None),
            other => OptionalSecret(Some(other)),
        })
    }
}

impl BridgeConfig {
    /// The bearer ticket, the signing key and secret, read from where
    /// they are (for a bridge that is enabled).
    pub fn secrets(&self) -> Result<BridgeSecrets, String> {
        let ticket = self
            .ticket
            .resolve()
            .map_err(|e| format!("http.bridge.ticket: {e}"))?;
        let secret = self
            .secret
            .resolve()
            .map_err(|e| format!("http.bridge.secret: {e}"))?;
        let signing = secret.map(|s| (self.key.clone(), s));
        Ok(BridgeSecrets { ticket, signing })
    }
}

/// The bridge's secrets, read.
#[derive(Clone, PartialEq, Eq)]
pub struct BridgeSecrets {
    pub ticket: Option<String>,
    /// (key, secret) of signed requests.
    pub signing: Option<(String, String)>,
}

impl std::fmt::Debug for BridgeSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeSecrets")
            .field("ticket", &self.ticket.as_ref().map(|_| REDACTED))
            .field(
                "signing",
                &self.signing.as_ref().map(|(k, _)| (k, REDACTED)),
            )
            .finish()
    }
}

/// Checks `[http.bridge]`: ranges always; when enabled, the HTTP listener
/// on, an authid, a role some realm defines, readable secrets, and a key
/// and a secret together or neither.
pub fn check_bridge(
    b: &BridgeConfig,
    http_enabled: bool,
    realms: &RealmsConfig,
    out: &mut Vec<Problem>,
) {
    let mut range = |key: &str, value: u64, max: u64| {
        if !(1..=max).contains(&value) {
            out.push(Problem::invalid(
                format!("http.bridge.{key}"),
                format!("must be in 1..={max}, got {value}"),
            ));
        }
    };
    range(
        "max_body_bytes",
        b.max_body_bytes as u64,
        MAX_BODY_BYTES as u64,
    );
    range(
        "max_concurrent",
        b.max_concurrent as u64,
        MAX_CONCURRENT as u64,
    );
    range("call_timeout_ms", b.call_timeout_ms, MAX_CALL_TIMEOUT_MS);
    range(
        "timestamp_window_s",
        b.timestamp_window_s,
        MAX_TIMESTAMP_WINDOW_S,
    );
    if !b.enabled {
        return;
    }
    if !http_enabled {
        out.push(Problem::invalid(
            "http.bridge.enabled",
            "the bridge is served on the HTTP listener, which is disabled (http.enabled)",
        ));
    }
    if b.authid.is_empty() {
        out.push(Problem::invalid("http.bridge.authid", "must not be empty"));
    }
    let defined = realms
        .realm
        .iter()
        .any(|r| r.roles.iter().any(|role| role.name == b.authrole));
    if !defined {
        out.push(Problem::invalid(
            "http.bridge.authrole",
            format!(
                "no realm defines a role {:?}: add one to the [[realms.realm.roles]] \
                 of each realm the bridge may act in",
                b.authrole
            ),
        ));
    }
    check_secrets(b, out);
}

fn check_secrets(b: &BridgeConfig, out: &mut Vec<Problem>) {
    for (key, secret) in [("ticket", &b.ticket), ("secret", &b.secret)] {
        if let Err(why) = secret.resolve() {
            out.push(Problem::invalid(format!("http.bridge.{key}"), why));
        }
    }
    match (b.key.is_empty(), b.secret.is_set()) {
        (true, true) => out.push(Problem::invalid(
            "http.bridge.key",
            "signed requests need a key beside the secret",
        )),
        (false, false) => out.push(Problem::invalid(
            "http.bridge.secret",
            "signed requests need a secret beside the key",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, RoleConfig, SecretFrom};

    fn keys(c: &Config) -> Vec<String> {
        c.problems().into_iter().map(|p| p.key).collect()
    }

    fn with_role(mut c: Config, role: &str) -> Config {
        let mut r = RoleConfig::anonymous_allow_all();
        r.name = role.into();
        c.realms.realm[0].roles.push(r);
        c
    }

    #[test]
    fn an_enabled_bridge_needs_a_role_some_realm_defines() {
        let mut c = Config::default();
        c.http.bridge.enabled = true;
        assert_eq!(keys(&c), ["http.bridge.authrole"]);
        let why = c.problems()[0].to_string();
        assert!(why.contains("\"http-bridge\""), "{why}");
        let mut c = with_role(c, "http-bridge");
        assert!(keys(&c).is_empty());
        c.http.enabled = false;
        assert_eq!(keys(&c), ["http.bridge.enabled"]);
    }

    #[test]
    fn limits_and_signing_keys_are_checked_and_named() {
        let mut c = with_role(Config::default(), "http-bridge");
        c.http.bridge.enabled = true;
        c.http.bridge.max_body_bytes = 0;
        c.http.bridge.max_concurrent = 1_000_000;
        c.http.bridge.key = "k".into();
        assert_eq!(
            keys(&c),
            [
                "http.bridge.max_body_bytes",
                "http.bridge.max_concurrent",
                "http.bridge.secret"
            ]
        );
        c.http.bridge = BridgeConfig {
            enabled: true,
            secret: OptionalSecret(Some(Secret::From(SecretFrom {
                env: Some("SWITCHYARD_TEST_BRIDGE_UNSET".into()),
                ..Default::default()
            }))),
            ..BridgeConfig::default()
        };
        assert_eq!(keys(&c), ["http.bridge.secret", "http.bridge.key"]);
        let why = c.problems()[0].to_string();
        assert!(why.contains("SWITCHYARD_TEST_BRIDGE_UNSET"), "{why}");
    }

    #[test]
    fn secrets_load_from_toml_in_every_form_and_never_print() {
        let text = "[http.bridge]\nticket = \"hunter2\"\nkey = \"k1\"\n\
                    secret = { value = \"hunter3\" }\n";
        let c = Config::from_toml_str_unvalidated(text).unwrap();
        let read = c.http.bridge.secrets().unwrap();
        assert_eq!(read.ticket.as_deref(), Some("hunter2"));
        assert_eq!(read.signing, Some(("k1".into(), "hunter3".into())));
        let shown = c.to_toml_string().unwrap();
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
        assert!(!format!("{read:?}").contains("hunter"));
        let none = Config::from_toml_str_unvalidated("[http.bridge]\nticket = \"\"").unwrap();
        assert_eq!(none.http.bridge.secrets().unwrap().ticket, None);
    }

    #[test]
    fn a_bad_value_beside_a_secret_table_is_the_only_problem_named() {
        let text = "[http.bridge]\nticket = { env = \"X\" }\nmax_concurrent = \"many\"\n";
        let err = Config::from_toml_str(text).unwrap_err();
        let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["http.bridge.max_concurrent"]);
    }
}
