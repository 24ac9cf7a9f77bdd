//! The `pubsub` scenario: P publishers and S subscribers over T topics.
//! Subscriber i takes topic i % T; publishers publish round-robin over the
//! topics. Modes: fire-and-forget with an end-to-end window (closed loop),
//! acknowledged with a window of outstanding PUBLISHED (closed loop), or a
//! target rate (open loop, latency from the intended send time).

use crate::conn::{Conn, Target};
use crate::runner::Task;
use crate::stamp::{self, Arrival, Sequences, Stamp};
use crate::stats::{histogram, now_ns, Counts, Shared};
use bytes::Bytes;
use futures_lite::future::poll_once;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::{Dict, Message, RequestId, Text};

/// What the pub/sub scenario does.
#[derive(Debug, Clone)]
pub struct PubSub {
    pub publishers: usize,
    pub subscribers: usize,
    pub topics: usize,
    pub payload: usize,
    pub acknowledge: bool,
    pub window: u64,
    /// Total publishes per second (open loop), or `None` (closed loop).
    pub rate: Option<f64>,
    pub stop_at: u64,
}

/// State shared by the scenario's tasks.
struct Run {
    cfg: PubSub,
    target: Target,
    shared: Arc<Shared>,
    subscribed: AtomicUsize,
    publishers_done: AtomicUsize,
    /// Deliveries the subscribers should get (fan-out of every publish).
    expected: AtomicU64,
    agent: std::sync::Mutex<String>,
}

/// The scenario's tasks.
pub fn tasks(cfg: PubSub, target: Target, shared: Arc<Shared>) -> (Vec<Task>, Arc<impl RunResult>) {
    let run = Arc::new(Run {
        cfg,
        target,
        shared,
        subscribed: AtomicUsize::new(0),
        publishers_done: AtomicUsize::new(0),
        expected: AtomicU64::new(0),
        agent: std::sync::Mutex::new(String::new()),
    });
    let mut tasks: Vec<Task> = Vec::new();
    for i in 0..run.cfg.subscribers {
        let run = run.clone();
        tasks.push(Box::new(move || {
            Box::pin(async move { run.subscriber(i).await })
        }));
    }
    for i in 0..run.cfg.publishers {
        let run = run.clone();
        tasks.push(Box::new(move || {
            Box::pin(async move { run.publisher(i).await })
        }));
    }
    (tasks, run)
}

/// Results a scenario reports besides the shared counts.
pub trait RunResult: Send + Sync {
    fn expected(&self) -> u64;
    fn agent(&self) -> String;
}

impl RunResult for Run {
    fn expected(&self) -> u64 {
        self.expected.load(Relaxed)
    }
    fn agent(&self) -> String {
        self.agent.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

fn topic(i: usize) -> Text {
    Text::from(format!("com.switchyard.load.topic{i}"))
}

impl Run {
    fn subscribers_of(&self, t: usize) -> u64 {
        let (s, n) = (self.cfg.subscribers, self.cfg.topics.max(1));
        (s / n + usize::from(t < s % n)) as u64
    }

    async fn subscriber(self: Arc<Self>, i: usize) {
        let (mut counts, mut hist) = (Counts::default(), histogram());
        if let Err(e) = self.subscribe_and_receive(i, &mut counts, &mut hist).await {
            self.shared
                .fail(&mut counts, format_args!("subscriber {i}"), &e);
            self.subscribed.fetch_add(1, Relaxed);
        }
        self.shared.merge(&counts, &hist);
    }

    async fn subscribe_and_receive(
        &self,
        i: usize,
        counts: &mut Counts,
        hist: &mut hdrhistogram::Histogram<u64>,
    ) -> anyhow::Result<()> {
        let mut c = Conn::join(&self.target).await?;
        let request = RequestId(c.request());
        c.queue(&Message::Subscribe {
            request,
            options: Dict::new(),
            topic: topic(i % self.cfg.topics.max(1)),
        });
        c.flush().await?;
        match c.recv_timeout(crate::conn::ANSWER_TIMEOUT).await? {
            Message::Subscribed { .. } => {}
            other => anyhow::bail!("SUBSCRIBE answered with {}", other.name()),
        }
        self.subscribed.fetch_add(1, Relaxed);
        let mut seqs = Sequences::default();
        loop {
            let idle = Duration::from_millis(250);
            let msg = match c.recv_within(idle).await? {
                Some(m) => m,
                None if self.publishers_done.load(Relaxed) == self.cfg.publishers => break,
                None => continue,
            };
            let Message::Event { payload, .. } = msg else {
                continue;
            };
            let Some(s) = stamp::read(&payload) else {
                counts.errors += 1;
                continue;
            };
            counts.received += 1;
            self.shared.note_received(1);
            match seqs.see(s.source, s.seq) {
                Arrival::Next => {}
                Arrival::Duplicate => counts.duplicated += 1,
                Arrival::Late => counts.out_of_order += 1,
            }
            if s.t_ns >= self.shared.measure_from {
                let _ = hist.record(now_ns().saturating_sub(s.t_ns).max(1));
            }
        }
        let _ = c.goodbye().await;
        Ok(())
    }

    async fn publisher(self: Arc<Self>, i: usize) {
        let mut counts = Counts::default();
        if let Err(e) = self.publish(i, &mut counts).await {
            self.shared
                .fail(&mut counts, format_args!("publisher {i}"), &e);
        }
        self.publishers_done.fetch_add(1, Relaxed);
        self.shared.merge(&counts, &histogram());
    }

    async fn publish(&self, i: usize, counts: &mut Counts) -> anyhow::Result<()> {
        let mut c = Conn::join(&self.target).await?;
        if let Ok(mut a) = self.agent.lock() {
            *a = c.agent.clone();
        }
        while self.subscribed.load(Relaxed) < self.cfg.subscribers {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        let pad = Bytes::from(vec![0x5a; self.cfg.payload.saturating_sub(24)]);
        let options = if self.cfg.acknowledge {
            Dict::new().with("acknowledge", true)
        } else {
            Dict::new()
        };
        let per_publisher = self.cfg.rate.map(|r| r / self.cfg.publishers as f64);
        let (start, mut seq, mut outstanding) = (now_ns(), 0u64, 0u64);
        while now_ns() < self.cfg.stop_at {
            let t_ns = match per_publisher {
                Some(rate) => {
                    let due = start + ((seq as f64) * 1e9 / rate) as u64;
                    let now = now_ns();
                    if due > now {
                        c.flush().await?;
                        glommio::timer::sleep(Duration::from_nanos(due - now)).await;
                    }
                    due
                }
                None => now_ns(),
            };
            seq += 1;
            let t = (seq as usize) % self.cfg.topics.max(1);
            let payload = stamp::payload(
                Stamp {
                    source: i as u64,
                    seq,
                    t_ns,
                },
                &pad,
            );
            let request = RequestId(c.request());
            c.queue(&Message::Publish {
                request,
                options: options.clone(),
                topic: topic(t),
                payload,
            });
            counts.sent += 1;
            self.shared.note_sent(1);
            self.expected.fetch_add(self.subscribers_of(t), Relaxed);
            outstanding += u64::from(self.cfg.acknowledge);
            if c.queued() > 16 * 1024 || per_publisher.is_some() {
                c.flush().await?;
            }
            self.wait_window(&mut c, &mut outstanding).await?;
        }
        c.flush().await?;
        while outstanding > 0 {
            outstanding -= u64::from(matches!(
                c.recv_timeout(crate::conn::ANSWER_TIMEOUT).await?,
                Message::Published { .. }
            ));
        }
        let _ = c.goodbye().await;
        Ok(())
    }

    /// Closed loop: waits while the window is full (PUBLISHED acks, or
    /// deliveries the subscribers have not received yet).
    async fn wait_window(&self, c: &mut Conn, outstanding: &mut u64) -> anyhow::Result<()> {
        if self.cfg.rate.is_some() {
            return Ok(());
        }
        if self.cfg.acknowledge {
            while *outstanding >= self.cfg.window {
                c.flush().await?;
                if let Message::Published { .. } =
                    c.recv_timeout(crate::conn::ANSWER_TIMEOUT).await?
                {
                    *outstanding -= 1;
                }
                while let Some(Ok(Message::Published { .. })) = poll_once(c.recv()).await {
                    *outstanding -= 1;
                }
            }
            return Ok(());
        }
        let limit = self.cfg.window * self.cfg.subscribers.max(1) as u64;
        let behind = || {
            self.expected
                .load(Relaxed)
                .saturating_sub(self.shared.received.load(Relaxed))
        };
        while behind() > limit && now_ns() < self.cfg.stop_at {
            c.flush().await?;
            glommio::timer::sleep(Duration::from_micros(100)).await;
        }
        Ok(())
    }
}
