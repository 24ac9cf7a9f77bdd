//! YIELD and callee ERROR on the dealer, and their way back to the caller.
//! The callee's shard takes the invocation (left in flight for a
//! progressive YIELD) and routes the answer to the caller's shard, which
//! delivers it only if the call is still in flight there: a progressive
//! RESULT only to a caller that asked for them (others are dropped, per the
//! spec: the caller did not ask for progress), the final answer once. A
//! callee's `wamp.error.unavailable` reroutes a call of a shared
//! registration to another callee (`call_reroute`).

use super::call::Invoke;
use super::calls::OutCall;
use super::Dealer;
use crate::realm::cx::Cx;
use crate::realm::envelope::DealerMsg;
use crate::realm::ids::CallerAddr;
use crate::session::{Violation, ViolationKind};
use crate::wire::message::code;
use crate::wire::{Dict, ErrorUri, Message, Payload, RequestId, SessionId, Text, Value};
use std::time::Instant;

impl Dealer {
    /// A YIELD from local callee `sid` (`progress`: more results follow).
    pub fn handle_yield(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        progress: bool,
        payload: Payload,
    ) -> Result<(), Violation> {
        let inv = if progress {
            self.invocations.get(sid, request.0)
        } else {
            self.invocations.remove(sid, request.0)
        };
        let Some(inv) = inv else {
            return check_late_reply(cx, sid, request, "YIELD");
        };
        let details = if progress {
            Dict::new().with("progress", true)
        } else {
            Dict::new()
        };
        self.call_result(cx, inv.caller, details, payload, progress);
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
            Some(inv) => self.call_failed(cx, inv.caller, error, payload),
            None => check_late_reply(cx, sid, request, "ERROR")?,
        }
        Ok(())
    }

    /// Routes a callee's YIELD to its caller's shard.
    fn call_result(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
        progress: bool,
    ) {
        if caller.shard == cx.me {
            return self.deliver_result(cx, caller, details, payload, progress);
        }
        let msg = DealerMsg::Yielded {
            caller,
            details,
            payload,
            progress,
        };
        self.send(cx, caller.shard, msg);
    }

    /// Routes a call failure to its caller's shard.
    pub(super) fn call_failed(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        error: Text,
        payload: Payload,
    ) {
        if caller.shard == cx.me {
            return self.deliver_failure(cx, caller, error, payload);
        }
        let msg = DealerMsg::CallFailed {
            caller,
            error,
            payload,
        };
        self.send(cx, caller.shard, msg);
    }

    /// A result for a call of this shard: RESULT to the caller if the call is still in flight.
    pub(super) fn deliver_result(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        details: Dict,
        payload: Payload,
        progress: bool,
    ) {
        let (sid, request) = (caller.session, caller.request);
        let mut answered = None;
        if progress {
            let Some(call) = self.calls.get_mut(sid, request) else {
                return;
            };
            if !call.receive_progress {
                return;
            }
            if let Some(t) = call.timeout {
                call.token = cx.timers.arm(Instant::now() + t, &self.realm, sid, request);
            }
        } else {
            let Some(call) = self.finish(sid, request) else {
                return;
            };
            answered = Some(call.started);
        }
        let msg = Message::Result {
            request,
            details,
            payload,
        };
        let sent = cx.reply_limited(sid, &msg);
        if let (Ok(()), Some(started)) = (sent, answered) {
            cx.stats.calls_answered += 1;
            if let Some(t) = started {
                cx.stats.call_latency.record_since(t);
            }
        }
        if let Err(too_large) = sent {
            cx.stats.calls_errored += 1;
            let what = too_large.describe("RESULT", "caller");
            if progress {
                if let Some(call) = self.finish(sid, request) {
                    self.stop_callee(cx, caller, &call, ErrorUri::PayloadSizeExceeded);
                }
            }
            let args = Payload::args(vec![Value::str(what)]);
            let error = Text::from(ErrorUri::PayloadSizeExceeded);
            reply_call_error(cx, sid, request, error, args);
        }
    }

    /// A failure for a call of this shard: ERROR to the caller if the call
    /// is still in flight, or a reroute when the callee was unavailable.
    pub(super) fn deliver_failure(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        error: Text,
        payload: Payload,
    ) {
        let (sid, request) = (caller.session, caller.request);
        if error.as_str() == ErrorUri::Unavailable.uri() {
            return self.reroute(cx, caller);
        }
        if let Some(call) = self.finish(sid, request) {
            // A `kill` CANCEL waits for the callee's answer: its ERROR ends a canceled call.
            match call.killing {
                true => cx.stats.calls_canceled += 1,
                false => cx.stats.calls_errored += 1,
            }
            reply_call_error(cx, sid, request, error, payload);
        }
    }

    /// The callee refused the call as unavailable: try the next callee of
    /// the registration by its policy, or answer `no_available_callee`.
    fn reroute(&mut self, cx: &mut Cx, caller: CallerAddr) {
        let (sid, request) = (caller.session, caller.request);
        let Some(call) = self.calls.get_mut(sid, request) else {
            return;
        };
        let killing = call.killing;
        let registration = call.registration;
        let next = match call.retry.as_mut().filter(|_| !killing) {
            Some(retry) => {
                retry.tried.push(call.callee.addr);
                let next = self
                    .registry
                    .reroute(registration, &retry.tried, &mut self.chooser);
                next.map(|entry| (entry, retry.details.clone(), retry.payload.clone()))
            }
            None => None,
        };
        let Some((entry, details, payload)) = next else {
            self.finish(sid, request);
            cx.stats.calls_errored += 1;
            let args = Payload::args(vec!["every callee of the procedure is unavailable".into()]);
            let error = Text::from(ErrorUri::NoAvailableCallee);
            return reply_call_error(cx, sid, request, error, args);
        };
        if call.counted {
            self.chooser.unloaded(call.callee.addr);
            self.chooser.loaded(entry.addr);
        }
        call.callee = entry;
        let invoke = Invoke {
            registration,
            caller,
            details,
            payload,
            progress: false,
        };
        self.send_invoke(cx, entry.addr, invoke);
    }

    /// Takes call `request` of `sid` as answered.
    pub(super) fn finish(&mut self, sid: SessionId, request: RequestId) -> Option<OutCall> {
        let call = self.calls.remove(sid, request)?;
        if call.counted {
            self.chooser.unloaded(call.callee.addr);
        }
        Some(call)
    }
}

/// Sends `[ERROR, CALL, request, {}, error, payload]` to `sid`.
pub(super) fn reply_call_error(
    cx: &mut Cx,
    sid: SessionId,
    request: RequestId,
    error: Text,
    payload: Payload,
) {
    let msg = Message::Error {
        request_type: code::CALL,
        request,
        details: Dict::new(),
        error,
        payload,
    };
    cx.reply(sid, &msg);
}

/// A reply to an invocation that is no longer pending: legitimate when the
/// call ended (caller gone, canceled, timed out: dropped silently), a
/// violation when it was never sent.
fn check_late_reply(
    cx: &Cx,
    sid: SessionId,
    request: RequestId,
    what: &str,
) -> Result<(), Violation> {
    let last = cx.sessions.get(&sid).map_or(0, |s| s.last_invocation);
    if request.0 > last {
        return Err(Violation::of(
            ViolationKind::Unexpected,
            format!("{what} for INVOCATION {request} that was never sent"),
        ));
    }
    Ok(())
}
