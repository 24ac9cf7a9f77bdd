//! Stored ticket hashes: hashing, checking, the stored text form and its
//! parse errors.

use crate::auth::crypto::ticket::TicketHash;

#[test]
fn new_then_verify() {
    let hash = TicketHash::new("tick3t", 10);
    assert!(hash.verify("tick3t"));
    assert!(!hash.verify("tick3T"));
    assert!(!hash.verify(""));
    assert_ne!(TicketHash::new("tick3t", 10), hash, "fresh salt each time");
}

#[test]
fn stored_form_round_trips() {
    let hash = TicketHash::new("tick3t", 10);
    let text = hash.to_string();
    assert!(text.starts_with("pbkdf2-sha256$10$"));
    let parsed = TicketHash::parse(&text).unwrap();
    assert_eq!(parsed, hash);
    assert!(parsed.verify("tick3t"));
    assert_eq!(parsed.to_string(), text);
}

#[test]
fn parses_a_known_hash() {
    // base64(hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1, 32)); salt "salt" = c2FsdA==
    let hash =
        TicketHash::parse("pbkdf2-sha256$1$c2FsdA==$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=")
            .unwrap();
    assert!(hash.verify("password"));
    assert!(!hash.verify("passwore"));
}

#[test]
fn parse_errors_name_the_part_and_not_the_hash() {
    let hash = "Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=";
    let cases = [
        (format!("sha256$1$c2FsdA==${hash}"), "start with"),
        (format!("pbkdf2-sha256$0$c2FsdA==${hash}"), "iterations"),
        (format!("pbkdf2-sha256$-1$c2FsdA==${hash}"), "iterations"),
        (format!("pbkdf2-sha256$many$c2FsdA==${hash}"), "iterations"),
        (format!("pbkdf2-sha256$1$c2F*dA==${hash}"), "salt"),
        (format!("pbkdf2-sha256$1$${hash}"), "salt"),
        ("pbkdf2-sha256$1$c2FsdA==$Eg+2z/z4".to_string(), "hash"),
        (format!("pbkdf2-sha256$1$c2FsdA==${}", &hash[..43]), "hash"),
        (format!("pbkdf2-sha256$1$c2FsdA==${hash}$extra"), "four"),
        ("pbkdf2-sha256$1$c2FsdA==".to_string(), "four"),
        ("plain ticket".to_string(), "four"),
    ];
    for (text, expected) in cases {
        let error = TicketHash::parse(&text).unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
        assert!(!error.contains("Eg+2z"), "{error}");
    }
}

#[test]
fn debug_hides_the_hash() {
    let hash =
        TicketHash::parse("pbkdf2-sha256$1$c2FsdA==$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=")
            .unwrap();
    let debug = format!("{hash:?}");
    assert!(!debug.contains("Eg+2z"));
    assert!(!debug.contains("18, 15"), "no raw bytes: {debug}");
}
