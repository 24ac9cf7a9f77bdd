//! REGISTER and UNREGISTER on the dealer. The home shard of (realm,
//! procedure, match) decides a REGISTER; REGISTERED goes out once every
//! shard's replica has the registration, so a call made after it, on any
//! shard, finds the callee; UNREGISTERED once every replica dropped it.

use super::{CalleeEntry, Dealer, Waiting};
use crate::realm::cx::Cx;
use crate::realm::envelope::{DealerMsg, Envelope, HomeMsg};
use crate::realm::ids::{CalleeAddr, OpId, ShardId};
use crate::routing::{is_reserved, is_valid_uri, MatchPolicy};
use crate::session::features::PeerFeatures;
use crate::wire::message::code;
use crate::wire::options::RegisterOptions;
use crate::wire::{ErrorUri, Message, RegistrationId, RequestId, SessionId, Text};

impl Dealer {
    /// A REGISTER from local session `sid`.
    pub fn handle_register(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: &RegisterOptions,
        procedure: Text,
    ) {
        let policy = options.match_policy;
        if !is_valid_uri(&procedure, policy, cx.uri_check) || is_reserved(&procedure) {
            return cx.reply_error(sid, code::REGISTER, request, ErrorUri::InvalidUri);
        }
        let invoke = options.invoke;
        let op = self.pending.add(Waiting::RegistrationId {
            session: sid,
            request,
            procedure: procedure.clone(),
            policy,
            invoke,
            disclose_caller: options.disclose_caller,
        });
        let home = cx.home_of(&self.realm, &procedure, policy);
        let callee = CalleeAddr {
            shard: cx.me,
            session: sid,
        };
        let msg = HomeMsg::RegistrationAcquire {
            realm: self.realm.clone(),
            procedure,
            policy,
            invoke,
            callee,
            op,
        };
        cx.send(home, Envelope::Home(msg));
    }

    /// An UNREGISTER from local session `sid`.
    pub fn handle_unregister(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        registration: RegistrationId,
    ) {
        let Some(session) = cx.sessions.get_mut(&sid) else {
            return;
        };
        let Some(at) = session
            .registrations
            .iter()
            .position(|(id, ..)| *id == registration)
        else {
            let error = ErrorUri::NoSuchRegistration;
            return cx.reply_error(sid, code::UNREGISTER, request, error);
        };
        let (_, procedure, policy) = session.registrations.swap_remove(at);
        let remaining = cx.nr_shards - 1;
        if remaining == 0 {
            self.withdraw_registration(cx, &procedure, policy, registration, sid, None);
            return unregistered(cx, sid, request);
        }
        let op = self.pending.add(Waiting::Unregistered {
            session: sid,
            request,
            remaining,
        });
        let ack = Some((cx.me, op));
        self.withdraw_registration(cx, &procedure, policy, registration, sid, ack);
    }

    /// Removes `sid` as callee of `registration` on every shard (each acks
    /// `ack`, if given) and at home.
    pub(super) fn withdraw_registration(
        &mut self,
        cx: &mut Cx,
        procedure: &Text,
        policy: MatchPolicy,
        id: RegistrationId,
        sid: SessionId,
        ack: Option<(ShardId, OpId)>,
    ) {
        let callee = CalleeAddr {
            shard: cx.me,
            session: sid,
        };
        self.registry.remove(id, callee);
        let realm = &self.realm;
        cx.broadcast(|| Envelope::Dealer {
            realm: realm.clone(),
            msg: DealerMsg::ReplicaRemove {
                registration: id,
                callee,
                ack,
            },
        });
        let home = cx.home_of(realm, procedure, policy);
        let msg = HomeMsg::RegistrationRelease {
            realm: realm.clone(),
            procedure: procedure.clone(),
            policy,
            callee,
        };
        cx.send(home, Envelope::Home(msg));
    }

    /// The home shard decided a REGISTER: refuse it, or replicate it everywhere.
    pub(super) fn registration_acquired(
        &mut self,
        cx: &mut Cx,
        op: OpId,
        result: Result<(RegistrationId, u64), ErrorUri>,
    ) {
        let Some(waiting) = self.pending.take(op) else {
            return;
        };
        let (session, request, procedure, policy, invoke, disclose_caller) = match waiting {
            Waiting::RegistrationId {
                session,
                request,
                procedure,
                policy,
                invoke,
                disclose_caller,
            } => (session, request, procedure, policy, invoke, disclose_caller),
            Waiting::Replicas { .. } | Waiting::Unregistered { .. } => {
                tracing::error!(op, "registration verdict for a replica operation");
                return;
            }
        };
        let callee = CalleeAddr {
            shard: cx.me,
            session,
        };
        let (id, seq) = match result {
            Err(error) => return cx.reply_error(session, code::REGISTER, request, error),
            Ok(_) if !cx.sessions.contains_key(&session) => {
                let home = cx.home_of(&self.realm, &procedure, policy);
                let msg = HomeMsg::RegistrationRelease {
                    realm: self.realm.clone(),
                    procedure,
                    policy,
                    callee,
                };
                return cx.send(home, Envelope::Home(msg));
            }
            Ok(granted) => granted,
        };
        let entry = CalleeEntry {
            addr: callee,
            seq,
            features: cx
                .sessions
                .get(&session)
                .map_or(PeerFeatures::NONE, |s| s.features),
            disclose_caller,
        };
        self.registry
            .add(procedure.clone(), policy, id, invoke, entry);
        let remaining = cx.nr_shards - 1;
        if remaining == 0 {
            return self.registration_done(cx, session, request, procedure, policy, id);
        }
        let op = self.pending.add(Waiting::Replicas {
            session,
            request,
            procedure: procedure.clone(),
            policy,
            registration: id,
            remaining,
        });
        let (realm, from) = (&self.realm, cx.me);
        cx.broadcast(|| Envelope::Dealer {
            realm: realm.clone(),
            msg: DealerMsg::ReplicaAdd {
                procedure: procedure.clone(),
                policy,
                registration: id,
                invoke,
                callee: entry,
                from,
                op,
            },
        });
    }

    /// Counts one shard's ack of a replica; finishes the REGISTER on the last.
    pub(super) fn replica_acked(&mut self, cx: &mut Cx, op: OpId) {
        let done = match self.pending.get_mut(op) {
            Some(Waiting::Replicas { remaining, .. } | Waiting::Unregistered { remaining, .. }) => {
                *remaining = remaining.saturating_sub(1);
                *remaining == 0
            }
            Some(Waiting::RegistrationId { .. }) | None => false,
        };
        if !done {
            return;
        }
        match self.pending.take(op) {
            Some(Waiting::Replicas {
                session,
                request,
                procedure,
                policy,
                registration,
                ..
            }) => self.registration_done(cx, session, request, procedure, policy, registration),
            Some(Waiting::Unregistered {
                session, request, ..
            }) => unregistered(cx, session, request),
            // Not done: `done` above holds only for the two kinds above.
            Some(Waiting::RegistrationId { .. }) | None => {}
        }
    }

    /// Every replica has the registration: answer REGISTERED (or undo it if the callee left).
    fn registration_done(
        &mut self,
        cx: &mut Cx,
        session: SessionId,
        request: RequestId,
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
    ) {
        let Some(s) = cx.sessions.get_mut(&session) else {
            return self.withdraw_registration(cx, &procedure, policy, registration, session, None);
        };
        s.registrations.push((registration, procedure, policy));
        let msg = Message::Registered {
            request,
            registration,
        };
        cx.reply(session, &msg);
    }
}

/// Answers UNREGISTERED.
fn unregistered(cx: &mut Cx, sid: SessionId, request: RequestId) {
    let msg = Message::Unregistered {
        request,
        details: None,
    };
    cx.reply(sid, &msg);
}
