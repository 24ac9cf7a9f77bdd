//! Identities that cross shards: `ShardId`, `ShardSet` (a set of shards as a
//! fixed bitset), the return addresses of callers and callees, the token of
//! an operation waiting for other shards, and ID allocation per shard.
//!
//! Session IDs are random in [1, 2^53] with `id % nr_shards == shard`, which
//! makes them unique router-wide by construction and tells any shard where a
//! session lives. Subscription and registration IDs come from the home
//! shard: `shard + 1 + k * nr_shards`.

use crate::wire::id::{random_id, MAX_ID};
use crate::wire::{RequestId, SessionId};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// Index of a shard (0-based).
pub type ShardId = usize;

/// The most shards a router runs (the capacity of a `ShardSet`).
pub const MAX_SHARDS: usize = 256;

const WORDS: usize = MAX_SHARDS / 64;

/// A set of shards: a bitset of `MAX_SHARDS` bits, `Copy` and allocation-free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ShardSet([u64; WORDS]);

impl ShardSet {
    /// The set holding only `shard`.
    pub fn one(shard: ShardId) -> Self {
        let mut s = ShardSet::default();
        s.insert(shard);
        s
    }

    /// Adds `shard`.
    pub fn insert(&mut self, shard: ShardId) {
        self.0[shard / 64] |= 1 << (shard % 64);
    }

    /// Removes `shard`.
    pub fn remove(&mut self, shard: ShardId) {
        self.0[shard / 64] &= !(1 << (shard % 64));
    }

    /// True when `shard` is in the set.
    pub fn contains(&self, shard: ShardId) -> bool {
        self.0[shard / 64] & (1 << (shard % 64)) != 0
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// Adds every shard of `other`.
    pub fn union_with(&mut self, other: &ShardSet) {
        for (w, o) in self.0.iter_mut().zip(other.0) {
            *w |= o;
        }
    }

    /// Keeps only the shards also in `other`.
    pub fn intersect_with(&mut self, other: &ShardSet) {
        for (w, o) in self.0.iter_mut().zip(other.0) {
            *w &= o;
        }
    }

    /// The shards in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = ShardId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, word)| {
            let mut w = *word;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    i * 64 + bit
                })
            })
        })
    }
}

/// A shard-local token naming an operation that waits for replies (never 0).
pub type OpId = u64;

/// Where a RESULT or call ERROR must go: the caller's shard, session and CALL request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallerAddr {
    pub shard: ShardId,
    pub session: SessionId,
    pub request: RequestId,
}

/// A callee: the session and the shard it lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CalleeAddr {
    pub shard: ShardId,
    pub session: SessionId,
}

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

    /// The home shard that handed out a subscription or registration ID.
    pub fn home_of_id(id: u64, nr_shards: usize) -> ShardId {
        (id.saturating_sub(1) % nr_shards.max(1) as u64) as ShardId
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
    fn shard_sets_hold_every_shard_up_to_the_limit() {
        let mut s = ShardSet::default();
        for shard in [0, 1, 63, 64, 130, MAX_SHARDS - 1] {
            s.insert(shard);
        }
        assert!(s.contains(64) && !s.contains(65));
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 1, 63, 64, 130, 255]);
        s.remove(64);
        let mut t = ShardSet::one(2);
        t.union_with(&s);
        let mut both = t;
        both.intersect_with(&ShardSet::one(130));
        assert_eq!(both.iter().collect::<Vec<_>>(), [130]);
        assert_eq!(t.iter().collect::<Vec<_>>(), [0, 1, 2, 63, 130, 255]);
        let all = t;
        for shard in all.iter() {
            t.remove(shard);
        }
        assert!(t.is_empty());
    }

    #[test]
    fn router_scoped_ids_never_collide_across_shards() {
        let mut seen = std::collections::HashSet::new();
        for shard in 0..3 {
            let mut a = IdAlloc::new(shard, 3);
            for _ in 0..100 {
                let id = a.subscription();
                assert!(seen.insert(id));
                assert_eq!(IdAlloc::home_of_id(id, 3), shard);
            }
        }
        assert!(!seen.contains(&0));
    }
}
