//! `Registry`: one realm's replica of the router's registrations on one
//! shard ((procedure pattern, match policy) -> registration ID and callees),
//! so a CALL entering any shard finds its callee without asking another shard.
//! A CALL goes to the best match: exact, else the longest prefix, else the
//! highest-ranked wildcard (`PatternIndex::best`).

use crate::realm::ids::CalleeAddr;
use crate::routing::{MatchPolicy, PatternIndex};
use crate::wire::{RegistrationId, Text};
use std::collections::HashMap;

/// A registration as this shard sees it.
pub struct Registration {
    pub id: RegistrationId,
    pub callees: Vec<CalleeAddr>,
}

/// Where a CALL goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub registration: RegistrationId,
    pub callee: CalleeAddr,
    pub policy: MatchPolicy,
}

/// One realm's registrations, replicated on every shard.
#[derive(Default)]
pub struct Registry {
    procedures: PatternIndex<Registration>,
    by_id: HashMap<RegistrationId, (Text, MatchPolicy)>,
}

impl Registry {
    /// Adds `callee` to registration `id` of (procedure, policy). A different
    /// ID for the same key replaces the old one (its removal may still be in flight).
    pub fn add(
        &mut self,
        procedure: Text,
        policy: MatchPolicy,
        id: RegistrationId,
        callee: CalleeAddr,
    ) {
        match self.procedures.get_mut(&procedure, policy) {
            Some(reg) if reg.id == id => {
                if !reg.callees.contains(&callee) {
                    reg.callees.push(callee);
                }
            }
            Some(reg) => {
                self.by_id.remove(&reg.id);
                *reg = Registration {
                    id,
                    callees: vec![callee],
                };
            }
            None => {
                self.procedures.insert(
                    procedure.clone(),
                    policy,
                    Registration {
                        id,
                        callees: vec![callee],
                    },
                );
            }
        }
        self.by_id.insert(id, (procedure, policy));
    }

    /// Removes `callee` from registration `id`; the registration goes with its last callee.
    pub fn remove(&mut self, id: RegistrationId, callee: CalleeAddr) {
        let Some((procedure, policy)) = self.by_id.get(&id) else {
            return;
        };
        let Some(reg) = self.procedures.get_mut(procedure, *policy) else {
            return;
        };
        reg.callees.retain(|c| *c != callee);
        if reg.callees.is_empty() {
            self.procedures.remove(procedure, *policy);
            self.by_id.remove(&id);
        }
    }

    /// Where a CALL of `procedure` goes.
    pub fn lookup(&self, procedure: &str) -> Option<Route> {
        let (policy, reg) = self.procedures.best(procedure)?;
        reg.callees.first().map(|c| Route {
            registration: reg.id,
            callee: *c,
            policy,
        })
    }

    /// Number of registrations.
    pub fn len(&self) -> usize {
        self.procedures.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.procedures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SessionId;
    use MatchPolicy::*;

    fn callee(shard: usize, s: u64) -> CalleeAddr {
        CalleeAddr {
            shard,
            session: SessionId(s),
        }
    }

    #[test]
    fn add_lookup_remove() {
        let mut d = Registry::default();
        d.add(Text::from("com.p"), Exact, RegistrationId(7), callee(1, 5));
        let route = Route {
            registration: RegistrationId(7),
            callee: callee(1, 5),
            policy: Exact,
        };
        assert_eq!(d.lookup("com.p"), Some(route));
        d.remove(RegistrationId(7), callee(1, 5));
        assert_eq!(d.lookup("com.p"), None);
        assert!(d.is_empty());
    }

    #[test]
    fn a_late_removal_of_an_old_id_keeps_the_new_registration() {
        let mut d = Registry::default();
        d.add(Text::from("com.p"), Exact, RegistrationId(1), callee(0, 5));
        d.add(Text::from("com.p"), Exact, RegistrationId(2), callee(2, 9));
        d.remove(RegistrationId(1), callee(0, 5));
        assert_eq!(
            d.lookup("com.p").map(|r| r.registration),
            Some(RegistrationId(2))
        );
    }

    #[test]
    fn exact_beats_prefix_beats_wildcard() {
        let mut d = Registry::default();
        d.add(
            Text::from("com.app..run"),
            Wildcard,
            RegistrationId(1),
            callee(0, 1),
        );
        d.add(
            Text::from("com.app."),
            Prefix,
            RegistrationId(2),
            callee(0, 2),
        );
        d.add(
            Text::from("com.app.x.run"),
            Exact,
            RegistrationId(3),
            callee(0, 3),
        );
        assert_eq!(
            d.lookup("com.app.x.run").map(|r| r.registration),
            Some(RegistrationId(3))
        );
        assert_eq!(
            d.lookup("com.app.y.run").map(|r| r.registration),
            Some(RegistrationId(2))
        );
        d.remove(RegistrationId(2), callee(0, 2));
        assert_eq!(d.lookup("com.app.y.run").map(|r| r.policy), Some(Wildcard));
        assert_eq!(d.lookup("org.app.y.run"), None);
    }
}
