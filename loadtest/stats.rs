//! Measurement: per-task counters and an HDR latency histogram, merged into
//! the run's totals; timestamps are nanoseconds since a process-wide epoch,
//! so a timestamp carried in a payload means the same to every thread.

use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the process-wide epoch.
pub fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Counts of one run (or one task).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub errors: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.sent += o.sent;
        self.received += o.received;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
        self.errors += o.errors;
    }
}

/// A latency histogram in nanoseconds (1 ns .. 60 s, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    // Constant, valid bounds: this cannot fail.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// What every task of a run shares: live totals for progress lines, and the
/// merged results.
pub struct Shared {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub errors: AtomicU64,
    /// Measurement starts when warm-up ends (ns since the epoch).
    pub measure_from: u64,
    pub merged: Mutex<(Counts, Histogram<u64>)>,
}

impl Shared {
    pub fn new(measure_from: u64) -> Shared {
        Shared {
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            measure_from,
            merged: Mutex::new((Counts::default(), histogram())),
        }
    }

    /// Adds one task's results.
    pub fn merge(&self, counts: &Counts, hist: &Histogram<u64>) {
        if let Ok(mut m) = self.merged.lock() {
            m.0.add(counts);
            let _ = m.1.add(hist);
        }
    }

    pub fn note_sent(&self, n: u64) {
        self.sent.fetch_add(n, Relaxed);
    }

    pub fn note_received(&self, n: u64) {
        self.received.fetch_add(n, Relaxed);
    }

    pub fn note_error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    /// Reports a client role that failed (`who`: e.g. "caller 3").
    pub fn fail(&self, counts: &mut Counts, who: std::fmt::Arguments<'_>, e: &anyhow::Error) {
        eprintln!("{who}: {e:#}");
        counts.errors += 1;
        self.note_error();
    }
}
