//! ID allocation per shard. Session IDs are random in [1, 2^53] with
//! `id % nr_shards == shard`, which makes them unique router-wide by
//! construction and tells any shard where a session lives. Subscription and
//! registration IDs come from the home shard: `shard + 1 + k * nr_shards`.

use crate::wire::id::{random_id, MAX_ID};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// Index of a shard (0-based).
pub type ShardId = usize;

/// Allocates the IDs a shard hands out.
pub struct IdAlloc {
    shard: ShardId,
    nr_shards: usize,
    rng: SmallRng,
    next_subscription: u64,
    next_registration: u64,
}

impl IdAlloc {
    /// An allocator for `shard` of `nr_shards`.
    pub fn new(shard: ShardId, nr_shards: usize) -> Self {
        IdAlloc {
            shard,
            nr_shards: nr_shards.max(1),
            rng: SmallRng::from_entropy(),
            next_subscription: 0,
            next_registration: 0,
        }
    }

    /// A random session ID owned by this shard (the caller checks local uniqueness).
    pub fn session(&mut self) -> u64 {
        let n = self.nr_shards as u64;
        loop {
            let r = random_id(&mut self.rng);
            let id = r - r % n + self.shard as u64;
            if (1..=MAX_ID).contains(&id) {
                return id;
            }
        }
    }

    /// A random publication ID (global scope; uniqueness is not required).
    pub fn publication(&mut self) -> u64 {
        random_id(&mut self.rng)
    }

    /// The next subscription ID allocated by this (home) shard.
    pub fn subscription(&mut self) -> u64 {
        self.next_subscription += 1;
        self.router_scoped(self.next_subscription)
    }

    /// The next registration ID allocated by this (home) shard.
    pub fn registration(&mut self) -> u64 {
        self.next_registration += 1;
        self.router_scoped(self.next_registration)
    }

    fn router_scoped(&self, k: u64) -> u64 {
        self.shard as u64 + 1 + (k - 1) * self.nr_shards as u64
    }

    /// The shard that owns a session ID.
    pub fn shard_of_session(session: u64, nr_shards: usize) -> ShardId {
        (session % nr_shards.max(1) as u64) as ShardId
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::id::is_valid_id;

    #[test]
    fn session_ids_encode_their_shard() {
        for shard in 0..3 {
            let mut a = IdAlloc::new(shard, 3);
            for _ in 0..1000 {
                let id = a.session();
                assert!(is_valid_id(id));
                assert_eq!(IdAlloc::shard_of_session(id, 3), shard);
            }
        }
    }

    #[test]
    fn router_scoped_ids_never_collide_across_shards() {
        let mut seen = std::collections::HashSet::new();
        for shard in 0..3 {
            let mut a = IdAlloc::new(shard, 3);
            for _ in 0..100 {
                assert!(seen.insert(a.subscription()));
            }
        }
        assert!(!seen.contains(&0));
    }
}
