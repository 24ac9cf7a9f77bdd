//! The sweeper of a shard's deadline wheel: one task that sleeps while the
//! wheel is empty, otherwise wakes every tick, fires what came due and
//! re-arms what asks for a follow-up (pings).

use crate::session::deadlines::{ConnDeadline, Wheel, TICK};
use crate::session::notify::Notify;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// A shard's connection deadlines.
pub struct Deadlines {
    wheel: RefCell<Wheel<ConnDeadline>>,
    /// Raised when the first entry goes into an empty wheel.
    wake: Notify,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            wheel: RefCell::new(Wheel::new(Instant::now())),
            wake: Notify::default(),
        }
    }
}

impl Deadlines {
    /// Adds `d`, due at `at`.
    pub fn add(&self, at: Instant, d: ConnDeadline) {
        let mut wheel = self.wheel.borrow_mut();
        if wheel.is_empty() {
            self.wake.notify();
        }
        wheel.insert(at, d);
    }

    /// True when the wheel is empty.
    pub fn is_empty(&self) -> bool {
        self.wheel.borrow().is_empty()
    }

    /// Fires everything due at `now`; returns how many entries fired.
    pub fn fire_expired(&self, now: Instant, due: &mut Vec<ConnDeadline>) -> usize {
        self.wheel.borrow_mut().expire(now, due);
        let fired = due.len();
        for d in due.drain(..) {
            if let Some((at, next)) = d.fire(now) {
                self.wheel.borrow_mut().insert(at, next);
            }
        }
        fired
    }

    /// Fires deadlines as they come due, forever.
    pub async fn run_sweeper(self: Rc<Self>) {
        let mut due = Vec::new();
        loop {
            if self.is_empty() {
                self.wake.wait().await;
            }
            glommio::timer::sleep(TICK).await;
            self.fire_expired(Instant::now(), &mut due);
        }
    }
}
