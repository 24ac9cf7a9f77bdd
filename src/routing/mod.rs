//! Routing primitives shared by the broker and the dealer: URI rules, the
//! pattern index (exact, prefix and wildcard matching without scans), and
//! which shard is "home" for a (realm, uri, match).

pub mod trie;
pub mod uri;

pub use trie::{pattern_matches, PatternIndex};
pub use uri::{is_reserved, is_valid_uri, MatchPolicy, UriCheck};

use std::hash::{Hash, Hasher};

/// The home shard of a (realm, uri, match): it allocates the router-wide ID
/// and arbitrates conflicting registrations.
pub fn home_shard(realm: &str, uri: &str, policy: MatchPolicy, nr_shards: usize) -> usize {
    // A fixed-key hasher so every shard computes the same home.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    realm.hash(&mut h);
    uri.hash(&mut h);
    policy.hash(&mut h);
    (h.finish() % nr_shards.max(1) as u64) as usize
}
