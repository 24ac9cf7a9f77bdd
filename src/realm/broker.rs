//! `Broker`: one realm's pub/sub state on one shard: the subscriptions
//! (pattern + match policy) this shard's sessions hold, with their
//! router-wide IDs, and which other shards have subscribers of a pattern
//! ("interest"). Both are `PatternIndex`es: a publish matches exact, prefix
//! and wildcard subscriptions without scanning them.

use crate::routing::{MatchPolicy, PatternIndex};
use crate::session::outbound::{FrameKind, Outbound, Pushed};
use crate::shard::ids::ShardId;
use crate::wire::{
    encode, Dict, Message, Payload, PublicationId, RequestId, Serializer, SessionId,
    SubscriptionId, Text,
};
use bytes::{Bytes, BytesMut};
use std::rc::Rc;

/// A local subscriber of a topic.
pub struct Subscriber {
    pub session: SessionId,
    pub serializer: Serializer,
    pub outbound: Rc<Outbound>,
}

/// A subscription (pattern + policy) with local subscribers, or local
/// SUBSCRIBEs waiting for its ID.
pub struct Topic {
    /// Known once the home shard answered; subscribers are served only when `active`.
    pub id: Option<SubscriptionId>,
    /// True once every shard routes this topic's events here.
    pub active: bool,
    pub subscribers: Vec<Subscriber>,
    /// SUBSCRIBEs waiting for the topic to become active.
    pub waiters: Vec<(SessionId, RequestId)>,
}

/// What a delivery did, for the shard's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: u64,
    pub dropped: u64,
    /// Subscribers whose queue went over budget with this event (disconnected).
    pub overflowed: u64,
}

/// One realm's pub/sub state on one shard.
#[derive(Default)]
pub struct Broker {
    pub topics: PatternIndex<Topic>,
    /// For each pattern, the other shards that have subscribers of it (a bit per shard).
    interest: PatternIndex<u64>,
}

impl Broker {
    /// Records that `shard` has (`on`) or no longer has subscribers of (pattern, policy).
    pub fn set_interest(&mut self, pattern: &Text, policy: MatchPolicy, shard: ShardId, on: bool) {
        let bit = 1u64 << shard;
        match self.interest.get_mut(pattern, policy) {
            Some(mask) if on => *mask |= bit,
            Some(mask) => {
                *mask &= !bit;
                if *mask == 0 {
                    self.interest.remove(pattern, policy);
                }
            }
            None if on => {
                self.interest.insert(pattern.clone(), policy, bit);
            }
            None => {}
        }
    }

    /// Number of patterns with interest from other shards.
    pub fn interest_len(&self) -> usize {
        self.interest.len()
    }

    /// The other shards with subscribers matching `topic`, as a bit mask.
    pub fn interested_shards(&self, topic: &str) -> u64 {
        let mut mask = 0;
        self.interest.matches(topic, |(_, m)| mask |= *m);
        mask
    }

    /// Delivers an event to the local subscribers of every subscription
    /// matching `topic`, except `exclude`. Each EVENT is encoded once per
    /// (subscription, serializer) and shared by its subscribers; pattern
    /// subscriptions get `Details.topic`.
    pub fn deliver(
        &self,
        topic: &str,
        publication: PublicationId,
        details: &Dict,
        payload: &Payload,
        exclude: Option<SessionId>,
    ) -> Delivery {
        let mut result = Delivery::default();
        self.topics.matches(topic, |(policy, t)| {
            let (Some(subscription), true) = (t.id, t.active) else {
                return;
            };
            let pattern_details;
            let details = if policy == MatchPolicy::Exact {
                details
            } else {
                pattern_details = details.clone().with("topic", topic);
                &pattern_details
            };
            let mut frames: [Option<Option<Bytes>>; 3] = [None, None, None];
            for s in &t.subscribers {
                if Some(s.session) == exclude {
                    continue;
                }
                let frame = frames[s.serializer.index()].get_or_insert_with(|| {
                    event_frame(s.serializer, subscription, publication, details, payload)
                });
                let Some(frame) = frame else {
                    result.dropped += 1;
                    continue;
                };
                match s.outbound.push(frame.clone(), FrameKind::Event) {
                    Pushed::Queued => result.delivered += 1,
                    Pushed::Overflow => result.overflowed += 1,
                    Pushed::Dropped | Pushed::Closed => result.dropped += 1,
                }
            }
        });
        result
    }
}

/// Encodes one EVENT in `ser` (`None` when the payload cannot be transcoded).
pub fn event_frame(
    ser: Serializer,
    subscription: SubscriptionId,
    publication: PublicationId,
    details: &Dict,
    payload: &Payload,
) -> Option<Bytes> {
    let payload = if payload.is_native(ser) {
        payload.clone()
    } else {
        payload.transcoded(ser).ok()?
    };
    let msg = Message::Event {
        subscription,
        publication,
        details: details.clone(),
        payload,
    };
    let mut out = BytesMut::with_capacity(64);
    encode(ser, &msg, &mut out);
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_is_tracked_per_shard_and_pattern() {
        let mut b = Broker::default();
        let t = Text::from("com.a");
        b.set_interest(&t, MatchPolicy::Exact, 1, true);
        b.set_interest(&t, MatchPolicy::Exact, 2, true);
        b.set_interest(&Text::from("com."), MatchPolicy::Prefix, 3, true);
        assert_eq!(b.interested_shards("com.a"), 0b1110);
        b.set_interest(&t, MatchPolicy::Exact, 1, false);
        assert_eq!(b.interested_shards("com.a"), 0b1100);
        b.set_interest(&t, MatchPolicy::Exact, 2, false);
        b.set_interest(&Text::from("com."), MatchPolicy::Prefix, 3, false);
        assert_eq!(b.interested_shards("com.a"), 0);
        assert_eq!(b.interest_len(), 0);
    }
}
