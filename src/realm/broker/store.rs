//! Events the broker keeps after delivering them: the retained event of a
//! topic (`Retained`, bounded in topics, bytes and age, oldest evicted
//! first) and the event history of a subscription (`History`, bounded in
//! events and age). Both live on one shard per key (the topic's home for
//! retention, the subscription's home for history), so an event lands in
//! them exactly once, in publish order per publisher. Payloads are kept as
//! received (raw bytes in the publisher's serializer) and transcoded when
//! read.

use crate::wire::options::Recipients;
use crate::wire::payload::Elem;
use crate::wire::{Dict, Payload, PublicationId, SessionId, Text};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

pub use crate::wire::timestamp::rfc3339;

/// One published event as kept.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub publication: PublicationId,
    /// EVENT.Details as published (publisher disclosure).
    pub details: Dict,
    pub payload: Payload,
    /// The publish's receiver lists, re-applied to whoever reads the event.
    pub recipients: Option<Box<Recipients>>,
    pub publisher: SessionId,
    /// Wall-clock time of the publish (history timestamps).
    pub published: SystemTime,
}

impl StoredEvent {
    /// Bytes this event holds (payload and details, roughly), for memory bounds.
    pub fn size(&self) -> usize {
        let elem = |e: &Option<Elem>| match e {
            Some(Elem::Raw { bytes, .. }) => bytes.len(),
            Some(Elem::Value(_)) => 64,
            None => 0,
        };
        64 + elem(&self.payload.args) + elem(&self.payload.kwargs) + 32 * self.details.0.len()
    }
}

/// What storing a retained event pushed out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    pub topics: usize,
    pub bytes: usize,
}

struct RetainedEntry {
    event: StoredEvent,
    seq: u64,
    stored: Instant,
    bytes: usize,
}

/// The retained events of the topics this shard is home for.
#[derive(Default)]
pub struct Retained {
    by_topic: HashMap<Text, RetainedEntry>,
    /// Topics by the order they were stored (oldest first), for eviction.
    order: BTreeMap<u64, Text>,
    next_seq: u64,
    bytes: usize,
}

impl Retained {
    /// Stores `event` as the retained event of `topic`, then evicts the
    /// oldest topics until at most `max_topics` and `max_bytes` are held.
    pub fn store(
        &mut self,
        topic: Text,
        event: StoredEvent,
        max_topics: usize,
        max_bytes: usize,
    ) -> Evicted {
        self.remove(&topic);
        let bytes = topic.len() + event.size();
        self.next_seq += 1;
        let seq = self.next_seq;
        self.order.insert(seq, topic.clone());
        self.bytes += bytes;
        let entry = RetainedEntry {
            event,
            seq,
            stored: Instant::now(),
            bytes,
        };
        self.by_topic.insert(topic, entry);
        let mut evicted = Evicted::default();
        while self.by_topic.len() > max_topics || self.bytes > max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.by_topic.remove(&oldest) {
                self.bytes -= e.bytes;
                evicted.topics += 1;
                evicted.bytes += e.bytes;
            }
        }
        evicted
    }

    fn remove(&mut self, topic: &str) {
        if let Some(old) = self.by_topic.remove(topic) {
            self.order.remove(&old.seq);
            self.bytes -= old.bytes;
        }
    }

    /// The retained events of topics `matches` accepts, younger than `ttl`
    /// (older ones are dropped here).
    pub fn matching(
        &mut self,
        ttl: Option<Duration>,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Vec<(Text, StoredEvent)> {
        if let Some(ttl) = ttl {
            let expired: Vec<Text> = self
                .by_topic
                .iter()
                .filter(|(_, e)| e.stored.elapsed() > ttl)
                .map(|(t, _)| t.clone())
                .collect();
            for t in expired {
                self.remove(&t);
            }
        }
        self.by_topic
            .iter()
            .filter(|(t, _)| matches(t))
            .map(|(t, e)| (t.clone(), e.event.clone()))
            .collect()
    }

    /// The retained event of exactly `topic`, if young enough.
    pub fn get(&mut self, topic: &str, ttl: Option<Duration>) -> Option<StoredEvent> {
        let expired = ttl.is_some_and(|ttl| {
            self.by_topic
                .get(topic)
                .is_some_and(|e| e.stored.elapsed() > ttl)
        });
        if expired {
            self.remove(topic);
        }
        self.by_topic.get(topic).map(|e| e.event.clone())
    }

    /// Topics and bytes held.
    pub fn usage(&self) -> (usize, usize) {
        (self.by_topic.len(), self.bytes)
    }
}

/// One subscription's event history.
#[derive(Default)]
pub struct History {
    events: VecDeque<(Text, StoredEvent, Instant)>,
}

impl History {
    /// Appends the event published to `topic`, dropping the oldest beyond
    /// `limit` events or `max_age`.
    pub fn append(
        &mut self,
        topic: Text,
        event: StoredEvent,
        limit: usize,
        max_age: Option<Duration>,
    ) {
        self.events.push_back((topic, event, Instant::now()));
        while self.events.len() > limit {
            self.events.pop_front();
        }
        self.trim(max_age);
    }

    fn trim(&mut self, max_age: Option<Duration>) {
        let Some(max_age) = max_age else { return };
        while self
            .events
            .front()
            .is_some_and(|(_, _, at)| at.elapsed() > max_age)
        {
            self.events.pop_front();
        }
    }

    /// The latest `limit` events (oldest first) that `admits` accepts.
    pub fn latest(
        &mut self,
        limit: usize,
        max_age: Option<Duration>,
        mut admits: impl FnMut(&StoredEvent) -> bool,
    ) -> Vec<(Text, StoredEvent)> {
        self.trim(max_age);
        let mut out: Vec<_> = self
            .events
            .iter()
            .rev()
            .filter(|(_, e, _)| admits(e))
            .take(limit)
            .map(|(t, e, _)| (t.clone(), e.clone()))
            .collect();
        out.reverse();
        out
    }

    /// Events held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u64) -> StoredEvent {
        StoredEvent {
            publication: PublicationId(n),
            details: Dict::new(),
            payload: Payload::empty(),
            recipients: None,
            publisher: SessionId(1),
            published: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn retained_events_replace_and_the_oldest_topic_is_evicted_first() {
        let mut r = Retained::default();
        assert_eq!(r.store(Text::from("a"), event(1), 2, 1 << 20).topics, 0);
        r.store(Text::from("b"), event(2), 2, 1 << 20);
        r.store(Text::from("a"), event(3), 2, 1 << 20);
        let evicted = r.store(Text::from("c"), event(4), 2, 1 << 20);
        assert_eq!(evicted.topics, 1, "b was the oldest");
        assert!(r.get("b", None).is_none());
        assert_eq!(r.get("a", None).unwrap().publication, PublicationId(3));
        assert_eq!(r.usage().0, 2);
        let all = r.matching(None, |t| t.starts_with('c'));
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn history_keeps_the_latest_events_in_order() {
        let mut h = History::default();
        for n in 1..=5 {
            h.append(Text::from("t"), event(n), 3, None);
        }
        let got: Vec<_> = h
            .latest(2, None, |_| true)
            .into_iter()
            .map(|(_, e)| e.publication.0)
            .collect();
        assert_eq!(got, [4, 5]);
        assert_eq!(h.len(), 3);
        let odd: Vec<_> = h
            .latest(10, None, |e| e.publication.0 % 2 == 1)
            .into_iter()
            .map(|(_, e)| e.publication.0)
            .collect();
        assert_eq!(odd, [3, 5]);
    }
}
