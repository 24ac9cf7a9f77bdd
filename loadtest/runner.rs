//! Runs a scenario's tasks on `--threads` glommio executors (connections
//! spread round-robin), printing a progress line every second until all of
//! them finish.

use crate::stats::Shared;
use anyhow::{anyhow, Result};
use glommio::{LocalExecutorBuilder, Placement};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A task, created on the executor that runs it (futures there are `!Send`).
pub type Task = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// Runs `tasks` spread over `threads` executors; returns when all are done.
pub fn run(threads: usize, tasks: Vec<Task>, shared: &Arc<Shared>, quiet: bool) -> Result<()> {
    let threads = threads.max(1);
    let mut per_thread: Vec<Vec<Task>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, t) in tasks.into_iter().enumerate() {
        per_thread[i % threads].push(t);
    }
    let finished = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for (i, tasks) in per_thread.into_iter().enumerate() {
        let done = finished.clone();
        let h = LocalExecutorBuilder::new(Placement::Unbound)
            .name(&format!("load-{i}"))
            .spawn(move || async move {
                let running: Vec<_> = tasks
                    .into_iter()
                    .map(|t| glommio::spawn_local(t()))
                    .collect();
                for r in running {
                    r.await;
                }
                done.fetch_add(1, Relaxed);
            })
            .map_err(|e| anyhow!("cannot start a client thread: {e}"))?;
        handles.push(h);
    }
    let start = Instant::now();
    let (mut last_rx, mut last) = (0, start);
    while finished.load(Relaxed) < threads {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= Duration::from_secs(1) && !quiet {
            let rx = shared.received.load(Relaxed);
            let rate = (rx - last_rx) as f64 / last.elapsed().as_secs_f64();
            eprintln!(
                "[{:>5.1}s] sent {} received {} ({:.0}/s) errors {}",
                start.elapsed().as_secs_f64(),
                shared.sent.load(Relaxed),
                rx,
                rate,
                shared.errors.load(Relaxed)
            );
            (last_rx, last) = (rx, Instant::now());
        }
    }
    for h in handles {
        h.join()
            .map_err(|e| anyhow!("a client thread failed: {e}"))?;
    }
    Ok(())
}
