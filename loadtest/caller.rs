//! The caller side of the `rpc` scenario: a closed loop of `window` calls
//! in flight, or an open loop at the caller's share of `rate`. Latency runs
//! from the (intended) send time to the final RESULT. In a progressive run
//! the caller counts each call's chunks; a call that ends with a different
//! number than asked for (a router without progressive call results answers
//! the first YIELD as the final RESULT) counts as an error, explained once.

use crate::conn::{Conn, ANSWER_TIMEOUT};
use crate::rpc::Run;
use crate::stamp::{self, Stamp};
use crate::stats::{histogram, now_ns, Counts};
use anyhow::Result;
use bytes::Bytes;
use futures_lite::future::poll_once;
use hdrhistogram::Histogram;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::{Dict, Message, RequestId};

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

/// One caller's calls in flight and what came back.
struct Calls {
    pending: HashSet<u64>,
    /// Progressive results so far per call in flight (progressive runs only).
    partial: HashMap<u64, u32>,
    /// Chunks of the measured calls.
    chunks: u64,
    counts: Counts,
    hist: Histogram<u64>,
}

impl Calls {
    fn new() -> Calls {
        Calls {
            pending: HashSet::new(),
            partial: HashMap::new(),
            chunks: 0,
            counts: Counts::default(),
            hist: histogram(),
        }
    }
}

impl Run {
    pub(crate) async fn caller(self: Arc<Self>, i: usize) {
        let mut calls = Calls::new();
        if let Err(e) = self.call(i, &mut calls).await {
            self.shared
                .fail(&mut calls.counts, format_args!("caller {i}"), &e);
        }
        self.callers_done.fetch_add(1, Relaxed);
        self.chunks.fetch_add(calls.chunks, Relaxed);
        self.shared.merge(&calls.counts, &calls.hist);
    }

    fn call_options(&self) -> Dict {
        match self.cfg.progressive {
            Some(_) => Dict::new().with("receive_progress", true),
            None => Dict::new(),
        }
    }

    async fn call(&self, i: usize, calls: &mut Calls) -> Result<()> {
        let mut c = Conn::join(&self.target).await?;
        while self.registered.load(Relaxed) < self.cfg.callees {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        if self.refused.load(Relaxed) {
            // The callee reported the refusal; there is nothing to call.
            let _ = c.goodbye().await;
            return Ok(());
        }
        let pad = Bytes::from(vec![0x5a; self.cfg.payload.saturating_sub(24)]);
        let per_caller = self.cfg.rate.map(|r| r / self.cfg.callers as f64);
        let (start, mut seq) = (now_ns(), 0u64);
        while now_ns() < self.cfg.stop_at {
            let t_ns = match per_caller {
                Some(rate) => {
                    let due = start + ((seq as f64) * 1e9 / rate) as u64;
                    if due > now_ns() {
                        c.flush().await?;
                        self.collect(&mut c, calls, Until::Due(due)).await?;
                    }
                    due
                }
                None => now_ns(),
            };
            seq += 1;
            let request = c.request();
            let source = i as u64;
            let payload = stamp::payload(Stamp { source, seq, t_ns }, &pad);
            let procedure = self.procedures[seq as usize % self.procedures.len()].clone();
            c.queue(&Message::Call {
                request: RequestId(request),
                options: self.call_options(),
                procedure,
                payload,
            });
            calls.pending.insert(request);
            calls.counts.sent += 1;
            self.shared.note_sent(1);
            if per_caller.is_none() && calls.pending.len() as u64 >= self.cfg.window {
                c.flush().await?;
                self.collect(&mut c, calls, Until::OneBatch).await?;
            }
        }
        c.flush().await?;
        let drain_until = now_ns() + ANSWER_TIMEOUT.as_nanos() as u64;
        self.collect(&mut c, calls, Until::Drained(drain_until))
            .await?;
        calls.counts.lost += calls.pending.len() as u64;
        let _ = c.goodbye().await;
        Ok(())
    }

    /// Reads results for as long as `until` says.
    async fn collect(&self, c: &mut Conn, calls: &mut Calls, until: Until) -> Result<()> {
        loop {
            let wait = match until {
                Until::OneBatch => ANSWER_TIMEOUT,
                Until::Drained(_) if calls.pending.is_empty() => return Ok(()),
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
            self.result(msg, calls);
            while let Some(Ok(msg)) = poll_once(c.recv()).await {
                self.result(msg, calls);
            }
            if let Until::OneBatch = until {
                return Ok(());
            }
        }
    }

    fn result(&self, msg: Message, calls: &mut Calls) {
        let (request, details, payload) = match msg {
            Message::Result {
                request,
                details,
                payload,
            } => (request.0, details, payload),
            Message::Error { request, error, .. } => {
                if !self.error_reported.swap(true, Relaxed) {
                    eprintln!(
                        "rpc: a call failed with {error}; every failed call counts as an error"
                    );
                }
                calls.pending.remove(&request.0);
                if self.cfg.progressive.is_some() {
                    calls.partial.remove(&request.0);
                }
                calls.counts.errors += 1;
                self.shared.note_error();
                return;
            }
            _ => return,
        };
        let chunks = match self.cfg.progressive {
            None => 1,
            Some(_) => match progress(request, &details, calls) {
                Some(chunks) => chunks,
                None => return,
            },
        };
        if !calls.pending.remove(&request) {
            calls.counts.duplicated += 1;
            return;
        }
        if let Some(asked) = self.cfg.progressive.filter(|n| *n != chunks) {
            calls.counts.errors += 1;
            self.shared.note_error();
            if !self.short_reported.swap(true, Relaxed) {
                eprintln!(
                    "rpc: a progressive call ended after {chunks} chunk(s), not {asked} \
                     (does the router support progressive call results?); \
                     every such call counts as an error"
                );
            }
            return;
        }
        calls.counts.received += 1;
        self.shared.note_received(1);
        if let Some(s) = stamp::read(&payload).filter(|s| s.t_ns >= self.shared.measure_from) {
            let _ = calls.hist.record(now_ns().saturating_sub(s.t_ns).max(1));
            calls.chunks += u64::from(chunks);
        }
    }
}

/// A progressive run's RESULT: counts a progress chunk (`None`), or the
/// chunks a final RESULT completes.
fn progress(request: u64, details: &Dict, calls: &mut Calls) -> Option<u32> {
    if matches!(details.get_bool("progress"), Ok(Some(true))) {
        match calls.pending.contains(&request) {
            true => *calls.partial.entry(request).or_insert(0) += 1,
            false => calls.counts.duplicated += 1,
        }
        return None;
    }
    Some(1 + calls.partial.remove(&request).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Target;
    use crate::rpc::{tasks, Rpc};
    use crate::stats::Shared;
    use switchyard::wire::Serializer;

    fn run(progressive: Option<u32>) -> Arc<Run> {
        let cfg = Rpc {
            callers: 1,
            callees: 1,
            window: 1,
            payload: 0,
            shared: None,
            progressive,
            rate: None,
            stop_at: 0,
        };
        let target = Target {
            url: "rs://127.0.0.1:9".into(),
            serializer: Serializer::Json,
            realm: "realm1".into(),
            login: crate::login::Login::from_args(&Default::default(), |_| None).unwrap(),
            sources: Vec::new(),
            tls: None,
            compression: false,
        };
        tasks(cfg, target, Arc::new(Shared::new(0))).1
    }

    fn result(request: u64, progress: bool) -> Message {
        let stamp = Stamp {
            source: 0,
            seq: request,
            t_ns: now_ns(),
        };
        Message::Result {
            request: RequestId(request),
            details: Dict::new().with("progress", progress),
            payload: stamp::payload(stamp, &Bytes::new()),
        }
    }

    #[test]
    fn a_progressive_call_is_answered_by_its_last_chunk() {
        let (run, mut calls) = (run(Some(3)), Calls::new());
        calls.pending.extend([1, 2]);
        for (request, progress) in [(1, true), (2, true), (1, true), (1, false), (2, false)] {
            run.result(result(request, progress), &mut calls);
        }
        // Call 1 came in 3 chunks; call 2 ended after 2 of 3.
        assert_eq!((calls.counts.received, calls.counts.errors), (1, 1));
        assert_eq!((calls.chunks, calls.hist.len()), (3, 1));
        assert!(calls.pending.is_empty() && calls.partial.is_empty());
        run.result(result(1, true), &mut calls);
        assert_eq!(calls.counts.duplicated, 1);
    }

    #[test]
    fn a_plain_call_is_answered_by_one_result() {
        let (run, mut calls) = (run(None), Calls::new());
        calls.pending.extend([1, 2]);
        for request in [1, 2, 2] {
            run.result(result(request, false), &mut calls);
        }
        assert_eq!((calls.counts.received, calls.counts.duplicated), (2, 1));
        assert_eq!((calls.chunks, calls.counts.errors), (2, 0));
    }
}
