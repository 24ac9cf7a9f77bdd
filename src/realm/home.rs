//! `Home`: the role a shard plays as the home shard of some
//! (realm, uri, match) keys: it hands out router-wide subscription IDs and
//! tracks the shards holding them, and it keeps registrations with their
//! callees (the arbiter of conflicting REGISTERs). It receives only
//! envelopes (`apply`), never client messages.

use super::cx::Cx;
use super::envelope::{BrokerMsg, DealerMsg, Envelope, HomeMsg};
use super::ids::{CalleeAddr, ShardId, ShardSet};
use crate::routing::MatchPolicy;
use crate::wire::options::InvokePolicy;
use crate::wire::Value;
use crate::wire::{ErrorUri, RegistrationId, SubscriptionId, Text};
use std::collections::HashMap;

type Key = (Text, Text, MatchPolicy);

struct HomeRegistration {
    id: RegistrationId,
    invoke: InvokePolicy,
    /// The callees in registration order.
    callees: Vec<CalleeAddr>,
    /// The order number of the next callee.
    next_seq: u64,
}

/// The home-shard tables.
#[derive(Default)]
pub struct Home {
    subscriptions: HashMap<Key, (SubscriptionId, ShardSet)>,
    /// The key of each subscription ID handed out.
    subscription_keys: HashMap<SubscriptionId, Key>,
    registrations: HashMap<Key, HomeRegistration>,
}

impl Home {
    /// Applies a home envelope; answers go back to the asking shard's role.
    pub fn apply(&mut self, cx: &mut Cx, msg: HomeMsg) {
        match msg {
            HomeMsg::SubscriptionAcquire {
                realm,
                topic,
                policy,
                from,
                session,
                op,
            } => {
                let ids = &mut *cx.ids;
                let key = (realm.clone(), topic.clone(), policy);
                let known = self.subscriptions.contains_key(&key);
                let subscription = self.acquire_subscription(key, from, || ids.subscription());
                if !known {
                    let details = events::details(subscription.0, &topic, policy);
                    let args = vec![Value::UInt(session.0), Value::Dict(details)];
                    events::publish(cx, &realm, events::SUB_CREATE, args);
                }
                let msg = BrokerMsg::SubscriptionAcquired { op, subscription };
                cx.send(from, Envelope::Broker { realm, msg });
            }
            HomeMsg::SubscriptionRelease {
                realm,
                topic,
                policy,
                from,
                session,
            } => {
                let key = (realm, topic, policy);
                if let Some(id) = self.release_subscription(&key, from) {
                    let args = vec![Value::UInt(session.0), Value::UInt(id.0)];
                    events::publish(cx, &key.0, events::SUB_DELETE, args);
                }
            }
            HomeMsg::RegistrationAcquire {
                realm,
                procedure,
                policy,
                invoke,
                callee,
                op,
            } => {
                let ids = &mut *cx.ids;
                let key = (realm.clone(), procedure.clone(), policy);
                let known = self.registrations.contains_key(&key);
                let result = self.acquire_registration(key, invoke, callee, || ids.registration());
                if let Ok((id, _)) = result {
                    let session = Value::UInt(callee.session.0);
                    if !known {
                        let details =
                            events::details(id.0, &procedure, policy).with("invoke", invoke.name());
                        let args = vec![session.clone(), Value::Dict(details)];
                        events::publish(cx, &realm, events::REG_CREATE, args);
                    }
                    let args = vec![session, Value::UInt(id.0)];
                    events::publish(cx, &realm, events::REG_REGISTER, args);
                }
                let msg = DealerMsg::RegistrationAcquired { op, result };
                cx.send(callee.shard, Envelope::Dealer { realm, msg });
            }
            HomeMsg::RegistrationRelease {
                realm,
                procedure,
                policy,
                callee,
            } => {
                let key = (realm, procedure, policy);
                if let Some((id, deleted)) = self.release_registration(&key, callee) {
                    let args = || vec![Value::UInt(callee.session.0), Value::UInt(id.0)];
                    events::publish(cx, &key.0, events::REG_UNREGISTER, args());
                    if deleted {
                        events::publish(cx, &key.0, events::REG_DELETE, args());
                    }
                }
            }
            HomeMsg::SubscriptionEvents {
                realm,
                subscription,
                limit,
                reader,
                caller,
            } => {
                let key = self.subscription_keys.get(&subscription);
                let Some((_, pattern, policy)) = key.filter(|k| k.0 == realm) else {
                    let result = Err(ErrorUri::NoSuchSubscription);
                    let msg = DealerMsg::MetaAnswer { caller, result };
                    return cx.send(caller.shard, Envelope::Dealer { realm, msg });
                };
                let msg = BrokerMsg::History {
                    pattern: pattern.clone(),
                    policy: *policy,
                    subscription,
                    limit,
                    reader,
                    caller,
                };
                cx.send(cx.me, Envelope::Broker { realm, msg });
            }
        }
    }

    /// The ID of (realm, topic, policy) for `shard`, allocating it with `alloc` if new.
    fn acquire_subscription(
        &mut self,
        key: (Text, Text, MatchPolicy),
        shard: ShardId,
        alloc: impl FnOnce() -> u64,
    ) -> SubscriptionId {
        let keys = &mut self.subscription_keys;
        let entry = self.subscriptions.entry(key).or_insert_with_key(|key| {
            let id = SubscriptionId(alloc());
            keys.insert(id, key.clone());
            (id, ShardSet::default())
        });
        entry.1.insert(shard);
        entry.0
    }

    /// `shard` holds no more subscribers of the key; the ID is freed with
    /// the last shard (then returned: the subscription is deleted).
    fn release_subscription(
        &mut self,
        key: &(Text, Text, MatchPolicy),
        shard: ShardId,
    ) -> Option<SubscriptionId> {
        let entry = self.subscriptions.get_mut(key)?;
        entry.1.remove(shard);
        if !entry.1.is_empty() {
            return None;
        }
        let id = entry.0;
        self.subscription_keys.remove(&id);
        self.subscriptions.remove(key);
        Some(id)
    }

    /// Registers `callee` with invocation policy `invoke`: the ID and the
    /// callee's order number. A `single` registration refuses every other
    /// REGISTER; a shared one refuses a different policy and a callee
    /// registering twice.
    fn acquire_registration(
        &mut self,
        key: (Text, Text, MatchPolicy),
        invoke: InvokePolicy,
        callee: CalleeAddr,
        alloc: impl FnOnce() -> u64,
    ) -> Result<(RegistrationId, u64), ErrorUri> {
        if let Some(reg) = self.registrations.get_mut(&key) {
            let joins = invoke != InvokePolicy::Single
                && reg.invoke == invoke
                && !reg.callees.contains(&callee);
            if !joins {
                return Err(ErrorUri::ProcedureAlreadyExists);
            }
            reg.callees.push(callee);
            reg.next_seq += 1;
            return Ok((reg.id, reg.next_seq));
        }
        let id = RegistrationId(alloc());
        self.registrations.insert(
            key,
            HomeRegistration {
                id,
                invoke,
                callees: vec![callee],
                next_seq: 1,
            },
        );
        Ok((id, 1))
    }

    /// `callee` no longer holds the registration; it is freed with its last
    /// callee. Returns the ID, and whether it was freed.
    fn release_registration(
        &mut self,
        key: &(Text, Text, MatchPolicy),
        callee: CalleeAddr,
    ) -> Option<(RegistrationId, bool)> {
        let reg = self.registrations.get_mut(key)?;
        let before = reg.callees.len();
        reg.callees.retain(|c| *c != callee);
        if reg.callees.len() == before {
            return None;
        }
        let (id, deleted) = (reg.id, reg.callees.is_empty());
        if deleted {
            self.registrations.remove(key);
        }
        Some((id, deleted))
    }

    /// Number of (subscription IDs, registrations) this shard is home for.
    pub fn len(&self) -> (usize, usize) {
        (self.subscriptions.len(), self.registrations.len())
    }

    /// The registration ID of a key, if registered.
    pub fn registration(&self, key: &(Text, Text, MatchPolicy)) -> Option<RegistrationId> {
        self.registrations.get(key).map(|r| r.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SessionId;

    fn key(uri: &str) -> Key {
        (Text::from("realm1"), Text::from(uri), MatchPolicy::Exact)
    }

    #[test]
    fn subscription_ids_are_shared_and_freed_with_the_last_shard() {
        let mut h = Home::default();
        let a = h.acquire_subscription(key("t"), 0, || 11);
        let b = h.acquire_subscription(key("t"), 2, || 99);
        assert_eq!(a, b);
        h.release_subscription(&key("t"), 0);
        assert_eq!(h.acquire_subscription(key("t"), 1, || 99), a);
        h.release_subscription(&key("t"), 1);
        h.release_subscription(&key("t"), 2);
        assert_eq!(
            h.acquire_subscription(key("t"), 1, || 42),
            SubscriptionId(42)
        );
    }

    #[test]
    fn a_second_register_is_refused_until_released() {
        let mut h = Home::default();
        let c1 = CalleeAddr {
            shard: 0,
            session: SessionId(1),
        };
        let c2 = CalleeAddr {
            shard: 1,
            session: SessionId(2),
        };
        let single = InvokePolicy::Single;
        assert_eq!(
            h.acquire_registration(key("p"), single, c1, || 5),
            Ok((RegistrationId(5), 1))
        );
        assert!(h.acquire_registration(key("p"), single, c2, || 6).is_err());
        assert!(h.acquire_registration(key("p"), single, c1, || 6).is_err());
        let rr = InvokePolicy::RoundRobin;
        assert!(h.acquire_registration(key("p"), rr, c2, || 6).is_err());
        h.release_registration(&key("p"), c1);
        assert_eq!(
            h.acquire_registration(key("p"), single, c2, || 7),
            Ok((RegistrationId(7), 1))
        );
    }

    #[test]
    fn shared_registrations_take_callees_of_the_same_policy_in_order() {
        let mut h = Home::default();
        let c = |s| CalleeAddr {
            shard: 0,
            session: SessionId(s),
        };
        let rr = InvokePolicy::RoundRobin;
        assert_eq!(
            h.acquire_registration(key("p"), rr, c(1), || 5),
            Ok((RegistrationId(5), 1))
        );
        assert_eq!(
            h.acquire_registration(key("p"), rr, c(2), || 6),
            Ok((RegistrationId(5), 2))
        );
        assert!(h.acquire_registration(key("p"), rr, c(2), || 6).is_err());
        let random = InvokePolicy::Random;
        assert!(h
            .acquire_registration(key("p"), random, c(3), || 6)
            .is_err());
        h.release_registration(&key("p"), c(1));
        assert_eq!(
            h.acquire_registration(key("p"), rr, c(1), || 6),
            Ok((RegistrationId(5), 3))
        );
    }
}

/// The meta events the home tables publish (through their shard's broker,
/// so all events of one key leave one shard, in order).
mod events {
    use crate::realm::cx::Cx;
    use crate::realm::envelope::{BrokerMsg, Envelope};
    use crate::routing::MatchPolicy;
    use crate::wire::{Dict, Text, Value};

    pub const SUB_CREATE: &str = "wamp.subscription.on_create";
    pub const SUB_DELETE: &str = "wamp.subscription.on_delete";
    pub const REG_CREATE: &str = "wamp.registration.on_create";
    pub const REG_REGISTER: &str = "wamp.registration.on_register";
    pub const REG_UNREGISTER: &str = "wamp.registration.on_unregister";
    pub const REG_DELETE: &str = "wamp.registration.on_delete";

    /// `{id, created, uri, match}`.
    pub fn details(id: u64, uri: &Text, policy: MatchPolicy) -> Dict {
        let created = crate::realm::broker::rfc3339(std::time::SystemTime::now());
        Dict::new()
            .with("id", id)
            .with("created", Value::str(created))
            .with("uri", uri.clone())
            .with("match", policy.name())
    }

    /// Has this shard's broker of `realm` publish meta event `topic`.
    pub fn publish(cx: &mut Cx, realm: &Text, topic: &'static str, args: Vec<Value>) {
        let msg = BrokerMsg::PublishMeta {
            topic: Text::from_static(topic),
            args,
        };
        let realm = realm.clone();
        cx.send(cx.me, Envelope::Broker { realm, msg });
    }
}
