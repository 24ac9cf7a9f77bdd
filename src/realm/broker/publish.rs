//! PUBLISH on the broker: deliver to the local subscribers of every matching
//! subscription (each EVENT encoded once per subscription and serializer,
//! shared by its subscribers) that the publish's receiver lists admit, send
//! one `Publish` envelope to each other shard with interest (and, with an
//! `eligible` list, only to the shards of its sessions), and hand the event
//! to retention and history.

use super::filter::{eligible_shards, Filter};
use super::store::StoredEvent;
use super::{Broker, Subscriber};
use crate::realm::cx::{Cx, Stats};
use crate::realm::envelope::{BrokerMsg, Envelope};
use crate::routing::{is_reserved, is_valid_uri, MatchPolicy};
use crate::session::outbound::{FrameKind, Pushed};
use crate::session::{Identity, Session, Testament};
use crate::wire::message::code;
use crate::wire::options::PublishOptions;
use crate::wire::ErrorUri;
use crate::wire::{
    encode, Dict, Message, Payload, PublicationId, RequestId, Serializer, SessionId,
    SubscriptionId, Text,
};
use bytes::{Bytes, BytesMut};
use std::time::{Instant, SystemTime};

/// What a delivery did, for the shard's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: u64,
    pub dropped: u64,
    /// Subscribers whose queue went over budget with this event (disconnected).
    pub overflowed: u64,
    /// Subscribers the publish's receiver lists turned away.
    pub filtered: u64,
}

impl Delivery {
    /// Adds this delivery to the shard's counters.
    pub fn count(self, stats: &mut Stats) {
        stats.events_delivered += self.delivered;
        stats.events_dropped += self.dropped;
        stats.slow_consumer_disconnects += self.overflowed;
        stats.events_filtered += self.filtered;
    }
}

/// Who published, and when, if the publish's fan-out is sampled.
struct Publish {
    sid: SessionId,
    request: RequestId,
    started: Option<Instant>,
}

/// An event as delivered: where it was published and what it carries.
pub struct Event<'a> {
    pub topic: &'a str,
    pub publication: PublicationId,
    pub details: &'a Dict,
    pub payload: &'a Payload,
}

impl Broker {
    /// A PUBLISH from local session `sid`.
    pub fn handle_publish(
        &mut self,
        cx: &mut Cx,
        sid: SessionId,
        request: RequestId,
        options: PublishOptions,
        topic: Text,
        payload: Payload,
    ) {
        let started = cx.stats.publish_latency.sample();
        let valid = is_valid_uri(&topic, MatchPolicy::Exact, cx.uri_check) && !is_reserved(&topic);
        if !valid {
            if options.acknowledge {
                cx.reply_error(sid, code::PUBLISH, request, ErrorUri::InvalidUri);
            }
            return;
        }
        let details = self.event_details(cx, sid, &options);
        let publish = Publish {
            sid,
            request,
            started,
        };
        self.publish_event(cx, publish, options, topic, payload, details);
    }

    /// Publishes an event of `sid` (validated) with EVENT.Details `details`;
    /// a sampled one records its time to the last local delivery.
    fn publish_event(
        &mut self,
        cx: &mut Cx,
        publish: Publish,
        options: PublishOptions,
        topic: Text,
        payload: Payload,
        details: Dict,
    ) {
        let Publish {
            sid,
            request,
            started,
        } = publish;
        let publication = PublicationId(cx.ids.publication());
        let mut recipients = options.recipients;
        if let Some(r) = recipients.as_deref_mut() {
            r.normalize();
        }
        let filter = recipients
            .as_deref()
            .map(|r| Filter::new(r, cx.me, cx.nr_shards));
        let exclude = options.exclude_me.then_some(sid);
        let event = Event {
            topic: &topic,
            publication,
            details: &details,
            payload: &payload,
        };
        self.deliver(&event, exclude, filter.as_ref())
            .count(cx.stats);
        if let Some(t) = started {
            cx.stats.publish_latency.record_since(t);
        }
        let mut shards = self.interested_shards(&topic);
        if let Some(reach) = recipients
            .as_deref()
            .and_then(|r| eligible_shards(r, cx.nr_shards))
        {
            shards.intersect_with(&reach);
        }
        for dest in shards.iter() {
            let msg = BrokerMsg::Publish {
                topic: topic.clone(),
                publication,
                details: details.clone(),
                payload: payload.clone(),
                recipients: recipients.clone(),
            };
            let realm = self.realm.clone();
            cx.send(dest, Envelope::Broker { realm, msg });
        }
        let mut answered = false;
        if options.retain || !self.policy.history.is_empty() {
            let kept = StoredEvent {
                publication,
                details,
                payload,
                recipients,
                publisher: sid,
                published: SystemTime::now(),
            };
            let published = options.acknowledge.then_some((sid, request));
            answered = self.keep(cx, &topic, kept, options.retain, published);
        }
        if options.acknowledge && !answered {
            let msg = Message::Published {
                request,
                publication,
            };
            cx.reply(sid, &msg);
        }
    }

    /// Publishes the testaments of `session`, which is going away (detached
    /// ones first, then destroyed ones, each in the order they were added),
    /// with the session as disclosed publisher.
    pub fn publish_testaments(&mut self, cx: &mut Cx, session: &Session) {
        let mut testaments: Vec<&Testament> = session.testaments.iter().collect();
        testaments.sort_by_key(|t| !t.detached);
        for t in testaments {
            let details = publisher_details(session.id, &session.identity);
            let (topic, payload) = (t.topic.clone(), t.payload.clone());
            let options = t.options.clone();
            let publish = Publish {
                sid: session.id,
                request: RequestId(0),
                started: None,
            };
            self.publish_event(cx, publish, options, topic, payload, details);
        }
    }

    /// EVENT.Details for a publish of `sid`: the publisher, when it asks to
    /// be disclosed or the realm discloses every publisher.
    fn event_details(&self, cx: &Cx, sid: SessionId, options: &PublishOptions) -> Dict {
        let disclose = options.disclose_me || self.policy.disclose_publisher;
        let Some(s) = disclose.then(|| cx.sessions.get(&sid)).flatten() else {
            return Dict::new();
        };
        publisher_details(sid, &s.identity)
    }

    /// Delivers an event to the local subscribers of every subscription
    /// matching its topic, except `exclude` and those `filter` turns away.
    /// Each EVENT is encoded once per (subscription, serializer) and shared
    /// by its subscribers; pattern subscriptions get `Details.topic`. An
    /// `eligible` list is walked instead of the subscribers.
    pub fn deliver(
        &self,
        event: &Event,
        exclude: Option<SessionId>,
        filter: Option<&Filter>,
    ) -> Delivery {
        let mut result = Delivery::default();
        self.topics.matches(event.topic, |(policy, t)| {
            let (Some(subscription), true) = (t.id, t.active) else {
                return;
            };
            let pattern_details;
            let details = if policy == MatchPolicy::Exact {
                event.details
            } else {
                pattern_details = event.details.clone().with("topic", event.topic);
                &pattern_details
            };
            let mut frames = Frames::new(subscription, event.publication, details, event.payload);
            let wanted = |s: &&Subscriber| Some(s.session) != exclude;
            match filter {
                None => {
                    for s in t.subscribers.iter().filter(wanted) {
                        frames.push(s, &mut result);
                    }
                }
                Some(f) => {
                    let before = result.delivered + result.dropped + result.overflowed;
                    let admitted = |s: &&Subscriber| wanted(s) && f.admits_subscriber(s);
                    match f.eligible_sessions() {
                        Some(ids) => {
                            let found = ids.filter_map(|id| {
                                let at = t.subscribers.binary_search_by_key(&id, |s| s.session.0);
                                at.ok().map(|i| &t.subscribers[i])
                            });
                            for s in found.filter(admitted) {
                                frames.push(s, &mut result);
                            }
                        }
                        None => {
                            for s in t.subscribers.iter().filter(admitted) {
                                frames.push(s, &mut result);
                            }
                        }
                    }
                    let reached = result.delivered + result.dropped + result.overflowed - before;
                    result.filtered += t.subscribers.len() as u64 - reached;
                }
            }
        });
        result
    }
}

/// `publisher`, `publisher_authid`, `publisher_authrole`.
fn publisher_details(sid: SessionId, who: &Identity) -> Dict {
    Dict::new()
        .with("publisher", sid.0)
        .with("publisher_authid", who.authid.clone())
        .with("publisher_authrole", who.authrole.clone())
}

/// The EVENT frames of one subscription, encoded on first use per serializer.
struct Frames<'a> {
    subscription: SubscriptionId,
    publication: PublicationId,
    details: &'a Dict,
    payload: &'a Payload,
    frames: [Option<Option<Bytes>>; 3],
}

impl<'a> Frames<'a> {
    fn new(
        subscription: SubscriptionId,
        publication: PublicationId,
        details: &'a Dict,
        payload: &'a Payload,
    ) -> Self {
        Frames {
            subscription,
            publication,
            details,
            payload,
            frames: [None, None, None],
        }
    }

    /// Queues the EVENT for `s`.
    fn push(&mut self, s: &Subscriber, result: &mut Delivery) {
        let ser = s.serializer;
        let frame = self.frames[ser.index()].get_or_insert_with(|| {
            event_frame(
                ser,
                self.subscription,
                self.publication,
                self.details,
                self.payload,
            )
        });
        let Some(frame) = frame else {
            result.dropped += 1;
            return;
        };
        match s.outbound.push(frame.clone(), FrameKind::Event) {
            Pushed::Queued => result.delivered += 1,
            Pushed::Overflow => result.overflowed += 1,
            Pushed::Dropped | Pushed::Closed => result.dropped += 1,
        }
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
