//! CALL on the dealer. A CALL is routed from the replica on the caller's
//! shard (best match, then the registration's invocation policy among the
//! callees with the features the call needs) and recorded in the caller's
//! `Calls` with its timeout. A local callee gets the INVOCATION directly; a
//! remote one through an `Invoke` envelope carrying the caller's return
//! address, which the callee's shard keeps until the final YIELD or ERROR.
//! A progressive CALL (`progress: true`) pins its later chunks, sent under
//! the same request ID, to the callee of its first.

use super::calls::{CallKind, OutCall, Retry};
use super::invocations::Inv;
use super::{Dealer, Route};
use crate::realm::cx::{Cx, TooLarge};
use crate::realm::envelope::DealerMsg;
use crate::realm::ids::{CalleeAddr, CallerAddr};
use crate::routing::{is_reserved, is_valid_uri, MatchPolicy};
use crate::session::features::PeerFeatures;
use crate::session::Violation;
use crate::wire::message::code;
use crate::wire::options::{CallOptions, InvokePolicy};
use crate::wire::{Dict, ErrorUri, Message, Payload, RegistrationId, RequestId, SessionId, Text};
use crate::wire::{Value, Value::UInt};
use std::time::Instant;

/// An invocation to deliver to a callee of this shard.
pub(super) struct Invoke {
    pub registration: RegistrationId,
    pub caller: CallerAddr,
    pub details: Dict,
    pub payload: Payload,
    /// The first chunk of a progressive invocation.
    pub progress: bool,
}

/// A call being routed: who made it, and when, if its latency is sampled.
struct NewCall {
    sid: SessionId,
    request: RequestId,
    started: Option<Instant>,
}

impl Dealer {
    /// A CALL from local session `sid`: a new call, or the next chunk of a
    /// progressive one.
    pub fn handle_call(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: &CallOptions,
        procedure: Text,
        payload: Payload,
    ) -> Result<(), Violation> {
        match self.calls.classify(sid, request, options.progress) {
            CallKind::New => {}
            CallKind::InFlight => {
                self.continue_call(cx, sid, request, options.progress, payload);
                return Ok(());
            }
            CallKind::Finished => return Ok(()),
        }
        let started = cx.stats.call_latency.sample();
        if options.progress {
            let announced = cx.sessions.get(&sid).map(|s| s.features);
            if !announced.is_some_and(|f| f.has(PeerFeatures::CALLER_PROGRESSIVE_INVOCATIONS)) {
                return Err(Violation::new(
                    "progressive CALL without announcing progressive_call_invocations",
                ));
            }
        }
        if !is_valid_uri(&procedure, MatchPolicy::Exact, cx.uri_check) {
            cx.reply_error(sid, code::CALL, request, ErrorUri::InvalidUri);
            return Ok(());
        }
        if is_reserved(&procedure) && self.meta_call(cx, sid, request, &procedure, &payload) {
            return Ok(());
        }
        let need = if options.progress {
            PeerFeatures::CALLEE_PROGRESSIVE_INVOCATIONS
        } else {
            PeerFeatures::NONE
        };
        let route = match self.registry.route(&procedure, need, &mut self.chooser) {
            Ok(route) => route,
            Err(error) => {
                cx.stats.calls_unroutable += 1;
                cx.reply_error(sid, code::CALL, request, error);
                return Ok(());
            }
        };
        cx.stats.calls += 1;
        let details = self.invocation_details(cx, sid, options, &route, procedure);
        let call = NewCall {
            sid,
            request,
            started,
        };
        self.start_call(cx, call, options, route, details, payload);
        Ok(())
    }

    /// Records a routed call and sends its (first) INVOCATION.
    fn start_call(
        &mut self,
        cx: &mut Cx,
        new: NewCall,
        options: &CallOptions,
        route: Route,
        details: Dict,
        payload: Payload,
    ) {
        let NewCall {
            sid,
            request,
            started,
        } = new;
        let timeout = self.policy.timeout(options.timeout_ms);
        let token = match timeout {
            Some(t) => cx.timers.arm(Instant::now() + t, &self.realm, sid, request),
            None => 0,
        };
        let counted = route.invoke == InvokePolicy::LeastLoaded;
        if counted {
            self.chooser.loaded(route.callee.addr);
        }
        let retry = (route.shared && !options.progress).then(|| {
            Box::new(Retry {
                details: details.clone(),
                payload: payload.clone(),
                tried: Vec::new(),
            })
        });
        let call = OutCall {
            registration: route.registration,
            callee: route.callee,
            token,
            timeout,
            receive_progress: options.receive_progress,
            invoking: options.progress,
            killing: false,
            counted,
            retry,
            started,
        };
        self.calls.insert(sid, request, call);
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        let invoke = Invoke {
            registration: route.registration,
            caller,
            details,
            payload,
            progress: options.progress,
        };
        self.send_invoke(cx, route.callee.addr, invoke);
    }

    /// INVOCATION.Details for a routed call: the procedure called (pattern
    /// registrations), `receive_progress` (a callee that streams results),
    /// the caller's identity (disclosed on request, by the callee's wish or
    /// by realm policy), `progress` (a progressive invocation).
    fn invocation_details(
        &self,
        cx: &Cx,
        sid: SessionId,
        options: &CallOptions,
        route: &Route,
        procedure: Text,
    ) -> Dict {
        let mut details = Dict::new();
        if route.policy != MatchPolicy::Exact {
            details.insert("procedure", Value::Str(procedure));
        }
        let callee = route.callee;
        if options.receive_progress
            && callee
                .features
                .has(PeerFeatures::CALLEE_PROGRESSIVE_RESULTS)
        {
            details.insert("receive_progress", Value::Bool(true));
        }
        let disclose = options.disclose_me || callee.disclose_caller || self.policy.disclose_caller;
        if let Some(s) = disclose.then(|| cx.sessions.get(&sid)).flatten() {
            details.insert("caller", UInt(sid.0));
            details.insert("caller_authid", Value::Str(s.identity.authid.clone()));
            details.insert("caller_authrole", Value::Str(s.identity.authrole.clone()));
        }
        if options.progress {
            details.insert("progress", Value::Bool(true));
        }
        details
    }

    /// The next chunk of the progressive call `request` of `sid`, for its pinned callee.
    fn continue_call(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        progress: bool,
        payload: Payload,
    ) {
        let Some(call) = self.calls.get_mut(sid, request) else {
            return;
        };
        if !call.invoking {
            // A request ID reused while its call is in flight: dropped.
            return;
        }
        call.invoking = progress;
        let callee = call.callee.addr;
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        if callee.shard == cx.me {
            return self.invoke_more(cx, caller, progress, payload);
        }
        let msg = DealerMsg::InvokeMore {
            caller,
            progress,
            payload,
        };
        self.send(cx, callee.shard, msg);
    }

    /// Delivers `call` to `callee`: directly when local, else through its shard.
    pub(super) fn send_invoke(&mut self, cx: &mut Cx, callee: CalleeAddr, call: Invoke) {
        if callee.shard == cx.me {
            return self.invoke(cx, callee.session, call);
        }
        let msg = DealerMsg::Invoke {
            registration: call.registration,
            callee: callee.session,
            caller: call.caller,
            details: call.details,
            payload: call.payload,
            progress: call.progress,
        };
        self.send(cx, callee.shard, msg);
    }

    /// Sends an INVOCATION to local callee `callee` and remembers the caller.
    pub(super) fn invoke(&mut self, cx: &mut Cx, callee: SessionId, call: Invoke) {
        let Some(session) = cx.sessions.get_mut(&callee) else {
            let error = Text::from(ErrorUri::NoSuchProcedure);
            return self.call_failed(cx, call.caller, error, Payload::empty());
        };
        let limit = self.policy.max_invocations;
        if limit > 0 && self.invocations.of_callee(callee) >= limit {
            let args = vec![
                Value::str("session.max_invocations_in_flight"),
                Value::UInt(limit as u64),
            ];
            let error = Text::from(ErrorUri::LimitExceeded);
            return self.call_failed(cx, call.caller, error, Payload::args(args));
        }
        let request = RequestId(session.next_invocation());
        let msg = Message::Invocation {
            request,
            registration: call.registration,
            details: call.details,
            payload: call.payload,
        };
        match cx.reply_limited(callee, &msg) {
            Ok(()) => {
                self.invocations.insert(Inv {
                    caller: call.caller,
                    callee,
                    id: request.0,
                    registration: call.registration,
                });
            }
            Err(too_large) => self.too_large_for_callee(cx, call.caller, too_large),
        }
    }

    /// The next chunk of the progressive invocation serving `caller`.
    pub(super) fn invoke_more(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        progress: bool,
        payload: Payload,
    ) {
        // None: the invocation already ended (final answer, callee gone, interrupt).
        let Some(inv) = self.invocations.of_caller(&caller) else {
            return;
        };
        let (callee, id) = (inv.callee, inv.id);
        let details = if progress {
            Dict::new().with("progress", true)
        } else {
            Dict::new()
        };
        let msg = Message::Invocation {
            request: RequestId(id),
            registration: inv.registration,
            details,
            payload,
        };
        if let Err(too_large) = cx.reply_limited(callee, &msg) {
            self.invocations.remove(callee, id);
            let options = Dict::new()
                .with("mode", "killnowait")
                .with("reason", Text::from(ErrorUri::PayloadSizeExceeded));
            let interrupt = Message::Interrupt {
                request: RequestId(id),
                options,
            };
            cx.reply(callee, &interrupt);
            self.too_large_for_callee(cx, caller, too_large);
        }
    }

    /// An INVOCATION did not fit the callee's transport: the call fails.
    fn too_large_for_callee(&mut self, cx: &mut Cx, caller: CallerAddr, too_large: TooLarge) {
        let args = Payload::args(vec![Value::str(too_large.describe("INVOCATION", "callee"))]);
        let error = Text::from(ErrorUri::PayloadSizeExceeded);
        self.call_failed(cx, caller, error, args);
    }
}
