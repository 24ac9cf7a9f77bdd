//! Stored ticket hashes, so that a configuration need not hold a ticket in
//! clear text: `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`,
//! the hash being the 32-byte PBKDF2-HMAC-SHA256 of the ticket's UTF-8.

use std::fmt;
use std::str::FromStr;

use sha2::Sha256;

use super::{b64_decode, b64_encode, constant_time_eq, random_bytes};

const SCHEME: &str = "pbkdf2-sha256";
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

/// A ticket's salted PBKDF2-HMAC-SHA256 hash. `Display` gives the stored
/// form that `parse` reads; `Debug` leaves the hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; HASH_LEN],
}

impl TicketHash {
    /// Reads the stored form. The error says which part is wrong and never
    /// repeats the text.
    pub fn parse(text: &str) -> Result<TicketHash, String> {
        let parts: Vec<&str> = text.splitn(5, '$').collect();
        let [scheme, iterations, salt, hash] = parts[..] else {
            return Err(format!(
                "a ticket hash has four '$'-separated parts: \
                 {SCHEME}$<iterations>$<salt base64>$<hash base64>"
            ));
        };
        if scheme != SCHEME {
            return Err(format!("a ticket hash must start with '{SCHEME}$'"));
        }
        Ok(TicketHash {
            iterations: parse_iterations(iterations)?,
            salt: parse_salt(salt)?,
            hash: parse_hash(hash)?,
        })
    }

    /// Hashes `ticket` with a fresh random 16-byte salt. An `iterations` of
    /// 0 counts as 1.
    pub fn new(ticket: &str, iterations: u32) -> TicketHash {
        let iterations = iterations.max(1);
        let salt = random_bytes::<SALT_LEN>().to_vec();
        let hash = pbkdf2(ticket, &salt, iterations);
        TicketHash {
            iterations,
            salt,
            hash,
        }
    }

    /// Whether `ticket` is the hashed ticket; compares in constant time.
    pub fn verify(&self, ticket: &str) -> bool {
        constant_time_eq(&pbkdf2(ticket, &self.salt, self.iterations), &self.hash)
    }
}

fn parse_iterations(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("the iterations of a ticket hash must be a positive integer".into()),
    }
}

fn parse_salt(text: &str) -> Result<Vec<u8>, String> {
    match b64_decode(text) {
        Some(salt) if !salt.is_empty() => Ok(salt),
        _ => Err("the salt of a ticket hash must be non-empty base64".into()),
    }
}

fn parse_hash(text: &str) -> Result<[u8; HASH_LEN], String> {
    b64_decode(text)
        .and_then(|hash| <[u8; HASH_LEN]>::try_from(hash).ok())
        .ok_or_else(|| format!("the hash of a ticket hash must be {HASH_LEN} bytes in base64"))
}

fn pbkdf2(ticket: &str, salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    pbkdf2::pbkdf2_hmac_array::<Sha256, HASH_LEN>(ticket.as_bytes(), salt, iterations)
}

impl FromStr for TicketHash {
    type Err = String;

    fn from_str(text: &str) -> Result<TicketHash, String> {
        TicketHash::parse(text)
    }
}

impl fmt::Display for TicketHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}${}${}${}",
            self.iterations,
            b64_encode(&self.salt),
            b64_encode(&self.hash)
        )
    }
}

impl fmt::Debug for TicketHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketHash")
            .field("iterations", &self.iterations)
            .field("salt_len", &self.salt.len())
            .finish_non_exhaustive()
    }
}
