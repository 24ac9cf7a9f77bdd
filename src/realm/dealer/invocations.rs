//! `Invocations`: the calls in flight to this shard's callees. Each is
//! stored once, under its caller's address (a CANCEL, a timeout, a
//! continuation chunk or a caller leaving finds it in one lookup), and
//! named per callee by its INVOCATION ID (a YIELD or ERROR names it; a
//! callee leaving fails its own calls without scanning anyone else's).
//! Keys are router-made (session IDs, per-callee INVOCATION IDs, caller
//! addresses): a fast non-keyed hash is safe.

use crate::realm::ids::CallerAddr;
use crate::wire::{RegistrationId, SessionId};
use rustc_hash::FxHashMap;

/// One invocation in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inv {
    pub caller: CallerAddr,
    pub callee: SessionId,
    /// The INVOCATION request ID (per callee).
    pub id: u64,
    pub registration: RegistrationId,
}

/// Invocations in flight, by caller and per callee.
#[derive(Default)]
pub struct Invocations {
    by_caller: FxHashMap<CallerAddr, Inv>,
    by_callee: FxHashMap<SessionId, FxHashMap<u64, CallerAddr>>,
}

impl Invocations {
    /// Records `inv`.
    pub fn insert(&mut self, inv: Inv) {
        let ids = self.by_callee.entry(inv.callee).or_default();
        ids.insert(inv.id, inv.caller);
        if let Some(old) = self.by_caller.insert(inv.caller, inv) {
            // A caller reused the request ID of a call still in flight: the
            // older invocation can no longer be reached; forget it.
            if old.callee != inv.callee || old.id != inv.id {
                self.by_callee
                    .get_mut(&old.callee)
                    .map(|m| m.remove(&old.id));
            }
        }
    }

    /// INVOCATION `id` of `callee`, left in flight (a progressive YIELD).
    pub fn get(&self, callee: SessionId, id: u64) -> Option<Inv> {
        let caller = self.by_callee.get(&callee)?.get(&id)?;
        self.by_caller.get(caller).copied()
    }

    /// Takes INVOCATION `id` of `callee` (its final YIELD or ERROR arrived).
    pub fn remove(&mut self, callee: SessionId, id: u64) -> Option<Inv> {
        let caller = self.by_callee.get_mut(&callee)?.remove(&id)?;
        self.by_caller.remove(&caller)
    }

    /// The invocation serving `caller`.
    pub fn of_caller(&self, caller: &CallerAddr) -> Option<Inv> {
        self.by_caller.get(caller).copied()
    }

    /// Takes every invocation of `callee` (it left).
    pub fn remove_callee(&mut self, callee: SessionId) -> Vec<Inv> {
        let Some(ids) = self.by_callee.remove(&callee) else {
            return Vec::new();
        };
        ids.into_values()
            .filter_map(|caller| self.by_caller.remove(&caller))
            .collect()
    }

    /// Invocations in flight.
    /// Invocations `callee` has in flight.
    pub fn of_callee(&self, callee: SessionId) -> usize {
        self.by_callee.get(&callee).map_or(0, FxHashMap::len)
    }

    pub fn len(&self) -> usize {
        self.by_caller.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::ids::ShardId;
    use crate::wire::RequestId;

    fn inv(shard: ShardId, session: u64, request: u64, callee: u64, id: u64) -> Inv {
        Inv {
            caller: CallerAddr {
                shard,
                session: SessionId(session),
                request: RequestId(request),
            },
            callee: SessionId(callee),
            id,
            registration: RegistrationId(3),
        }
    }

    #[test]
    fn invocations_are_taken_once_and_found_by_caller() {
        let mut invs = Invocations::default();
        let (a, b) = (inv(0, 7, 1, 10, 1), inv(1, 8, 1, 10, 2));
        let c = inv(0, 7, 2, 20, 1);
        for i in [a, b, c] {
            invs.insert(i);
        }
        assert_eq!(invs.len(), 3);
        assert_eq!(invs.of_caller(&b.caller), Some(b));
        assert_eq!(invs.remove(SessionId(10), 1), Some(a));
        assert_eq!(invs.remove(SessionId(10), 1), None);
        assert_eq!(invs.remove_callee(SessionId(10)), vec![b]);
        assert_eq!(invs.of_caller(&b.caller), None);
        assert_eq!(invs.get(SessionId(20), 1), Some(c));
        assert_eq!(invs.remove(SessionId(20), 1), Some(c));
        assert_eq!(invs.len(), 0);
    }

    #[test]
    fn a_reused_caller_address_forgets_the_older_invocation() {
        let mut invs = Invocations::default();
        let old = inv(0, 7, 1, 10, 1);
        let new = inv(0, 7, 1, 10, 2);
        invs.insert(old);
        invs.insert(new);
        assert_eq!(invs.remove(SessionId(10), 1), None);
        assert_eq!(invs.remove(SessionId(10), 2), Some(new));
        assert_eq!(invs.len(), 0);
    }
}
