//! Meta events (`wamp.session.on_join`, `wamp.subscription.on_create`,
//! ...), published by the router through the normal delivery path, so
//! pattern subscriptions and receiver lists apply to them as to any event
//! (the reserved-URI rule is for clients). An event nobody subscribes to
//! anywhere costs one interest lookup: its arguments are never built.
//!
//! Events about one subscription or registration are all published by the
//! home shard of its key, so every observer sees them in order (create
//! before subscribe, unsubscribe before delete); session events by the
//! session's own shard.

use super::publish::Event;
use super::Broker;
use crate::realm::cx::Cx;
use crate::realm::envelope::{BrokerMsg, Envelope};
use crate::routing::MatchPolicy;
use crate::wire::{Dict, Payload, PublicationId, Text, Value};

impl Broker {
    /// True when anyone, on any shard, subscribes to something matching `topic`.
    pub(super) fn observed(&self, topic: &str) -> bool {
        if !self.interested_shards(topic).is_empty() {
            return true;
        }
        let mut local = false;
        self.topics.matches(topic, |(_, t)| local |= t.active);
        local
    }

    /// Whether the realm has the meta API.
    pub fn meta_api(&self) -> bool {
        self.policy.meta_api
    }

    /// True when meta event `topic` would be published (the realm has the
    /// meta API and someone subscribes to it).
    pub fn observed_meta(&self, topic: &str) -> bool {
        self.policy.meta_api && self.observed(topic)
    }

    /// Publishes meta event `topic` with the arguments `args` builds, if the
    /// realm has the meta API and anyone subscribes to it.
    pub fn publish_meta(&mut self, cx: &mut Cx, topic: &str, args: impl FnOnce() -> Vec<Value>) {
        if !self.policy.meta_api || !self.observed(topic) {
            return;
        }
        let payload = Payload::args(args());
        let publication = PublicationId(cx.ids.publication());
        let details = Dict::new();
        let event = Event {
            topic,
            publication,
            details: &details,
            payload: &payload,
        };
        self.deliver(&event, None, None).count(cx.stats);
        for dest in self.interested_shards(topic).iter() {
            let msg = BrokerMsg::Publish {
                topic: Text::from(topic),
                publication,
                details: details.clone(),
                payload: payload.clone(),
                recipients: None,
            };
            let realm = self.realm.clone();
            cx.send(dest, Envelope::Broker { realm, msg });
        }
    }

    /// Has the home shard of subscription (pattern, policy) publish meta
    /// event `topic`, if anyone subscribes to it.
    pub(super) fn meta_via_home(
        &mut self,
        cx: &mut Cx,
        key: (&Text, MatchPolicy),
        topic: &'static str,
        args: impl FnOnce() -> Vec<Value>,
    ) {
        if !self.policy.meta_api || !self.observed(topic) {
            return;
        }
        let home = cx.home_of(&self.realm, key.0, key.1);
        let msg = BrokerMsg::PublishMeta {
            topic: Text::from_static(topic),
            args: args(),
        };
        self.send(cx, home, msg);
    }
}
