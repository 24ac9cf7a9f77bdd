//! Who may use the bridge: a bearer ticket (`Authorization: Bearer
//! <ticket>`) and/or a signed request, as Crossbar's HTTP bridge signs
//! them: the query parameters `key`, `timestamp` (UTC RFC 3339, e.g.
//! `2011-10-14T16:59:51.123Z`), `seq`, `nonce` (integers) and `signature` =
//! base64url(HMAC-SHA256(secret, key || timestamp || seq || nonce || body)),
//! the parameters as sent (percent-decoded) and concatenated without
//! separators. Secrets and MACs are compared in constant time. Each
//! refusal says what is wrong, never the secret.

use crate::auth::crypto::constant_time_eq;
use crate::wire::timestamp::parse_rfc3339;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime};

/// Signed requests: the key, the secret, and how far a timestamp may be
/// from the router's clock.
#[derive(Clone)]
pub struct Signing {
    pub key: String,
    pub secret: String,
    pub window: Duration,
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signing")
            .field("key", &self.key)
            .field("secret", &crate::config::REDACTED)
            .field("window", &self.window)
            .finish()
    }
}

/// Base64url, with or without padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Checks the `Authorization` header against the bridge's ticket.
pub fn check_ticket(ticket: &str, authorization: Option<&[u8]>) -> Result<(), &'static str> {
    let Some(value) = authorization else {
        return Err("this bridge needs an 'Authorization: Bearer <ticket>' header");
    };
    let value = value.trim_ascii();
    let scheme_ok = value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ");
    if !scheme_ok {
        return Err("the Authorization header must be 'Bearer <ticket>'");
    }
    if constant_time_eq(value[7..].trim_ascii(), ticket.as_bytes()) {
        Ok(())
    } else {
        Err("wrong ticket")
    }
}

/// The signature parameters of a request, checked but for the signature.
pub struct Signed {
    /// key, timestamp, seq and nonce, as sent.
    parts: [String; 4],
    signature: String,
}

/// The signature parameters of query string `query` at time `now` (before
/// the body is read): all there, the key known, the timestamp within the
/// window, `seq` and `nonce` integers.
pub fn signed_params(s: &Signing, query: &str, now: SystemTime) -> Result<Signed, String> {
    let params = decode_query(query)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("a signed request needs the query parameter '{name}'"))
    };
    let (key, timestamp, seq, nonce, signature) = (
        get("key")?,
        get("timestamp")?,
        get("seq")?,
        get("nonce")?,
        get("signature")?,
    );
    if !constant_time_eq(key.as_bytes(), s.key.as_bytes()) {
        return Err(format!("unknown key '{key}'"));
    }
    let at = parse_rfc3339(timestamp).ok_or_else(|| {
        format!("timestamp '{timestamp}' is not a UTC time like 2011-10-14T16:59:51.123Z")
    })?;
    let skew = match now.duration_since(at) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    if skew > s.window {
        return Err(format!(
            "timestamp '{timestamp}' is more than {} s from the router's clock",
            s.window.as_secs()
        ));
    }
    for (name, value) in [("seq", seq), ("nonce", nonce)] {
        let digits = value.strip_prefix('-').unwrap_or(value);
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{name}' must be an integer, got '{value}'"));
        }
    }
    Ok(Signed {
        parts: [key, timestamp, seq, nonce].map(str::to_owned),
        signature: signature.to_owned(),
    })
}

/// Checks the signature of `signed` over `body`.
pub fn verify(s: &Signing, signed: &Signed, body: &[u8]) -> Result<(), String> {
    let parts = signed.parts.each_ref().map(String::as_str);
    let mac = sign(&s.secret, &parts, body);
    let given = B64URL.decode(&signed.signature).unwrap_or_default();
    if constant_time_eq(&given, &mac) {
        Ok(())
    } else {
        Err("wrong signature".into())
    }
}

/// HMAC-SHA256 under `secret` of `parts` then `body`, concatenated.
pub fn sign(secret: &str, parts: &[&str], body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p.as_bytes());
    }
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The (name, value) pairs of a query string, percent-decoded (`+` is a
/// space, as in forms).
fn decode_query(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bad = || format!("bad percent-encoding in the query: '{s}'");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::timestamp::rfc3339;

    /// Checks the signature of a request with query string `query` and `body`
    /// at time `now`.
    fn check_signature(
        s: &Signing,
        query: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), String> {
        verify(s, &signed_params(s, query, now)?, body)
    }

    fn signing() -> Signing {
        Signing {
            key: "foo".into(),
            secret: "bar".into(),
            window: Duration::from_secs(300),
        }
    }

    /// The query of a request signed with `secret` at `at`.
    fn signed_query(secret: &str, at: SystemTime, body: &[u8]) -> String {
        let ts = rfc3339(at);
        let mac = sign(secret, &["foo", &ts, "1", "42"], body);
        let sig = base64::engine::general_purpose::URL_SAFE.encode(mac);
        format!(
            "key=foo&timestamp={ts}&seq=1&nonce=42&signature={}",
            sig.replace('=', "%3D")
        )
    }

    #[test]
    fn a_signature_matches_the_crossbar_scheme() {
        // HMAC-SHA256("bar", "foo" "2011-10-14T16:59:51.123Z" "1" "42" "{}"),
        // as Python's hmac and base64.urlsafe_b64encode compute it.
        let mac = sign(
            "bar",
            &["foo", "2011-10-14T16:59:51.123Z", "1", "42"],
            b"{}",
        );
        let mut py = Hmac::<Sha256>::new_from_slice(b"bar").unwrap();
        py.update(b"foo2011-10-14T16:59:51.123Z142{}");
        assert_eq!(mac, py.finalize().into_bytes().to_vec());
    }

    #[test]
    fn a_good_signature_passes_and_a_bad_one_is_refused() {
        let now = SystemTime::now();
        let body = br#"{"realm":"r"}"#;
        let s = signing();
        check_signature(&s, &signed_query("bar", now, body), body, now).unwrap();
        let unpadded = signed_query("bar", now, body).replace("%3D", "");
        check_signature(&s, &unpadded, body, now).unwrap();
        let wrong = check_signature(&s, &signed_query("baz", now, body), body, now);
        assert_eq!(wrong.unwrap_err(), "wrong signature");
        let tampered = check_signature(&s, &signed_query("bar", now, body), b"{}", now);
        assert_eq!(tampered.unwrap_err(), "wrong signature");
        let old = now - Duration::from_secs(301);
        let stale = check_signature(&s, &signed_query("bar", old, body), body, now);
        assert!(stale.unwrap_err().contains("more than 300 s"));
        let missing = check_signature(&s, "key=foo&seq=1", body, now).unwrap_err();
        assert!(missing.contains("'timestamp'"), "{missing}");
        let q = signed_query("bar", now, body).replace("key=foo", "key=other");
        let unknown = check_signature(&s, &q, body, now).unwrap_err();
        assert!(unknown.contains("unknown key 'other'"), "{unknown}");
        let q = signed_query("bar", now, body).replace("nonce=42", "nonce=x");
        assert!(check_signature(&s, &q, body, now)
            .unwrap_err()
            .contains("'nonce'"));
    }

    #[test]
    fn tickets_are_bearer_tokens() {
        assert!(check_ticket("s3cret", Some(b"Bearer s3cret")).is_ok());
        assert!(check_ticket("s3cret", Some(b"bearer  s3cret ")).is_ok());
        assert_eq!(
            check_ticket("s3cret", Some(b"Bearer s3cre")),
            Err("wrong ticket")
        );
        assert!(check_ticket("s3cret", Some(b"Basic czNjcmV0")).is_err());
        assert!(check_ticket("s3cret", None).is_err());
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let q = decode_query("a=1%2B1&b=x+y&c").unwrap();
        assert_eq!(q[0], ("a".into(), "1+1".into()));
        assert_eq!(q[1], ("b".into(), "x y".into()));
        assert_eq!(q[2], ("c".into(), String::new()));
        assert!(decode_query("a=%zz").is_err());
        assert!(decode_query("a=%4").is_err());
    }
}
