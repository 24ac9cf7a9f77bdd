//! `Invocations`: the calls in flight to this shard's callees, each with its
//! caller's return address, indexed per callee so that a callee leaving
//! fails its own calls without scanning everyone else's. Keys are
//! router-made (session IDs, per-callee INVOCATION IDs): a fast non-keyed
//! hash is safe.

use crate::realm::ids::{CallerAddr, ShardId};
use crate::wire::SessionId;
use rustc_hash::FxHashMap;

/// Invocations in flight, per callee.
#[derive(Default)]
pub struct Invocations {
    by_callee: FxHashMap<SessionId, FxHashMap<u64, CallerAddr>>,
    len: usize,
}

impl Invocations {
    /// Records INVOCATION `id` to `callee` for `caller`.
    pub fn insert(&mut self, callee: SessionId, id: u64, caller: CallerAddr) {
        if self
            .by_callee
            .entry(callee)
            .or_default()
            .insert(id, caller)
            .is_none()
        {
            self.len += 1;
        }
    }

    /// Takes INVOCATION `id` of `callee` (its YIELD or ERROR arrived).
    pub fn remove(&mut self, callee: SessionId, id: u64) -> Option<CallerAddr> {
        let caller = self.by_callee.get_mut(&callee)?.remove(&id)?;
        self.len -= 1;
        Some(caller)
    }

    /// Takes every invocation of `callee` (it left).
    pub fn remove_callee(&mut self, callee: SessionId) -> Vec<CallerAddr> {
        let Some(calls) = self.by_callee.remove(&callee) else {
            return Vec::new();
        };
        self.len -= calls.len();
        calls.into_values().collect()
    }

    /// Forgets the invocations made by caller `session` of `shard` (it left).
    pub fn forget_caller(&mut self, shard: ShardId, session: SessionId) {
        for calls in self.by_callee.values_mut() {
            let before = calls.len();
            calls.retain(|_, c| !(c.shard == shard && c.session == session));
            self.len -= before - calls.len();
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
    use crate::wire::RequestId;

    fn caller(shard: ShardId, session: u64, request: u64) -> CallerAddr {
        CallerAddr {
            shard,
            session: SessionId(session),
            request: RequestId(request),
        }
    }

    #[test]
    fn invocations_are_taken_once_per_callee_and_caller() {
        let mut inv = Invocations::default();
        let (a, b) = (SessionId(10), SessionId(20));
        inv.insert(a, 1, caller(0, 7, 1));
        inv.insert(a, 2, caller(1, 8, 1));
        inv.insert(b, 1, caller(0, 7, 2));
        assert_eq!(inv.len(), 3);
        assert_eq!(inv.remove(a, 1), Some(caller(0, 7, 1)));
        assert_eq!(inv.remove(a, 1), None);
        inv.forget_caller(0, SessionId(7));
        assert_eq!(inv.len(), 1);
        assert_eq!(inv.remove_callee(a), vec![caller(1, 8, 1)]);
        assert!(inv.remove_callee(b).is_empty());
        assert_eq!(inv.len(), 0);
    }
}
