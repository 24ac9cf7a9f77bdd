//! `Broker`: one realm's pub/sub state on one shard: the topics this shard's
//! sessions subscribe to (with their router-wide subscription IDs), and which
//! other shards have subscribers of a topic ("interest").
//!
//! Matching is exact-topic for now: a hash lookup per publish, never a scan.

use crate::session::outbound::{FrameKind, Outbound, Pushed};
use crate::shard::ids::ShardId;
use crate::wire::{
    encode, Dict, Message, Payload, PublicationId, RequestId, Serializer, SessionId,
    SubscriptionId, Text,
};
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::rc::Rc;

/// A local subscriber of a topic.
pub struct Subscriber {
    pub session: SessionId,
    pub serializer: Serializer,
    pub outbound: Rc<Outbound>,
}

/// A topic with local subscribers (or local SUBSCRIBEs waiting for their ID).
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
    pub topics: HashMap<Text, Topic>,
    /// For each topic, the other shards that have subscribers of it (a bit per shard).
    interest: HashMap<Text, u64>,
}

impl Broker {
    /// Records that `shard` has (`on`) or no longer has subscribers of `topic`.
    pub fn set_interest(&mut self, topic: &Text, shard: ShardId, on: bool) {
        let bit = 1u64 << shard;
        if on {
            *self.interest.entry(topic.clone()).or_insert(0) |= bit;
        } else if let Some(mask) = self.interest.get_mut(topic.as_str()) {
            *mask &= !bit;
            if *mask == 0 {
                self.interest.remove(topic.as_str());
            }
        }
    }

    /// Number of topics with interest from other shards.
    pub fn interest_len(&self) -> usize {
        self.interest.len()
    }

    /// The other shards with subscribers of `topic`, as a bit mask.
    pub fn interested_shards(&self, topic: &str) -> u64 {
        self.interest.get(topic).copied().unwrap_or(0)
    }

    /// Delivers an event to the local subscribers of `topic`, except `exclude`.
    /// The EVENT is encoded once per serializer and shared by its subscribers.
    pub fn deliver(
        &self,
        topic: &str,
        publication: PublicationId,
        details: &Dict,
        payload: &Payload,
        exclude: Option<SessionId>,
    ) -> Delivery {
        let mut result = Delivery::default();
        let Some(t) = self.topics.get(topic) else {
            return result;
        };
        let (Some(subscription), true) = (t.id, t.active) else {
            return result;
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
    fn interest_is_tracked_per_shard() {
        let mut b = Broker::default();
        let t = Text::from("com.a");
        b.set_interest(&t, 1, true);
        b.set_interest(&t, 2, true);
        assert_eq!(b.interested_shards("com.a"), 0b110);
        b.set_interest(&t, 1, false);
        assert_eq!(b.interested_shards("com.a"), 0b100);
        b.set_interest(&t, 2, false);
        assert_eq!(b.interested_shards("com.a"), 0);
    }
}
