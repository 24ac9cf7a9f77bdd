//! The meta procedures the router answers itself (CALLs to `wamp.*`
//! procedures never reach a callee). Registration questions are answered
//! from this shard's replica; session and subscription questions go to
//! every shard (or the one that holds the answer) and are gathered here
//! (`gather.rs`); `wamp.subscription.get_events` (event history) is read
//! on the subscription's home shard and `remove_subscriber` runs on the
//! subscriber's shard, both answering as `DealerMsg::MetaAnswer`.

use super::Dealer;
use crate::realm::cx::Cx;
use crate::realm::envelope::{BrokerMsg, Envelope, HomeMsg, Reader};
use crate::realm::ids::{CallerAddr, IdAlloc};
use crate::routing::MatchPolicy;
use crate::session::Testament;
use crate::wire::message::code;
use crate::wire::options::PublishOptions;
use crate::wire::{
    Dict, ErrorUri, Message, Payload, RequestId, SessionId, SubscriptionId, Text, Value,
};

/// The `scope` keyword of the testament procedures: true for `detached`.
fn scope(args: &Args) -> Result<bool, ErrorUri> {
    match args.kwargs.get("scope") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Str(s)) if s.as_str() == "destroyed" => Ok(false),
        Some(Value::Str(s)) if s.as_str() == "detached" => Ok(true),
        Some(_) => Err(ErrorUri::TestamentError),
    }
}

/// How many events `get_events` returns when the caller does not say.
const DEFAULT_EVENTS: usize = 10;

/// A meta procedure's answer now (`Some`), later (`None`: asked other
/// shards), or its error (`NoSuchProcedure`: not a meta procedure after all).
pub(super) type MetaResult = Result<Option<Payload>, ErrorUri>;

type MetaFn = fn(&mut Dealer, &mut Cx, CallerAddr, &str, &Args) -> MetaResult;

/// The positional and keyword arguments of a CALL, decoded.
pub(super) struct Args {
    pub args: Vec<Value>,
    pub kwargs: Dict,
}

impl Args {
    fn of(payload: &Payload) -> Option<Args> {
        let (args, kwargs) = payload.to_values().ok()?;
        let args = match args {
            Some(Value::List(l)) => l,
            None => Vec::new(),
            Some(_) => return None,
        };
        let kwargs = match kwargs {
            Some(Value::Dict(d)) => d,
            None => Dict::new(),
            Some(_) => return None,
        };
        Some(Args { args, kwargs })
    }

    /// Argument `at`, or keyword `key`.
    pub fn arg(&self, at: usize, key: &str) -> Option<&Value> {
        self.args.get(at).or_else(|| self.kwargs.get(key))
    }

    /// Argument `at`, or keyword `key`, as a string.
    pub fn text(&self, at: usize, key: &str) -> Option<Text> {
        match self.arg(at, key)? {
            Value::Str(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// Argument `at`, or keyword `key`, as an integer.
    pub fn uint(&self, at: usize, key: &str) -> Option<u64> {
        self.args
            .get(at)
            .or_else(|| self.kwargs.get(key))
            .and_then(Value::as_u64)
    }
}

impl Dealer {
    /// Handles a CALL of a meta procedure; false when `procedure` is not one.
    pub(super) fn meta_call(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        procedure: &str,
        payload: &Payload,
    ) -> bool {
        if !self.policy.meta_api {
            return false;
        }
        let run: MetaFn = match procedure {
            "wamp.session.add_testament" => Self::add_testament,
            "wamp.session.flush_testaments" => Self::flush_testaments,
            "wamp.subscription.get_events" => Self::get_events,
            "wamp.subscription.remove_subscriber" => Self::remove_subscriber,
            p if p.starts_with("wamp.session.") => Self::session_meta,
            p if p.starts_with("wamp.subscription.") => Self::subscription_meta,
            p if p.starts_with("wamp.registration.") => Self::registration_meta,
            _ => return false,
        };
        let caller = CallerAddr {
            shard: cx.me,
            session: sid,
            request,
        };
        let outcome = Args::of(payload)
            .ok_or(ErrorUri::InvalidArgument)
            .and_then(|args| run(self, cx, caller, procedure, &args));
        match outcome {
            Ok(Some(payload)) => self.meta_answered(cx, caller, Ok(payload)),
            Ok(None) => {}
            Err(ErrorUri::NoSuchProcedure) => return false,
            Err(error) => cx.reply_error(sid, code::CALL, request, error),
        }
        true
    }

    /// `wamp.subscription.get_events(subscription, limit?)`: asks the shard
    /// that handed out the subscription ID.
    fn get_events(&mut self, cx: &mut Cx, caller: CallerAddr, _: &str, args: &Args) -> MetaResult {
        let subscription = args
            .uint(0, "subscription")
            .ok_or(ErrorUri::InvalidArgument)?;
        let limit = args.uint(1, "limit").map_or(DEFAULT_EVENTS, |n| n as usize);
        let s = cx
            .sessions
            .get(&caller.session)
            .ok_or(ErrorUri::NoSuchSession)?;
        let reader = Reader {
            shard: cx.me,
            session: caller.session,
            subscription: SubscriptionId(subscription),
            authid: s.identity.authid.clone(),
            authrole: s.identity.authrole.clone(),
        };
        let home = IdAlloc::home_of_id(subscription, cx.nr_shards);
        let msg = HomeMsg::SubscriptionEvents {
            realm: self.realm.clone(),
            subscription: SubscriptionId(subscription),
            limit,
            reader,
            caller,
        };
        cx.send(home, Envelope::Home(msg));
        Ok(None)
    }

    /// `wamp.subscription.remove_subscriber(subscription, session, reason=?)`:
    /// asks the subscriber's shard.
    fn remove_subscriber(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        _: &str,
        args: &Args,
    ) -> MetaResult {
        let subscription = args
            .uint(0, "subscription")
            .ok_or(ErrorUri::InvalidArgument)?;
        let session = args.uint(1, "session").ok_or(ErrorUri::InvalidArgument)?;
        let reason = match args.kwargs.get("reason") {
            None => None,
            Some(Value::Str(r)) => Some(r.clone()),
            Some(_) => return Err(ErrorUri::InvalidArgument),
        };
        let msg = BrokerMsg::Revoke {
            subscription: SubscriptionId(subscription),
            session: SessionId(session),
            reason,
            caller,
        };
        let dest = IdAlloc::shard_of_session(session, cx.nr_shards);
        let realm = self.realm.clone();
        cx.send(dest, Envelope::Broker { realm, msg });
        Ok(None)
    }

    /// `wamp.session.add_testament(topic, args, kwargs, publish_options=?, scope=?)`.
    fn add_testament(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        _: &str,
        args: &Args,
    ) -> MetaResult {
        let topic = args.text(0, "topic").ok_or(ErrorUri::InvalidArgument)?;
        if !crate::routing::is_valid_uri(&topic, MatchPolicy::Exact, cx.uri_check) {
            return Err(ErrorUri::InvalidUri);
        }
        let list = match args.arg(1, "args") {
            None | Some(Value::Null) => None,
            Some(Value::List(l)) => Some(l.clone()),
            Some(_) => return Err(ErrorUri::InvalidArgument),
        };
        let dict = match args.arg(2, "kwargs") {
            None | Some(Value::Null) => None,
            Some(Value::Dict(d)) => Some(d.clone()),
            Some(_) => return Err(ErrorUri::InvalidArgument),
        };
        let mut options = match args.kwargs.get("publish_options") {
            None | Some(Value::Null) => PublishOptions::default(),
            Some(Value::Dict(d)) => {
                PublishOptions::parse(d).map_err(|_| ErrorUri::InvalidArgument)?
            }
            Some(_) => return Err(ErrorUri::InvalidArgument),
        };
        options.acknowledge = false;
        let detached = scope(args)?;
        let s = cx
            .sessions
            .get_mut(&caller.session)
            .ok_or(ErrorUri::NoSuchSession)?;
        s.testaments.push(Testament {
            topic,
            payload: Payload::from_values(list, dict),
            options,
            detached,
        });
        Ok(Some(Payload::empty()))
    }

    /// `wamp.session.flush_testaments(scope=?)`: drops the caller's
    /// testaments of the scope; answers how many.
    fn flush_testaments(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        _: &str,
        args: &Args,
    ) -> MetaResult {
        let detached = scope(args)?;
        let s = cx
            .sessions
            .get_mut(&caller.session)
            .ok_or(ErrorUri::NoSuchSession)?;
        let before = s.testaments.len();
        s.testaments.retain(|t| t.detached != detached);
        let flushed = (before - s.testaments.len()) as u64;
        Ok(Some(Payload::args(vec![Value::UInt(flushed)])))
    }

    /// The answer of a meta procedure, for a caller of this shard.
    pub(super) fn meta_answered(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        result: Result<Payload, ErrorUri>,
    ) {
        let (sid, request) = (caller.session, caller.request);
        match result {
            Ok(payload) => {
                let msg = Message::Result {
                    request,
                    details: Dict::new(),
                    payload,
                };
                cx.reply(sid, &msg);
            }
            Err(error) => {
                let msg = Message::Error {
                    request_type: code::CALL,
                    request,
                    details: Dict::new(),
                    error: Text::from(error),
                    payload: Payload::empty(),
                };
                cx.reply(sid, &msg);
            }
        }
    }
}
