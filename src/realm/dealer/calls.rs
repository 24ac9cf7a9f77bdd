//! `Calls`: the calls this shard's callers have in flight, wherever their
//! callee lives. The caller's shard is the one place that decides a call's
//! final answer, so every call gets exactly one: a RESULT or ERROR that
//! finds no entry here (after a timeout, a `skip` or `killnowait` cancel,
//! or a reroute) is dropped. Indexed per caller session, then per CALL
//! request ID, so a cancel, a timeout or a result is one lookup, and a
//! caller leaving takes its own calls without scanning anyone else's.

use super::registry::CalleeEntry;
use crate::realm::ids::CalleeAddr;
use crate::wire::{Dict, Payload, RegistrationId, RequestId, SessionId};
use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};

/// What a call needs to be routed again (call reroute).
pub struct Retry {
    pub details: Dict,
    pub payload: Payload,
    /// Callees that answered `wamp.error.unavailable`.
    pub tried: Vec<CalleeAddr>,
}

/// One call in flight.
pub struct OutCall {
    pub registration: RegistrationId,
    pub callee: CalleeEntry,
    /// The token of the call's live timer (0: none).
    pub token: u64,
    /// The call's timeout, re-armed after each progressive result.
    pub timeout: Option<Duration>,
    /// The caller accepts progressive results.
    pub receive_progress: bool,
    /// The caller is still sending progressive CALL chunks.
    pub invoking: bool,
    /// A `kill` CANCEL went to the callee: its answer is awaited, further CANCELs are ignored.
    pub killing: bool,
    /// Counted in the chooser's load (`least_loaded`).
    pub counted: bool,
    /// Present for calls to shared registrations.
    pub retry: Option<Box<Retry>>,
    /// When the CALL came in, if its round trip is sampled.
    pub started: Option<Instant>,
}

/// What a CALL is, for a caller's call table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    New,
    InFlight,
    Finished,
}

/// Most recently finished progressive invocations remembered per caller,
/// so their late continuation chunks are dropped instead of starting new calls.
const TOMBSTONES: usize = 16;

#[derive(Default)]
struct CallerCalls {
    calls: FxHashMap<RequestId, OutCall>,
    /// Progressive invocations that finished while the caller still streamed.
    tombstones: Vec<RequestId>,
}

/// The calls in flight, per caller.
#[derive(Default)]
pub struct Calls {
    by_caller: FxHashMap<SessionId, CallerCalls>,
    len: usize,
}

impl Calls {
    /// Records a call of `caller`.
    pub fn insert(&mut self, caller: SessionId, request: RequestId, call: OutCall) {
        let calls = &mut self.by_caller.entry(caller).or_default().calls;
        if calls.insert(request, call).is_none() {
            self.len += 1;
        }
    }

    /// The call `request` of `caller`, still in flight.
    pub fn get_mut(&mut self, caller: SessionId, request: RequestId) -> Option<&mut OutCall> {
        self.by_caller.get_mut(&caller)?.calls.get_mut(&request)
    }

    /// Takes the call `request` of `caller` (it got its final answer).
    pub fn remove(&mut self, caller: SessionId, request: RequestId) -> Option<OutCall> {
        let entry = self.by_caller.get_mut(&caller)?;
        let call = entry.calls.remove(&request)?;
        self.len -= 1;
        if call.invoking {
            if entry.tombstones.len() == TOMBSTONES {
                entry.tombstones.remove(0);
            }
            entry.tombstones.push(request);
        }
        Some(call)
    }

    /// What a CALL with ID `request` from `caller` is: a new call, the next
    /// chunk of a call in flight, or a chunk of a progressive invocation
    /// that already finished (dropped; the final chunk, `more == false`,
    /// clears the mark). One lookup of the caller.
    pub fn classify(&mut self, caller: SessionId, request: RequestId, more: bool) -> CallKind {
        let Some(entry) = self.by_caller.get_mut(&caller) else {
            return CallKind::New;
        };
        if entry.calls.contains_key(&request) {
            return CallKind::InFlight;
        }
        let Some(at) = entry.tombstones.iter().position(|r| *r == request) else {
            return CallKind::New;
        };
        if !more {
            entry.tombstones.swap_remove(at);
        }
        CallKind::Finished
    }

    /// True when `request` of `caller` is a progressive invocation still
    /// streaming, or one that finished while it streamed.
    pub fn streaming(&self, caller: SessionId, request: RequestId) -> bool {
        self.by_caller.get(&caller).is_some_and(|e| {
            e.calls.get(&request).is_some_and(|c| c.invoking) || e.tombstones.contains(&request)
        })
    }

    /// Takes every call of `caller` (it left).
    pub fn remove_caller(&mut self, caller: SessionId) -> Vec<(RequestId, OutCall)> {
        let Some(entry) = self.by_caller.remove(&caller) else {
            return Vec::new();
        };
        self.len -= entry.calls.len();
        entry.calls.into_iter().collect()
    }

    /// Calls in flight.
    /// Calls `caller` has in flight.
    pub fn of_caller(&self, caller: SessionId) -> usize {
        self.by_caller.get(&caller).map_or(0, |e| e.calls.len())
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::features::PeerFeatures;

    fn call(invoking: bool) -> OutCall {
        OutCall {
            registration: RegistrationId(1),
            callee: CalleeEntry {
                addr: CalleeAddr {
                    shard: 0,
                    session: SessionId(9),
                },
                seq: 1,
                features: PeerFeatures::NONE,
                disclose_caller: false,
            },
            token: 0,
            timeout: None,
            receive_progress: false,
            invoking,
            killing: false,
            counted: false,
            retry: None,
            started: None,
        }
    }

    #[test]
    fn a_call_is_taken_once_and_a_caller_takes_only_its_own() {
        let mut c = Calls::default();
        let (a, b) = (SessionId(1), SessionId(2));
        c.insert(a, RequestId(1), call(false));
        c.insert(a, RequestId(2), call(false));
        c.insert(b, RequestId(1), call(false));
        assert!(c.remove(a, RequestId(1)).is_some());
        assert!(c.remove(a, RequestId(1)).is_none());
        assert_eq!(c.remove_caller(a).len(), 1);
        assert_eq!(c.len(), 1);
        assert!(c.get_mut(b, RequestId(1)).is_some());
    }

    #[test]
    fn late_chunks_of_a_finished_stream_are_recognised_until_the_last() {
        let mut c = Calls::default();
        let a = SessionId(1);
        c.insert(a, RequestId(5), call(true));
        c.remove(a, RequestId(5));
        assert_eq!(c.classify(a, RequestId(5), true), CallKind::Finished);
        assert_eq!(c.classify(a, RequestId(5), false), CallKind::Finished);
        assert_eq!(c.classify(a, RequestId(5), false), CallKind::New);
        assert_eq!(c.classify(a, RequestId(6), true), CallKind::New);
        c.insert(a, RequestId(6), call(true));
        assert_eq!(c.classify(a, RequestId(6), true), CallKind::InFlight);
    }
}
