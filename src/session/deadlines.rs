//! `Deadlines`: the handshake deadlines of a shard's connections, oldest
//! first, fired by one sweeper task. A timer per connection would cost an
//! io_uring cancel every time a handshake finishes in time, and the kernel
//! serves each cancel by scanning every outstanding poll: with thousands of
//! idle connections that made joining quadratic.

use crate::shard::mesh::Notify;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// How often the sweeper looks for expired deadlines (the timeout's precision).
const SWEEP: Duration = Duration::from_millis(50);

/// A shard's pending handshake deadlines.
#[derive(Default)]
pub struct Deadlines {
    queue: RefCell<VecDeque<(Instant, Weak<Notify>)>>,
}

impl Deadlines {
    /// A flag that is raised `timeout` from now, unless dropped before.
    /// (Every deadline has the same timeout, so the queue stays in order.)
    pub fn watch(&self, timeout: Duration) -> Rc<Notify> {
        let flag = Rc::new(Notify::default());
        self.queue
            .borrow_mut()
            .push_back((Instant::now() + timeout, Rc::downgrade(&flag)));
        flag
    }

    /// Raises every flag whose deadline passed; returns how many it raised.
    pub fn fire_expired(&self, now: Instant) -> usize {
        let mut fired = 0;
        let mut queue = self.queue.borrow_mut();
        while queue.front().is_some_and(|(d, _)| *d <= now) {
            if let Some(flag) = queue.pop_front().and_then(|(_, w)| w.upgrade()) {
                flag.notify();
                fired += 1;
            }
        }
        fired
    }

    /// Fires expired deadlines forever.
    pub async fn run_sweeper(self: Rc<Self>) {
        loop {
            glommio::timer::sleep(SWEEP).await;
            self.fire_expired(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_expired_and_still_watched_deadlines_fire() {
        let d = Deadlines::default();
        let short = d.watch(Duration::from_millis(0));
        let dropped = d.watch(Duration::from_millis(0));
        drop(dropped);
        let long = d.watch(Duration::from_secs(60));
        assert_eq!(d.fire_expired(Instant::now() + Duration::from_millis(1)), 1);
        assert_eq!(d.fire_expired(Instant::now() + Duration::from_secs(61)), 1);
        drop((short, long));
    }
}
