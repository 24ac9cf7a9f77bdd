//! SUBSCRIBE and UNSUBSCRIBE on the broker, and the life of a subscription
//! across shards: the home shard hands out its router-wide ID, then every
//! other shard acks the interest, and only then does SUBSCRIBED go out, so
//! an event published after it, on any shard, reaches the new subscriber.
//! The last local subscriber leaving releases the interest and the ID.

use super::{Broker, Subscriber, Topic, Waiter, Waiting};
use crate::realm::cx::Cx;
use crate::realm::envelope::{BrokerMsg, Envelope, HomeMsg, Reader};
use crate::realm::ids::OpId;
use crate::routing::{is_valid_uri, MatchPolicy};
use crate::wire::message::code;
use crate::wire::options::SubscribeOptions;
use crate::wire::ErrorUri;
use crate::wire::{Message, RequestId, SessionId, SubscriptionId, Text, Value};

const ON_SUBSCRIBE: &str = "wamp.subscription.on_subscribe";
const ON_UNSUBSCRIBE: &str = "wamp.subscription.on_unsubscribe";

impl Broker {
    /// A SUBSCRIBE from local session `sid`.
    pub fn handle_subscribe(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: &SubscribeOptions,
        topic: Text,
    ) {
        let policy = options.match_policy;
        if !is_valid_uri(&topic, policy, cx.uri_check) {
            return cx.reply_error(sid, code::SUBSCRIBE, request, ErrorUri::InvalidUri);
        }
        let waiter = Waiter {
            session: sid,
            request,
            get_retained: options.get_retained,
        };
        match self.topics.get_mut(&topic, policy) {
            Some(t) if t.active => {
                if let Some(id) = t.id {
                    self.subscribed(cx, waiter, id, &topic, policy);
                }
                return;
            }
            Some(t) => return t.waiters.push(waiter),
            None => {}
        }
        let t = Topic {
            pattern: topic.clone(),
            created: std::time::SystemTime::now(),
            id: None,
            active: false,
            subscribers: Vec::new(),
            waiters: vec![waiter],
        };
        self.topics.insert(topic.clone(), policy, t);
        let op = self.pending.add(Waiting::SubscriptionId {
            topic: topic.clone(),
            policy,
        });
        let home = cx.home_of(&self.realm, &topic, policy);
        let msg = HomeMsg::SubscriptionAcquire {
            realm: self.realm.clone(),
            topic,
            policy,
            from: cx.me,
            session: sid,
            op,
        };
        cx.send(home, Envelope::Home(msg));
    }

    /// An UNSUBSCRIBE from local session `sid`.
    pub fn handle_unsubscribe(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        subscription: SubscriptionId,
    ) {
        let Some(session) = cx.sessions.get_mut(&sid) else {
            return;
        };
        let Some(at) = session
            .subscriptions
            .iter()
            .position(|(id, ..)| *id == subscription)
        else {
            let error = ErrorUri::NoSuchSubscription;
            return cx.reply_error(sid, code::UNSUBSCRIBE, request, error);
        };
        let (_, topic, policy) = session.subscriptions.swap_remove(at);
        self.drop_subscriber(cx, &topic, policy, sid);
        let msg = Message::Unsubscribed {
            request,
            details: None,
        };
        cx.reply(sid, &msg);
    }

    /// Local session `sid` left holding `subscriptions`.
    pub fn session_closed(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        subscriptions: &[(SubscriptionId, Text, MatchPolicy)],
    ) {
        for (_, topic, policy) in subscriptions {
            self.drop_subscriber(cx, topic, *policy, sid);
        }
    }

    /// Removes `sid` from (topic, policy); it goes (router-wide) with its last subscriber.
    pub(super) fn drop_subscriber(
        &mut self,
        cx: &mut Cx,
        topic: &Text,
        policy: MatchPolicy,
        sid: SessionId,
    ) {
        let Some(t) = self.topics.get_mut(topic, policy) else {
            return;
        };
        t.subscribers.retain(|s| s.session != sid);
        let id = t.id;
        let gone = t.subscribers.is_empty() && t.waiters.is_empty() && t.active;
        if let Some(id) = id {
            let args = || vec![Value::UInt(sid.0), Value::UInt(id.0)];
            self.meta_via_home(cx, (topic, policy), ON_UNSUBSCRIBE, args);
        }
        if gone {
            self.topics.remove(topic, policy);
            self.release_topic(cx, topic, policy, sid);
        }
    }

    fn release_topic(
        &mut self,
        cx: &mut Cx,
        topic: &Text,
        policy: MatchPolicy,
        session: SessionId,
    ) {
        let (realm, from) = (&self.realm, cx.me);
        cx.broadcast(|| Envelope::Broker {
            realm: realm.clone(),
            msg: BrokerMsg::InterestRemove {
                topic: topic.clone(),
                policy,
                from,
            },
        });
        let home = cx.home_of(realm, topic, policy);
        let msg = HomeMsg::SubscriptionRelease {
            realm: realm.clone(),
            topic: topic.clone(),
            policy,
            from,
            session,
        };
        cx.send(home, Envelope::Home(msg));
    }

    /// The home shard gave the subscription's ID: tell every other shard.
    pub(super) fn subscription_acquired(
        &mut self,
        cx: &mut Cx,
        op: OpId,
        subscription: SubscriptionId,
    ) {
        let Some(waiting) = self.pending.take(op) else {
            return;
        };
        let (topic, policy) = match waiting {
            Waiting::SubscriptionId { topic, policy } => (topic, policy),
            Waiting::Interest { .. } | Waiting::Kept { .. } => {
                tracing::error!(op, "subscription ID for another operation");
                return;
            }
        };
        if let Some(t) = self.topics.get_mut(&topic, policy) {
            t.id = Some(subscription);
        }
        if cx.nr_shards == 1 {
            return self.activate_topic(cx, &topic, policy);
        }
        let remaining = cx.nr_shards - 1;
        let op = self.pending.add(Waiting::Interest {
            topic: topic.clone(),
            policy,
            remaining,
        });
        let (realm, from) = (&self.realm, cx.me);
        cx.broadcast(|| Envelope::Broker {
            realm: realm.clone(),
            msg: BrokerMsg::InterestAdd {
                topic: topic.clone(),
                policy,
                from,
                op,
            },
        });
    }

    /// Counts one shard's ack of an interest; activates the topic on the last.
    pub(super) fn interest_acked(&mut self, cx: &mut Cx, op: OpId) {
        let done = match self.pending.get_mut(op) {
            Some(Waiting::Interest { remaining, .. }) => {
                *remaining = remaining.saturating_sub(1);
                *remaining == 0
            }
            Some(Waiting::SubscriptionId { .. } | Waiting::Kept { .. }) | None => false,
        };
        if !done {
            return;
        }
        if let Some(Waiting::Interest { topic, policy, .. }) = self.pending.take(op) {
            self.activate_topic(cx, &topic, policy);
        }
    }

    /// Every shard routes the subscription here now: answer the waiting SUBSCRIBEs.
    fn activate_topic(&mut self, cx: &mut Cx, topic: &Text, policy: MatchPolicy) {
        let Some(t) = self.topics.get_mut(topic, policy) else {
            return;
        };
        let Some(id) = t.id else { return };
        t.active = true;
        let waiters = std::mem::take(&mut t.waiters);
        // If every waiter left meanwhile, the subscription goes in the name
        // of the one that created it.
        let creator = waiters.first().map_or(SessionId(0), |w| w.session);
        for waiter in waiters {
            self.subscribed(cx, waiter, id, topic, policy);
        }
        let empty = self
            .topics
            .get(topic, policy)
            .is_some_and(|t| t.subscribers.is_empty());
        if empty {
            self.topics.remove(topic, policy);
            self.release_topic(cx, topic, policy, creator);
        }
    }

    /// Adds `waiter`'s session to the active subscription `id`, answers
    /// SUBSCRIBED, then asks for the retained events if it wanted them.
    fn subscribed(
        &mut self,
        cx: &mut Cx,
        waiter: Waiter,
        id: SubscriptionId,
        topic: &Text,
        policy: MatchPolicy,
    ) {
        let sid = waiter.session;
        let Some(t) = self.topics.get_mut(topic, policy) else {
            return;
        };
        let Some((identity, added)) = add_subscriber(cx, t, sid, id, topic, policy) else {
            return;
        };
        let msg = Message::Subscribed {
            request: waiter.request,
            subscription: id,
        };
        cx.reply(sid, &msg);
        if added {
            let args = || vec![Value::UInt(sid.0), Value::UInt(id.0)];
            self.meta_via_home(cx, (topic, policy), ON_SUBSCRIBE, args);
        }
        if waiter.get_retained {
            let reader = Reader {
                shard: cx.me,
                session: sid,
                subscription: id,
                authid: identity.0,
                authrole: identity.1,
            };
            self.ask_retained(cx, topic, policy, reader);
        }
    }
}

/// Adds local session `sid` to `t` (once, in session order) and records it
/// on the session; returns its (authid, authrole) and whether it was added
/// now (not already subscribed), or `None` if it left.
fn add_subscriber(
    cx: &mut Cx,
    t: &mut Topic,
    sid: SessionId,
    id: SubscriptionId,
    topic: &Text,
    policy: MatchPolicy,
) -> Option<((Text, Text), bool)> {
    let s = cx.sessions.get_mut(&sid)?;
    let identity = (s.identity.authid.clone(), s.identity.authrole.clone());
    let at = t.subscribers.binary_search_by_key(&sid, |x| x.session);
    if let Err(at) = at {
        t.subscribers.insert(
            at,
            Subscriber {
                session: sid,
                serializer: s.serializer,
                outbound: s.outbound.clone(),
                identity: s.identity.clone(),
            },
        );
        s.subscriptions.push((id, topic.clone(), policy));
    }
    Some((identity, at.is_err()))
}
