//! `Dealer`: one realm's RPC role on one shard. It owns the realm's
//! registration replica (`Registry`), the calls this shard's callers have
//! in flight (`Calls`: the one place a call's final answer is decided), the
//! invocations in flight to this shard's callees (`Invocations`, each with
//! its caller's return address), the callee chooser of shared registrations,
//! and its REGISTERs waiting for other shards.
//!
//! Client messages come in through `handle_register`, `handle_unregister`,
//! `handle_call`, `handle_cancel`, `handle_yield` and `handle_callee_error`;
//! envelopes from other shards through `apply`; call timeouts through
//! `call_timed_out`.

mod call;
mod calls;
mod cancel;
mod gather;
mod invocations;
mod meta;
mod pick;
mod register;
mod registry;
mod results;

pub use registry::{CalleeEntry, Registration, Registry, Route};

use super::cx::Cx;
use super::envelope::DealerMsg;
use super::pending::Pending;
use crate::routing::MatchPolicy;
use crate::wire::options::InvokePolicy;
use crate::wire::{RegistrationId, RequestId, SessionId, Text};
use std::time::Duration;

/// A realm's RPC policy (from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcPolicy {
    /// Answer the meta procedures (`wamp.session.*`, ...).
    pub meta_api: bool,
    /// Disclose every caller to callees (for clients that cannot send `disclose_me`).
    pub disclose_caller: bool,
    /// The timeout of a CALL that sets none (`None`: no timeout).
    pub default_timeout: Option<Duration>,
    /// The longest timeout a CALL gets (`None`: no limit).
    pub max_timeout: Option<Duration>,
    /// Most invocations one callee may have in flight (0: no limit).
    pub max_invocations: usize,
}

impl Default for RpcPolicy {
    fn default() -> Self {
        RpcPolicy {
            meta_api: true,
            disclose_caller: false,
            default_timeout: None,
            max_invocations: 10_000,
            max_timeout: None,
        }
    }
}

impl RpcPolicy {
    /// The timeout a CALL asking for `asked_ms` (0: none) gets.
    pub fn timeout(&self, asked_ms: u64) -> Option<Duration> {
        let asked = (asked_ms > 0).then(|| Duration::from_millis(asked_ms));
        match (asked.or(self.default_timeout), self.max_timeout) {
            (Some(t), Some(max)) => Some(t.min(max)),
            (None, Some(max)) => Some(max),
            (t, None) => t,
        }
    }
}

/// What a dealer operation waits for.
enum Waiting {
    /// The home shard's verdict on a REGISTER.
    RegistrationId {
        session: SessionId,
        request: RequestId,
        procedure: Text,
        policy: MatchPolicy,
        invoke: InvokePolicy,
        disclose_caller: bool,
    },
    /// Acks of `ReplicaRemove` from every other shard: then UNREGISTERED.
    Unregistered {
        session: SessionId,
        request: RequestId,
        remaining: usize,
    },
    /// Acks of `ReplicaAdd` from every other shard.
    Replicas {
        session: SessionId,
        request: RequestId,
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
        remaining: usize,
    },
}

/// One realm's RPC state on one shard.
pub struct Dealer {
    realm: Text,
    policy: RpcPolicy,
    registry: Registry,
    /// Calls of this shard's callers in flight.
    calls: calls::Calls,
    /// Invocations in flight to this shard's callees, with their callers.
    invocations: invocations::Invocations,
    chooser: pick::Chooser,
    pending: Pending<Waiting>,
    /// Meta procedures waiting for other shards' parts.
    gathers: Pending<gather::Gather>,
}

impl Dealer {
    /// The dealer of `realm`.
    pub fn new(realm: Text, policy: RpcPolicy) -> Self {
        Dealer {
            realm,
            policy,
            registry: Registry::default(),
            calls: calls::Calls::default(),
            invocations: invocations::Invocations::default(),
            chooser: pick::Chooser::default(),
            pending: Pending::default(),
            gathers: Pending::default(),
        }
    }

    /// Registrations in this shard's replica.
    pub fn registration_count(&self) -> usize {
        self.registry.len()
    }

    /// Invocations in flight to this shard's callees.
    pub fn invocation_count(&self) -> usize {
        self.invocations.len()
    }

    /// Calls of this shard's callers in flight.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Calls `caller` has in flight.
    pub fn calls_of(&self, caller: SessionId) -> usize {
        self.calls.of_caller(caller)
    }

    /// True when CALL `request` of `sid` continues a progressive call (in
    /// flight, or finished while the caller still streamed).
    pub fn continues_call(&self, sid: SessionId, request: RequestId) -> bool {
        self.calls.streaming(sid, request)
    }

    /// Operations waiting for other shards.
    pub fn pending_count(&self) -> usize {
        self.pending.len() + self.gathers.len()
    }

    /// Applies a dealer envelope from another shard (or this one).
    pub fn apply(&mut self, cx: &mut Cx, msg: DealerMsg) {
        match msg {
            DealerMsg::RegistrationAcquired { op, result } => {
                self.registration_acquired(cx, op, result)
            }
            DealerMsg::ReplicaAdd {
                procedure,
                policy,
                registration,
                invoke,
                callee,
                from,
                op,
            } => {
                self.registry
                    .add(procedure, policy, registration, invoke, callee);
                self.send(cx, from, DealerMsg::ReplicaAcked { op });
            }
            DealerMsg::ReplicaAcked { op } => self.replica_acked(cx, op),
            DealerMsg::ReplicaRemove {
                registration,
                callee,
                ack,
            } => {
                self.registry.remove(registration, callee);
                if let Some((from, op)) = ack {
                    self.send(cx, from, DealerMsg::ReplicaAcked { op });
                }
            }
            DealerMsg::Invoke {
                registration,
                callee,
                caller,
                details,
                payload,
                progress,
            } => {
                let call = call::Invoke {
                    registration,
                    caller,
                    details,
                    payload,
                    progress,
                };
                self.invoke(cx, callee, call)
            }
            DealerMsg::InvokeMore {
                caller,
                progress,
                payload,
            } => self.invoke_more(cx, caller, progress, payload),
            DealerMsg::Yielded {
                caller,
                details,
                payload,
                progress,
            } => self.deliver_result(cx, caller, details, payload, progress),
            DealerMsg::CallFailed {
                caller,
                error,
                payload,
            } => self.deliver_failure(cx, caller, error, payload),
            DealerMsg::MetaAnswer { caller, result } => self.meta_answered(cx, caller, result),
            DealerMsg::SessionQuery { query, from, op } => {
                let part = crate::realm::meta::answer_sessions(cx, &self.realm, &query);
                self.send(cx, from, DealerMsg::MetaPart { op, part });
            }
            DealerMsg::MetaPart { op, part } => self.meta_part(cx, op, part),
            DealerMsg::Interrupt {
                caller,
                mode,
                reason,
            } => self.interrupted(cx, caller, mode, reason),
        }
    }

    /// Sends `msg` to the dealer of this realm on shard `dest`.
    fn send(&self, cx: &mut Cx, dest: usize, msg: DealerMsg) {
        let realm = self.realm.clone();
        cx.send(dest, super::Envelope::Dealer { realm, msg });
    }

    /// Local session `session` left: withdraw its registrations, fail the
    /// calls in flight to it, end the calls it made.
    pub fn session_closed(&mut self, cx: &mut Cx, session: &crate::session::Session) {
        for (id, procedure, policy) in &session.registrations {
            self.withdraw_registration(cx, procedure, *policy, *id, session.id, None);
        }
        self.cancel_invocations_of(cx, session.id);
        self.caller_left(cx, session.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_timeout_is_the_asked_one_or_the_default_capped_by_the_maximum() {
        let ms = Duration::from_millis;
        let none = RpcPolicy::default();
        assert_eq!(none.timeout(0), None);
        assert_eq!(none.timeout(250), Some(ms(250)));
        let p = RpcPolicy {
            default_timeout: Some(ms(1000)),
            max_timeout: Some(ms(5000)),
            ..RpcPolicy::default()
        };
        assert_eq!(p.timeout(0), Some(ms(1000)));
        assert_eq!(p.timeout(9000), Some(ms(5000)));
        assert_eq!(p.timeout(10), Some(ms(10)));
        let capped = RpcPolicy {
            max_timeout: Some(ms(300)),
            ..none
        };
        assert_eq!(capped.timeout(0), Some(ms(300)));
    }
}
