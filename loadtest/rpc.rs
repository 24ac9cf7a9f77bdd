//! The `rpc` scenario: C callers, each with a window of W calls in flight,
//! against K callees. Each callee registers its own procedure (the callers
//! spread calls over them) or, with `--shared`, all register one procedure
//! with `invoke: roundrobin` (a router without shared registration refuses
//! that, and the error is reported). Callees echo the payload.

use crate::conn::{Conn, Target, ANSWER_TIMEOUT};
use crate::runner::Task;
use crate::stamp::{self, Stamp};
use crate::stats::{histogram, now_ns, Counts, Shared};
use bytes::Bytes;
use futures_lite::future::poll_once;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::{Dict, Message, RequestId, Text};

/// How long `collect` reads results.
#[derive(Clone, Copy)]
enum Until {
    /// At least one (closed loop).
    OneBatch,
    /// Until this time (open loop: the next call's send time).
    Due(u64),
    /// Until every call is answered, or this time.
    Drained(u64),
}

/// What the RPC scenario does.
#[derive(Debug, Clone)]
pub struct Rpc {
    pub callers: usize,
    pub callees: usize,
    pub window: u64,
    pub payload: usize,
    pub shared_registration: bool,
    /// Total calls per second (open loop), or `None` (closed loop).
    pub rate: Option<f64>,
    pub stop_at: u64,
}

struct Run {
    cfg: Rpc,
    target: Target,
    shared: Arc<Shared>,
    registered: AtomicUsize,
    callers_done: AtomicUsize,
}

/// The scenario's tasks.
pub fn tasks(cfg: Rpc, target: Target, shared: Arc<Shared>) -> Vec<Task> {
    let run = Arc::new(Run {
        cfg,
        target,
        shared,
        registered: AtomicUsize::new(0),
        callers_done: AtomicUsize::new(0),
    });
    let mut tasks: Vec<Task> = Vec::new();
    for k in 0..run.cfg.callees {
        let run = run.clone();
        tasks.push(Box::new(move || {
            Box::pin(async move { run.callee(k).await })
        }));
    }
    for i in 0..run.cfg.callers {
        let run = run.clone();
        tasks.push(Box::new(move || {
            Box::pin(async move { run.caller(i).await })
        }));
    }
    tasks
}

impl Run {
    fn procedure(&self, k: usize) -> Text {
        match self.cfg.shared_registration {
            true => Text::from_static("com.switchyard.load.echo"),
            false => Text::from(format!("com.switchyard.load.echo{k}")),
        }
    }

    async fn callee(self: Arc<Self>, k: usize) {
        let mut counts = Counts::default();
        if let Err(e) = self.serve(k).await {
            self.shared
                .fail(&mut counts, format_args!("callee {k}"), &e);
            self.registered.fetch_add(1, Relaxed);
        }
        self.shared.merge(&counts, &histogram());
    }

    async fn serve(&self, k: usize) -> anyhow::Result<()> {
        let mut c = Conn::join(&self.target).await?;
        let options = match self.cfg.shared_registration {
            true => Dict::new().with("invoke", "roundrobin"),
            false => Dict::new(),
        };
        let request = RequestId(c.request());
        c.queue(&Message::Register {
            request,
            options,
            procedure: self.procedure(k),
        });
        c.flush().await?;
        match c.recv_timeout(ANSWER_TIMEOUT).await? {
            Message::Registered { .. } => {}
            Message::Error { error, .. } => anyhow::bail!("REGISTER refused: {error}"),
            other => anyhow::bail!("REGISTER answered with {}", other.name()),
        }
        self.registered.fetch_add(1, Relaxed);
        loop {
            let msg = match c.recv_within(Duration::from_millis(250)).await? {
                Some(m) => m,
                None if self.callers_done.load(Relaxed) == self.cfg.callers => break,
                None => continue,
            };
            self.answer(&mut c, msg);
            while let Some(Ok(msg)) = poll_once(c.recv()).await {
                self.answer(&mut c, msg);
            }
            c.flush().await?;
        }
        let _ = c.goodbye().await;
        Ok(())
    }

    /// Echoes an INVOCATION's payload back as YIELD.
    fn answer(&self, c: &mut Conn, msg: Message) {
        if let Message::Invocation {
            request, payload, ..
        } = msg
        {
            c.queue(&Message::Yield {
                request,
                options: Dict::new(),
                payload,
            });
        }
    }

    async fn caller(self: Arc<Self>, i: usize) {
        let (mut counts, mut hist) = (Counts::default(), histogram());
        if let Err(e) = self.call(i, &mut counts, &mut hist).await {
            self.shared
                .fail(&mut counts, format_args!("caller {i}"), &e);
        }
        self.callers_done.fetch_add(1, Relaxed);
        self.shared.merge(&counts, &hist);
    }

    async fn call(
        &self,
        i: usize,
        counts: &mut Counts,
        hist: &mut hdrhistogram::Histogram<u64>,
    ) -> anyhow::Result<()> {
        let mut c = Conn::join(&self.target).await?;
        while self.registered.load(Relaxed) < self.cfg.callees {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        let pad = Bytes::from(vec![0x5a; self.cfg.payload.saturating_sub(24)]);
        let per_caller = self.cfg.rate.map(|r| r / self.cfg.callers as f64);
        let (start, mut seq) = (now_ns(), 0u64);
        let mut pending: HashSet<u64> = HashSet::new();
        while now_ns() < self.cfg.stop_at {
            let t_ns = match per_caller {
                Some(rate) => {
                    let due = start + ((seq as f64) * 1e9 / rate) as u64;
                    if due > now_ns() {
                        c.flush().await?;
                        self.collect(&mut c, &mut pending, counts, hist, Until::Due(due))
                            .await?;
                    }
                    due
                }
                None => now_ns(),
            };
            seq += 1;
            let request = c.request();
            let payload = stamp::payload(
                Stamp {
                    source: i as u64,
                    seq,
                    t_ns,
                },
                &pad,
            );
            let procedure = self.procedure(seq as usize % self.cfg.callees.max(1));
            c.queue(&Message::Call {
                request: RequestId(request),
                options: Dict::new(),
                procedure,
                payload,
            });
            pending.insert(request);
            counts.sent += 1;
            self.shared.note_sent(1);
            if per_caller.is_none() && pending.len() as u64 >= self.cfg.window {
                c.flush().await?;
                self.collect(&mut c, &mut pending, counts, hist, Until::OneBatch)
                    .await?;
            }
        }
        c.flush().await?;
        let drain_until = now_ns() + ANSWER_TIMEOUT.as_nanos() as u64;
        let until = Until::Drained(drain_until);
        self.collect(&mut c, &mut pending, counts, hist, until)
            .await?;
        counts.lost += pending.len() as u64;
        let _ = c.goodbye().await;
        Ok(())
    }

    /// Reads results for as long as `until` says.
    async fn collect(
        &self,
        c: &mut Conn,
        pending: &mut HashSet<u64>,
        counts: &mut Counts,
        hist: &mut hdrhistogram::Histogram<u64>,
        until: Until,
    ) -> anyhow::Result<()> {
        loop {
            let wait = match until {
                Until::OneBatch => ANSWER_TIMEOUT,
                Until::Drained(_) if pending.is_empty() => return Ok(()),
                Until::Due(t) | Until::Drained(t) => {
                    Duration::from_nanos(t.saturating_sub(now_ns()))
                }
            };
            let msg = match c.recv_within(wait.max(Duration::from_micros(1))).await? {
                Some(m) => m,
                None if matches!(until, Until::OneBatch) => {
                    anyhow::bail!("no RESULT within {wait:?}")
                }
                None => return Ok(()),
            };
            self.result(msg, pending, counts, hist);
            while let Some(Ok(msg)) = poll_once(c.recv()).await {
                self.result(msg, pending, counts, hist);
            }
            if let Until::OneBatch = until {
                return Ok(());
            }
        }
    }

    fn result(
        &self,
        msg: Message,
        pending: &mut HashSet<u64>,
        counts: &mut Counts,
        hist: &mut hdrhistogram::Histogram<u64>,
    ) {
        let (request, payload) = match msg {
            Message::Result {
                request, payload, ..
            } => (request, payload),
            Message::Error { request, .. } => {
                pending.remove(&request.0);
                counts.errors += 1;
                self.shared.note_error();
                return;
            }
            _ => return,
        };
        if !pending.remove(&request.0) {
            counts.duplicated += 1;
            return;
        }
        counts.received += 1;
        self.shared.note_received(1);
        if let Some(s) = stamp::read(&payload).filter(|s| s.t_ns >= self.shared.measure_from) {
            let _ = hist.record(now_ns().saturating_sub(s.t_ns).max(1));
        }
    }
}
