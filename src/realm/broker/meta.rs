//! The subscription meta API's questions to one shard's broker: which
//! subscriptions this shard's sessions hold (and their details and
//! subscribers). The asking dealer gathers every shard's part.

use super::store::rfc3339;
use super::{Broker, Topic};
use crate::realm::meta::{MetaPart, SubscriptionQuery};
use crate::routing::MatchPolicy;
use crate::wire::Dict;

impl Broker {
    /// This shard's part of the answer to `query`.
    pub(super) fn answer_subscriptions(&self, query: &SubscriptionQuery) -> MetaPart {
        let active = |t: &&Topic| t.active && t.id.is_some();
        let id_of = |p: MatchPolicy, t: &Topic| (p, t.id.map_or(0, |id| id.0));
        match query {
            SubscriptionQuery::List => {
                let all = self.topics.values().filter(|(_, t)| active(t));
                MetaPart::Ids(all.map(|(p, t)| id_of(p, t)).collect())
            }
            SubscriptionQuery::Lookup { topic, policy } => {
                let found = self.topics.get(topic, *policy).filter(active);
                MetaPart::Ids(found.map(|t| id_of(*policy, t)).into_iter().collect())
            }
            SubscriptionQuery::Match { topic } => {
                let mut ids = Vec::new();
                self.topics.matches(topic, |(p, t)| {
                    if active(&t) {
                        ids.push(id_of(p, t));
                    }
                });
                MetaPart::Ids(ids)
            }
            SubscriptionQuery::Get { id } => MetaPart::Details(
                self.topic_by_id(*id)
                    .map(|(p, t)| subscription_details(*id, p, t)),
            ),
            SubscriptionQuery::Subscribers { id } => {
                let subscribers = self.topic_by_id(*id).map(|(_, t)| &t.subscribers);
                let ids = subscribers.into_iter().flatten();
                MetaPart::Ids(ids.map(|s| (MatchPolicy::Exact, s.session.0)).collect())
            }
        }
    }

    fn topic_by_id(&self, id: u64) -> Option<(MatchPolicy, &Topic)> {
        self.topics
            .values()
            .find(|(_, t)| t.active && t.id.is_some_and(|x| x.0 == id))
    }
}

/// `{id, created, uri, match}`.
fn subscription_details(id: u64, policy: MatchPolicy, t: &Topic) -> Dict {
    Dict::new()
        .with("id", id)
        .with("created", crate::wire::Value::str(rfc3339(t.created)))
        .with("uri", t.pattern.clone())
        .with("match", policy.name())
}
