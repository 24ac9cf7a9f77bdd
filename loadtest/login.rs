//! How every session of the load generator logs in: `--authmethod
//! anonymous|ticket|wampcra|cryptosign` with its credentials, checked once
//! before any connection, then the HELLO.Details of that method and the
//! AUTHENTICATE answering the router's CHALLENGE, computed with
//! `switchyard::auth::crypto`.

use anyhow::{anyhow, bail, Context, Result};
use std::fmt;
use std::sync::{Arc, Mutex};
use switchyard::auth::crypto::{cra, cryptosign};
use switchyard::wire::{Dict, Message, Text, Value};

/// The login options as given (command line or profile).
#[derive(Debug, Default, Clone, Copy)]
pub struct LoginArgs<'a> {
    pub authmethod: Option<&'a str>,
    pub authid: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub secret_env: Option<&'a str>,
    pub key: Option<&'a str>,
    pub key_file: Option<&'a str>,
}

/// How every session logs in. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Login {
    authid: Option<String>,
    method: Method,
}

#[derive(Clone)]
enum Method {
    Anonymous,
    Ticket(String),
    Cra {
        secret: String,
        /// The last salted key derived, by (salt, iterations, keylen): a
        /// router sends one principal the same parameters every time, and
        /// PBKDF2 per session would load the generator, not the router.
        derived: Arc<Mutex<Option<(SaltParams, String)>>>,
    },
    Cryptosign(cryptosign::SigningKey),
}

type SaltParams = (String, u32, usize);

/// The most a salted WAMP-CRA CHALLENGE may ask of the generator.
const MAX_KEYLEN: u64 = 1024;
const MAX_ITERATIONS: u64 = 10_000_000;

impl Login {
    /// Checks the combination and reads the secret or key it names;
    /// `env` looks up environment variables.
    pub fn from_args(a: &LoginArgs<'_>, env: impl Fn(&str) -> Option<String>) -> Result<Login> {
        let method = a.authmethod.unwrap_or("anonymous");
        let authid = a.authid.map(String::from);
        let method = match method {
            "anonymous" => {
                refuse(
                    a.secret.is_some() || a.secret_env.is_some(),
                    "--secret/--secret-env apply to --authmethod ticket or wampcra",
                )?;
                refuse(
                    a.key.is_some() || a.key_file.is_some(),
                    "--key/--key-file apply to --authmethod cryptosign",
                )?;
                Method::Anonymous
            }
            "ticket" | "wampcra" => {
                refuse(
                    a.key.is_some() || a.key_file.is_some(),
                    &format!("--key/--key-file apply to --authmethod cryptosign, not {method}"),
                )?;
                if authid.as_deref().is_none_or(str::is_empty) {
                    bail!("--authmethod {method} needs --authid ID");
                }
                let secret = secret(method, a, env)?;
                if method == "ticket" {
                    Method::Ticket(secret)
                } else {
                    Method::Cra {
                        secret,
                        derived: Arc::default(),
                    }
                }
            }
            "cryptosign" => {
                refuse(
                    a.secret.is_some() || a.secret_env.is_some(),
                    "--secret/--secret-env apply to --authmethod ticket or wampcra, not cryptosign",
                )?;
                Method::Cryptosign(signing_key(a)?)
            }
            other => {
                bail!("unknown --authmethod '{other}' (anonymous, ticket, wampcra, cryptosign)")
            }
        };
        Ok(Login { authid, method })
    }

    /// The name of the method, as HELLO.Details.authmethods carries it.
    pub fn authmethod(&self) -> &'static str {
        match self.method {
            Method::Anonymous => "anonymous",
            Method::Ticket(_) => "ticket",
            Method::Cra { .. } => "wampcra",
            Method::Cryptosign(_) => "cryptosign",
        }
    }

    /// Adds authid, authmethods and authextra to HELLO.Details. An
    /// anonymous login sends no authmethods (so any router takes it).
    pub fn hello_details(&self, details: &mut Dict) {
        if let Some(id) = &self.authid {
            details.insert("authid", id.as_str());
        }
        if let Method::Anonymous = self.method {
            return;
        }
        details.insert(
            "authmethods",
            Value::List(vec![Value::from(self.authmethod())]),
        );
        if let Method::Cryptosign(key) = &self.method {
            let extra = Dict::new().with("pubkey", Value::str(key.public().to_hex()));
            details.insert("authextra", extra);
        }
    }

    /// The AUTHENTICATE answering `[CHALLENGE, method, extra]`.
    pub fn answer(&self, method: &str, extra: &Dict) -> Result<Message> {
        if method != self.authmethod() {
            bail!(
                "the router sent a CHALLENGE for '{method}', but this run logs in with {}",
                self.authmethod()
            );
        }
        let signature = match &self.method {
            Method::Anonymous => unreachable!("an anonymous login matches no CHALLENGE"),
            Method::Ticket(ticket) => ticket.clone(),
            Method::Cra { secret, derived } => cra_signature(secret, derived, extra)?,
            Method::Cryptosign(key) => cryptosign_signature(key, extra)?,
        };
        Ok(Message::Authenticate {
            signature: Text::from(signature),
            extra: Dict::new(),
        })
    }
}

impl fmt::Display for Login {
    /// "ticket as authid 'tina'", for error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.authid {
            Some(id) => write!(f, "{} as authid '{id}'", self.authmethod()),
            None => write!(f, "{} without an authid", self.authmethod()),
        }
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({self})")
    }
}

fn refuse(bad: bool, why: &str) -> Result<()> {
    if bad {
        bail!("{why}");
    }
    Ok(())
}

/// The ticket or WAMP-CRA secret: `--secret` or `--secret-env`, exactly one.
fn secret(method: &str, a: &LoginArgs<'_>, env: impl Fn(&str) -> Option<String>) -> Result<String> {
    match (a.secret, a.secret_env) {
        (Some(_), Some(_)) => bail!("give --secret or --secret-env, not both"),
        (Some(s), None) => Ok(s.to_owned()),
        (None, Some(var)) => env(var).ok_or_else(|| {
            anyhow!("--secret-env {var}: the environment variable {var} is not set (or not UTF-8)")
        }),
        (None, None) => bail!("--authmethod {method} needs --secret TEXT or --secret-env VAR"),
    }
}

/// The Ed25519 key of `--key HEX` or `--key-file PATH`, exactly one.
fn signing_key(a: &LoginArgs<'_>) -> Result<cryptosign::SigningKey> {
    let what = "a 32-byte Ed25519 seed: 64 hex characters";
    match (a.key, a.key_file) {
        (Some(_), Some(_)) => bail!("give --key or --key-file, not both"),
        (Some(hex), None) => cryptosign::SigningKey::from_seed_hex(hex.trim())
            .ok_or_else(|| anyhow!("--key: expected {what}")),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --key-file {path}"))?;
            cryptosign::SigningKey::from_seed_hex(text.trim())
                .ok_or_else(|| anyhow!("--key-file {path}: expected {what}"))
        }
        (None, None) => bail!("--authmethod cryptosign needs --key HEX or --key-file PATH"),
    }
}

fn cra_signature(
    secret: &str,
    derived: &Mutex<Option<(SaltParams, String)>>,
    extra: &Dict,
) -> Result<String> {
    let challenge = extra
        .get("challenge")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the wampcra CHALLENGE has no challenge string"))?;
    let Some(salt) = extra.get("salt").and_then(Value::as_str) else {
        return Ok(cra::sign(secret.as_bytes(), challenge));
    };
    // Autobahn's defaults when a salted CHALLENGE leaves them out.
    let number = |key: &str, default: u64, max: u64| -> Result<u64> {
        match extra.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| anyhow!("the wampcra CHALLENGE has {key} {v:?} (1..={max} wanted)")),
        }
    };
    let params: SaltParams = (
        salt.to_owned(),
        number("iterations", 1000, MAX_ITERATIONS)? as u32,
        number("keylen", 32, MAX_KEYLEN)? as usize,
    );
    let mut cache = derived.lock().map_err(|_| anyhow!("the key cache lock"))?;
    let key = match cache.as_ref() {
        Some((p, key)) if *p == params => key.clone(),
        _ => {
            let key = cra::derive_key(secret, &params.0, params.1, params.2);
            *cache = Some((params, key.clone()));
            key
        }
    };
    Ok(cra::sign(key.as_bytes(), challenge))
}

fn cryptosign_signature(key: &cryptosign::SigningKey, extra: &Dict) -> Result<String> {
    if let Some(b) = extra.get("channel_binding").filter(|b| **b != Value::Null) {
        bail!("the cryptosign CHALLENGE asks for channel binding {b:?}, which this client has not");
    }
    let challenge = extra
        .get("challenge")
        .and_then(Value::as_str)
        .and_then(cryptosign::challenge_from_hex)
        .ok_or_else(|| anyhow!("the cryptosign CHALLENGE has no 32-byte hex challenge"))?;
    Ok(cryptosign::sign(key, &challenge, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    fn login(args: LoginArgs<'_>) -> Result<Login> {
        Login::from_args(&args, |var| {
            (var == "LOAD_SECRET").then(|| "from-env".to_owned())
        })
    }

    fn error(args: LoginArgs<'_>) -> String {
        format!("{:#}", login(args).unwrap_err())
    }

    #[test]
    fn bad_combinations_are_refused_with_the_flag_to_give() {
        let ticket = LoginArgs {
            authmethod: Some("ticket"),
            ..LoginArgs::default()
        };
        assert_eq!(error(ticket), "--authmethod ticket needs --authid ID");
        let tina = LoginArgs {
            authid: Some("tina"),
            ..ticket
        };
        assert_eq!(
            error(tina),
            "--authmethod ticket needs --secret TEXT or --secret-env VAR"
        );
        let both = LoginArgs {
            secret: Some("a"),
            secret_env: Some("LOAD_SECRET"),
            ..tina
        };
        assert_eq!(error(both), "give --secret or --secret-env, not both");
        let unset = LoginArgs {
            secret_env: Some("NOT_SET"),
            ..tina
        };
        assert!(error(unset).contains("NOT_SET is not set"));
        let sign = LoginArgs {
            authmethod: Some("cryptosign"),
            ..LoginArgs::default()
        };
        assert_eq!(
            error(sign),
            "--authmethod cryptosign needs --key HEX or --key-file PATH"
        );
        let short = LoginArgs {
            key: Some("abcd"),
            ..sign
        };
        assert!(error(short).contains("64 hex characters"));
        let anonymous_secret = LoginArgs {
            secret: Some("a"),
            ..LoginArgs::default()
        };
        assert!(error(anonymous_secret).contains("apply to --authmethod ticket or wampcra"));
        let unknown = LoginArgs {
            authmethod: Some("scram"),
            ..LoginArgs::default()
        };
        assert!(error(unknown).starts_with("unknown --authmethod 'scram'"));
    }

    #[test]
    fn the_secret_may_come_from_the_environment_and_is_never_shown() {
        let l = login(LoginArgs {
            authmethod: Some("ticket"),
            authid: Some("tina"),
            secret_env: Some("LOAD_SECRET"),
            ..LoginArgs::default()
        })
        .unwrap();
        let Message::Authenticate { signature, .. } = l.answer("ticket", &Dict::new()).unwrap()
        else {
            panic!("not an AUTHENTICATE")
        };
        assert_eq!(signature.as_str(), "from-env");
        assert_eq!(format!("{l:?}"), "Login(ticket as authid 'tina')");
    }

    #[test]
    fn a_salted_cra_challenge_is_signed_with_the_derived_key() {
        let l = login(LoginArgs {
            authmethod: Some("wampcra"),
            authid: Some("sally"),
            secret: Some("cra-salt-secret"),
            ..LoginArgs::default()
        })
        .unwrap();
        let extra = Dict::new()
            .with("challenge", Value::str("{\"nonce\":\"x\"}"))
            .with("salt", Value::str("cra-salt"))
            .with("iterations", 1000u64)
            .with("keylen", 32u64);
        let key = cra::derive_key("cra-salt-secret", "cra-salt", 1000, 32);
        for _ in 0..2 {
            let Message::Authenticate { signature, .. } = l.answer("wampcra", &extra).unwrap()
            else {
                panic!("not an AUTHENTICATE")
            };
            assert!(cra::verify(
                key.as_bytes(),
                "{\"nonce\":\"x\"}",
                signature.as_str()
            ));
        }
        let err = l.answer("ticket", &Dict::new()).unwrap_err().to_string();
        assert!(err.contains("CHALLENGE for 'ticket'"), "{err}");
    }

    #[test]
    fn a_cryptosign_login_announces_its_key_and_signs_the_challenge() {
        let l = login(LoginArgs {
            authmethod: Some("cryptosign"),
            key: Some(SEED),
            ..LoginArgs::default()
        })
        .unwrap();
        let key = cryptosign::SigningKey::from_seed_hex(SEED).unwrap();
        let mut details = Dict::new();
        l.hello_details(&mut details);
        let pubkey = details
            .get_dict("authextra")
            .unwrap()
            .unwrap()
            .get("pubkey");
        assert_eq!(
            pubkey.and_then(Value::as_str),
            Some(key.public().to_hex().as_str())
        );
        assert!(details.get("authid").is_none());
        let challenge = [7u8; 32];
        let extra = Dict::new()
            .with(
                "challenge",
                Value::str(switchyard::auth::crypto::hex_encode(&challenge)),
            )
            .with("channel_binding", Value::Null);
        let Message::Authenticate { signature, .. } = l.answer("cryptosign", &extra).unwrap()
        else {
            panic!("not an AUTHENTICATE")
        };
        assert!(cryptosign::verify(
            &key.public(),
            &challenge,
            None,
            signature.as_str()
        ));
    }
}
