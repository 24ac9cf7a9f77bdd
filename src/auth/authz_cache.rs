//! The decisions of dynamic authorizers, cached per shard and realm:
//! keyed by URI, then (action, authrole, and authid unless the authorizer
//! said the decision holds for the whole role). An entry lives for the TTL
//! its answer gave (or the role's default). The cache is bounded: when full,
//! expired entries go, and if that frees nothing, everything goes (the next
//! requests ask again). A hit costs one hash lookup by URI and a scan of the
//! few decisions kept for it, without allocating.

use super::role::{Action, Grant};
use crate::wire::Text;
use rustc_hash::FxHashMap;
use std::time::Instant;

/// Whose requests a decision answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every session of the role.
    Role,
    /// Sessions of the role with this authid.
    Authid(Text),
}

struct Entry {
    action: Action,
    authrole: Text,
    scope: Scope,
    grant: Grant,
    expires: Instant,
}

/// One realm's cached decisions on one shard.
pub struct AuthzCache {
    by_uri: FxHashMap<Text, Vec<Entry>>,
    len: usize,
    max: usize,
}

impl AuthzCache {
    /// A cache of at most `max` decisions (0: nothing is cached).
    pub fn new(max: usize) -> AuthzCache {
        AuthzCache {
            by_uri: FxHashMap::default(),
            len: 0,
            max,
        }
    }

    /// The live decision for a request, if one is cached.
    pub fn get(
        &self,
        action: Action,
        uri: &str,
        authrole: &str,
        authid: &str,
        now: Instant,
    ) -> Option<Grant> {
        let entries = self.by_uri.get(uri)?;
        entries
            .iter()
            .find(|e| {
                e.action == action
                    && e.expires > now
                    && e.authrole.as_str() == authrole
                    && match &e.scope {
                        Scope::Role => true,
                        Scope::Authid(a) => a.as_str() == authid,
                    }
            })
            .map(|e| e.grant)
    }

    /// Keeps a decision until `expires`.
    pub fn insert(
        &mut self,
        action: Action,
        uri: Text,
        authrole: Text,
        scope: Scope,
        decision: (Grant, Instant),
    ) {
        if self.max == 0 {
            return;
        }
        if self.len >= self.max {
            self.evict(Instant::now());
        }
        let (grant, expires) = decision;
        let entries = self.by_uri.entry(uri).or_default();
        let same = |e: &Entry| e.action == action && e.authrole == authrole && e.scope == scope;
        if let Some(old) = entries.iter_mut().find(|e| same(e)) {
            old.grant = grant;
            old.expires = expires;
            return;
        }
        entries.push(Entry {
            action,
            authrole,
            scope,
            grant,
            expires,
        });
        self.len += 1;
    }

    fn evict(&mut self, now: Instant) {
        self.by_uri.retain(|_, entries| {
            entries.retain(|e| e.expires > now);
            !entries.is_empty()
        });
        self.len = self.by_uri.values().map(Vec::len).sum();
        if self.len >= self.max {
            self.by_uri.clear();
            self.len = 0;
        }
    }

    /// Decisions kept (live or not yet evicted).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const ALLOW: Grant = Grant {
        allow: true,
        disclose: false,
    };

    fn t(s: &str) -> Text {
        Text::from(s)
    }

    #[test]
    fn decisions_match_action_role_and_scope_until_they_expire() {
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        let mut c = AuthzCache::new(100);
        c.insert(
            Action::Call,
            t("a.b"),
            t("user"),
            Scope::Role,
            (ALLOW, later),
        );
        let deny = (Grant::DENY, later);
        c.insert(
            Action::Publish,
            t("a.b"),
            t("user"),
            Scope::Authid(t("ann")),
            deny,
        );
        assert_eq!(c.get(Action::Call, "a.b", "user", "bob", now), Some(ALLOW));
        assert_eq!(c.get(Action::Call, "a.b", "admin", "bob", now), None);
        assert_eq!(c.get(Action::Subscribe, "a.b", "user", "bob", now), None);
        assert_eq!(
            c.get(Action::Publish, "a.b", "user", "ann", now),
            Some(Grant::DENY)
        );
        assert_eq!(c.get(Action::Publish, "a.b", "user", "bob", now), None);
        assert_eq!(
            c.get(Action::Call, "a.b", "user", "bob", later),
            None,
            "expired"
        );
    }

    #[test]
    fn a_full_cache_drops_expired_entries_then_everything() {
        let now = Instant::now();
        let mut c = AuthzCache::new(2);
        c.insert(Action::Call, t("a"), t("r"), Scope::Role, (ALLOW, now));
        c.insert(
            Action::Call,
            t("b"),
            t("r"),
            Scope::Role,
            (ALLOW, now + Duration::from_secs(60)),
        );
        c.insert(
            Action::Call,
            t("c"),
            t("r"),
            Scope::Role,
            (ALLOW, now + Duration::from_secs(60)),
        );
        assert_eq!(c.len(), 2, "the expired entry made room");
        c.insert(
            Action::Call,
            t("d"),
            t("r"),
            Scope::Role,
            (ALLOW, now + Duration::from_secs(60)),
        );
        assert_eq!(c.len(), 1, "nothing expired: everything went");
        let mut off = AuthzCache::new(0);
        off.insert(Action::Call, t("a"), t("r"), Scope::Role, (ALLOW, now));
        assert!(off.is_empty());
    }
}
