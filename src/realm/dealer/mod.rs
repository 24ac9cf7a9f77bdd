//! `Dealer`: one realm's RPC role on one shard. It owns the realm's
//! registration replica (`Registry`), the invocations in flight to this
//! shard's callees (each holding its caller's return address), and its
//! REGISTERs waiting for other shards.
//!
//! Client messages come in through `handle_register`, `handle_unregister`,
//! `handle_call`, `handle_yield` and `handle_callee_error`; envelopes from
//! other shards through `apply`.

mod call;
mod invocations;
mod register;
mod registry;

pub use registry::{Registration, Registry, Route};

use super::cx::Cx;
use super::envelope::DealerMsg;
use super::pending::Pending;
use crate::routing::MatchPolicy;
use crate::wire::{RegistrationId, RequestId, SessionId, Text};

/// What a dealer operation waits for.
enum Waiting {
    /// The home shard's verdict on a REGISTER.
    RegistrationId {
        session: SessionId,
        request: RequestId,
        procedure: Text,
        policy: MatchPolicy,
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
    registry: Registry,
    /// Invocations in flight to this shard's callees, with their callers.
    invocations: invocations::Invocations,
    pending: Pending<Waiting>,
}

impl Dealer {
    /// The dealer of `realm`.
    pub fn new(realm: Text) -> Self {
        Dealer {
            realm,
            registry: Registry::default(),
            invocations: invocations::Invocations::default(),
            pending: Pending::default(),
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

    /// Operations waiting for other shards.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
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
                callee,
                from,
                op,
            } => {
                self.registry.add(procedure, policy, registration, callee);
                self.send(cx, from, DealerMsg::ReplicaAcked { op });
            }
            DealerMsg::ReplicaAcked { op } => self.replica_acked(cx, op),
            DealerMsg::ReplicaRemove {
                registration,
                callee,
            } => self.registry.remove(registration, callee),
            DealerMsg::Invoke {
                registration,
                callee,
                caller,
                details,
                payload,
            } => self.invoke(cx, registration, callee, caller, details, payload),
            DealerMsg::Yielded {
                caller,
                details,
                payload,
            } => self.call_result(cx, caller, details, payload),
            DealerMsg::CallFailed {
                caller,
                error,
                details,
                payload,
            } => self.call_failed(cx, caller, error, details, payload),
            DealerMsg::CallerGone { shard, session } => {
                self.invocations.forget_caller(shard, session)
            }
        }
    }

    /// Sends `msg` to the dealer of this realm on shard `dest`.
    fn send(&self, cx: &mut Cx, dest: usize, msg: DealerMsg) {
        let realm = self.realm.clone();
        cx.send(dest, super::Envelope::Dealer { realm, msg });
    }

    /// Local session `sid` left: withdraw its registrations, fail the calls
    /// in flight to it, forget the calls it made.
    pub fn session_closed(&mut self, cx: &mut Cx, session: &crate::session::Session) {
        for (id, procedure, policy) in &session.registrations {
            self.withdraw_registration(cx, procedure, *policy, *id, session.id);
        }
        self.cancel_invocations_of(cx, session.id);
        self.forget_caller(cx, session.id, session.called_remote);
    }
}
