//! `Invocations`: the calls in flight to this shard's callees, each with its
//! caller's return address. Indexed per callee (a YIELD or ERROR names its
//! INVOCATION; a callee leaving fails its own calls without scanning anyone
//! else's) and by caller (a CANCEL, a timeout, a continuation chunk or a
//! caller leaving finds its invocation in one lookup). Keys are
//! router-made (session IDs, per-callee INVOCATION IDs, caller addresses):
//! a fast non-keyed hash is safe.

use crate::realm::ids::CallerAddr;
use crate::wire::{RegistrationId, SessionId};
use rustc_hash::FxHashMap;

/// One invocation in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inv {
    pub caller: CallerAddr,
    pub registration: RegistrationId,
}

/// Invocations in flight, per callee and per caller.
#[derive(Default)]
pub struct Invocations {
    by_callee: FxHashMap<SessionId, FxHashMap<u64, Inv>>,
    by_caller: FxHashMap<CallerAddr, (SessionId, u64)>,
    len: usize,
}

impl Invocations {
    /// Records INVOCATION `id` to `callee`.
    pub fn insert(&mut self, callee: SessionId, id: u64, inv: Inv) {
        let calls = self.by_callee.entry(callee).or_default();
        if calls.insert(id, inv).is_none() {
            self.len += 1;
        }
        self.by_caller.insert(inv.caller, (callee, id));
    }

    /// INVOCATION `id` of `callee`, left in flight (a progressive YIELD).
    pub fn get(&self, callee: SessionId, id: u64) -> Option<Inv> {
        self.by_callee.get(&callee)?.get(&id).copied()
    }

    /// Takes INVOCATION `id` of `callee` (its final YIELD or ERROR arrived).
    pub fn remove(&mut self, callee: SessionId, id: u64) -> Option<Inv> {
        let inv = self.by_callee.get_mut(&callee)?.remove(&id)?;
        self.len -= 1;
        self.unindex(&inv.caller, callee, id);
        Some(inv)
    }

    /// The (callee, INVOCATION ID) serving `caller`.
    pub fn of_caller(&self, caller: &CallerAddr) -> Option<(SessionId, u64)> {
        self.by_caller.get(caller).copied()
    }

    /// Takes every invocation of `callee` (it left).
    pub fn remove_callee(&mut self, callee: SessionId) -> Vec<Inv> {
        let Some(calls) = self.by_callee.remove(&callee) else {
            return Vec::new();
        };
        self.len -= calls.len();
        let mut invs = Vec::with_capacity(calls.len());
        for (id, inv) in calls {
            self.unindex(&inv.caller, callee, id);
            invs.push(inv);
        }
        invs
    }

    /// Drops the caller index of INVOCATION `id` of `callee` (unless a newer
    /// call of the same caller address replaced it).
    fn unindex(&mut self, caller: &CallerAddr, callee: SessionId, id: u64) {
        if self.by_caller.get(caller) == Some(&(callee, id)) {
            self.by_caller.remove(caller);
        }
    }

    /// Invocations in flight.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::ids::ShardId;
    use crate::wire::RequestId;

    fn inv(shard: ShardId, session: u64, request: u64) -> Inv {
        Inv {
            caller: CallerAddr {
                shard,
                session: SessionId(session),
                request: RequestId(request),
            },
            registration: RegistrationId(3),
        }
    }

    #[test]
    fn invocations_are_taken_once_and_found_by_caller() {
        let mut invs = Invocations::default();
        let (a, b) = (SessionId(10), SessionId(20));
        invs.insert(a, 1, inv(0, 7, 1));
        invs.insert(a, 2, inv(1, 8, 1));
        invs.insert(b, 1, inv(0, 7, 2));
        assert_eq!(invs.len(), 3);
        assert_eq!(invs.of_caller(&inv(0, 7, 1).caller), Some((a, 1)));
        assert_eq!(invs.of_caller(&inv(1, 8, 1).caller), Some((a, 2)));
        assert_eq!(invs.remove(a, 1), Some(inv(0, 7, 1)));
        assert_eq!(invs.remove(a, 1), None);
        assert_eq!(invs.remove_callee(a), vec![inv(1, 8, 1)]);
        assert_eq!(invs.of_caller(&inv(1, 8, 1).caller), None);
        assert_eq!(invs.get(b, 1), Some(inv(0, 7, 2)));
        assert_eq!(invs.remove(b, 1), Some(inv(0, 7, 2)));
        assert_eq!(invs.of_caller(&inv(0, 7, 2).caller), None);
        assert_eq!(invs.len(), 0);
    }
}
