//! The cryptographic primitives of WAMP authentication, free of I/O and of
//! any notion of a session: WAMP-CRA (`cra`), WAMP-Cryptosign
//! (`cryptosign`), WAMP-SCRAM (`scram`) and stored ticket hashes
//! (`ticket`), plus the small shared helpers below.

pub mod cra;
pub mod cryptosign;
mod hex;
pub mod scram;
pub mod ticket;

#[cfg(test)]
mod tests;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

pub use hex::{hex_decode, hex_encode};

/// `N` bytes from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Whether `a` and `b` are equal, in time that depends only on their
/// lengths (which are not treated as secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Standard, padded Base64 of `bytes`.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The bytes of standard, padded Base64 `text`; `None` if it is not that.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}
