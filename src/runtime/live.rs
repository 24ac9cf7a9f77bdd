//! The connections alive on a shard, for a graceful shutdown: the shard
//! waits for their count to reach 0, and first ends those that hold no
//! session (a handshake in progress, a transport left open after GOODBYE),
//! which the shutdown GOODBYE to every session would not reach.

use crate::session::deadlines::ConnTimer;
use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// One shard's live connections.
#[derive(Default)]
pub struct LiveConns {
    next: Cell<u64>,
    conns: RefCell<FxHashMap<u64, Weak<ConnTimer>>>,
}

impl LiveConns {
    /// Counts a connection until the guard drops.
    pub fn enter(self: &Rc<Self>, timer: &Rc<ConnTimer>) -> LiveGuard {
        let id = self.next.get();
        self.next.set(id + 1);
        self.conns.borrow_mut().insert(id, Rc::downgrade(timer));
        LiveGuard {
            live: self.clone(),
            id,
        }
    }

    /// Connections alive.
    pub fn count(&self) -> usize {
        self.conns.borrow().len()
    }

    /// Ends every connection: one with a session has its GOODBYE queued
    /// first, and its queue is written out before the connection closes.
    pub fn close_all(&self, reason: &'static str) {
        for timer in self.conns.borrow().values().filter_map(Weak::upgrade) {
            timer.shut(reason);
        }
    }
}

/// Removes its connection from `LiveConns` when dropped.
pub struct LiveGuard {
    live: Rc<LiveConns>,
    id: u64,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.live.conns.borrow_mut().remove(&self.id);
    }
}
