//! `Home`: the role a shard plays as the home shard of some
//! (realm, uri, match) keys: it hands out router-wide subscription IDs and
//! tracks the shards holding them, and it keeps registrations with their
//! callees (the arbiter of conflicting REGISTERs). It receives only
//! envelopes (`apply`), never client messages.

use super::cx::Cx;
use super::envelope::{BrokerMsg, DealerMsg, Envelope, HomeMsg};
use super::ids::{CalleeAddr, ShardId, ShardSet};
use crate::routing::MatchPolicy;
use crate::wire::{ErrorUri, RegistrationId, SubscriptionId, Text};
use std::collections::HashMap;

type Key = (Text, Text, MatchPolicy);

struct HomeRegistration {
    id: RegistrationId,
    callees: Vec<CalleeAddr>,
}

/// The home-shard tables.
#[derive(Default)]
pub struct Home {
    subscriptions: HashMap<Key, (SubscriptionId, ShardSet)>,
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
                op,
            } => {
                let ids = &mut *cx.ids;
                let key = (realm.clone(), topic, policy);
                let subscription = self.acquire_subscription(key, from, || ids.subscription());
                let msg = BrokerMsg::SubscriptionAcquired { op, subscription };
                cx.send(from, Envelope::Broker { realm, msg });
            }
            HomeMsg::SubscriptionRelease {
                realm,
                topic,
                policy,
                from,
            } => self.release_subscription(&(realm, topic, policy), from),
            HomeMsg::RegistrationAcquire {
                realm,
                procedure,
                policy,
                callee,
                op,
            } => {
                let ids = &mut *cx.ids;
                let key = (realm.clone(), procedure, policy);
                let result = self.acquire_registration(key, callee, || ids.registration());
                let msg = DealerMsg::RegistrationAcquired { op, result };
                cx.send(callee.shard, Envelope::Dealer { realm, msg });
            }
            HomeMsg::RegistrationRelease {
                realm,
                procedure,
                policy,
                callee,
            } => self.release_registration(&(realm, procedure, policy), callee),
        }
    }

    /// The ID of (realm, topic, policy) for `shard`, allocating it with `alloc` if new.
    fn acquire_subscription(
        &mut self,
        key: (Text, Text, MatchPolicy),
        shard: ShardId,
        alloc: impl FnOnce() -> u64,
    ) -> SubscriptionId {
        let entry = self
            .subscriptions
            .entry(key)
            .or_insert_with(|| (SubscriptionId(alloc()), ShardSet::default()));
        entry.1.insert(shard);
        entry.0
    }

    /// `shard` holds no more subscribers of the key; the ID is freed with the last shard.
    fn release_subscription(&mut self, key: &(Text, Text, MatchPolicy), shard: ShardId) {
        if let Some(entry) = self.subscriptions.get_mut(key) {
            entry.1.remove(shard);
            if entry.1.is_empty() {
                self.subscriptions.remove(key);
            }
        }
    }

    /// Registers `callee` (single invocation policy): a second REGISTER is refused.
    fn acquire_registration(
        &mut self,
        key: (Text, Text, MatchPolicy),
        callee: CalleeAddr,
        alloc: impl FnOnce() -> u64,
    ) -> Result<RegistrationId, ErrorUri> {
        if self.registrations.contains_key(&key) {
            return Err(ErrorUri::ProcedureAlreadyExists);
        }
        let id = RegistrationId(alloc());
        self.registrations.insert(
            key,
            HomeRegistration {
                id,
                callees: vec![callee],
            },
        );
        Ok(id)
    }

    /// `callee` no longer holds the registration; it is freed with its last callee.
    fn release_registration(&mut self, key: &(Text, Text, MatchPolicy), callee: CalleeAddr) {
        if let Some(reg) = self.registrations.get_mut(key) {
            reg.callees.retain(|c| *c != callee);
            if reg.callees.is_empty() {
                self.registrations.remove(key);
            }
        }
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
        assert_eq!(
            h.acquire_registration(key("p"), c1, || 5),
            Ok(RegistrationId(5))
        );
        assert!(h.acquire_registration(key("p"), c2, || 6).is_err());
        assert!(h.acquire_registration(key("p"), c1, || 6).is_err());
        h.release_registration(&key("p"), c1);
        assert_eq!(
            h.acquire_registration(key("p"), c2, || 7),
            Ok(RegistrationId(7))
        );
    }
}
