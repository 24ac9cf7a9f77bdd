//! The Broker side of a shard: SUBSCRIBE, UNSUBSCRIBE and PUBLISH from local
//! sessions, and the broker envelopes from other shards.
//!
//! A subscription is a (pattern, match policy): exact, prefix or wildcard.
//! SUBSCRIBED goes out only after the home shard gave the router-wide ID and
//! every other shard acked the interest, so an event published after it, on
//! any shard, reaches the new subscriber.

use super::envelope::{Envelope, OpId};
use super::pending::Waiting;
use super::{Shard, Violation};
use crate::realm::broker::{Subscriber, Topic};
use crate::routing::{home_shard, is_reserved, is_valid_uri, MatchPolicy};
use crate::wire::message::code;
use crate::wire::{
    Dict, Message, Payload, PublicationId, RequestId, SessionId, SubscriptionId, Text,
};

/// The match policy of SUBSCRIBE/REGISTER options (`exact` when absent).
pub(super) fn match_option(options: &Dict) -> Result<MatchPolicy, Violation> {
    let name = options
        .get_str("match")
        .map_err(|e| Violation::new(e.to_string()))?;
    match name {
        None => Ok(MatchPolicy::Exact),
        Some(name) => MatchPolicy::from_name(name)
            .ok_or_else(|| Violation::new("option 'match' must be exact, prefix or wildcard")),
    }
}

impl Shard {
    pub(super) fn handle_subscribe(
        &mut self,
        sid: SessionId,
        request: RequestId,
        options: &Dict,
        topic: Text,
    ) -> Result<(), Violation> {
        let policy = match_option(options)?;
        if !is_valid_uri(&topic, policy, self.settings.uri_check) {
            self.reply_error(sid, code::SUBSCRIBE, request, "wamp.error.invalid_uri");
            return Ok(());
        }
        let Some(session) = self.sessions.get(&sid) else {
            return Ok(());
        };
        let (realm, serializer, outbound) = (
            session.realm.clone(),
            session.serializer,
            session.outbound.clone(),
        );
        let broker = &mut self.realm_mut(&realm).broker;
        if let Some(t) = broker.topics.get_mut(&topic, policy) {
            match (t.id, t.active) {
                (Some(id), true) => {
                    if !t.subscribers.iter().any(|s| s.session == sid) {
                        t.subscribers.push(Subscriber {
                            session: sid,
                            serializer,
                            outbound,
                        });
                        self.note_subscription(sid, id, &topic, policy);
                    }
                    self.reply(
                        sid,
                        &Message::Subscribed {
                            request,
                            subscription: id,
                        },
                    );
                }
                _ => t.waiters.push((sid, request)),
            }
            return Ok(());
        }
        let t = Topic {
            id: None,
            active: false,
            subscribers: Vec::new(),
            waiters: vec![(sid, request)],
        };
        broker.topics.insert(topic.clone(), policy, t);
        let op = self.pending.add(Waiting::SubscriptionId {
            realm: realm.clone(),
            topic: topic.clone(),
            policy,
        });
        let home = home_shard(&realm, &topic, policy, self.nr_shards);
        let from = self.id;
        self.send(
            home,
            Envelope::SubscriptionAcquire {
                realm,
                topic,
                policy,
                from,
                op,
            },
        );
        Ok(())
    }

    fn note_subscription(
        &mut self,
        sid: SessionId,
        id: SubscriptionId,
        topic: &Text,
        policy: MatchPolicy,
    ) {
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.subscriptions.push((id, topic.clone(), policy));
        }
    }

    pub(super) fn handle_unsubscribe(
        &mut self,
        sid: SessionId,
        request: RequestId,
        subscription: SubscriptionId,
    ) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(at) = session
            .subscriptions
            .iter()
            .position(|(id, ..)| *id == subscription)
        else {
            self.reply_error(
                sid,
                code::UNSUBSCRIBE,
                request,
                "wamp.error.no_such_subscription",
            );
            return;
        };
        let (_, topic, policy) = session.subscriptions.swap_remove(at);
        let realm = session.realm.clone();
        self.drop_subscriber(&realm, &topic, policy, sid);
        self.reply(
            sid,
            &Message::Unsubscribed {
                request,
                details: None,
            },
        );
    }

    /// Removes `sid` from (topic, policy); it goes (router-wide) with its last subscriber.
    pub(super) fn drop_subscriber(
        &mut self,
        realm: &Text,
        topic: &Text,
        policy: MatchPolicy,
        sid: SessionId,
    ) {
        let broker = &mut self.realm_mut(realm).broker;
        let Some(t) = broker.topics.get_mut(topic, policy) else {
            return;
        };
        t.subscribers.retain(|s| s.session != sid);
        if t.subscribers.is_empty() && t.waiters.is_empty() && t.active {
            broker.topics.remove(topic, policy);
            self.release_topic(realm, topic, policy);
        }
    }

    fn release_topic(&mut self, realm: &Text, topic: &Text, policy: MatchPolicy) {
        let from = self.id;
        self.broadcast(|| Envelope::InterestRemove {
            realm: realm.clone(),
            topic: topic.clone(),
            policy,
            from,
        });
        let home = home_shard(realm, topic, policy, self.nr_shards);
        let (realm, topic) = (realm.clone(), topic.clone());
        self.send(
            home,
            Envelope::SubscriptionRelease {
                realm,
                topic,
                policy,
                from,
            },
        );
    }

    pub(super) fn handle_publish(
        &mut self,
        sid: SessionId,
        request: RequestId,
        options: &Dict,
        topic: Text,
        payload: Payload,
    ) -> Result<(), Violation> {
        let bad = |e: crate::wire::value::WrongType| Violation::new(e.to_string());
        let acknowledge = options
            .get_bool("acknowledge")
            .map_err(bad)?
            .unwrap_or(false);
        let exclude_me = options.get_bool("exclude_me").map_err(bad)?.unwrap_or(true);
        let valid = is_valid_uri(&topic, MatchPolicy::Exact, self.settings.uri_check)
            && !is_reserved(&topic);
        if !valid {
            if acknowledge {
                self.reply_error(sid, code::PUBLISH, request, "wamp.error.invalid_uri");
            }
            return Ok(());
        }
        let publication = PublicationId(self.ids.publication());
        let details = Dict::new();
        // Borrow the session's realm: nothing is cloned unless an envelope goes out.
        let Some(session) = self.sessions.get(&sid) else {
            return Ok(());
        };
        let Some(broker) = self.realms.get(&session.realm).map(|r| &r.broker) else {
            return Ok(());
        };
        let exclude = exclude_me.then_some(sid);
        let d = broker.deliver(&topic, publication, &details, &payload, exclude);
        let mut remote = broker.interested_shards(&topic);
        let realm = (remote != 0).then(|| session.realm.clone());
        self.count_delivery(d);
        while let (Some(realm), true) = (&realm, remote != 0) {
            let dest = remote.trailing_zeros() as usize;
            remote &= remote - 1;
            let env = Envelope::Publish {
                realm: realm.clone(),
                topic: topic.clone(),
                publication,
                details: details.clone(),
                payload: payload.clone(),
            };
            self.send(dest, env);
        }
        if acknowledge {
            self.reply(
                sid,
                &Message::Published {
                    request,
                    publication,
                },
            );
        }
        Ok(())
    }

    fn count_delivery(&mut self, d: crate::realm::broker::Delivery) {
        self.stats.events_delivered += d.delivered;
        self.stats.events_dropped += d.dropped;
        self.stats.slow_consumer_disconnects += d.overflowed;
    }

    /// Broker envelopes from other shards (or this one).
    pub(super) fn apply_broker(&mut self, env: Envelope) {
        match env {
            Envelope::Publish {
                realm,
                topic,
                publication,
                details,
                payload,
            } => {
                let d = self.realm_mut(&realm).broker.deliver(
                    &topic,
                    publication,
                    &details,
                    &payload,
                    None,
                );
                self.count_delivery(d);
            }
            Envelope::SubscriptionAcquire {
                realm,
                topic,
                policy,
                from,
                op,
            } => {
                let ids = &mut self.ids;
                let subscription =
                    self.home
                        .acquire_subscription((realm, topic, policy), from, || ids.subscription());
                self.send(from, Envelope::SubscriptionAcquired { op, subscription });
            }
            Envelope::SubscriptionAcquired { op, subscription } => {
                self.subscription_acquired(op, subscription)
            }
            Envelope::SubscriptionRelease {
                realm,
                topic,
                policy,
                from,
            } => self
                .home
                .release_subscription(&(realm, topic, policy), from),
            Envelope::InterestAdd {
                realm,
                topic,
                policy,
                from,
                op,
            } => {
                self.realm_mut(&realm)
                    .broker
                    .set_interest(&topic, policy, from, true);
                self.send(from, Envelope::Ack { op });
            }
            Envelope::InterestRemove {
                realm,
                topic,
                policy,
                from,
            } => self
                .realm_mut(&realm)
                .broker
                .set_interest(&topic, policy, from, false),
            _ => {}
        }
    }

    fn subscription_acquired(&mut self, op: OpId, subscription: SubscriptionId) {
        let Some(Waiting::SubscriptionId {
            realm,
            topic,
            policy,
        }) = self.pending.take(op)
        else {
            return;
        };
        if let Some(t) = self.realm_mut(&realm).broker.topics.get_mut(&topic, policy) {
            t.id = Some(subscription);
        }
        if self.nr_shards == 1 {
            return self.activate_topic(&realm, &topic, policy);
        }
        let remaining = self.nr_shards - 1;
        let waiting = Waiting::Interest {
            realm: realm.clone(),
            topic: topic.clone(),
            policy,
            remaining,
        };
        let op = self.pending.add(waiting);
        let from = self.id;
        self.broadcast(|| Envelope::InterestAdd {
            realm: realm.clone(),
            topic: topic.clone(),
            policy,
            from,
            op,
        });
    }

    /// Every shard routes the subscription here now: answer the waiting SUBSCRIBEs.
    pub(super) fn activate_topic(&mut self, realm: &Text, topic: &Text, policy: MatchPolicy) {
        let Some(t) = self.realm_mut(realm).broker.topics.get_mut(topic, policy) else {
            return;
        };
        let Some(id) = t.id else { return };
        t.active = true;
        let waiters = std::mem::take(&mut t.waiters);
        for (sid, request) in waiters {
            let Some(s) = self.sessions.get(&sid) else {
                continue;
            };
            let sub = Subscriber {
                session: sid,
                serializer: s.serializer,
                outbound: s.outbound.clone(),
            };
            let t = self.realm_mut(realm).broker.topics.get_mut(topic, policy);
            if let Some(t) = t.filter(|t| !t.subscribers.iter().any(|x| x.session == sid)) {
                t.subscribers.push(sub);
                self.note_subscription(sid, id, topic, policy);
            }
            self.reply(
                sid,
                &Message::Subscribed {
                    request,
                    subscription: id,
                },
            );
        }
        let broker = &mut self.realm_mut(realm).broker;
        if broker
            .topics
            .get(topic, policy)
            .is_some_and(|t| t.subscribers.is_empty())
        {
            broker.topics.remove(topic, policy);
            self.release_topic(realm, topic, policy);
        }
    }
}
