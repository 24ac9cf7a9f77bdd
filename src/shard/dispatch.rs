//! The dispatch of an established session's messages: each is checked
//! (request sequence, typed options) and handed to the role of the
//! session's realm. A message that breaks the protocol is a `Violation`.

use super::Shard;
use crate::auth::{Action, Decision, Grant, Role};
use crate::realm::Cx;
use crate::routing::MatchPolicy;
use crate::session::limits::{reached, Bucket, Exceeded, Limits};
use crate::session::{Flow, SessionEnd, Violation, ViolationKind};
use crate::wire::message::code;
use crate::wire::options::{
    CallOptions, CancelOptions, OptionError, PublishOptions, RegisterOptions, SubscribeOptions,
    YieldOptions,
};
use crate::wire::{Dict, ErrorUri, Message, Payload, RequestId, SessionId, Text, Value};
use std::time::Instant;

fn bad_option(e: OptionError) -> Violation {
    Violation::of(ViolationKind::Options, e.to_string())
}

/// The request ID of a message that opens a request, if it is one.
fn new_request(msg: &Message) -> Option<u64> {
    let (Message::Publish { request, .. }
    | Message::Subscribe { request, .. }
    | Message::Unsubscribe { request, .. }
    | Message::Call { request, .. }
    | Message::Register { request, .. }
    | Message::Unregister { request, .. }) = msg
    else {
        return None;
    };
    Some(request.0)
}

/// What a request asks to do: the action, the URI or pattern, and how the
/// pattern matches (SUBSCRIBE and REGISTER may ask for many URIs at once).
pub(super) struct Asking<'a> {
    pub action: Action,
    pub uri: &'a Text,
    pub policy: MatchPolicy,
}

/// The match policy a SUBSCRIBE or REGISTER asks for (an unknown one is
/// refused by the options' parser after this).
fn match_of(options: &Dict) -> MatchPolicy {
    options
        .get("match")
        .and_then(Value::as_str)
        .and_then(MatchPolicy::from_name)
        .unwrap_or(MatchPolicy::Exact)
}

/// What `msg` asks, if it is one of the requests a role decides.
pub(super) fn asks(msg: &Message) -> Option<Asking<'_>> {
    let (action, uri, policy) = match msg {
        Message::Publish { topic, .. } => (Action::Publish, topic, MatchPolicy::Exact),
        Message::Call { procedure, .. } => (Action::Call, procedure, MatchPolicy::Exact),
        Message::Subscribe { topic, options, .. } => (Action::Subscribe, topic, match_of(options)),
        Message::Register {
            procedure, options, ..
        } => (Action::Register, procedure, match_of(options)),
        _ => return None,
    };
    Some(Asking {
        action,
        uri,
        policy,
    })
}

/// What `role` says of `msg` (everything but the four requests is allowed).
#[inline]
fn authorize(role: &Role, msg: &Message) -> Decision {
    match asks(msg) {
        Some(a) if a.policy == MatchPolicy::Exact => role.decide(a.action, a.uri),
        Some(a) => role.decide_pattern(a.action, a.uri, a.policy),
        None => Decision::Grant(Grant {
            allow: true,
            disclose: false,
        }),
    }
}

/// Refuses a request the session's role does not allow: ERROR
/// `wamp.error.not_authorized` (an unacknowledged PUBLISH is dropped).
#[cold]
pub(super) fn deny(cx: &mut Cx<'_>, sid: SessionId, msg: &Message) {
    cx.stats.requests_denied += 1;
    let Some(Asking { action, uri, .. }) = asks(msg) else {
        return;
    };
    let role = cx.sessions.get(&sid).map(|s| s.role.name.clone());
    let text = format!(
        "authrole '{}' may not {} '{uri}'",
        role.unwrap_or_default(),
        action.name()
    );
    answer_error(
        cx,
        sid,
        msg,
        ErrorUri::NotAuthorized,
        vec![Value::str(text)],
    );
}

/// Answers request `msg` with ERROR `error` and `args`; an unacknowledged
/// PUBLISH gets no answer.
fn answer_error(cx: &mut Cx<'_>, sid: SessionId, msg: &Message, error: ErrorUri, args: Vec<Value>) {
    let (request_type, request) = match msg {
        Message::Publish {
            options, request, ..
        } => {
            let acked = options.get("acknowledge").and_then(Value::as_bool);
            if acked != Some(true) {
                return;
            }
            (code::PUBLISH, *request)
        }
        Message::Subscribe { request, .. } => (code::SUBSCRIBE, *request),
        Message::Call { request, .. } => (code::CALL, *request),
        Message::Register { request, .. } => (code::REGISTER, *request),
        _ => return,
    };
    let error = Message::Error {
        request_type,
        request,
        details: Dict::new(),
        error: Text::from(error),
        payload: Payload::args(args),
    };
    cx.reply(sid, &error);
}

/// The limit `msg` would break, if any.
fn over_limit(
    cx: &mut Cx<'_>,
    dealer: &crate::realm::Dealer,
    sid: SessionId,
    msg: &Message,
    limits: &Limits,
) -> Option<Exceeded> {
    let session = cx.sessions.get_mut(&sid)?;
    match msg {
        Message::Subscribe { .. } => reached(
            "session.max_subscriptions",
            session.subscriptions.len(),
            limits.subscriptions,
        ),
        Message::Register { .. } => reached(
            "session.max_registrations",
            session.registrations.len(),
            limits.registrations,
        ),
        Message::Call { request, .. } if !dealer.continues_call(sid, *request) => reached(
            "session.max_calls_in_flight",
            dealer.calls_of(sid),
            limits.calls_in_flight,
        ),
        Message::Publish { .. } if limits.publications_per_s > 0 => {
            let (rate, now) = (limits.publications_per_s, Instant::now());
            let bucket = session
                .publish_bucket
                .get_or_insert_with(|| Bucket::full(rate, now));
            (!bucket.take(rate, now)).then_some(Exceeded {
                name: "session.max_publications_per_s",
                value: u64::from(rate),
            })
        }
        _ => None,
    }
}

/// Refuses a request over a limit: ERROR `switchyard.error.limit_exceeded`
/// with the limit's name and value (an unacknowledged PUBLISH is dropped).
#[cold]
fn refuse(cx: &mut Cx<'_>, sid: SessionId, msg: &Message, hit: Exceeded) {
    cx.stats.requests_limited += 1;
    let args = vec![Value::str(hit.name), Value::UInt(hit.value)];
    answer_error(cx, sid, msg, ErrorUri::LimitExceeded, args);
}

impl Shard {
    /// Handles one message of an established session.
    pub fn handle_message(&mut self, sid: SessionId, msg: Message) -> Result<Flow, Violation> {
        self.stats.messages_in.add(msg.code());
        if self.settings.strict_request_ids {
            self.check_sequence(sid, &msg)?;
        }
        let flow = match msg {
            Message::Goodbye { .. } => {
                self.close_session(sid, SessionEnd::Goodbye);
                return Ok(Flow::Goodbye);
            }
            Message::Abort { .. } => {
                self.close_session(sid, SessionEnd::Abort);
                return Ok(Flow::Aborted);
            }
            msg => self.route(sid, msg).map(|()| Flow::Continue),
        };
        self.drain_local();
        flow
    }

    /// With strict request IDs, a new request must take the next ID of the
    /// session. The later chunks of a progressive CALL reuse its ID: they
    /// are not new requests.
    fn check_sequence(&mut self, sid: SessionId, msg: &Message) -> Result<(), Violation> {
        let Some(request) = new_request(msg) else {
            return Ok(());
        };
        if matches!(msg, Message::Call { .. }) && self.continues_call(sid, RequestId(request)) {
            return Ok(());
        }
        let in_sequence = self
            .sessions
            .get_mut(&sid)
            .is_none_or(|s| s.next_request_in_sequence(request));
        if in_sequence {
            Ok(())
        } else {
            Err(Violation::of(
                ViolationKind::Sequence,
                format!("request ID {request} breaks the sequence"),
            ))
        }
    }

    /// True when CALL `request` of `sid` continues a progressive call (in
    /// flight, or finished while its caller still streamed).
    fn continues_call(&self, sid: SessionId, request: RequestId) -> bool {
        let realm = self.sessions.get(&sid).map(|s| s.realm.as_str());
        realm
            .and_then(|r| self.realms.get(r))
            .is_some_and(|r| r.dealer.continues_call(sid, request))
    }

    /// Hands a request or reply to the broker or dealer of the session's
    /// realm, once its role allows it. A request a dynamic authorizer must
    /// decide, and everything the session sends while one is asked, takes
    /// the slow path (`authorize.rs`).
    #[inline(always)]
    pub(super) fn route(&mut self, sid: SessionId, msg: Message) -> Result<(), Violation> {
        match self.route_with(sid, msg, None)? {
            None => Ok(()),
            Some(waiting) => self.authorize_slowly(sid, waiting),
        }
    }

    /// Routes `msg` with `forced` as its grant, or the role's; gives the
    /// message back when the role cannot decide it now.
    /// (Inlined: a `Message` is large, and this is the hot path.)
    #[inline(always)]
    pub(super) fn route_with(
        &mut self,
        sid: SessionId,
        msg: Message,
        forced: Option<Grant>,
    ) -> Result<Option<Message>, Violation> {
        let limits = self.settings.limits;
        let (mut cx, realms, _) = self.split();
        let Some(session) = cx.sessions.get(&sid) else {
            return Ok(None);
        };
        let grant = match forced {
            Some(g) => g,
            None if session.parked.is_some() => return Ok(Some(msg)),
            None => match authorize(&session.role, &msg) {
                Decision::Grant(g) => g,
                Decision::Ask => return Ok(Some(msg)),
            },
        };
        let Some(realm) = realms.get_mut(session.realm.as_str()) else {
            return Ok(None);
        };
        realm.messages_in += u64::from(!session.internal);
        let limits = realm.limits.unwrap_or(limits);
        let cx = &mut cx;
        if !grant.allow {
            deny(cx, sid, &msg);
            return Ok(None);
        }
        if limits.apply_to(&msg) {
            if let Some(hit) = over_limit(cx, &realm.dealer, sid, &msg, &limits) {
                refuse(cx, sid, &msg, hit);
                return Ok(None);
            }
        }
        let (broker, dealer) = (&mut realm.broker, &mut realm.dealer);
        match msg {
            Message::Publish {
                request,
                options,
                topic,
                payload,
            } => {
                let mut options = PublishOptions::parse(&options).map_err(bad_option)?;
                options.disclose_me |= grant.disclose;
                broker.handle_publish(cx, sid, request, options, topic, payload);
            }
            Message::Subscribe {
                request,
                options,
                topic,
            } => {
                let options = SubscribeOptions::parse(&options).map_err(bad_option)?;
                broker.handle_subscribe(cx, sid, request, &options, topic);
            }
            Message::Unsubscribe {
                request,
                subscription,
                ..
            } => broker.handle_unsubscribe(cx, sid, request, subscription),
            Message::Call {
                request,
                options,
                procedure,
                payload,
            } => {
                let mut options = CallOptions::parse(&options).map_err(bad_option)?;
                options.disclose_me |= grant.disclose;
                dealer.handle_call(cx, sid, request, &options, procedure, payload)?;
            }
            Message::Register {
                request,
                options,
                procedure,
            } => {
                let options = RegisterOptions::parse(&options).map_err(bad_option)?;
                dealer.handle_register(cx, sid, request, &options, procedure);
            }
            Message::Unregister {
                request,
                registration,
                ..
            } => dealer.handle_unregister(cx, sid, request, registration),
            Message::Yield {
                request,
                options,
                payload,
            } => {
                let options = YieldOptions::parse(&options).map_err(bad_option)?;
                dealer.handle_yield(cx, sid, request, options.progress, payload)?;
            }
            Message::Error {
                request_type: code::INVOCATION,
                request,
                error,
                payload,
                ..
            } => dealer.handle_callee_error(cx, sid, request, error, payload)?,
            Message::Error { request_type, .. } => {
                return Err(Violation::of(
                    ViolationKind::Unexpected,
                    format!("ERROR with REQUEST.Type {request_type} from a client"),
                ))
            }
            Message::Cancel { request, options } => {
                let options = CancelOptions::parse(&options).map_err(bad_option)?;
                dealer.handle_cancel(cx, sid, request, &options);
            }
            other => {
                return Err(Violation::of(
                    ViolationKind::Unexpected,
                    format!("{} is not allowed on an established session", other.name()),
                ))
            }
        }
        Ok(None)
    }
}
