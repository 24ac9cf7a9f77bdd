//! Per-source-address limits of one shard: how many connections one IP
//! address may hold open here, and how many of them may be still in their
//! handshake (not yet WELCOMEd). A connection over either limit is closed
//! as soon as it is accepted, before anything is allocated for it, so a
//! flood of half-open connections from one address costs the router at
//! most the limit's worth, and clients from other addresses are unaffected.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

/// The limits (0: none) and what each address holds now.
pub struct AddressLimits {
    max_connections: u32,
    max_handshakes: u32,
    held: RefCell<FxHashMap<IpAddr, Held>>,
}

#[derive(Default, Clone, Copy)]
struct Held {
    connections: u32,
    handshakes: u32,
}

/// One admitted connection: its address's counts go down when it is dropped.
pub struct Admitted {
    limits: Rc<AddressLimits>,
    ip: IpAddr,
    handshaking: bool,
}

impl AddressLimits {
    /// The limits, or `None` when both are off (then nothing is counted).
    pub fn new(max_connections: u32, max_handshakes: u32) -> Option<Rc<AddressLimits>> {
        (max_connections > 0 || max_handshakes > 0).then(|| {
            Rc::new(AddressLimits {
                max_connections,
                max_handshakes,
                held: RefCell::new(FxHashMap::default()),
            })
        })
    }

    /// Admits a new connection from `ip`, or `None` when that would pass a limit.
    pub fn admit(self: &Rc<Self>, ip: IpAddr) -> Option<Admitted> {
        let mut held = self.held.borrow_mut();
        let h = held.entry(ip).or_default();
        let over = |n: u32, max: u32| max > 0 && n >= max;
        if over(h.connections, self.max_connections) || over(h.handshakes, self.max_handshakes) {
            if h.connections == 0 {
                held.remove(&ip);
            }
            return None;
        }
        h.connections += 1;
        h.handshakes += 1;
        Some(Admitted {
            limits: self.clone(),
            ip,
            handshaking: true,
        })
    }

    /// Connections held by `ip` now (connections, handshakes).
    #[cfg(test)]
    pub fn held(&self, ip: IpAddr) -> (u32, u32) {
        let h = self.held.borrow().get(&ip).copied().unwrap_or_default();
        (h.connections, h.handshakes)
    }
}

impl Admitted {
    /// The session was welcomed: it no longer counts as a handshake.
    pub fn welcomed(&mut self) {
        if std::mem::take(&mut self.handshaking) {
            if let Some(h) = self.limits.held.borrow_mut().get_mut(&self.ip) {
                h.handshakes -= 1;
            }
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut held = self.limits.held.borrow_mut();
        if let Some(h) = held.get_mut(&self.ip) {
            h.connections -= 1;
            h.handshakes -= u32::from(self.handshaking);
            if h.connections == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_and_connections_are_bounded_per_address() {
        let limits = AddressLimits::new(3, 2).unwrap();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let mut first = limits.admit(a).unwrap();
        let second = limits.admit(a).unwrap();
        assert!(limits.admit(a).is_none(), "two handshakes in progress");
        assert!(limits.admit(b).is_some(), "another address is not affected");
        first.welcomed();
        let third = limits.admit(a).unwrap();
        assert_eq!(limits.held(a), (3, 2));
        first.welcomed();
        assert!(limits.admit(a).is_none(), "three connections open");
        drop((first, second, third));
        assert_eq!(limits.held(a), (0, 0));
        assert!(limits.held.borrow().is_empty());
        assert!(AddressLimits::new(0, 0).is_none());
    }
}
