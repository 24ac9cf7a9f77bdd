//! Unit tests of the authentication primitives, one file per method, with
//! published test vectors where they exist.

mod cra;
mod cryptosign;
mod scram;
mod ticket;

use super::{constant_time_eq, hex_decode, hex_encode, random_bytes};

#[test]
fn hex_round_trips_and_rejects_bad_text() {
    assert_eq!(hex_encode(&[0x00, 0xab, 0xff, 0x10]), "00abff10");
    assert_eq!(hex_decode("00abff10"), Some(vec![0x00, 0xab, 0xff, 0x10]));
    assert_eq!(hex_decode("00ABFF10"), Some(vec![0x00, 0xab, 0xff, 0x10]));
    assert_eq!(hex_decode(""), Some(vec![]));
    assert_eq!(hex_decode("abc"), None, "odd length");
    assert_eq!(hex_decode("zz"), None, "not a digit");
    assert_eq!(hex_decode("é0"), None, "multi-byte character");
}

#[test]
fn constant_time_eq_compares_content_and_length() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn random_bytes_differ_between_calls() {
    assert_ne!(random_bytes::<32>(), random_bytes::<32>());
}
