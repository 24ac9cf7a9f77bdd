//! `Filter`: a PUBLISH's black and white lists of receivers (subscriber
//! black/white listing), as a view over its `Recipients` (session lists
//! sorted once, on the publisher's shard, by `Recipients::normalize`), for
//! one shard. A subscriber receives the event only if every `eligible*`
//! list present holds its value and no `exclude*` list present does (an
//! empty `eligible` list admits nobody). Building one allocates nothing;
//! publishes without lists never build one.

use super::Subscriber;
use crate::realm::ids::{ShardId, ShardSet};
use crate::wire::options::Recipients;
use crate::wire::{SessionId, Text};

/// The receivers' lists of one publish, seen from one shard.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    lists: &'a Recipients,
    me: ShardId,
    nr_shards: usize,
}

impl<'a> Filter<'a> {
    /// The lists of `r` (normalized), for shard `me` of `nr_shards`.
    pub fn new(r: &'a Recipients, me: ShardId, nr_shards: usize) -> Self {
        Filter {
            lists: r,
            me,
            nr_shards: nr_shards.max(1),
        }
    }

    /// The eligible sessions of this shard, in order, when the publish names them.
    pub fn eligible_sessions(&self) -> Option<impl Iterator<Item = u64> + 'a> {
        let (me, n) = (self.me, self.nr_shards as u64);
        let ids = self.lists.eligible.as_deref()?;
        Some(
            ids.iter()
                .copied()
                .filter(move |id| (id % n) as usize == me),
        )
    }

    /// True when a subscriber with these values may receive the event.
    pub fn admits(&self, session: SessionId, authid: &str, authrole: &str) -> bool {
        let r = self.lists;
        let listed = |l: &[Text], v: &str| l.iter().any(|x| x.as_str() == v);
        let has = |l: &[u64]| l.binary_search(&session.0).is_ok();
        r.eligible.as_deref().is_none_or(has)
            && !r.exclude.as_deref().is_some_and(has)
            && r.eligible_authid
                .as_deref()
                .is_none_or(|l| listed(l, authid))
            && r.eligible_authrole
                .as_deref()
                .is_none_or(|l| listed(l, authrole))
            && !r
                .exclude_authid
                .as_deref()
                .is_some_and(|l| listed(l, authid))
            && !r
                .exclude_authrole
                .as_deref()
                .is_some_and(|l| listed(l, authrole))
    }

    /// True when `s` may receive the event.
    pub fn admits_subscriber(&self, s: &Subscriber) -> bool {
        self.admits(s.session, &s.identity.authid, &s.identity.authrole)
    }
}

/// The shards a publish with these lists can reach at all: those of its
/// `eligible` sessions (`None`: no `eligible` list, any shard).
pub fn eligible_shards(r: &Recipients, nr_shards: usize) -> Option<ShardSet> {
    let ids = r.eligible.as_deref()?;
    let mut set = ShardSet::default();
    for id in ids {
        set.insert((*id % nr_shards.max(1) as u64) as usize);
    }
    Some(set)
}

/// True when the lists name sessions (such events are not kept in history).
pub fn names_sessions(r: &Recipients) -> bool {
    r.eligible.is_some() || r.exclude.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[&str]) -> Option<Vec<Text>> {
        Some(v.iter().map(|s| Text::from(*s)).collect())
    }

    #[test]
    fn every_list_present_must_agree() {
        let mut r = Recipients {
            eligible: Some(vec![10, 4, 7, 4]),
            exclude: Some(vec![10]),
            eligible_authrole: t(&["user"]),
            exclude_authid: t(&["mallory"]),
            ..Recipients::default()
        };
        r.normalize();
        let f = Filter::new(&r, 1, 3);
        let local: Vec<u64> = f.eligible_sessions().unwrap().collect();
        assert_eq!(local, [4, 7, 10]);
        assert!(f.admits(SessionId(4), "alice", "user"));
        assert!(!f.admits(SessionId(4), "alice", "admin"));
        assert!(!f.admits(SessionId(7), "mallory", "user"));
        assert!(!f.admits(SessionId(10), "bob", "user"), "excluded");
        assert!(!f.admits(SessionId(13), "bob", "user"), "not eligible");
        let shards: Vec<_> = eligible_shards(&r, 3).unwrap().iter().collect();
        assert_eq!(shards, [1]);
    }

    #[test]
    fn an_empty_eligible_list_admits_nobody_and_no_list_admits_everybody() {
        let none = Recipients {
            eligible: Some(vec![]),
            ..Recipients::default()
        };
        assert!(!Filter::new(&none, 0, 1).admits(SessionId(1), "a", "b"));
        assert!(eligible_shards(&none, 2).unwrap().is_empty());
        let everybody = Recipients::default();
        assert!(Filter::new(&everybody, 0, 1).admits(SessionId(1), "a", "b"));
        assert!(!names_sessions(&everybody));
    }
}
