//! `Broker`: one realm's pub/sub role on one shard. It owns the
//! subscriptions this shard's sessions hold (pattern + match policy, with
//! their router-wide IDs), which other shards have subscribers of a pattern
//! ("interest"), and its SUBSCRIBEs waiting for other shards. Both tables
//! are `PatternIndex`es: a publish matches exact, prefix and wildcard
//! subscriptions without scanning them.
//!
//! It also keeps the events that outlive their delivery for the keys this
//! shard is home for: retained events per topic, event history per
//! configured subscription (`store.rs`).
//!
//! Client messages come in through `handle_subscribe`, `handle_unsubscribe`
//! and `handle_publish`; envelopes from other shards through `apply`.

mod events;
mod filter;
mod kept;
mod meta;
mod policy;
mod publish;
mod revoke;
mod store;
mod subscribe;

pub use filter::Filter;
pub use policy::{HistorySpec, PubSubPolicy, Retention};
pub use publish::{event_frame, Delivery};
pub use store::{rfc3339, StoredEvent};

use super::cx::Cx;
use super::envelope::{BrokerMsg, DealerMsg};
use super::ids::{ShardId, ShardSet};
use super::pending::Pending;
use crate::routing::{MatchPolicy, PatternIndex};
use crate::session::outbound::Outbound;
use crate::session::Identity;
use crate::wire::{Payload, PublicationId, RequestId, Serializer, SessionId, SubscriptionId, Text};
use std::collections::HashMap;
use std::rc::Rc;

/// A local subscriber of a topic.
pub struct Subscriber {
    pub session: SessionId,
    pub serializer: Serializer,
    pub outbound: Rc<Outbound>,
    /// Tested against a publish's authid and authrole lists (shared with
    /// the session: a subscriber stays small for fan-out).
    pub identity: Rc<Identity>,
}

/// A SUBSCRIBE waiting for its topic to become active.
pub struct Waiter {
    pub session: SessionId,
    pub request: RequestId,
    /// Send the retained events after SUBSCRIBED.
    pub get_retained: bool,
}

/// A subscription (pattern + policy) with local subscribers, or local
/// SUBSCRIBEs waiting for its ID.
pub struct Topic {
    /// The subscription's topic pattern (for the meta API).
    pub pattern: Text,
    /// When this shard first had it.
    pub created: std::time::SystemTime,
    /// Known once the home shard answered; subscribers are served only when `active`.
    pub id: Option<SubscriptionId>,
    /// True once every shard routes this topic's events here.
    pub active: bool,
    /// Sorted by session ID (an `eligible` list finds its sessions by binary search).
    pub subscribers: Vec<Subscriber>,
    /// SUBSCRIBEs waiting for the topic to become active.
    pub waiters: Vec<Waiter>,
}

/// What a broker operation waits for.
enum Waiting {
    /// The home shard's subscription ID for a local (topic, policy).
    SubscriptionId { topic: Text, policy: MatchPolicy },
    /// Acks of `InterestAdd` from every other shard.
    Interest {
        topic: Text,
        policy: MatchPolicy,
        remaining: usize,
    },
    /// Acks of the shards keeping an acknowledged publication (retention,
    /// history): PUBLISHED goes out with the last.
    Kept {
        session: SessionId,
        request: RequestId,
        publication: PublicationId,
        remaining: usize,
    },
}

/// One realm's pub/sub state on one shard.
pub struct Broker {
    realm: Text,
    policy: PubSubPolicy,
    topics: PatternIndex<Topic>,
    /// For each pattern, the other shards that have subscribers of it.
    interest: PatternIndex<ShardSet>,
    pending: Pending<Waiting>,
    /// Retained events of the topics this shard is home for.
    retained: store::Retained,
    /// Event histories of the configured subscriptions this shard is home for.
    history: HashMap<(Text, MatchPolicy), store::History>,
    /// Retained events evicted since the last log line, and when that was.
    evictions: store::Evicted,
    evictions_logged: Option<std::time::Instant>,
}

impl Broker {
    /// The broker of `realm`.
    pub fn new(realm: Text, policy: PubSubPolicy) -> Self {
        Broker {
            realm,
            policy,
            topics: PatternIndex::default(),
            interest: PatternIndex::default(),
            pending: Pending::default(),
            retained: store::Retained::default(),
            history: HashMap::new(),
            evictions: store::Evicted::default(),
            evictions_logged: None,
        }
    }

    /// Retained events held on this shard: (topics, bytes).
    pub fn retained_usage(&self) -> (usize, usize) {
        self.retained.usage()
    }

    /// Subscriptions with local subscribers (or waiting SUBSCRIBEs).
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    /// Patterns with interest from other shards.
    pub fn interest_count(&self) -> usize {
        self.interest.len()
    }

    /// Operations waiting for other shards.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Applies a broker envelope from another shard (or this one).
    pub fn apply(&mut self, cx: &mut Cx, msg: BrokerMsg) {
        match msg {
            BrokerMsg::Publish {
                topic,
                publication,
                details,
                payload,
                recipients,
            } => {
                let filter = recipients
                    .as_deref()
                    .map(|r| Filter::new(r, cx.me, cx.nr_shards));
                let event = publish::Event {
                    topic: &topic,
                    publication,
                    details: &details,
                    payload: &payload,
                };
                self.deliver(&event, None, filter.as_ref()).count(cx.stats);
            }
            BrokerMsg::PublishMeta { topic, args } => self.publish_meta(cx, &topic, || args),
            BrokerMsg::Retain { topic, event, ack } => {
                self.store_retained(cx, topic, event);
                self.ack_kept(cx, ack);
            }
            BrokerMsg::KeptAcked { op } => self.kept_acked(cx, op),
            BrokerMsg::GetRetained {
                pattern,
                policy,
                reader,
            } => self.send_retained(cx, &pattern, policy, reader),
            BrokerMsg::RetainedEvents {
                reader,
                policy,
                events,
            } => self.deliver_retained(cx, &reader, policy, events),
            BrokerMsg::HistoryAppend {
                pattern,
                policy,
                topic,
                event,
                ack,
            } => {
                self.append_history(pattern, policy, topic, event);
                self.ack_kept(cx, ack);
            }
            BrokerMsg::History {
                pattern,
                policy,
                subscription,
                limit,
                reader,
                caller,
            } => {
                let result = self.read_history(&pattern, policy, subscription, limit, &reader);
                self.meta_answer(cx, caller, result);
            }
            BrokerMsg::SubscriptionQuery { query, from, op } => {
                let part = self.answer_subscriptions(&query);
                let realm = self.realm.clone();
                let msg = DealerMsg::MetaPart { op, part };
                cx.send(from, super::Envelope::Dealer { realm, msg });
            }
            BrokerMsg::Revoke {
                subscription,
                session,
                reason,
                caller,
            } => {
                let result = self.revoke(cx, subscription, session, reason);
                self.meta_answer(cx, caller, result.map(|()| Payload::empty()));
            }
            BrokerMsg::SubscriptionAcquired { op, subscription } => {
                self.subscription_acquired(cx, op, subscription)
            }
            BrokerMsg::InterestAdd {
                topic,
                policy,
                from,
                op,
            } => {
                self.set_interest(&topic, policy, from, true);
                let realm = self.realm.clone();
                cx.send(
                    from,
                    super::Envelope::Broker {
                        realm,
                        msg: BrokerMsg::InterestAcked { op },
                    },
                );
            }
            BrokerMsg::InterestAcked { op } => self.interest_acked(cx, op),
            BrokerMsg::InterestRemove {
                topic,
                policy,
                from,
            } => self.set_interest(&topic, policy, from, false),
        }
    }

    /// Records that `shard` has (`on`) or no longer has subscribers of (pattern, policy).
    fn set_interest(&mut self, pattern: &Text, policy: MatchPolicy, shard: ShardId, on: bool) {
        match self.interest.get_mut(pattern, policy) {
            Some(set) if on => set.insert(shard),
            Some(set) => {
                set.remove(shard);
                if set.is_empty() {
                    self.interest.remove(pattern, policy);
                }
            }
            None if on => {
                self.interest
                    .insert(pattern.clone(), policy, ShardSet::one(shard));
            }
            None => {}
        }
    }

    /// The other shards with subscribers matching `topic`.
    fn interested_shards(&self, topic: &str) -> ShardSet {
        let mut set = ShardSet::default();
        self.interest.matches(topic, |(_, s)| set.union_with(s));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_is_tracked_per_shard_and_pattern() {
        let mut b = Broker::new(Text::from("realm1"), PubSubPolicy::default());
        let t = Text::from("com.a");
        b.set_interest(&t, MatchPolicy::Exact, 1, true);
        b.set_interest(&t, MatchPolicy::Exact, 200, true);
        b.set_interest(&Text::from("com."), MatchPolicy::Prefix, 3, true);
        let shards = |b: &Broker| b.interested_shards("com.a").iter().collect::<Vec<_>>();
        assert_eq!(shards(&b), [1, 3, 200]);
        b.set_interest(&t, MatchPolicy::Exact, 1, false);
        assert_eq!(shards(&b), [3, 200]);
        b.set_interest(&t, MatchPolicy::Exact, 200, false);
        b.set_interest(&Text::from("com."), MatchPolicy::Prefix, 3, false);
        assert!(b.interested_shards("com.a").is_empty());
        assert_eq!(b.interest_count(), 0);
    }
}
