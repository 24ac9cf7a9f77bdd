//! The Dealer side of a shard: REGISTER, UNREGISTER, CALL, YIELD and callee
//! ERROR from local sessions, and the dealer envelopes from other shards.
//!
//! The home shard of (realm, procedure, match) decides a REGISTER; REGISTERED
//! goes out once every shard's replica has the registration. A CALL is
//! routed from the replica on the caller's shard (best match: exact, longest
//! prefix, then wildcard); the callee's shard keeps the invocation (and the
//! caller's return address) until the YIELD or ERROR.

use super::envelope::{CalleeAddr, CallerAddr, Envelope, OpId};
use super::pending::Waiting;
use super::pubsub::match_option;
use super::{Shard, Violation};
use crate::routing::{home_shard, is_reserved, is_valid_uri, MatchPolicy};
use crate::wire::message::code;
use crate::wire::{Dict, Message, Payload, RegistrationId, RequestId, SessionId, Text};

impl Shard {
    pub(super) fn handle_register(
        &mut self,
        sid: SessionId,
        request: RequestId,
        options: &Dict,
        procedure: Text,
    ) -> Result<(), Violation> {
        let policy = match_option(options)?;
        let invoke = options
            .get_str("invoke")
            .map_err(|e| Violation::new(e.to_string()))?;
        if invoke.is_some_and(|p| p != "single") {
            self.reply_error(
                sid,
                code::REGISTER,
                request,
                "wamp.error.option_not_allowed",
            );
            return Ok(());
        }
        if !is_valid_uri(&procedure, policy, self.settings.uri_check) || is_reserved(&procedure) {
            self.reply_error(sid, code::REGISTER, request, "wamp.error.invalid_uri");
            return Ok(());
        }
        let Some(realm) = self.sessions.get(&sid).map(|s| s.realm.clone()) else {
            return Ok(());
        };
        let (r, p) = (realm.clone(), procedure.clone());
        let op = self.pending.add(Waiting::RegistrationId {
            session: sid,
            request,
            realm: r,
            procedure: p,
            policy,
        });
        let home = home_shard(&realm, &procedure, policy, self.nr_shards);
        let callee = CalleeAddr {
            shard: self.id,
            session: sid,
        };
        self.send(
            home,
            Envelope::RegistrationAcquire {
                realm,
                procedure,
                policy,
                callee,
                op,
            },
        );
        Ok(())
    }

    pub(super) fn handle_unregister(
        &mut self,
        sid: SessionId,
        request: RequestId,
        registration: RegistrationId,
    ) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(at) = session
            .registrations
            .iter()
            .position(|(id, ..)| *id == registration)
        else {
            self.reply_error(
                sid,
                code::UNREGISTER,
                request,
                "wamp.error.no_such_registration",
            );
            return;
        };
        let (_, procedure, policy) = session.registrations.swap_remove(at);
        let realm = session.realm.clone();
        self.withdraw_registration(&realm, &procedure, policy, registration, sid);
        self.reply(
            sid,
            &Message::Unregistered {
                request,
                details: None,
            },
        );
    }

    /// Removes `sid` as callee of `registration` on every shard and at home.
    pub(super) fn withdraw_registration(
        &mut self,
        realm: &Text,
        procedure: &Text,
        policy: MatchPolicy,
        id: RegistrationId,
        sid: SessionId,
    ) {
        let (from, callee) = (
            self.id,
            CalleeAddr {
                shard: self.id,
                session: sid,
            },
        );
        self.realm_mut(realm).dealer.remove(id, callee);
        let r = realm.clone();
        self.broadcast(|| Envelope::RegistrationRemove {
            realm: r.clone(),
            registration: id,
            callee,
            from,
            op: 0,
        });
        let home = home_shard(realm, procedure, policy, self.nr_shards);
        let (realm, procedure) = (realm.clone(), procedure.clone());
        self.send(
            home,
            Envelope::RegistrationRelease {
                realm,
                procedure,
                policy,
                callee,
            },
        );
    }

    pub(super) fn handle_call(
        &mut self,
        sid: SessionId,
        request: RequestId,
        procedure: Text,
        payload: Payload,
    ) {
        if !is_valid_uri(&procedure, MatchPolicy::Exact, self.settings.uri_check) {
            return self.reply_error(sid, code::CALL, request, "wamp.error.invalid_uri");
        }
        let Some(session) = self.sessions.get(&sid) else {
            return;
        };
        let Some(route) = self
            .realms
            .get(&session.realm)
            .and_then(|r| r.dealer.lookup(&procedure))
        else {
            return self.reply_error(sid, code::CALL, request, "wamp.error.no_such_procedure");
        };
        self.stats.calls += 1;
        let caller = CallerAddr {
            shard: self.id,
            session: sid,
            request,
        };
        // For a pattern registration the callee learns which procedure was called.
        let details = match route.policy {
            MatchPolicy::Exact => Dict::new(),
            _ => Dict::new().with("procedure", procedure),
        };
        let (registration, callee) = (route.registration, route.callee);
        if callee.shard == self.id {
            self.invoke(registration, callee.session, caller, details, payload);
        } else {
            if let Some(s) = self.sessions.get_mut(&sid) {
                s.called_remote = true;
            }
            let env = Envelope::Invoke {
                registration,
                callee: callee.session,
                caller,
                details,
                payload,
            };
            self.send(callee.shard, env);
        }
    }

    /// Sends an INVOCATION to local callee `callee` and remembers the caller.
    fn invoke(
        &mut self,
        registration: RegistrationId,
        callee: SessionId,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
    ) {
        let Some(session) = self.sessions.get_mut(&callee) else {
            let error = Text::from_static("wamp.error.no_such_procedure");
            return self.call_failed(caller, error, Dict::new(), Payload::empty());
        };
        let request = RequestId(session.next_invocation());
        self.invocations.insert((callee, request.0), caller);
        self.reply(
            callee,
            &Message::Invocation {
                request,
                registration,
                details,
                payload,
            },
        );
    }

    pub(super) fn handle_yield(
        &mut self,
        sid: SessionId,
        request: RequestId,
        payload: Payload,
    ) -> Result<(), Violation> {
        match self.invocations.remove(&(sid, request.0)) {
            Some(caller) => self.call_result(caller, Dict::new(), payload),
            None => self.check_late_reply(sid, request, "YIELD")?,
        }
        Ok(())
    }

    pub(super) fn handle_callee_error(
        &mut self,
        sid: SessionId,
        request: RequestId,
        error: Text,
        payload: Payload,
    ) -> Result<(), Violation> {
        match self.invocations.remove(&(sid, request.0)) {
            Some(caller) => self.call_failed(caller, error, Dict::new(), payload),
            None => self.check_late_reply(sid, request, "ERROR")?,
        }
        Ok(())
    }

    /// A reply to an invocation that is no longer pending: legitimate when the
    /// caller left (dropped silently), a violation when it was never sent.
    fn check_late_reply(
        &self,
        sid: SessionId,
        request: RequestId,
        what: &str,
    ) -> Result<(), Violation> {
        let last = self.sessions.get(&sid).map_or(0, |s| s.last_invocation);
        if request.0 > last {
            return Err(Violation::new(format!(
                "{what} for INVOCATION {request} that was never sent"
            )));
        }
        Ok(())
    }

    /// Routes a callee's YIELD to its caller.
    fn call_result(&mut self, caller: CallerAddr, details: Dict, payload: Payload) {
        if caller.shard == self.id {
            self.reply(
                caller.session,
                &Message::Result {
                    request: caller.request,
                    details,
                    payload,
                },
            );
        } else {
            self.send(
                caller.shard,
                Envelope::Yielded {
                    caller,
                    details,
                    payload,
                },
            );
        }
    }

    /// Routes a call failure to its caller.
    pub(super) fn call_failed(
        &mut self,
        caller: CallerAddr,
        error: Text,
        details: Dict,
        payload: Payload,
    ) {
        if caller.shard == self.id {
            let msg = Message::Error {
                request_type: code::CALL,
                request: caller.request,
                details,
                error,
                payload,
            };
            self.reply(caller.session, &msg);
        } else {
            self.send(
                caller.shard,
                Envelope::CallFailed {
                    caller,
                    error,
                    details,
                    payload,
                },
            );
        }
    }

    /// Dealer envelopes from other shards (or this one).
    pub(super) fn apply_dealer(&mut self, env: Envelope) {
        match env {
            Envelope::RegistrationAcquire {
                realm,
                procedure,
                policy,
                callee,
                op,
            } => {
                let ids = &mut self.ids;
                let result =
                    self.home
                        .acquire_registration((realm, procedure, policy), callee, || {
                            ids.registration()
                        });
                let result = result.map_err(Text::from_static);
                self.send(callee.shard, Envelope::RegistrationAcquired { op, result });
            }
            Envelope::RegistrationAcquired { op, result } => self.registration_acquired(op, result),
            Envelope::RegistrationRelease {
                realm,
                procedure,
                policy,
                callee,
            } => self
                .home
                .release_registration(&(realm, procedure, policy), callee),
            Envelope::RegistrationAdd {
                realm,
                procedure,
                policy,
                registration,
                callee,
                from,
                op,
            } => {
                self.realm_mut(&realm)
                    .dealer
                    .add(procedure, policy, registration, callee);
                self.send(from, Envelope::Ack { op });
            }
            Envelope::RegistrationRemove {
                realm,
                registration,
                callee,
                from,
                op,
            } => {
                self.realm_mut(&realm).dealer.remove(registration, callee);
                if op != 0 {
                    self.send(from, Envelope::Ack { op });
                }
            }
            Envelope::Invoke {
                registration,
                callee,
                caller,
                details,
                payload,
            } => self.invoke(registration, callee, caller, details, payload),
            Envelope::Yielded {
                caller,
                details,
                payload,
            } => self.call_result(caller, details, payload),
            Envelope::CallFailed {
                caller,
                error,
                details,
                payload,
            } => self.call_failed(caller, error, details, payload),
            Envelope::CallerGone { shard, session } => self
                .invocations
                .retain(|_, c| !(c.shard == shard && c.session == session)),
            _ => {}
        }
    }

    fn registration_acquired(&mut self, op: OpId, result: Result<RegistrationId, Text>) {
        let Some(Waiting::RegistrationId {
            session,
            request,
            realm,
            procedure,
            policy,
        }) = self.pending.take(op)
        else {
            return;
        };
        let callee = CalleeAddr {
            shard: self.id,
            session,
        };
        let id = match result {
            Err(error) => {
                let details = Dict::new();
                let msg = Message::Error {
                    request_type: code::REGISTER,
                    request,
                    details,
                    error,
                    payload: Payload::empty(),
                };
                return self.reply(session, &msg);
            }
            Ok(_) if !self.sessions.contains_key(&session) => {
                let home = home_shard(&realm, &procedure, policy, self.nr_shards);
                return self.send(
                    home,
                    Envelope::RegistrationRelease {
                        realm,
                        procedure,
                        policy,
                        callee,
                    },
                );
            }
            Ok(id) => id,
        };
        self.realm_mut(&realm)
            .dealer
            .add(procedure.clone(), policy, id, callee);
        let remaining = self.nr_shards - 1;
        let (r, p) = (realm.clone(), procedure.clone());
        let waiting = Waiting::RegistrationAdd {
            session,
            request,
            realm: r,
            procedure: p,
            policy,
            registration: id,
            remaining,
        };
        if remaining == 0 {
            return self.registration_done(waiting);
        }
        let op = self.pending.add(waiting);
        let from = self.id;
        self.broadcast(|| Envelope::RegistrationAdd {
            realm: realm.clone(),
            procedure: procedure.clone(),
            policy,
            registration: id,
            callee,
            from,
            op,
        });
    }

    /// Every replica has the registration: answer REGISTERED (or undo it if the callee left).
    pub(super) fn registration_done(&mut self, w: Waiting) {
        let Waiting::RegistrationAdd {
            session,
            request,
            realm,
            procedure,
            policy,
            registration,
            ..
        } = w
        else {
            return;
        };
        match self.sessions.get_mut(&session) {
            Some(s) => {
                s.registrations.push((registration, procedure, policy));
                self.reply(
                    session,
                    &Message::Registered {
                        request,
                        registration,
                    },
                );
            }
            None => self.withdraw_registration(&realm, &procedure, policy, registration, session),
        }
    }

    /// Counts an ack; finishes the operation on the last one.
    pub(super) fn apply_ack(&mut self, op: OpId) {
        match self.pending.ack(op) {
            Some(Waiting::Interest {
                realm,
                topic,
                policy,
                ..
            }) => self.activate_topic(&realm, &topic, policy),
            Some(w @ Waiting::RegistrationAdd { .. }) => self.registration_done(w),
            _ => {}
        }
    }

    /// Fails every invocation in flight to `callee` with `wamp.error.canceled`.
    pub(super) fn cancel_invocations_of(&mut self, callee: SessionId) {
        let keys: Vec<(SessionId, u64)> = self
            .invocations
            .keys()
            .filter(|(s, _)| *s == callee)
            .copied()
            .collect();
        for key in keys {
            if let Some(caller) = self.invocations.remove(&key) {
                let args = Payload::args(vec!["callee disconnected from in-flight request".into()]);
                self.call_failed(
                    caller,
                    Text::from_static("wamp.error.canceled"),
                    Dict::new(),
                    args,
                );
            }
        }
    }

    /// Forgets the invocations `caller` (a session of this shard) has in flight.
    pub(super) fn forget_caller(&mut self, caller: SessionId, called_remote: bool) {
        let me = self.id;
        self.invocations
            .retain(|_, c| !(c.shard == me && c.session == caller));
        if called_remote {
            self.broadcast(|| Envelope::CallerGone {
                shard: me,
                session: caller,
            });
        }
    }
}
