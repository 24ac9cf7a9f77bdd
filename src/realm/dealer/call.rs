//! CALL, YIELD and callee ERROR on the dealer. A CALL is routed from the
//! replica on the caller's shard (best match: exact, longest prefix, then
//! wildcard). A local callee gets the INVOCATION directly; a remote one
//! through an `Invoke` envelope carrying the caller's return address, which
//! the callee's shard keeps until the YIELD or ERROR travels back.

use super::Dealer;
use crate::realm::cx::Cx;
use crate::realm::envelope::DealerMsg;
use crate::realm::ids::CallerAddr;
use crate::routing::{is_valid_uri, MatchPolicy};
use crate::session::Violation;
use crate::wire::message::code;
use crate::wire::ErrorUri;
use crate::wire::{Dict, Message, Payload, RegistrationId, RequestId, SessionId, Text};

impl Dealer {
    /// A CALL from local session `sid`.
    pub fn handle_call(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        procedure: Text,
        payload: Payload,
    ) {
        if !is_valid_uri(&procedure, MatchPolicy::Exact, cx.uri_check) {
            return cx.reply_error(sid, code::CALL, request, ErrorUri::InvalidUri);
        }
        let Some(route) = self.registry.lookup(&procedure) else {
            return cx.reply_error(sid, code::CALL, request, ErrorUri::NoSuchProcedure);
        };
        cx.stats.calls += 1;
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        // For a pattern registration the callee learns which procedure was called.
        let details = match route.policy {
            MatchPolicy::Exact => Dict::new(),
            MatchPolicy::Prefix | MatchPolicy::Wildcard => Dict::new().with("procedure", procedure),
        };
        let (registration, callee) = (route.registration, route.callee);
        if callee.shard == cx.me {
            return self.invoke(cx, registration, callee.session, caller, details, payload);
        }
        if let Some(s) = cx.sessions.get_mut(&sid) {
            s.called_remote = true;
        }
        let msg = DealerMsg::Invoke {
            registration,
            callee: callee.session,
            caller,
            details,
            payload,
        };
        self.send(cx, callee.shard, msg);
    }

    /// Sends an INVOCATION to local callee `callee` and remembers the caller.
    pub(super) fn invoke(
        &mut self,
        cx: &mut Cx,
        registration: RegistrationId,
        callee: SessionId,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
    ) {
        let Some(session) = cx.sessions.get_mut(&callee) else {
            let error = Text::from(ErrorUri::NoSuchProcedure);
            return self.call_failed(cx, caller, error, Dict::new(), Payload::empty());
        };
        let request = RequestId(session.next_invocation());
        self.invocations.insert(callee, request.0, caller);
        let msg = Message::Invocation {
            request,
            registration,
            details,
            payload,
        };
        cx.reply(callee, &msg);
    }

    /// A YIELD from local callee `sid`.
    pub fn handle_yield(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        payload: Payload,
    ) -> Result<(), Violation> {
        match self.invocations.remove(sid, request.0) {
            Some(caller) => self.call_result(cx, caller, Dict::new(), payload),
            None => check_late_reply(cx, sid, request, "YIELD")?,
        }
        Ok(())
    }

    /// An `ERROR` for an INVOCATION from local callee `sid`.
    pub fn handle_callee_error(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        error: Text,
        payload: Payload,
    ) -> Result<(), Violation> {
        match self.invocations.remove(sid, request.0) {
            Some(caller) => self.call_failed(cx, caller, error, Dict::new(), payload),
            None => check_late_reply(cx, sid, request, "ERROR")?,
        }
        Ok(())
    }

    /// Routes a callee's YIELD to its caller.
    pub(super) fn call_result(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
    ) {
        if caller.shard != cx.me {
            let msg = DealerMsg::Yielded {
                caller,
                details,
                payload,
            };
            return self.send(cx, caller.shard, msg);
        }
        let msg = Message::Result {
            request: caller.request,
            details,
            payload,
        };
        cx.reply(caller.session, &msg);
    }

    /// Routes a call failure to its caller.
    pub(super) fn call_failed(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        error: Text,
        details: Dict,
        payload: Payload,
    ) {
        if caller.shard != cx.me {
            let msg = DealerMsg::CallFailed {
                caller,
                error,
                details,
                payload,
            };
            return self.send(cx, caller.shard, msg);
        }
        let msg = Message::Error {
            request_type: code::CALL,
            request: caller.request,
            details,
            error,
            payload,
        };
        cx.reply(caller.session, &msg);
    }

    /// Fails every invocation in flight to `callee` with `wamp.error.canceled`.
    pub(super) fn cancel_invocations_of(&mut self, cx: &mut Cx, callee: SessionId) {
        for caller in self.invocations.remove_callee(callee) {
            let args = Payload::args(vec!["callee disconnected from in-flight request".into()]);
            let error = Text::from(ErrorUri::Canceled);
            self.call_failed(cx, caller, error, Dict::new(), args);
        }
    }

    /// Forgets the invocations `caller` (a session of this shard) has in flight.
    pub(super) fn forget_caller(&mut self, cx: &mut Cx, caller: SessionId, called_remote: bool) {
        let me = cx.me;
        self.invocations.forget_caller(me, caller);
        if called_remote {
            let realm = &self.realm;
            cx.broadcast(|| crate::realm::Envelope::Dealer {
                realm: realm.clone(),
                msg: DealerMsg::CallerGone {
                    shard: me,
                    session: caller,
                },
            });
        }
    }
}

/// A reply to an invocation that is no longer pending: legitimate when the
/// caller left (dropped silently), a violation when it was never sent.
fn check_late_reply(
    cx: &Cx,
    sid: SessionId,
    request: RequestId,
    what: &str,
) -> Result<(), Violation> {
    let last = cx.sessions.get(&sid).map_or(0, |s| s.last_invocation);
    if request.0 > last {
        return Err(Violation::new(format!(
            "{what} for INVOCATION {request} that was never sent"
        )));
    }
    Ok(())
}
