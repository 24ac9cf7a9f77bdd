//! SaltedPassword: PBKDF2-HMAC-SHA256 or Argon2id v1.3 (parallelism 1),
//! 32 bytes, as each SCRAM dialect feeds it to HMAC.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use sha2::Sha256;

use super::{Dialect, Kdf};

const OUTPUT_LEN: usize = 32;

/// SaltedPassword of `password`. Autobahn/Crossbar use, for Argon2id, the
/// unpadded Base64 text of the hash (the hash field of Argon2's encoded
/// form) rather than its bytes.
pub(super) fn salted_password(
    dialect: Dialect,
    password: &str,
    salt: &[u8],
    kdf: Kdf,
    iterations: u32,
) -> Result<Vec<u8>, String> {
    if iterations == 0 {
        return Err("SCRAM iterations must be at least 1".into());
    }
    match kdf {
        Kdf::Pbkdf2 => Ok(pbkdf2(password, salt, iterations).to_vec()),
        Kdf::Argon2id { memory_kib } => {
            let hash = argon2id(password, salt, iterations, memory_kib)?;
            Ok(match dialect {
                Dialect::Spec => hash.to_vec(),
                Dialect::Autobahn => STANDARD_NO_PAD.encode(hash).into_bytes(),
            })
        }
    }
}

fn pbkdf2(password: &str, salt: &[u8], iterations: u32) -> [u8; OUTPUT_LEN] {
    pbkdf2::pbkdf2_hmac_array::<Sha256, OUTPUT_LEN>(password.as_bytes(), salt, iterations)
}

fn argon2id(
    password: &str,
    salt: &[u8],
    time_cost: u32,
    memory_kib: u32,
) -> Result<[u8; OUTPUT_LEN], String> {
    let params = Params::new(memory_kib, time_cost, 1, Some(OUTPUT_LEN))
        .map_err(|e| format!("invalid argon2id parameters: {e}"))?;
    let mut hash = [0u8; OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut hash)
        .map_err(|e| format!("argon2id failed: {e}"))?;
    Ok(hash)
}
