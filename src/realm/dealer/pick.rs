//! The invocation policies of shared registrations: which callee of a
//! registration a call goes to. `first` and `last` go by router-wide
//! registration order (every shard's replica keeps the callees sorted by the
//! home shard's sequence number); `roundrobin` cycles per routing shard;
//! `random` draws uniformly; `least_loaded` takes the callee with the fewest
//! calls in flight from this shard (ties in round-robin order). Callees
//! lacking a needed feature, or already tried (call reroute), are skipped.

use super::registry::{CalleeEntry, Registration};
use crate::realm::ids::CalleeAddr;
use crate::session::features::PeerFeatures;
use crate::wire::options::InvokePolicy;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashMap;

/// What a dealer picks callees with: a random source and the calls it has
/// in flight per callee (kept for `least_loaded` registrations only).
pub struct Chooser {
    rng: SmallRng,
    load: FxHashMap<CalleeAddr, u32>,
}

impl Default for Chooser {
    fn default() -> Self {
        Chooser {
            rng: SmallRng::from_entropy(),
            load: FxHashMap::default(),
        }
    }
}

impl Chooser {
    /// A chooser with a fixed seed.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Chooser {
            rng: SmallRng::seed_from_u64(7),
            load: FxHashMap::default(),
        }
    }

    /// A call went to `callee`.
    pub fn loaded(&mut self, callee: CalleeAddr) {
        *self.load.entry(callee).or_default() += 1;
    }

    /// A call to `callee` finished.
    pub fn unloaded(&mut self, callee: CalleeAddr) {
        if let Some(n) = self.load.get_mut(&callee) {
            *n -= 1;
            if *n == 0 {
                self.load.remove(&callee);
            }
        }
    }

    fn load_of(&self, callee: CalleeAddr) -> u32 {
        self.load.get(&callee).copied().unwrap_or(0)
    }
}

/// The callee of `reg` a call goes to, by its policy, among the callees
/// with every feature of `need` and not in `tried`.
pub fn choose(
    reg: &Registration,
    need: PeerFeatures,
    tried: &[CalleeAddr],
    chooser: &mut Chooser,
) -> Option<CalleeEntry> {
    let eligible = |c: &&CalleeEntry| c.features.has(need) && !tried.contains(&c.addr);
    let callees = &reg.callees;
    match reg.invoke {
        InvokePolicy::Single | InvokePolicy::First => callees.iter().find(eligible).copied(),
        InvokePolicy::Last => callees.iter().rev().find(eligible).copied(),
        InvokePolicy::RoundRobin => {
            let start = reg.cursor.get();
            let at = (0..callees.len())
                .map(|k| (start + k) % callees.len())
                .find(|i| eligible(&&callees[*i]))?;
            reg.cursor.set(at + 1);
            Some(callees[at])
        }
        InvokePolicy::Random => {
            let n = callees.iter().filter(eligible).count();
            if n == 0 {
                return None;
            }
            let k = chooser.rng.gen_range(0..n);
            callees.iter().filter(eligible).nth(k).copied()
        }
        InvokePolicy::LeastLoaded => {
            let start = reg.cursor.get();
            let at = (0..callees.len())
                .map(|k| (start + k) % callees.len())
                .filter(|i| eligible(&&callees[*i]))
                .min_by_key(|i| chooser.load_of(callees[*i].addr))?;
            reg.cursor.set(at + 1);
            Some(callees[at])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{RegistrationId, SessionId};
    use std::cell::Cell;

    fn reg(invoke: InvokePolicy, n: u64) -> Registration {
        let callees = (1..=n)
            .map(|s| CalleeEntry {
                addr: CalleeAddr {
                    shard: (s % 3) as usize,
                    session: SessionId(s),
                },
                seq: s,
                features: PeerFeatures::NONE,
                disclose_caller: false,
            })
            .collect();
        Registration {
            id: RegistrationId(1),
            invoke,
            callees,
            cursor: Cell::new(0),
            created: std::time::SystemTime::now(),
        }
    }

    fn picks(r: &Registration, c: &mut Chooser, times: usize) -> Vec<u64> {
        (0..times)
            .map(|_| choose(r, PeerFeatures::NONE, &[], c).unwrap().seq)
            .collect()
    }

    #[test]
    fn each_policy_picks_as_the_spec_says() {
        let mut c = Chooser::for_tests();
        assert_eq!(picks(&reg(InvokePolicy::First, 3), &mut c, 3), [1, 1, 1]);
        assert_eq!(picks(&reg(InvokePolicy::Last, 3), &mut c, 3), [3, 3, 3]);
        let rr = reg(InvokePolicy::RoundRobin, 3);
        assert_eq!(picks(&rr, &mut c, 7), [1, 2, 3, 1, 2, 3, 1]);
        let random = picks(&reg(InvokePolicy::Random, 3), &mut c, 300);
        for s in 1..=3 {
            let n = random.iter().filter(|x| **x == s).count();
            assert!((50..150).contains(&n), "callee {s} drawn {n} times of 300");
        }
    }

    #[test]
    fn least_loaded_takes_the_idlest_callee() {
        let mut c = Chooser::for_tests();
        let r = reg(InvokePolicy::LeastLoaded, 3);
        let first = choose(&r, PeerFeatures::NONE, &[], &mut c).unwrap();
        c.loaded(first.addr);
        c.loaded(first.addr);
        let second = choose(&r, PeerFeatures::NONE, &[], &mut c).unwrap();
        c.loaded(second.addr);
        let third = choose(&r, PeerFeatures::NONE, &[], &mut c).unwrap();
        assert!(first.seq != second.seq && third.seq != first.seq && third.seq != second.seq);
        c.unloaded(first.addr);
        c.unloaded(first.addr);
        c.loaded(third.addr);
        assert_eq!(choose(&r, PeerFeatures::NONE, &[], &mut c).unwrap(), first);
    }

    #[test]
    fn tried_callees_are_skipped_in_policy_order() {
        let mut c = Chooser::for_tests();
        let r = reg(InvokePolicy::Last, 3);
        let tried = [r.callees[2].addr];
        assert_eq!(
            choose(&r, PeerFeatures::NONE, &tried, &mut c).unwrap().seq,
            2
        );
        let all: Vec<_> = r.callees.iter().map(|e| e.addr).collect();
        assert_eq!(choose(&r, PeerFeatures::NONE, &all, &mut c), None);
    }
}
