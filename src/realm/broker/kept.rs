//! Event retention and event history on the broker. A publish with
//! `retain` sends its event to the topic's home shard; one matching a
//! configured history subscription sends it to that subscription's home
//! shard (at most once per history). A SUBSCRIBE with `get_retained` asks
//! the topic's home (an exact subscription) or every shard (a pattern one)
//! for the retained events it matches, which come back as EVENTs with
//! `Details.retained` after SUBSCRIBED. `wamp.subscription.get_events`
//! reads a history where it is kept. Receiver lists are re-applied to every
//! reader; events addressed to sessions by ID are never kept in history. An
//! acknowledged publish answers PUBLISHED only once every shard keeping its
//! event acked, so a reader that follows it sees the event.

use super::filter::{names_sessions, Filter};
use super::store::{rfc3339, Evicted, StoredEvent};
use super::{Broker, Waiting};
use crate::realm::cx::Cx;
use crate::realm::envelope::{BrokerMsg, DealerMsg, Envelope, Reader};
use crate::realm::ids::{CallerAddr, OpId, ShardId};
use crate::routing::{pattern_matches, MatchPolicy};
use crate::session::outbound::FrameKind;
use crate::wire::{
    Dict, ErrorUri, Message, Payload, RequestId, SessionId, SubscriptionId, Text, Value,
};
use std::time::{Duration, Instant};

/// How often evictions of retained events are logged (counted in between).
const EVICTION_LOG_EVERY: Duration = Duration::from_secs(10);

/// The most events one `get_events` call returns.
pub const MAX_EVENTS: usize = 10_000;

impl Broker {
    /// Hands a published event to retention (`retain`) and to the
    /// histories it belongs to. With `published` (an acknowledged publish:
    /// its session and request), PUBLISHED waits for every shard keeping
    /// the event; returns false when the caller must answer it now.
    pub(super) fn keep(
        &mut self,
        cx: &mut Cx,
        topic: &Text,
        event: StoredEvent,
        retain: bool,
        published: Option<(SessionId, RequestId)>,
    ) -> bool {
        let addressed = event.recipients.as_deref().is_some_and(names_sessions);
        let mut histories: Vec<(Text, MatchPolicy)> = Vec::new();
        if !addressed {
            histories = self
                .policy
                .history
                .iter()
                .filter(|h| pattern_matches(&h.topic, h.policy, topic))
                .map(|h| (h.topic.clone(), h.policy))
                .collect();
        }
        let retain = retain && self.policy.retention.enabled;
        let targets = histories.len() + usize::from(retain);
        if targets == 0 {
            return false;
        }
        let ack = published.map(|(session, request)| {
            let op = self.pending.add(Waiting::Kept {
                session,
                request,
                publication: event.publication,
                remaining: targets,
            });
            (cx.me, op)
        });
        for (pattern, policy) in histories {
            let home = cx.home_of(&self.realm, &pattern, policy);
            let msg = BrokerMsg::HistoryAppend {
                pattern,
                policy,
                topic: topic.clone(),
                event: event.clone(),
                ack,
            };
            self.send(cx, home, msg);
        }
        if retain {
            let home = cx.home_of(&self.realm, topic, MatchPolicy::Exact);
            let topic = topic.clone();
            self.send(cx, home, BrokerMsg::Retain { topic, event, ack });
        }
        ack.is_some()
    }

    /// Acks the keeping of an event, if its publisher waits for it.
    pub(super) fn ack_kept(&self, cx: &mut Cx, ack: Option<(ShardId, OpId)>) {
        if let Some((shard, op)) = ack {
            self.send(cx, shard, BrokerMsg::KeptAcked { op });
        }
    }

    /// Counts one keeping shard's ack; answers PUBLISHED on the last.
    pub(super) fn kept_acked(&mut self, cx: &mut Cx, op: OpId) {
        let done = match self.pending.get_mut(op) {
            Some(Waiting::Kept { remaining, .. }) => {
                *remaining = remaining.saturating_sub(1);
                *remaining == 0
            }
            Some(Waiting::SubscriptionId { .. } | Waiting::Interest { .. }) | None => false,
        };
        if !done {
            return;
        }
        if let Some(Waiting::Kept {
            session,
            request,
            publication,
            ..
        }) = self.pending.take(op)
        {
            let msg = Message::Published {
                request,
                publication,
            };
            cx.reply(session, &msg);
        }
    }

    /// Sends `msg` to the broker of this realm on shard `dest`.
    pub(super) fn send(&self, cx: &mut Cx, dest: usize, msg: BrokerMsg) {
        let realm = self.realm.clone();
        cx.send(dest, Envelope::Broker { realm, msg });
    }

    /// Keeps `event` as the retained event of `topic`, within the realm's bounds.
    pub(super) fn store_retained(&mut self, cx: &mut Cx, topic: Text, event: StoredEvent) {
        let (max_topics, max_bytes) = self.policy.retention.per_shard(cx.nr_shards);
        let evicted = self.retained.store(topic, event, max_topics, max_bytes);
        if evicted.topics == 0 {
            return;
        }
        cx.stats.retained_evicted += evicted.topics as u64;
        self.evictions.topics += evicted.topics;
        self.evictions.bytes += evicted.bytes;
        let now = Instant::now();
        if self
            .evictions_logged
            .is_some_and(|at| now - at < EVICTION_LOG_EVERY)
        {
            return;
        }
        let (held_topics, held_bytes) = self.retained.usage();
        tracing::warn!(
            realm = %self.realm,
            evicted_topics = self.evictions.topics,
            evicted_bytes = self.evictions.bytes,
            held_topics,
            held_bytes,
            limit_topics = max_topics,
            limit_bytes = max_bytes,
            "retained events evicted (oldest first) to stay within this shard's share of the realm's bounds"
        );
        self.evictions = Evicted::default();
        self.evictions_logged = Some(now);
    }

    /// After SUBSCRIBED: asks for the retained events subscription
    /// (pattern, policy) matches, where they are kept.
    pub(super) fn ask_retained(
        &mut self,
        cx: &mut Cx,
        pattern: &Text,
        policy: MatchPolicy,
        reader: Reader,
    ) {
        if !self.policy.retention.enabled {
            return;
        }
        let msg = |reader| BrokerMsg::GetRetained {
            pattern: pattern.clone(),
            policy,
            reader,
        };
        if policy == MatchPolicy::Exact {
            let home = cx.home_of(&self.realm, pattern, policy);
            return self.send(cx, home, msg(reader));
        }
        for dest in 0..cx.nr_shards {
            self.send(cx, dest, msg(reader.clone()));
        }
    }

    /// Answers `GetRetained` with this shard's matching retained events.
    pub(super) fn send_retained(
        &mut self,
        cx: &mut Cx,
        pattern: &str,
        policy: MatchPolicy,
        reader: Reader,
    ) {
        let ttl = self.policy.retention.ttl;
        let events = match policy {
            MatchPolicy::Exact => self
                .retained
                .get(pattern, ttl)
                .map(|e| vec![(Text::from(pattern), e)])
                .unwrap_or_default(),
            MatchPolicy::Prefix | MatchPolicy::Wildcard => self
                .retained
                .matching(ttl, |t| pattern_matches(pattern, policy, t)),
        };
        if events.is_empty() {
            return;
        }
        let dest = reader.shard;
        let msg = BrokerMsg::RetainedEvents {
            reader,
            policy,
            events,
        };
        self.send(cx, dest, msg);
    }

    /// Delivers retained events to the new subscriber `reader` (if it is
    /// still subscribed), as EVENTs with `Details.retained`.
    pub(super) fn deliver_retained(
        &mut self,
        cx: &mut Cx,
        reader: &Reader,
        policy: MatchPolicy,
        events: Vec<(Text, StoredEvent)>,
    ) {
        let Some(s) = cx.sessions.get(&reader.session) else {
            return;
        };
        let subscribed = s
            .subscriptions
            .iter()
            .any(|(id, ..)| *id == reader.subscription);
        if !subscribed {
            return;
        }
        for (topic, e) in events {
            if !admits(&e, reader) {
                continue;
            }
            let mut details = e.details.clone().with("retained", true);
            if policy != MatchPolicy::Exact {
                details.insert("topic", Value::Str(topic));
            }
            let frame = super::event_frame(
                s.serializer,
                reader.subscription,
                e.publication,
                &details,
                &e.payload,
            );
            if let Some(frame) = frame {
                s.outbound.push(frame, FrameKind::Event);
            }
        }
    }

    /// Appends an event to the history of subscription (pattern, policy).
    pub(super) fn append_history(
        &mut self,
        pattern: Text,
        policy: MatchPolicy,
        topic: Text,
        event: StoredEvent,
    ) {
        let Some(spec) = self.policy.history_of(&pattern, policy) else {
            return;
        };
        let (limit, max_age) = (spec.limit, spec.max_age);
        self.history
            .entry((pattern, policy))
            .or_default()
            .append(topic, event, limit, max_age);
    }

    /// `wamp.subscription.get_events`: the latest `limit` events of
    /// subscription (pattern, policy) that `reader` may see, oldest first.
    pub(super) fn read_history(
        &mut self,
        pattern: &Text,
        policy: MatchPolicy,
        subscription: SubscriptionId,
        limit: usize,
        reader: &Reader,
    ) -> Result<Payload, ErrorUri> {
        let spec = self
            .policy
            .history_of(pattern, policy)
            .ok_or(ErrorUri::HistoryUnavailable)?;
        let max_age = spec.max_age;
        let Some(history) = self.history.get_mut(&(pattern.clone(), policy)) else {
            return Ok(Payload::args(vec![Value::List(Vec::new())]));
        };
        let events = history.latest(limit.min(MAX_EVENTS), max_age, |e| admits(e, reader));
        let list = events
            .into_iter()
            .map(|(topic, e)| history_entry(subscription, policy, topic, &e))
            .collect();
        Ok(Payload::args(vec![Value::List(list)]))
    }

    /// Sends the answer of a meta procedure to its caller's shard.
    pub(super) fn meta_answer(
        &self,
        cx: &mut Cx,
        caller: CallerAddr,
        result: Result<Payload, ErrorUri>,
    ) {
        let realm = self.realm.clone();
        let msg = DealerMsg::MetaAnswer { caller, result };
        cx.send(caller.shard, Envelope::Dealer { realm, msg });
    }
}

/// True when a kept event's receiver lists admit `reader`.
fn admits(e: &StoredEvent, reader: &Reader) -> bool {
    let Some(r) = e.recipients.as_deref() else {
        return true;
    };
    // As one shard: every session of the lists counts.
    Filter::new(r, 0, 1).admits(reader.session, &reader.authid, &reader.authrole)
}

/// One event of a `get_events` answer: `{timestamp, subscription,
/// publication, details, args?, kwargs?}`.
fn history_entry(
    subscription: SubscriptionId,
    policy: MatchPolicy,
    topic: Text,
    e: &StoredEvent,
) -> Value {
    let mut details = e.details.clone();
    if policy != MatchPolicy::Exact {
        details.insert("topic", Value::Str(topic));
    }
    let mut d = Dict::new()
        .with("timestamp", Value::str(rfc3339(e.published)))
        .with("subscription", subscription.0)
        .with("publication", e.publication.0)
        .with("details", details);
    if let Ok((args, kwargs)) = e.payload.to_values() {
        if let Some(a) = args {
            d.insert("args", a);
        }
        if let Some(k) = kwargs {
            d.insert("kwargs", k);
        }
    }
    Value::Dict(d)
}
