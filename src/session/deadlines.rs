//! `Wheel`: a shard's deadlines (handshake timeouts, pings, and later call
//! timeouts) in one hashed timing wheel, fired by one sweeper task. No
//! deadline owns an io_uring timer: every cancelled timer makes the kernel
//! scan all outstanding polls, which made joining (and closing) thousands
//! of sessions superlinear.
//!
//! Insert is O(1) (the slot of the deadline's tick). Removal is O(1) and
//! lazy: an entry holds a `Weak` handle (or whatever the owner checks when it
//! fires), so dropping the owner is the removal and the entry is discarded
//! when its slot comes round. `expire(now)` visits only the slots of the
//! ticks that passed.

use super::notify::Notify;
use super::outbound::{OutFrame, Outbound};
use bytes::Bytes;
use std::cell::Cell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// The wheel's resolution: deadlines fire at most this late. Coarse on
/// purpose: with thousands of connections every tick has something due, and
/// each wake-up of a shard costs more the more I/O it has outstanding.
pub const TICK: Duration = Duration::from_millis(50);

/// Slots in the wheel (one round spans `SLOTS * TICK`; later deadlines wait rounds).
const SLOTS: usize = 1024;

/// A hashed timing wheel of `T`s.
pub struct Wheel<T> {
    start: Instant,
    slots: Vec<Vec<(u64, T)>>,
    /// The first tick not yet expired.
    cursor: u64,
    len: usize,
}

impl<T> Wheel<T> {
    /// An empty wheel whose tick 0 is `start`.
    pub fn new(start: Instant) -> Self {
        Wheel {
            start,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: 0,
            len: 0,
        }
    }

    /// Entries waiting (removed ones included until their slot comes round).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn tick_of(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.start);
        let tick = since.as_nanos().div_ceil(TICK.as_nanos());
        u64::try_from(tick).unwrap_or(u64::MAX).max(self.cursor)
    }

    /// Adds `item`, due at `at` (a past instant is due at the next sweep).
    pub fn insert(&mut self, at: Instant, item: T) {
        let tick = self.tick_of(at);
        self.slots[(tick % SLOTS as u64) as usize].push((tick, item));
        self.len += 1;
    }

    /// A lower bound of the earliest deadline: the start of the first tick
    /// whose slot holds anything (`None`: the wheel is empty). O(slots).
    pub fn next_due(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        let ahead = (0..SLOTS as u64)
            .find(|k| !self.slots[((self.cursor + k) % SLOTS as u64) as usize].is_empty())?;
        let tick = u32::try_from(self.cursor + ahead).unwrap_or(u32::MAX);
        Some(self.start + TICK * tick)
    }

    /// Moves every item due at or before `now` into `due`.
    pub fn expire(&mut self, now: Instant, due: &mut Vec<T>) {
        let since = now.saturating_duration_since(self.start).as_nanos() / TICK.as_nanos();
        let now_tick = u64::try_from(since).unwrap_or(u64::MAX);
        if now_tick < self.cursor {
            return;
        }
        let visits = (now_tick - self.cursor + 1).min(SLOTS as u64);
        for t in self.cursor..self.cursor + visits {
            let slot = &mut self.slots[(t % SLOTS as u64) as usize];
            let before = slot.len();
            let mut i = 0;
            while i < slot.len() {
                if slot[i].0 <= now_tick {
                    due.push(slot.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
            self.len -= before - slot.len();
        }
        self.cursor = now_tick + 1;
    }
}

/// What a connection waits for: its handshake to finish, and its peer to
/// stay alive. Owned by the connection; the wheel holds it weakly.
pub struct ConnTimer {
    /// Raised when the handshake deadline passes.
    pub handshake_expired: Notify,
    /// Whether the handshake still runs (its deadline still applies).
    pub handshaking: Cell<bool>,
    /// When the peer last sent anything.
    pub last_seen: Cell<Instant>,
    /// When a ping went out unanswered, if one did.
    pinged: Cell<Option<Instant>>,
    outbound: Rc<Outbound>,
}

/// How a shard pings its idle peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Idle time before a peer is pinged.
    pub every: Duration,
    /// How long a pinged peer has to send anything.
    pub timeout: Duration,
}

/// Which deadline of a connection an entry stands for.
pub enum ConnDeadline {
    Handshake(Weak<ConnTimer>),
    Liveness(Weak<ConnTimer>, Liveness),
}

impl ConnTimer {
    /// Ends the connection: a handshake in progress stops at once, an
    /// established one after its queued frames are written.
    pub fn shut(&self, reason: &'static str) {
        self.outbound.close(reason);
        self.handshake_expired.notify();
    }

    /// The timer state of a new connection writing to `outbound`.
    pub fn new(outbound: Rc<Outbound>, now: Instant) -> Rc<Self> {
        Rc::new(ConnTimer {
            handshake_expired: Notify::default(),
            handshaking: Cell::new(true),
            last_seen: Cell::new(now),
            pinged: Cell::new(None),
            outbound,
        })
    }

    /// Records that the peer sent something.
    pub fn seen(&self, now: Instant) {
        self.last_seen.set(now);
    }
}

impl ConnDeadline {
    /// Acts on a deadline that came due; returns the follow-up deadline, if any.
    pub fn fire(self, now: Instant) -> Option<(Instant, ConnDeadline)> {
        match self {
            ConnDeadline::Handshake(timer) => {
                let timer = timer.upgrade()?;
                if timer.handshaking.get() {
                    timer.handshake_expired.notify();
                }
                None
            }
            ConnDeadline::Liveness(weak, every) => {
                let timer = weak.upgrade()?;
                let next = check_liveness(&timer, every, now)?;
                Some((next, ConnDeadline::Liveness(weak, every)))
            }
        }
    }
}

/// One liveness step: ping an idle peer, close a silent pinged one. Returns
/// when to look again (`None`: the connection is closing).
fn check_liveness(timer: &ConnTimer, l: Liveness, now: Instant) -> Option<Instant> {
    if timer.outbound.closing().is_some() {
        return None;
    }
    let last_seen = timer.last_seen.get();
    if let Some(sent) = timer.pinged.get() {
        if last_seen < sent {
            tracing::debug!("peer did not answer a ping in time");
            timer.outbound.close(super::outbound::PING_TIMEOUT);
            return None;
        }
        timer.pinged.set(None);
    }
    let idle_until = last_seen + l.every;
    if idle_until > now {
        return Some(idle_until);
    }
    timer.pinged.set(Some(now));
    timer
        .outbound
        .push_unbounded(OutFrame::Ping(Bytes::from_static(b"switchyard")));
    Some(now + l.timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::outbound::SlowConsumer;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn items_fire_once_when_due_and_not_before() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0);
        w.insert(t0 + ms(125), "a");
        w.insert(t0 + ms(25), "b");
        w.insert(t0 + ms(300_000), "late");
        let mut due = Vec::new();
        w.expire(t0 + ms(55), &mut due);
        assert_eq!(due, ["b"]);
        due.clear();
        w.expire(t0 + ms(95), &mut due);
        assert!(due.is_empty());
        w.expire(t0 + ms(150), &mut due);
        assert_eq!(due, ["a"]);
        due.clear();
        w.expire(t0 + ms(299_990), &mut due);
        assert!(due.is_empty(), "a deadline rounds later stays put");
        w.expire(t0 + ms(300_050), &mut due);
        assert_eq!(due, ["late"]);
        assert!(w.is_empty());
    }

    #[test]
    fn the_next_due_tick_bounds_the_earliest_deadline() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0);
        assert_eq!(w.next_due(), None);
        w.insert(t0 + ms(260), 1);
        w.insert(t0 + ms(120), 2);
        assert_eq!(w.next_due(), Some(t0 + ms(150)));
        let mut due = Vec::new();
        w.expire(t0 + ms(150), &mut due);
        assert_eq!(due, [2]);
        assert_eq!(w.next_due(), Some(t0 + ms(300)));
    }

    #[test]
    fn a_deadline_in_the_past_fires_at_the_next_sweep() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0);
        let mut due = Vec::new();
        w.expire(t0 + ms(100), &mut due);
        w.insert(t0, 1);
        w.expire(t0 + ms(100), &mut due);
        assert!(due.is_empty());
        w.expire(t0 + ms(150), &mut due);
        assert_eq!(due, [1]);
    }

    #[test]
    fn a_dropped_connection_costs_nothing_when_its_deadline_fires() {
        let t0 = Instant::now();
        let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
        let timer = ConnTimer::new(q, t0);
        let d = ConnDeadline::Handshake(Rc::downgrade(&timer));
        drop(timer);
        assert!(d.fire(t0).is_none());
    }

    #[test]
    fn a_handshake_deadline_raises_the_flag_only_while_handshaking() {
        let t0 = Instant::now();
        let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
        let timer = ConnTimer::new(q, t0);
        ConnDeadline::Handshake(Rc::downgrade(&timer)).fire(t0);
        assert!(timer.handshake_expired.is_set());
        let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
        let welcomed = ConnTimer::new(q, t0);
        welcomed.handshaking.set(false);
        ConnDeadline::Handshake(Rc::downgrade(&welcomed)).fire(t0);
        assert!(!welcomed.handshake_expired.is_set());
    }

    #[test]
    fn an_idle_peer_is_pinged_then_closed_when_silent() {
        let t0 = Instant::now();
        let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
        let timer = ConnTimer::new(q.clone(), t0);
        let l = Liveness {
            every: ms(100),
            timeout: ms(50),
        };
        assert_eq!(check_liveness(&timer, l, t0 + ms(40)), Some(t0 + ms(100)));
        assert_eq!(q.queued_bytes(), 0);
        assert_eq!(check_liveness(&timer, l, t0 + ms(100)), Some(t0 + ms(150)));
        assert!(q.queued_bytes() > 0, "a ping was queued");
        timer.seen(t0 + ms(120));
        let next = check_liveness(&timer, l, t0 + ms(150));
        assert_eq!(next, Some(t0 + ms(220)), "an answer re-arms the idle check");
        assert_eq!(check_liveness(&timer, l, t0 + ms(220)), Some(t0 + ms(270)));
        assert_eq!(check_liveness(&timer, l, t0 + ms(270)), None);
        assert_eq!(q.closing(), Some("ping timeout"));
    }
}
