//! PUBLISH on the broker: deliver to the local subscribers of every matching
//! subscription (each EVENT encoded once per subscription and serializer,
//! shared by its subscribers) and send one `Publish` envelope to each other
//! shard with interest.

use super::Broker;
use crate::realm::cx::{Cx, Stats};
use crate::realm::envelope::{BrokerMsg, Envelope};
use crate::routing::{is_reserved, is_valid_uri, MatchPolicy};
use crate::session::outbound::{FrameKind, Pushed};
use crate::wire::message::code;
use crate::wire::options::PublishOptions;
use crate::wire::ErrorUri;
use crate::wire::{
    encode, Dict, Message, Payload, PublicationId, RequestId, Serializer, SessionId,
    SubscriptionId, Text,
};
use bytes::{Bytes, BytesMut};

/// What a delivery did, for the shard's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: u64,
    pub dropped: u64,
    /// Subscribers whose queue went over budget with this event (disconnected).
    pub overflowed: u64,
}

impl Delivery {
    /// Adds this delivery to the shard's counters.
    pub fn count(self, stats: &mut Stats) {
        stats.events_delivered += self.delivered;
        stats.events_dropped += self.dropped;
        stats.slow_consumer_disconnects += self.overflowed;
    }
}

impl Broker {
    /// A PUBLISH from local session `sid`.
    pub fn handle_publish(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: &PublishOptions,
        topic: Text,
        payload: Payload,
    ) {
        let valid = is_valid_uri(&topic, MatchPolicy::Exact, cx.uri_check) && !is_reserved(&topic);
        if !valid {
            if options.acknowledge {
                cx.reply_error(sid, code::PUBLISH, request, ErrorUri::InvalidUri);
            }
            return;
        }
        let publication = PublicationId(cx.ids.publication());
        let details = Dict::new();
        let exclude = options.exclude_me.then_some(sid);
        self.deliver(&topic, publication, &details, &payload, exclude)
            .count(cx.stats);
        for dest in self.interested_shards(&topic).iter() {
            let msg = BrokerMsg::Publish {
                topic: topic.clone(),
                publication,
                details: details.clone(),
                payload: payload.clone(),
            };
            let realm = self.realm.clone();
            cx.send(dest, Envelope::Broker { realm, msg });
        }
        if options.acknowledge {
            let msg = Message::Published {
                request,
                publication,
            };
            cx.reply(sid, &msg);
        }
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
