//! Failed-login throttling per source address: after `max_failures` failed
//! logins within `window`, further logins from that address are refused at
//! HELLO until the window ends, so a brute-force client slows down while
//! everyone else logs in as usual. Each shard keeps its own table (the
//! kernel spreads one address's connections over the shards, so a client
//! gets at most `max_failures` tries per window per shard). The table is
//! bounded: when full, expired entries go; addresses beyond the bound are
//! not tracked until room frees up.

use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Addresses tracked at most, per shard.
pub const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// One shard's failed-login counts.
#[derive(Debug)]
pub struct Limiter {
    max_failures: u32,
    window: Duration,
    failures: FxHashMap<IpAddr, Failures>,
}

impl Limiter {
    /// `max_failures` 0 turns throttling off.
    pub fn new(max_failures: u32, window: Duration) -> Limiter {
        Limiter {
            max_failures,
            window,
            failures: FxHashMap::default(),
        }
    }

    /// How long `ip` must still wait, if it is throttled now.
    pub fn blocked(&mut self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let f = *self.failures.get(&ip)?;
        let end = f.since + self.window;
        if now >= end {
            self.failures.remove(&ip);
            return None;
        }
        (f.count >= self.max_failures).then(|| end - now)
    }

    /// Counts a failed login from `ip`.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        if self.max_failures == 0 {
            return;
        }
        if self.failures.len() >= MAX_TRACKED && !self.failures.contains_key(&ip) {
            let window = self.window;
            self.failures.retain(|_, f| now < f.since + window);
            if self.failures.len() >= MAX_TRACKED {
                return;
            }
        }
        let f = self.failures.entry(ip).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now >= f.since + self.window {
            *f = Failures {
                count: 0,
                since: now,
            };
        }
        f.count += 1;
    }

    /// Addresses tracked.
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn blocks_after_max_failures_until_the_window_ends() {
        let t0 = Instant::now();
        let mut l = Limiter::new(3, Duration::from_secs(10));
        for _ in 0..2 {
            l.failed(ip(1), t0);
        }
        assert_eq!(l.blocked(ip(1), t0), None);
        l.failed(ip(1), t0);
        assert_eq!(l.blocked(ip(1), t0), Some(Duration::from_secs(10)));
        assert_eq!(
            l.blocked(ip(2), t0),
            None,
            "other addresses are not affected"
        );
        let later = t0 + Duration::from_secs(4);
        assert_eq!(l.blocked(ip(1), later), Some(Duration::from_secs(6)));
        assert_eq!(l.blocked(ip(1), t0 + Duration::from_secs(10)), None);
        assert!(l.is_empty());
    }

    #[test]
    fn zero_turns_it_off() {
        let t0 = Instant::now();
        let mut l = Limiter::new(0, Duration::from_secs(10));
        for _ in 0..100 {
            l.failed(ip(1), t0);
        }
        assert_eq!(l.blocked(ip(1), t0), None);
    }

    #[test]
    fn the_table_stays_bounded() {
        let t0 = Instant::now();
        let mut l = Limiter::new(1, Duration::from_secs(1));
        for i in 0..(MAX_TRACKED as u32 + 10) {
            l.failed(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert_eq!(l.len(), MAX_TRACKED);
        let later = t0 + Duration::from_secs(2);
        l.failed(ip(200), later);
        assert_eq!(l.len(), 1, "expired entries make room");
    }
}
