//! WAMP-CRA: the challenge text a router sends, the salted key derivation
//! of Autobahn/Crossbar (`derive_key`) and the HMAC-SHA256 signature.

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{b64_decode, b64_encode};

type HmacSha256 = Hmac<Sha256>;

/// Length of the Base64 text of a 32-byte HMAC-SHA256 signature.
const SIGNATURE_B64_LEN: usize = 44;

/// Autobahn's `derive_key`: PBKDF2-HMAC-SHA256 of the secret's UTF-8 with the
/// salt string's UTF-8 bytes (not Base64-decoded), returned as padded
/// Base64 text. The bytes of that *text* are the HMAC key of `sign`.
/// `keylen` comes from configuration; the caller bounds it.
pub fn derive_key(secret: &str, salt: &str, iterations: u32, keylen: usize) -> String {
    let mut key = vec![0u8; keylen];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt.as_bytes(), iterations, &mut key);
    b64_encode(&key)
}

/// `base64(HMAC-SHA256(key, challenge))`: what a client sends.
pub fn sign(key: &[u8], challenge: &str) -> String {
    b64_encode(&mac(key, challenge).finalize().into_bytes())
}

/// Whether `signature` (Base64, trailing whitespace allowed) is the
/// signature of `challenge` under `key`; compares in constant time.
pub fn verify(key: &[u8], challenge: &str, signature: &str) -> bool {
    let signature = signature.trim_end();
    if signature.len() != SIGNATURE_B64_LEN {
        return false;
    }
    match b64_decode(signature) {
        Some(bytes) => mac(key, challenge).verify_slice(&bytes).is_ok(),
        None => false,
    }
}

fn mac(key: &[u8], challenge: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(challenge.as_bytes());
    mac
}

/// The challenge text of `[CHALLENGE, "wampcra", {"challenge": ...}]`: a JSON
/// object with `authid`, `authrole`, `authmethod` ("wampcra"),
/// `authprovider`, `nonce`, `timestamp` and `session`, in that order.
pub fn challenge(
    authid: &str,
    authrole: &str,
    authprovider: &str,
    session: u64,
    nonce: &str,
    timestamp: &str,
) -> String {
    format!(
        "{{\"authid\":{},\"authrole\":{},\"authmethod\":\"wampcra\",\"authprovider\":{},\
         \"nonce\":{},\"timestamp\":{},\"session\":{session}}}",
        json_string(authid),
        json_string(authrole),
        json_string(authprovider),
        json_string(nonce),
        json_string(timestamp),
    )
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// `time` as UTC ISO-8601 with milliseconds, e.g. `2024-05-07T09:25:13.307Z`
/// (the challenge's `timestamp`).
pub fn timestamp(time: SystemTime) -> String {
    crate::wire::timestamp::rfc3339(time)
}
