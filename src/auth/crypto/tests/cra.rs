//! WAMP-CRA: Autobahn's published derive_key / compute_wcs vectors, a
//! PBKDF2-HMAC-SHA256 known answer, sign/verify and the challenge text.

use std::time::{Duration, UNIX_EPOCH};

use crate::auth::crypto::cra::{challenge, derive_key, sign, timestamp, verify};

#[test]
fn derive_key_is_base64_of_pbkdf2_hmac_sha256() {
    // PBKDF2-HMAC-SHA256("password", "salt", 1, 32)
    // = 120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b
    assert_eq!(
        derive_key("password", "salt", 1, 32),
        "Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs="
    );
}

#[test]
fn derive_key_matches_autobahn() {
    // autobahn test_wamp_auth.py test_derive_key (defaults: 1000 iterations, 32 bytes).
    assert_eq!(
        derive_key("L3L1YUE8Txlw", "salt123", 1000, 32),
        "qzcdsr9uu/L5hnss3kjNTRe490ETgA70ZBaB5rvnJ5Y="
    );
}

#[test]
fn derive_key_of_the_xconn_fixture() {
    // base64(hashlib.pbkdf2_hmac("sha256", b"cra-salt-secret", b"cra-salt", 1000, 32))
    assert_eq!(
        derive_key("cra-salt-secret", "cra-salt", 1000, 32),
        "vHa23Jd8NbCNOP6Hp53ZpCNbc2ZjLRdfB3pY1ltlL4U="
    );
}

#[test]
fn sign_matches_autobahn() {
    // autobahn test_wamp_auth.py test_compute_wcs: json.dumps([1, 2, 3]) signed with the plain secret.
    let signature = sign(b"L3L1YUE8Txlw", "[1, 2, 3]");
    assert_eq!(signature, "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0=");
    assert!(verify(b"L3L1YUE8Txlw", "[1, 2, 3]", &signature));
}

#[test]
fn salted_signature_uses_the_base64_text_as_key() {
    let key = derive_key("cra-salt-secret", "cra-salt", 1000, 32);
    let text = challenge(
        "wamp-cra-salt-user",
        "user",
        "static",
        123,
        "abc",
        "2024-05-07T09:25:13.307Z",
    );
    // base64(hmac.new(b"vHa23...L4U=", challenge.encode(), hashlib.sha256).digest())
    assert_eq!(
        sign(key.as_bytes(), &text),
        "SDbP8I9Aww7CirVBC48qhNgM8HmvYQJR9W7qpeOcmnQ="
    );
}

#[test]
fn verify_accepts_trailing_newline_and_rejects_the_rest() {
    let key = b"secret";
    let signature = sign(key, "challenge");
    assert!(verify(key, "challenge", &signature));
    assert!(verify(key, "challenge", &format!("{signature}\n")));
    assert!(verify(key, "challenge", &format!("{signature} \r\n")));
    assert!(!verify(b"secreT", "challenge", &signature), "wrong key");
    assert!(!verify(key, "challengE", &signature), "wrong challenge");
    assert!(!verify(key, "challenge", &signature[..43]), "truncated");
    assert!(!verify(key, "challenge", &signature[..40]), "truncated");
    assert!(!verify(key, "challenge", ""), "empty");
    assert!(
        !verify(
            key,
            "challenge",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!="
        ),
        "not base64"
    );
    assert!(!verify(key, "challenge", &"A".repeat(1 << 20)), "huge");
    assert!(
        !verify(key, "challenge", &format!(" {signature}")),
        "leading space"
    );
}

#[test]
fn challenge_is_json_with_the_wampcra_fields() {
    let text = challenge(
        "pe\"ter",
        "user",
        "static",
        3071302313344522,
        "n0nce",
        "2019-01-17T12:09:52.508Z",
    );
    assert_eq!(
        text,
        "{\"authid\":\"pe\\\"ter\",\"authrole\":\"user\",\"authmethod\":\"wampcra\",\"authprovider\":\"static\",\
         \"nonce\":\"n0nce\",\"timestamp\":\"2019-01-17T12:09:52.508Z\",\"session\":3071302313344522}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["authid"], "pe\"ter");
    assert_eq!(parsed["session"], 3071302313344522u64);
}

#[test]
fn timestamp_is_utc_iso8601_with_millis() {
    assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    // 2019-01-17T12:09:52.508Z = 1547726992.508 s after the epoch.
    let time = UNIX_EPOCH + Duration::from_millis(1_547_726_992_508);
    assert_eq!(timestamp(time), "2019-01-17T12:09:52.508Z");
    // A leap day: 2024-02-29T23:59:59.999Z = 1709251199.999 s.
    let time = UNIX_EPOCH + Duration::from_millis(1_709_251_199_999);
    assert_eq!(timestamp(time), "2024-02-29T23:59:59.999Z");
}
