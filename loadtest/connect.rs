//! The `connect` scenario: open N sessions with at most C joins in flight,
//! measure time-to-WELCOME and joins/s, hold them (optionally publishing a
//! trickle of events), then close every one with GOODBYE.

use crate::conn::{Conn, Target};
use crate::runner::Task;
use crate::stats::{histogram, now_ns, Counts, Shared};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::{Dict, Message, Payload, RequestId, Text};

/// What the connect scenario does.
#[derive(Debug, Clone)]
pub struct Connect {
    pub sessions: usize,
    pub concurrency: usize,
    pub hold: Duration,
    /// Events per second each held session publishes (0: none).
    pub trickle: f64,
}

/// Shared state of a connect run.
pub struct Run {
    cfg: Connect,
    target: Target,
    shared: Arc<Shared>,
    next: AtomicUsize,
    joined: AtomicUsize,
    /// Whether a failed join was printed (the first one is, for the run:
    /// a refused login fails every join alike).
    failure_shown: AtomicBool,
    /// When the last session joined (ns since the epoch).
    pub all_joined_at: AtomicU64,
    pub started_at: u64,
    pub callback: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// The scenario's tasks: `concurrency` workers opening sessions until N.
pub fn tasks(
    cfg: Connect,
    target: Target,
    shared: Arc<Shared>,
    on_all_joined: Box<dyn FnOnce() + Send>,
) -> (Vec<Task>, Arc<Run>) {
    let workers = cfg.concurrency.clamp(1, cfg.sessions.max(1));
    let run = Arc::new(Run {
        cfg,
        target,
        shared,
        next: AtomicUsize::new(0),
        joined: AtomicUsize::new(0),
        failure_shown: AtomicBool::new(false),
        all_joined_at: AtomicU64::new(0),
        started_at: now_ns(),
        callback: std::sync::Mutex::new(Some(on_all_joined)),
    });
    let tasks = (0..workers)
        .map(|_| {
            let run = run.clone();
            Box::new(move || {
                Box::pin(async move { run.worker().await })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
            }) as Task
        })
        .collect();
    (tasks, run)
}

impl Run {
    async fn worker(self: Arc<Self>) {
        let (mut counts, mut hist) = (Counts::default(), histogram());
        let mut held = Vec::new();
        while self.next.fetch_add(1, Relaxed) < self.cfg.sessions {
            let started = now_ns();
            match Conn::join(&self.target).await {
                Ok(c) => {
                    let _ = hist.record(now_ns().saturating_sub(started).max(1));
                    counts.received += 1;
                    self.shared.note_received(1);
                    held.push(c);
                }
                Err(e) => {
                    if !self.failure_shown.swap(true, Relaxed) {
                        eprintln!("join failed: {e:#}");
                    }
                    counts.errors += 1;
                    self.shared.note_error();
                }
            }
            counts.sent += 1;
            self.shared.note_sent(1);
            if self.joined.fetch_add(1, Relaxed) + 1 == self.cfg.sessions {
                self.all_joined_at.store(now_ns(), Relaxed);
                if let Some(f) = self.callback.lock().ok().and_then(|mut f| f.take()) {
                    f();
                }
            }
        }
        self.hold(&mut held, &mut counts).await;
        for mut c in held {
            if c.goodbye().await.is_err() {
                counts.errors += 1;
            }
        }
        self.shared.merge(&counts, &hist);
    }

    /// Waits until every session joined, then holds them for `hold`.
    async fn hold(&self, held: &mut [Conn], counts: &mut Counts) {
        while self.joined.load(Relaxed) < self.cfg.sessions {
            glommio::timer::sleep(Duration::from_millis(5)).await;
        }
        let end = now_ns() + self.cfg.hold.as_nanos() as u64;
        if self.cfg.trickle <= 0.0 || held.is_empty() {
            glommio::timer::sleep(self.cfg.hold).await;
            return;
        }
        let gap = Duration::from_secs_f64(1.0 / self.cfg.trickle);
        let topic = Text::from_static("com.switchyard.load.trickle");
        while now_ns() < end {
            for c in held.iter_mut() {
                let request = RequestId(c.request());
                c.queue(&Message::Publish {
                    request,
                    options: Dict::new(),
                    topic: topic.clone(),
                    payload: Payload::empty(),
                });
                if c.flush().await.is_err() {
                    counts.errors += 1;
                }
            }
            glommio::timer::sleep(gap).await;
        }
    }
}
