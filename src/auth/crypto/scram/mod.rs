//! WAMP-SCRAM (RFC 5802 / RFC 7677 shape with SHA-256): the stored
//! credential, the AuthMessage, the router's proof check and server
//! signature, and the client's proof (for tests and load generation).
//!
//! Two dialects exist (see `Dialect`); they differ in names, in the
//! AuthMessage's `n=` and `c=` parts, and, for Argon2id, in the salted
//! password itself, so a credential derived for one dialect does not work
//! with the other when the KDF is Argon2id.

mod kdf;
mod message;

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use super::{b64_decode, b64_encode, constant_time_eq};

pub use message::auth_message;

type HmacSha256 = Hmac<Sha256>;

/// Length of the Base64 text of a 32-byte ClientProof.
const PROOF_B64_LEN: usize = 44;

/// Which flavour of WAMP-SCRAM a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// The WAMP spec: authmethod `wamp-scram`, kdf `argon2id13`, success
    /// key `verifier`, `c=` Base64 of the GS2 header (`biws` unbound), the
    /// authid escaped, raw KDF output as SaltedPassword.
    Spec,
    /// Autobahn/Crossbar: authmethod `scram`, kdf `argon2id-13`, success
    /// key `scram_server_signature`, `c=` the raw binding type (empty when
    /// unbound), the authid not escaped, and for Argon2id the unpadded
    /// Base64 *text* of the hash as SaltedPassword.
    Autobahn,
}

impl Dialect {
    /// The `authmethod` string of HELLO, CHALLENGE and WELCOME.
    pub fn authmethod(self) -> &'static str {
        match self {
            Dialect::Spec => "wamp-scram",
            Dialect::Autobahn => "scram",
        }
    }

    /// The dialect whose `authmethod` is `name`.
    pub fn from_authmethod(name: &str) -> Option<Dialect> {
        match name {
            "wamp-scram" => Some(Dialect::Spec),
            "scram" => Some(Dialect::Autobahn),
            _ => None,
        }
    }

    /// The WELCOME `authextra` key that carries `server_signature`.
    pub fn success_key(self) -> &'static str {
        match self {
            Dialect::Spec => "verifier",
            Dialect::Autobahn => "scram_server_signature",
        }
    }
}

/// The password hash behind SaltedPassword; always 32 bytes of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kdf {
    /// PBKDF2-HMAC-SHA256.
    Pbkdf2,
    /// Argon2id v1.3, parallelism 1; iterations are its time cost.
    Argon2id { memory_kib: u32 },
}

impl Kdf {
    /// The CHALLENGE `kdf` value in `dialect`.
    pub fn name(self, dialect: Dialect) -> &'static str {
        match (self, dialect) {
            (Kdf::Pbkdf2, _) => "pbkdf2",
            (Kdf::Argon2id { .. }, Dialect::Spec) => "argon2id13",
            (Kdf::Argon2id { .. }, Dialect::Autobahn) => "argon2id-13",
        }
    }

    /// The KDF named `name` in either dialect; Argon2id needs `memory_kib`.
    pub fn from_name(name: &str, memory_kib: Option<u32>) -> Result<Kdf, String> {
        match (name, memory_kib) {
            ("pbkdf2", _) => Ok(Kdf::Pbkdf2),
            ("argon2id13" | "argon2id-13", Some(memory_kib)) => Ok(Kdf::Argon2id { memory_kib }),
            ("argon2id13" | "argon2id-13", None) => Err("argon2id needs a memory cost".into()),
            _ => Err("unknown SCRAM kdf (expected pbkdf2, argon2id13 or argon2id-13)".into()),
        }
    }
}

/// What a router stores per user. `Debug` leaves the keys out.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub salt: Vec<u8>,
    pub kdf: Kdf,
    pub iterations: u32,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl Credential {
    /// The credential of `password` in the spec dialect; for Autobahn or
    /// Crossbar clients with Argon2id, use `derive_for`.
    pub fn derive(
        password: &str,
        salt: &[u8],
        kdf: Kdf,
        iterations: u32,
    ) -> Result<Credential, String> {
        Credential::derive_for(Dialect::Spec, password, salt, kdf, iterations)
    }

    /// The credential of `password` as `dialect` computes SaltedPassword.
    pub fn derive_for(
        dialect: Dialect,
        password: &str,
        salt: &[u8],
        kdf: Kdf,
        iterations: u32,
    ) -> Result<Credential, String> {
        let salted = kdf::salted_password(dialect, password, salt, kdf, iterations)?;
        Ok(Credential {
            salt: salt.to_vec(),
            kdf,
            iterations,
            stored_key: stored_key(&client_key(&salted)),
            server_key: hmac(&salted, b"Server Key"),
        })
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("salt_len", &self.salt.len())
            .field("kdf", &self.kdf)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// Router side: whether `proof_b64` is the ClientProof for `auth_message`,
/// i.e. SHA256(HMAC(StoredKey, AuthMessage) XOR proof) == StoredKey,
/// compared in constant time. The length is checked before decoding.
pub fn verify_proof(cred: &Credential, auth_message: &str, proof_b64: &str) -> bool {
    if proof_b64.len() != PROOF_B64_LEN {
        return false;
    }
    let Some(proof) = b64_decode(proof_b64) else {
        return false;
    };
    let Ok(proof) = <[u8; 32]>::try_from(proof) else {
        return false;
    };
    let signature = hmac(&cred.stored_key, auth_message.as_bytes());
    constant_time_eq(&stored_key(&xor(&signature, &proof)), &cred.stored_key)
}

/// Base64(HMAC(ServerKey, AuthMessage)): the router's proof for WELCOME.
pub fn server_signature(cred: &Credential, auth_message: &str) -> String {
    b64_encode(&hmac(&cred.server_key, auth_message.as_bytes()))
}

/// Client side, spec dialect: Base64 ClientProof of `password` for
/// `auth_message`. For Autobahn's Argon2id use `client_proof_for`.
pub fn client_proof(
    password: &str,
    salt: &[u8],
    kdf: Kdf,
    iterations: u32,
    auth_message: &str,
) -> Result<String, String> {
    client_proof_for(Dialect::Spec, password, salt, kdf, iterations, auth_message)
}

/// Client side: Base64(ClientKey XOR HMAC(StoredKey, AuthMessage)), with
/// SaltedPassword computed as `dialect` does.
pub fn client_proof_for(
    dialect: Dialect,
    password: &str,
    salt: &[u8],
    kdf: Kdf,
    iterations: u32,
    auth_message: &str,
) -> Result<String, String> {
    let salted = kdf::salted_password(dialect, password, salt, kdf, iterations)?;
    let client_key = client_key(&salted);
    let signature = hmac(&stored_key(&client_key), auth_message.as_bytes());
    Ok(b64_encode(&xor(&client_key, &signature)))
}

/// A salt for a mock CHALLENGE to an unknown `authid`: stable per authid
/// under the router's secret `key`, so repeated attempts cannot tell.
pub fn mock_salt(key: &[u8], authid: &str) -> [u8; 16] {
    let digest = hmac(key, authid.as_bytes());
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&digest[..16]);
    salt
}

fn client_key(salted_password: &[u8]) -> [u8; 32] {
    hmac(salted_password, b"Client Key")
}

fn stored_key(client_key: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(client_key).into()
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}
