//! `Registry`: one realm's replica of the router's registrations on one
//! shard ((procedure pattern, match policy) -> registration ID, invocation
//! policy and callees in router-wide registration order), so a CALL entering
//! any shard picks its callee without asking another shard. A CALL goes to
//! the best match: exact, else the longest prefix, else the highest-ranked
//! wildcard (`PatternIndex::best`); within it, the invocation policy picks
//! the callee (`pick.rs`).

use super::pick::{choose, Chooser};
use crate::realm::ids::CalleeAddr;
use crate::routing::{MatchPolicy, PatternIndex};
use crate::session::features::PeerFeatures;
use crate::wire::options::InvokePolicy;
use crate::wire::{ErrorUri, RegistrationId, Text};
use std::cell::Cell;
use std::collections::HashMap;
use std::time::SystemTime;

/// One callee of a registration, as every shard's replica holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalleeEntry {
    pub addr: CalleeAddr,
    /// Router-wide registration order (from the home shard): `first` and
    /// `last` pick by it.
    pub seq: u64,
    /// What the callee announced (canceling, progressive results and invocations).
    pub features: PeerFeatures,
    /// The callee asked for `caller` in INVOCATION.Details (`disclose_caller`).
    pub disclose_caller: bool,
}

/// A registration as this shard sees it.
pub struct Registration {
    pub id: RegistrationId,
    pub invoke: InvokePolicy,
    /// Sorted by `seq`.
    pub callees: Vec<CalleeEntry>,
    /// Where `roundrobin` (and `least_loaded` ties) continue.
    pub cursor: Cell<usize>,
    /// When this shard first had it.
    pub created: SystemTime,
}

/// Where a CALL goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub registration: RegistrationId,
    pub callee: CalleeEntry,
    pub policy: MatchPolicy,
    pub invoke: InvokePolicy,
    /// More than one callee: the call may be rerouted.
    pub shared: bool,
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
        invoke: InvokePolicy,
        callee: CalleeEntry,
    ) {
        let fresh = || Registration {
            id,
            invoke,
            callees: vec![callee],
            cursor: Cell::new(0),
            created: SystemTime::now(),
        };
        match self.procedures.get_mut(&procedure, policy) {
            Some(reg) if reg.id == id => {
                if !reg.callees.iter().any(|c| c.addr == callee.addr) {
                    let at = reg.callees.partition_point(|c| c.seq < callee.seq);
                    reg.callees.insert(at, callee);
                }
            }
            Some(reg) => {
                self.by_id.remove(&reg.id);
                *reg = fresh();
            }
            None => {
                self.procedures.insert(procedure.clone(), policy, fresh());
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
        reg.callees.retain(|c| c.addr != callee);
        if reg.callees.is_empty() {
            self.procedures.remove(procedure, *policy);
            self.by_id.remove(&id);
        }
    }

    /// Where a CALL of `procedure` goes: a callee with every feature of
    /// `need`, picked by the registration's policy. No registration matches:
    /// `no_such_procedure`; none of its callees has the features:
    /// `feature_not_supported`.
    pub fn route(
        &self,
        procedure: &str,
        need: PeerFeatures,
        chooser: &mut Chooser,
    ) -> Result<Route, ErrorUri> {
        let (policy, reg) = self
            .procedures
            .best(procedure)
            .ok_or(ErrorUri::NoSuchProcedure)?;
        let callee = choose(reg, need, &[], chooser).ok_or(ErrorUri::FeatureNotSupported)?;
        Ok(Route {
            registration: reg.id,
            callee,
            policy,
            invoke: reg.invoke,
            shared: reg.callees.len() > 1,
        })
    }

    /// Another callee of registration `id` for a call the callees in
    /// `tried` refused (call reroute), by the registration's policy.
    pub fn reroute(
        &self,
        id: RegistrationId,
        tried: &[CalleeAddr],
        chooser: &mut Chooser,
    ) -> Option<CalleeEntry> {
        let (procedure, policy) = self.by_id.get(&id)?;
        let reg = self.procedures.get(procedure, *policy)?;
        choose(reg, PeerFeatures::NONE, tried, chooser)
    }

    /// Every registration: its match policy and ID.
    pub fn ids(&self) -> impl Iterator<Item = (MatchPolicy, RegistrationId)> + '_ {
        self.procedures.values().map(|(p, r)| (p, r.id))
    }

    /// The registration of exactly (procedure, policy).
    pub fn lookup(&self, procedure: &str, policy: MatchPolicy) -> Option<RegistrationId> {
        self.procedures.get(procedure, policy).map(|r| r.id)
    }

    /// The registration a CALL of `procedure` goes to.
    pub fn best(&self, procedure: &str) -> Option<RegistrationId> {
        self.procedures.best(procedure).map(|(_, r)| r.id)
    }

    /// Registration `id` with its pattern and policy.
    pub fn get(&self, id: RegistrationId) -> Option<(&Text, MatchPolicy, &Registration)> {
        let (procedure, policy) = self.by_id.get(&id)?;
        let reg = self.procedures.get(procedure, *policy)?;
        Some((procedure, *policy, reg))
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

    fn callee(shard: usize, s: u64) -> CalleeEntry {
        CalleeEntry {
            addr: CalleeAddr {
                shard,
                session: SessionId(s),
            },
            seq: s,
            features: PeerFeatures::NONE,
            disclose_caller: false,
        }
    }

    fn add(d: &mut Registry, uri: &str, policy: MatchPolicy, id: u64, c: CalleeEntry) {
        d.add(
            Text::from(uri),
            policy,
            RegistrationId(id),
            InvokePolicy::Single,
            c,
        );
    }

    fn lookup(d: &Registry, uri: &str) -> Result<Route, ErrorUri> {
        d.route(uri, PeerFeatures::NONE, &mut Chooser::for_tests())
    }

    #[test]
    fn add_lookup_remove() {
        let mut d = Registry::default();
        add(&mut d, "com.p", Exact, 7, callee(1, 5));
        let route = Route {
            registration: RegistrationId(7),
            callee: callee(1, 5),
            policy: Exact,
            invoke: InvokePolicy::Single,
            shared: false,
        };
        assert_eq!(lookup(&d, "com.p"), Ok(route));
        d.remove(RegistrationId(7), callee(1, 5).addr);
        assert_eq!(lookup(&d, "com.p"), Err(ErrorUri::NoSuchProcedure));
        assert!(d.is_empty());
    }

    #[test]
    fn a_late_removal_of_an_old_id_keeps_the_new_registration() {
        let mut d = Registry::default();
        add(&mut d, "com.p", Exact, 1, callee(0, 5));
        add(&mut d, "com.p", Exact, 2, callee(2, 9));
        d.remove(RegistrationId(1), callee(0, 5).addr);
        let got = lookup(&d, "com.p").map(|r| r.registration);
        assert_eq!(got, Ok(RegistrationId(2)));
    }

    #[test]
    fn exact_beats_prefix_beats_wildcard() {
        let mut d = Registry::default();
        add(&mut d, "com.app..run", Wildcard, 1, callee(0, 1));
        add(&mut d, "com.app.", Prefix, 2, callee(0, 2));
        add(&mut d, "com.app.x.run", Exact, 3, callee(0, 3));
        let id = |d: &Registry, uri| lookup(d, uri).map(|r| r.registration.0);
        assert_eq!(id(&d, "com.app.x.run"), Ok(3));
        assert_eq!(id(&d, "com.app.y.run"), Ok(2));
        d.remove(RegistrationId(2), callee(0, 2).addr);
        assert_eq!(lookup(&d, "com.app.y.run").map(|r| r.policy), Ok(Wildcard));
        assert!(lookup(&d, "org.app.y.run").is_err());
    }

    #[test]
    fn callees_keep_router_wide_order_whatever_order_replicas_arrive_in() {
        let mut d = Registry::default();
        for s in [3, 1, 2] {
            let invoke = InvokePolicy::First;
            d.add(
                Text::from("p"),
                Exact,
                RegistrationId(9),
                invoke,
                callee(0, s),
            );
        }
        let mut c = Chooser::for_tests();
        let first = d.route("p", PeerFeatures::NONE, &mut c).unwrap();
        assert_eq!(first.callee.seq, 1);
        assert!(first.shared);
        let tried = [callee(0, 1).addr];
        let next = d.reroute(RegistrationId(9), &tried, &mut c).unwrap();
        assert_eq!(next.seq, 2);
    }

    #[test]
    fn a_callee_lacking_a_needed_feature_is_never_chosen() {
        let mut d = Registry::default();
        add(&mut d, "p", Exact, 1, callee(0, 1));
        let need = PeerFeatures::CALLEE_PROGRESSIVE_INVOCATIONS;
        let got = d.route("p", need, &mut Chooser::for_tests());
        assert_eq!(got, Err(ErrorUri::FeatureNotSupported));
    }
}
