//! Sampled latencies of one shard: an HDR histogram per measured path
//! (a call's round trip through the router, a publish's local fan-out),
//! fed with one of every `SAMPLE_EVERY` operations so the hot path pays an
//! increment and a test for the others and reads the clock only for the
//! sampled ones. The histograms are plain per-shard data: a report clones
//! them at scrape time, never per message.

use hdrhistogram::Histogram;
use std::time::Instant;

/// One operation in this many is timed (the first, then every 64th).
pub const SAMPLE_EVERY: u32 = 64;

/// The largest latency told apart (longer ones count as this): 60 s.
const MAX_NS: u64 = 60_000_000_000;

/// Significant decimal digits kept: values are recorded within 1%.
const SIGFIGS: u8 = 2;

/// A sampled latency distribution, in nanoseconds.
#[derive(Clone)]
pub struct Latency {
    /// Operations seen (the sampling counter).
    tick: u32,
    hist: Histogram<u64>,
    /// The exact sum of the recorded latencies.
    sum_ns: u64,
}

/// A summary (for logs): samples and a few quantiles, not the buckets.
impl std::fmt::Debug for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latency")
            .field("samples", &self.hist.len())
            .field("p50_ns", &self.hist.value_at_quantile(0.5))
            .field("p99_ns", &self.hist.value_at_quantile(0.99))
            .field("max_ns", &self.hist.max())
            .finish()
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            tick: 0,
            hist: empty(),
            sum_ns: 0,
        }
    }
}

fn empty() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, SIGFIGS).expect("constant bounds are valid")
}

impl Latency {
    /// Counts one operation: its start time when it is sampled.
    #[inline]
    pub fn sample(&mut self) -> Option<Instant> {
        let sampled = self.tick % SAMPLE_EVERY == 0;
        self.tick = self.tick.wrapping_add(1);
        if sampled {
            Some(Instant::now())
        } else {
            None
        }
    }

    /// Records a sampled operation that started at `start` and ends now.
    #[cold]
    pub fn record_since(&mut self, start: Instant) {
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.record_ns(ns);
    }

    /// Records one latency of `ns` nanoseconds.
    pub fn record_ns(&mut self, ns: u64) {
        self.hist.saturating_record(ns.clamp(1, MAX_NS));
        self.sum_ns = self.sum_ns.saturating_add(ns);
    }

    /// Latencies recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Their sum, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }

    /// Adds `other`'s latencies to these (the `shard="all"` series).
    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on every shard: adding cannot fail.
        let _ = self.hist.add(&other.hist);
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
    }

    /// Latencies per bucket of `bounds` (upper bounds in seconds,
    /// ascending, the last `f64::INFINITY`): not cumulative, one count per
    /// bound. A recorded value goes by the middle of its HDR bucket.
    pub fn buckets(&self, bounds: &[f64]) -> Vec<(f64, u64)> {
        let mut out: Vec<(f64, u64)> = bounds.iter().map(|b| (*b, 0)).collect();
        for v in self.hist.iter_recorded() {
            let ns = self.hist.median_equivalent(v.value_iterated_to());
            let secs = ns as f64 / 1e9;
            let at = out.iter().position(|(b, _)| secs <= *b);
            let at = at.unwrap_or(out.len().saturating_sub(1));
            if let Some(slot) = out.get_mut(at) {
                slot.1 += v.count_at_value();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_operation_in_sample_every_is_timed_starting_with_the_first() {
        let mut l = Latency::default();
        let sampled = (0..3 * SAMPLE_EVERY)
            .filter(|_| l.sample().is_some())
            .count();
        assert_eq!(sampled, 3);
        let mut l = Latency::default();
        assert!(l.sample().is_some(), "the first is timed");
        assert!(l.sample().is_none());
    }

    #[test]
    fn buckets_hold_each_value_once_and_merging_adds_up() {
        let mut a = Latency::default();
        for ns in [500, 20_000, 20_000, 3_000_000] {
            a.record_ns(ns);
        }
        let bounds = [1e-6, 1e-4, 1e-2, f64::INFINITY];
        let counts: Vec<u64> = a.buckets(&bounds).iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [1, 2, 1, 0]);
        let mut b = Latency::default();
        b.record_ns(120_000_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 5);
        let counts: Vec<u64> = a.buckets(&bounds).iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [1, 2, 1, 1], "beyond the range counts in +Inf");
        assert!((a.sum_seconds() - 120.003_040_5).abs() < 1e-9);
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_is_a_summary_not_the_buckets() {
        let mut l = Latency::default();
        l.record_ns(1_000);
        let text = format!("{l:?}");
        assert!(text.len() < 120 && text.contains("samples: 1"), "{text}");
    }
}
