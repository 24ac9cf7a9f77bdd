//! WAMP-SCRAM: the RFC 7677 SCRAM-SHA-256 example (spec dialect, PBKDF2),
//! Autobahn's Argon2id and PBKDF2 known answers (its test_wamp_auth.py),
//! round trips in both dialects with both KDFs, and the AuthMessage forms.

use crate::auth::crypto::scram::{
    auth_message, client_proof, client_proof_for, mock_salt, server_signature, verify_proof,
    Credential, Dialect, Kdf,
};
use crate::auth::crypto::{b64_decode, hex_encode};

/// The smallest Argon2id cost the argon2 crate accepts (8 KiB, 1 pass).
const CHEAP_ARGON: Kdf = Kdf::Argon2id { memory_kib: 8 };

#[test]
fn rfc7677_example_in_the_spec_dialect() {
    let client_nonce = "rOprNGfwEbeRWgbNEkqO";
    let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    let salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    let message = auth_message(
        Dialect::Spec,
        "user",
        client_nonce,
        nonce,
        salt_b64,
        4096,
        None,
    );
    assert_eq!(
        message,
        "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
         s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    );
    let salt = b64_decode(salt_b64).unwrap();
    let proof = client_proof("pencil", &salt, Kdf::Pbkdf2, 4096, &message).unwrap();
    assert_eq!(proof, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    let cred = Credential::derive("pencil", &salt, Kdf::Pbkdf2, 4096).unwrap();
    assert!(verify_proof(&cred, &message, &proof));
    assert_eq!(
        server_signature(&cred, &message),
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    );
}

#[test]
fn autobahn_argon2id_client_proof() {
    // autobahn test_wamp_auth.py TestScram.test_basic: kdf argon2id-13, t=32,
    // m=512; the "salt" there is hex text that Autobahn base64-decodes.
    let hexish = "31323334353637383930616263646566";
    let nonce = "1234567890abcdeffedcba0987654321";
    let message = auth_message(
        Dialect::Autobahn,
        "username",
        hexish,
        nonce,
        hexish,
        32,
        None,
    );
    assert_eq!(
        message,
        "n=username,r=31323334353637383930616263646566,r=1234567890abcdeffedcba0987654321,\
         s=31323334353637383930616263646566,i=32,c=,r=1234567890abcdeffedcba0987654321"
    );
    let salt = b64_decode(hexish).unwrap();
    let kdf = Kdf::Argon2id { memory_kib: 512 };
    let proof = client_proof_for(Dialect::Autobahn, "p4ssw0rd", &salt, kdf, 32, &message).unwrap();
    assert_eq!(proof, "f5r3loERzGVSuimE+lvO0bWna2zyswBo0HrZkaaEy38=");
    let cred = Credential::derive_for(Dialect::Autobahn, "p4ssw0rd", &salt, kdf, 32).unwrap();
    assert!(verify_proof(&cred, &message, &proof));
}

#[test]
fn argon2id_credentials_in_each_dialect() {
    // autobahn test_argon2id_static: argon2id(p4ssw0rd, "1234567890abcdef",
    // t=32, m=512, p=1, 32 bytes) = ee4a8acf...0ed293. Expected keys from
    // Python: StoredKey = sha256(hmac(SP, "Client Key")),
    // ServerKey = hmac(SP, "Server Key"), where SP is those raw bytes (spec)
    // or their unpadded base64 text "7kqKz51Z...O0pM" (Autobahn).
    let kdf = Kdf::Argon2id { memory_kib: 512 };
    let spec = Credential::derive("p4ssw0rd", b"1234567890abcdef", kdf, 32).unwrap();
    assert_eq!(
        hex_encode(&spec.stored_key),
        "cf50bba49f0338f5cae4ff98104504e88e93f4c2f850e5cd5e0a518990cffac9"
    );
    assert_eq!(
        hex_encode(&spec.server_key),
        "d612ae7a8721824b11d4176f92568f9c28ac11a1174ec41a14b9dee59667400c"
    );
    let ab = Credential::derive_for(Dialect::Autobahn, "p4ssw0rd", b"1234567890abcdef", kdf, 32)
        .unwrap();
    assert_eq!(
        hex_encode(&ab.stored_key),
        "0b1fd0e98e7caae15c4fa9c1f7eccc0db8585a9e1c7611e21ad397491c9fe7f8"
    );
    assert_eq!(
        hex_encode(&ab.server_key),
        "91193b70ef67b434613f47c44046f684a0a48b07116feb2527094daa4e5006e2"
    );
}

#[test]
fn pbkdf2_credential_is_the_same_in_both_dialects() {
    // autobahn test_pbkdf2_static: pbkdf2-sha256(p4ssw0rd, "1234567890abcdef", 8) = f6991a28...7d15f5;
    // keys derived from it in Python as above.
    for dialect in [Dialect::Spec, Dialect::Autobahn] {
        let cred = Credential::derive_for(dialect, "p4ssw0rd", b"1234567890abcdef", Kdf::Pbkdf2, 8)
            .unwrap();
        assert_eq!(
            hex_encode(&cred.stored_key),
            "7abab27e0471a4f89678fd458d930678114bdfe674d75e56a89c6252325ffdbc"
        );
        assert_eq!(
            hex_encode(&cred.server_key),
            "59e9061a5c25e6586fbbe3378f6a570a51e640289f5713c272b93625f9a7a431"
        );
    }
}

#[test]
fn round_trip_in_both_dialects_with_both_kdfs() {
    let salt = [9u8; 16];
    for dialect in [Dialect::Spec, Dialect::Autobahn] {
        for kdf in [Kdf::Pbkdf2, CHEAP_ARGON] {
            let cred = Credential::derive_for(dialect, "s3cret", &salt, kdf, 2).unwrap();
            let message = auth_message(
                dialect,
                "alice",
                "Y2xpZW50",
                "Y2xpZW50c2VydmVy",
                "CQkJCQkJCQkJCQkJCQkJCQ==",
                2,
                None,
            );
            let proof = client_proof_for(dialect, "s3cret", &salt, kdf, 2, &message).unwrap();
            assert!(verify_proof(&cred, &message, &proof), "{dialect:?} {kdf:?}");
            let wrong = client_proof_for(dialect, "s3creT", &salt, kdf, 2, &message).unwrap();
            assert!(
                !verify_proof(&cred, &message, &wrong),
                "wrong password, {dialect:?} {kdf:?}"
            );
            assert!(
                !verify_proof(&cred, &format!("{message}x"), &proof),
                "other message"
            );
        }
    }
}

#[test]
fn argon2id_credentials_differ_between_dialects() {
    let salt = [3u8; 16];
    let spec = Credential::derive_for(Dialect::Spec, "pw", &salt, CHEAP_ARGON, 1).unwrap();
    let ab = Credential::derive_for(Dialect::Autobahn, "pw", &salt, CHEAP_ARGON, 1).unwrap();
    assert_ne!(spec.stored_key, ab.stored_key);
}

#[test]
fn verify_proof_rejects_malformed_proofs() {
    let cred = Credential::derive("pw", &[1u8; 16], Kdf::Pbkdf2, 1).unwrap();
    let message = "n=a,r=b,r=bc,s=AQEBAQEBAQEBAQEBAQEBAQ==,i=1,c=biws,r=bc";
    let proof = client_proof("pw", &[1u8; 16], Kdf::Pbkdf2, 1, message).unwrap();
    assert!(verify_proof(&cred, message, &proof));
    assert!(!verify_proof(&cred, message, &proof[..43]), "truncated");
    assert!(
        !verify_proof(&cred, message, &format!("{proof}\n")),
        "trailing newline"
    );
    assert!(!verify_proof(&cred, message, ""), "empty");
    assert!(!verify_proof(&cred, message, &"*".repeat(44)), "not base64");
    assert!(!verify_proof(&cred, message, &"A".repeat(1 << 20)), "huge");
}

#[test]
fn auth_message_escapes_and_binds_per_dialect() {
    let spec = auth_message(
        Dialect::Spec,
        "a,b=c",
        "cn",
        "cnsn",
        "c2FsdA==",
        7,
        Some(("tls-unique", &[1, 2])),
    );
    // base64("p=tls-unique,,\x01\x02") = cD10bHMtdW5pcXVlLCwBAg==
    assert_eq!(
        spec,
        "n=a=2Cb=3Dc,r=cn,r=cnsn,s=c2FsdA==,i=7,c=cD10bHMtdW5pcXVlLCwBAg==,r=cnsn"
    );
    let ab = auth_message(
        Dialect::Autobahn,
        "a,b=c",
        "cn",
        "cnsn",
        "c2FsdA==",
        7,
        Some(("tls-unique", &[1, 2])),
    );
    assert_eq!(ab, "n=a,b=c,r=cn,r=cnsn,s=c2FsdA==,i=7,c=tls-unique,r=cnsn");
    let ab = auth_message(Dialect::Autobahn, "u", "cn", "cnsn", "c2FsdA==", 7, None);
    assert_eq!(ab, "n=u,r=cn,r=cnsn,s=c2FsdA==,i=7,c=,r=cnsn");
}

#[test]
fn bad_parameters_are_errors() {
    assert!(
        Credential::derive("pw", &[0u8; 16], Kdf::Pbkdf2, 0).is_err(),
        "no iterations"
    );
    let too_little = Kdf::Argon2id { memory_kib: 1 };
    assert!(
        Credential::derive("pw", &[0u8; 16], too_little, 1).is_err(),
        "memory below minimum"
    );
    assert!(
        Credential::derive("pw", &[0u8; 4], CHEAP_ARGON, 1).is_err(),
        "salt too short for argon2"
    );
    assert!(client_proof("pw", &[0u8; 16], Kdf::Pbkdf2, 0, "m").is_err());
}

#[test]
fn names_of_dialects_and_kdfs() {
    for dialect in [Dialect::Spec, Dialect::Autobahn] {
        assert_eq!(
            Dialect::from_authmethod(dialect.authmethod()),
            Some(dialect)
        );
        for kdf in [Kdf::Pbkdf2, CHEAP_ARGON] {
            assert_eq!(Kdf::from_name(kdf.name(dialect), Some(8)), Ok(kdf));
        }
    }
    assert_eq!(Dialect::Spec.success_key(), "verifier");
    assert_eq!(Dialect::Autobahn.success_key(), "scram_server_signature");
    assert_eq!(CHEAP_ARGON.name(Dialect::Spec), "argon2id13");
    assert_eq!(CHEAP_ARGON.name(Dialect::Autobahn), "argon2id-13");
    assert_eq!(Dialect::from_authmethod("wampcra"), None);
    assert!(Kdf::from_name("argon2id13", None).is_err());
    assert!(Kdf::from_name("scrypt", Some(8)).is_err());
}

#[test]
fn mock_salt_is_stable_per_authid() {
    assert_eq!(
        mock_salt(b"router key", "bob"),
        mock_salt(b"router key", "bob")
    );
    assert_ne!(
        mock_salt(b"router key", "bob"),
        mock_salt(b"router key", "bo")
    );
    assert_ne!(
        mock_salt(b"router key", "bob"),
        mock_salt(b"other key", "bob")
    );
}

#[test]
fn credential_debug_hides_the_keys() {
    let cred = Credential::derive("pw", &[1u8; 16], Kdf::Pbkdf2, 1).unwrap();
    let debug = format!("{cred:?}");
    assert!(
        !debug.contains("stored_key") && !debug.contains("server_key"),
        "{debug}"
    );
    assert!(!debug.contains(&format!("{:?}", cred.stored_key)));
}
