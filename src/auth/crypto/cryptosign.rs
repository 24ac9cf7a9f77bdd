//! WAMP-Cryptosign: Ed25519 keys in hex, and the 96-byte "signed message"
//! (64-byte signature followed by the 32-byte message) that a client returns
//! for a router's 32-byte challenge, optionally bound to a TLS channel ID.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _};

use super::{constant_time_eq, hex_decode, hex_encode, random_bytes};

/// Hex length of a key or seed (32 bytes).
const KEY_HEX_LEN: usize = 64;
/// Hex length of the signed message: 64-byte signature + 32-byte message.
const SIGNED_HEX_LEN: usize = 192;

/// An Ed25519 public key: a valid, not small-order curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// The key from 64 hex digits; `None` for any other length, a non-hex
    /// character, bytes that are not a curve point, or a weak (small-order)
    /// point.
    pub fn from_hex(hex: &str) -> Option<PublicKey> {
        PublicKey::from_bytes(&decode_32(hex)?)
    }

    /// The key as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex_encode(self.0.as_bytes())
    }

    /// The key's 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key from its 32 bytes (the checks of `from_hex`).
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<PublicKey> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).ok()?;
        (!key.is_weak()).then_some(PublicKey(key))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An Ed25519 private key, kept as its 32-byte seed (NaCl's / Autobahn's
/// private key format). Its `Debug` shows only the public key.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// The key from its seed in 64 hex digits.
    pub fn from_seed_hex(hex: &str) -> Option<Self> {
        decode_32(hex).map(|seed| SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// A fresh key from the OS random number generator.
    pub fn generate() -> Self {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()))
    }

    /// The seed as 64 lowercase hex digits (this is the secret).
    pub fn seed_hex(&self) -> String {
        hex_encode(self.0.as_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.public().to_hex())
    }
}

/// What the client signs: the challenge, or challenge XOR channel ID when
/// the session is bound to a TLS channel.
pub fn signed_message(challenge: &[u8; 32], channel_id: Option<&[u8; 32]>) -> [u8; 32] {
    let mut message = *challenge;
    if let Some(channel_id) = channel_id {
        message
            .iter_mut()
            .zip(channel_id)
            .for_each(|(m, c)| *m ^= c);
    }
    message
}

/// Client side: hex(64-byte signature || 32-byte message), 192 hex digits.
pub fn sign(key: &SigningKey, challenge: &[u8; 32], channel_id: Option<&[u8; 32]>) -> String {
    let message = signed_message(challenge, channel_id);
    let signature = key.0.sign(&message);
    let mut signed = [0u8; 96];
    signed[..64].copy_from_slice(&signature.to_bytes());
    signed[64..].copy_from_slice(&message);
    hex_encode(&signed)
}

/// Router side: whether `signature_hex` is exactly 192 hex digits whose
/// signature verifies strictly under `key` over an embedded message equal
/// to `signed_message(challenge, channel_id)`. The length is checked before
/// anything is decoded.
pub fn verify(
    key: &PublicKey,
    challenge: &[u8; 32],
    channel_id: Option<&[u8; 32]>,
    signature_hex: &str,
) -> bool {
    if signature_hex.len() != SIGNED_HEX_LEN {
        return false;
    }
    let Some(signed) = hex_decode(signature_hex) else {
        return false;
    };
    let (signature, message) = signed.split_at(64);
    let expected = signed_message(challenge, channel_id);
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    constant_time_eq(message, &expected) && key.0.verify_strict(message, &signature).is_ok()
}

/// 32 bytes from 64 hex digits (a challenge or channel ID); `None` otherwise.
pub fn challenge_from_hex(hex: &str) -> Option<[u8; 32]> {
    decode_32(hex)
}

fn decode_32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != KEY_HEX_LEN {
        return None;
    }
    hex_decode(hex)?.try_into().ok()
}
