//! `Dealer`: one realm's replica of the router's registrations on one shard
//! (procedure -> registration ID and callees), so a CALL entering any shard
//! finds its callee without asking another shard.

use crate::shard::envelope::CalleeAddr;
use crate::wire::{RegistrationId, Text};
use std::collections::HashMap;

/// A registration as this shard sees it.
pub struct Registration {
    pub id: RegistrationId,
    pub callees: Vec<CalleeAddr>,
}

/// One realm's registrations, replicated on every shard.
#[derive(Default)]
pub struct Dealer {
    procedures: HashMap<Text, Registration>,
    by_id: HashMap<RegistrationId, Text>,
}

impl Dealer {
    /// Adds `callee` to registration `id` of `procedure`. A different ID for the
    /// same procedure replaces the old one (its removal may still be in flight).
    pub fn add(&mut self, procedure: Text, id: RegistrationId, callee: CalleeAddr) {
        let reg = self
            .procedures
            .entry(procedure.clone())
            .or_insert(Registration {
                id,
                callees: Vec::new(),
            });
        if reg.id != id {
            self.by_id.remove(&reg.id);
            *reg = Registration {
                id,
                callees: Vec::new(),
            };
        }
        if !reg.callees.contains(&callee) {
            reg.callees.push(callee);
        }
        self.by_id.insert(id, procedure);
    }

    /// Removes `callee` from registration `id`; the registration goes with its last callee.
    pub fn remove(&mut self, id: RegistrationId, callee: CalleeAddr) {
        let Some(procedure) = self.by_id.get(&id) else {
            return;
        };
        let Some(reg) = self.procedures.get_mut(procedure.as_str()) else {
            return;
        };
        reg.callees.retain(|c| *c != callee);
        if reg.callees.is_empty() {
            self.procedures.remove(procedure.as_str());
            self.by_id.remove(&id);
        }
    }

    /// The registration and callee a CALL of `procedure` goes to.
    pub fn lookup(&self, procedure: &str) -> Option<(RegistrationId, CalleeAddr)> {
        let reg = self.procedures.get(procedure)?;
        reg.callees.first().map(|c| (reg.id, *c))
    }

    /// Number of procedures registered.
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

    fn callee(shard: usize, s: u64) -> CalleeAddr {
        CalleeAddr {
            shard,
            session: SessionId(s),
        }
    }

    #[test]
    fn add_lookup_remove() {
        let mut d = Dealer::default();
        d.add(Text::from("com.p"), RegistrationId(7), callee(1, 5));
        assert_eq!(d.lookup("com.p"), Some((RegistrationId(7), callee(1, 5))));
        d.remove(RegistrationId(7), callee(1, 5));
        assert_eq!(d.lookup("com.p"), None);
        assert!(d.is_empty());
    }

    #[test]
    fn a_late_removal_of_an_old_id_keeps_the_new_registration() {
        let mut d = Dealer::default();
        d.add(Text::from("com.p"), RegistrationId(1), callee(0, 5));
        d.add(Text::from("com.p"), RegistrationId(2), callee(2, 9));
        d.remove(RegistrationId(1), callee(0, 5));
        assert_eq!(d.lookup("com.p"), Some((RegistrationId(2), callee(2, 9))));
    }
}
