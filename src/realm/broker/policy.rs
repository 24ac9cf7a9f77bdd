//! `PubSubPolicy`: a realm's publish & subscribe settings (from the
//! configuration): publisher disclosure, the bounds of event retention, and
//! the subscriptions (topic pattern + match policy) the router keeps an
//! event history for.

use crate::routing::MatchPolicy;
use crate::wire::Text;
use std::time::Duration;

/// How a realm keeps retained events (`PUBLISH.Options.retain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Retained events are kept at all.
    pub enabled: bool,
    /// The most topics with a retained event, router-wide.
    pub max_topics: usize,
    /// The most bytes of retained payload (and topic), router-wide.
    pub max_bytes: usize,
    /// How long a retained event lives (`None`: until replaced or evicted).
    pub ttl: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            enabled: true,
            max_topics: 10_000,
            max_bytes: 64 << 20,
            ttl: None,
        }
    }
}

impl Retention {
    /// The share of the limits one of `nr_shards` shards keeps (retained
    /// events are spread over the shards by topic).
    pub fn per_shard(&self, nr_shards: usize) -> (usize, usize) {
        let n = nr_shards.max(1);
        (self.max_topics.div_ceil(n), self.max_bytes.div_ceil(n))
    }
}

/// A subscription (topic pattern + match policy) with an event history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySpec {
    pub topic: Text,
    pub policy: MatchPolicy,
    /// The most events kept.
    pub limit: usize,
    /// The oldest event kept (`None`: no age limit).
    pub max_age: Option<Duration>,
}

/// A realm's publish & subscribe policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubSubPolicy {
    /// Publish meta events (and answer meta procedures).
    pub meta_api: bool,
    /// Disclose every publisher to subscribers (for clients that cannot send `disclose_me`).
    pub disclose_publisher: bool,
    pub retention: Retention,
    pub history: Vec<HistorySpec>,
}

impl Default for PubSubPolicy {
    fn default() -> Self {
        PubSubPolicy {
            meta_api: true,
            disclose_publisher: false,
            retention: Retention::default(),
            history: Vec::new(),
        }
    }
}

impl PubSubPolicy {
    /// The history kept for subscription (topic, policy), if any.
    pub fn history_of(&self, topic: &str, policy: MatchPolicy) -> Option<&HistorySpec> {
        self.history
            .iter()
            .find(|h| h.policy == policy && h.topic.as_str() == topic)
    }
}
