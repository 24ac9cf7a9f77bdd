//! The sweeper of a shard's deadline wheel: one task that sleeps until the
//! earliest deadline (or, while the wheel is empty, until one is added),
//! fires what came due and re-arms what asks for a follow-up (pings). A
//! deadline added ahead of the one it sleeps for wakes it early. The
//! shard's call timeouts have a task of their own (`run_call_timers`).

use crate::session::deadlines::{ConnDeadline, Wheel};
use crate::session::notify::Notify;
use crate::shard::Shard;
use futures_lite::future::or;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

/// A shard's connection deadlines.
pub struct Deadlines {
    wheel: RefCell<Wheel<ConnDeadline>>,
    /// When the sweeper means to wake next (`None`: when woken).
    scheduled: Cell<Option<Instant>>,
    /// Raised when an entry is due before `scheduled`.
    wake: Notify,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            wheel: RefCell::new(Wheel::new(Instant::now())),
            scheduled: Cell::new(None),
            wake: Notify::default(),
        }
    }
}

impl Deadlines {
    /// Adds `d`, due at `at`.
    pub fn add(&self, at: Instant, d: ConnDeadline) {
        self.wheel.borrow_mut().insert(at, d);
        if self.scheduled.get().is_none_or(|s| at < s) {
            self.scheduled.set(Some(at));
            self.wake.notify();
        }
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
            let next = self.wheel.borrow().next_due();
            self.scheduled.set(next);
            match next {
                None => self.wake.wait().await,
                Some(at) => {
                    let sleep = glommio::timer::sleep(at.saturating_duration_since(Instant::now()));
                    or(sleep, self.wake.wait()).await;
                }
            }
            self.fire_expired(Instant::now(), &mut due);
        }
    }
}

/// Fires the shard's call timeouts as they come due, forever: sleeps until
/// the earliest one (or, with none armed, until one is), woken early when
/// a call arms a timeout ahead of the planned wake-up.
pub async fn run_call_timers(shard: Rc<RefCell<Shard>>) {
    let wake = shard.borrow().timers_notifier();
    loop {
        let next = shard.borrow_mut().plan_timer_wakeup();
        match next {
            None => wake.wait().await,
            Some(at) => {
                let sleep = glommio::timer::sleep(at.saturating_duration_since(Instant::now()));
                or(sleep, wake.wait()).await;
            }
        }
        shard.borrow_mut().fire_call_timers(Instant::now());
    }
}
