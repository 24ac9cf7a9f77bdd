//! Ending calls early: CANCEL (`skip`, `kill`, `killnowait`), call
//! timeouts, and either side leaving. The caller's shard decides the
//! caller's answer (through `Calls`, so there is exactly one) and tells the
//! callee's shard, which finds the invocation by the caller's address: it
//! forgets an ended invocation (a late answer is dropped there) and sends
//! INTERRUPT only to a callee that announced call canceling (for any
//! other, every mode acts as `skip`).

use super::calls::OutCall;
use super::results::reply_call_error;
use super::Dealer;
use crate::realm::cx::Cx;
use crate::realm::envelope::DealerMsg;
use crate::realm::ids::CallerAddr;
use crate::session::features::PeerFeatures;
use crate::wire::options::{CancelMode, CancelOptions};
use crate::wire::{Dict, ErrorUri, Message, Payload, RequestId, SessionId, Text};

impl Dealer {
    /// A CANCEL from local session `sid`. Unknown or finished calls, and
    /// repeated CANCELs, are ignored.
    pub fn handle_cancel(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: &CancelOptions,
    ) {
        let Some(call) = self.calls.get_mut(sid, request) else {
            return;
        };
        if call.killing {
            return;
        }
        let interruptible = call.callee.features.has(PeerFeatures::CALLEE_CANCELING);
        let mode = if interruptible {
            options.mode
        } else {
            CancelMode::Skip
        };
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        if mode == CancelMode::Kill {
            call.killing = true;
            let callee = call.callee.addr.shard;
            return self.interrupt(cx, callee, caller, CancelMode::Kill, ErrorUri::Canceled);
        }
        let Some(call) = self.finish(sid, request) else {
            return;
        };
        cx.stats.calls_canceled += 1;
        let args = Payload::args(vec!["the caller canceled the call".into()]);
        reply_call_error(cx, sid, request, Text::from(ErrorUri::Canceled), args);
        let shard = call.callee.addr.shard;
        self.interrupt(cx, shard, caller, mode, ErrorUri::Canceled);
    }

    /// The timer of call `request` of `sid` fired: unless the call finished
    /// or was re-armed since (`token`), it fails with `wamp.error.timeout`
    /// and its callee is interrupted.
    pub fn call_timed_out(&mut self, cx: &mut Cx, sid: SessionId, request: RequestId, token: u64) {
        let current = self.calls.get_mut(sid, request);
        if current.is_none_or(|call| call.token != token) {
            return;
        }
        let Some(call) = self.finish(sid, request) else {
            return;
        };
        cx.stats.calls_timed_out += 1;
        let args = Payload::args(vec!["the call timed out".into()]);
        reply_call_error(cx, sid, request, Text::from(ErrorUri::Timeout), args);
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        self.stop_callee(cx, caller, &call, ErrorUri::Timeout);
    }

    /// Ends the invocation of a call that ended: its callee's shard forgets
    /// it and interrupts (`killnowait`) the callee if it can be interrupted.
    pub(super) fn stop_callee(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        call: &OutCall,
        reason: ErrorUri,
    ) {
        let shard = call.callee.addr.shard;
        self.interrupt(cx, shard, caller, CancelMode::KillNoWait, reason);
    }

    /// Sends an interrupt for the invocation serving `caller` to its callee's shard.
    fn interrupt(
        &mut self,
        cx: &mut Cx,
        shard: usize,
        caller: CallerAddr,
        mode: CancelMode,
        reason: ErrorUri,
    ) {
        if shard == cx.me {
            return self.interrupted(cx, caller, mode, reason);
        }
        let msg = DealerMsg::Interrupt {
            caller,
            mode,
            reason,
        };
        self.send(cx, shard, msg);
    }

    /// The call the invocation serving `caller` belongs to was canceled or
    /// ended (its callee is on this shard). `skip` and `killnowait` end the
    /// invocation here (the callee's late answer is dropped); `kill` and
    /// `killnowait` send INTERRUPT to a callee that can be interrupted.
    pub(super) fn interrupted(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        mode: CancelMode,
        reason: ErrorUri,
    ) {
        let Some(inv) = self.invocations.of_caller(&caller) else {
            return;
        };
        let (callee, id) = (inv.callee, inv.id);
        if mode != CancelMode::Kill {
            self.invocations.remove(callee, id);
        }
        let interruptible = cx
            .sessions
            .get(&callee)
            .is_some_and(|s| s.features.has(PeerFeatures::CALLEE_CANCELING));
        if mode == CancelMode::Skip || !interruptible {
            return;
        }
        let options = Dict::new()
            .with("mode", mode.name())
            .with("reason", Text::from(reason));
        let msg = Message::Interrupt {
            request: RequestId(id),
            options,
        };
        cx.reply(callee, &msg);
    }

    /// Fails every invocation in flight to `callee` (it left) with `wamp.error.canceled`.
    pub(super) fn cancel_invocations_of(&mut self, cx: &mut Cx, callee: SessionId) {
        for inv in self.invocations.remove_callee(callee) {
            let args = Payload::args(vec!["callee disconnected from in-flight request".into()]);
            let error = Text::from(ErrorUri::Canceled);
            self.call_failed(cx, inv.caller, error, args);
        }
    }

    /// Caller `sid` (a session of this shard) left: its calls end, and
    /// callees that can be interrupted are (`killnowait`).
    pub(super) fn caller_left(&mut self, cx: &mut Cx, sid: SessionId) {
        for (request, call) in self.calls.remove_caller(sid) {
            if call.counted {
                self.chooser.unloaded(call.callee.addr);
            }
            let caller = CallerAddr {
                shard: cx.me,
                session: sid,
                request,
            };
            self.stop_callee(cx, caller, &call, ErrorUri::Canceled);
        }
    }
}
