//! Per-session limits: how many subscriptions and registrations a session
//! may hold, how many calls it may have in flight, and how fast it may
//! publish (a token bucket). A request over a limit gets ERROR
//! `switchyard.error.limit_exceeded` naming the limit and its value; the
//! session goes on. 0 turns a limit off.

use std::time::Instant;

/// The configured limits (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub subscriptions: usize,
    pub registrations: usize,
    pub calls_in_flight: usize,
    pub publications_per_s: u32,
}

impl Limits {
    /// Whether a limit is set for the kind of `msg` (no lookup: cheap
    /// enough for every message).
    #[inline]
    pub fn apply_to(&self, msg: &crate::wire::Message) -> bool {
        use crate::wire::Message;
        match msg {
            Message::Publish { .. } => self.publications_per_s > 0,
            Message::Call { .. } => self.calls_in_flight > 0,
            Message::Subscribe { .. } => self.subscriptions > 0,
            Message::Register { .. } => self.registrations > 0,
            _ => false,
        }
    }
}

/// A limit a request ran into: its name (the config key) and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub name: &'static str,
    pub value: u64,
}

/// A session's publication budget: `rate` tokens a second, at most `rate`
/// saved up (one second of burst).
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn full(rate: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(rate),
            last: now,
        }
    }

    /// Takes one token if there is one (after refilling for the time passed).
    pub fn take(&mut self, rate: u32, now: Instant) -> bool {
        let rate = f64::from(rate);
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `Some` when `held` has reached `limit` (0: no limit).
pub fn reached(name: &'static str, held: usize, limit: usize) -> Option<Exceeded> {
    (limit > 0 && held >= limit).then_some(Exceeded {
        name,
        value: limit as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_allows_its_rate_with_one_second_of_burst() {
        let t0 = Instant::now();
        let mut b = Bucket::full(10, t0);
        for _ in 0..10 {
            assert!(b.take(10, t0));
        }
        assert!(!b.take(10, t0), "the burst is spent");
        assert!(
            b.take(10, t0 + Duration::from_millis(100)),
            "one token per 100 ms"
        );
        assert!(!b.take(10, t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_secs(60);
        for _ in 0..10 {
            assert!(b.take(10, later));
        }
        assert!(!b.take(10, later), "no more than a second saved up");
    }

    #[test]
    fn zero_is_no_limit() {
        assert_eq!(reached("session.max_subscriptions", 1_000_000, 0), None);
        let hit = reached("session.max_subscriptions", 5, 5).unwrap();
        assert_eq!((hit.name, hit.value), ("session.max_subscriptions", 5));
        assert_eq!(reached("session.max_subscriptions", 4, 5), None);
    }
}
