//! `Filter`: a PUBLISH's black and white lists of receivers (subscriber
//! black/white listing), prepared once per publish and shard: session
//! lists sorted for binary search, the `eligible` sessions narrowed to this
//! shard's. A subscriber receives the event only if every `eligible*` list
//! present holds its value and no `exclude*` list present does (an empty
//! `eligible` list admits nobody). Publishes without lists never build one.

use super::Subscriber;
use crate::realm::ids::{ShardId, ShardSet};
use crate::wire::options::Recipients;
use crate::wire::{SessionId, Text};

/// The receivers' lists of one publish, ready to test subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The eligible sessions of this shard, sorted (`None`: no `eligible` list).
    eligible: Option<Vec<u64>>,
    /// Sorted.
    exclude: Vec<u64>,
    eligible_authid: Option<Vec<Text>>,
    eligible_authrole: Option<Vec<Text>>,
    exclude_authid: Vec<Text>,
    exclude_authrole: Vec<Text>,
}

fn sorted(ids: &[u64]) -> Vec<u64> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl Filter {
    /// The lists of `r`, for shard `me` of `nr_shards`.
    pub fn new(r: &Recipients, me: ShardId, nr_shards: usize) -> Self {
        let local = |id: &u64| (*id % nr_shards.max(1) as u64) as usize == me;
        Filter {
            eligible: r
                .eligible
                .as_deref()
                .map(|ids| sorted(&ids.iter().copied().filter(local).collect::<Vec<_>>())),
            exclude: r.exclude.as_deref().map(sorted).unwrap_or_default(),
            eligible_authid: r.eligible_authid.clone(),
            eligible_authrole: r.eligible_authrole.clone(),
            exclude_authid: r.exclude_authid.clone().unwrap_or_default(),
            exclude_authrole: r.exclude_authrole.clone().unwrap_or_default(),
        }
    }

    /// The eligible sessions of this shard, sorted, when the publish names them.
    pub fn eligible_sessions(&self) -> Option<&[u64]> {
        self.eligible.as_deref()
    }

    /// True when a subscriber with these values may receive the event.
    pub fn admits(&self, session: SessionId, authid: &str, authrole: &str) -> bool {
        let listed = |l: &[Text], v: &str| l.iter().any(|x| x.as_str() == v);
        self.eligible
            .as_ref()
            .is_none_or(|e| e.binary_search(&session.0).is_ok())
            && self.exclude.binary_search(&session.0).is_err()
            && self
                .eligible_authid
                .as_ref()
                .is_none_or(|l| listed(l, authid))
            && self
                .eligible_authrole
                .as_ref()
                .is_none_or(|l| listed(l, authrole))
            && !listed(&self.exclude_authid, authid)
            && !listed(&self.exclude_authrole, authrole)
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
        let r = Recipients {
            eligible: Some(vec![4, 7, 10, 4]),
            exclude: Some(vec![10]),
            eligible_authrole: t(&["user"]),
            exclude_authid: t(&["mallory"]),
            ..Recipients::default()
        };
        let f = Filter::new(&r, 1, 3);
        assert_eq!(f.eligible_sessions(), Some(&[4u64, 7, 10][..]));
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
        let all = Filter::new(&Recipients::default(), 0, 1);
        assert!(all.admits(SessionId(1), "a", "b"));
        assert!(!names_sessions(&Recipients::default()));
    }
}
