//! The `rpc` scenario: C callers, each with a window of W calls in flight,
//! against K callees that echo the payload. Each callee registers its own
//! procedure (the callers spread calls over them) or, with `--shared`, all
//! register one procedure with `invoke: <policy>`; a refused REGISTER stops
//! the run with the router's error. With `--progressive N` every call asks
//! for progressive results and the callee answers in N chunks (N-1 YIELDs
//! with `progress: true`, then the final one). The callee answers every
//! INVOCATION in full at once, so an INTERRUPT always concerns a call it has
//! already answered and is ignored. The caller side is in `caller.rs`.

use crate::conn::{Conn, Target, ANSWER_TIMEOUT};
use crate::runner::Task;
use crate::stats::{histogram, Counts, Shared};
use anyhow::{bail, Result};
use futures_lite::future::poll_once;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::{Dict, Message, RequestId, Text};

/// `--invoke` values: the WAMP shared-registration policies (`single`
/// admits one callee only, which checks a router's refusal of a second).
pub const POLICIES: [&str; 6] = [
    "roundrobin",
    "random",
    "first",
    "last",
    "least_loaded",
    "single",
];

/// What the RPC scenario does.
#[derive(Debug, Clone)]
pub struct Rpc {
    pub callers: usize,
    pub callees: usize,
    pub window: u64,
    pub payload: usize,
    /// `Some(policy)`: every callee registers one procedure with `invoke: policy`.
    pub shared: Option<&'static str>,
    /// `Some(n)`: calls ask for progressive results, answered in `n` chunks.
    pub progressive: Option<u32>,
    /// Total calls per second (open loop), or `None` (closed loop).
    pub rate: Option<f64>,
    pub stop_at: u64,
}

impl Rpc {
    /// The `--invoke` policy named `name`.
    pub fn policy(name: &str) -> Result<&'static str> {
        match POLICIES.iter().find(|p| **p == name) {
            Some(p) => Ok(p),
            None => bail!("unknown --invoke '{name}' ({})", POLICIES.join(", ")),
        }
    }

    /// The run's shape, for the report: e.g. `8 callers x 64 in flight ->
    /// shared 4/roundrobin, progressive 10`.
    pub fn mode(&self) -> String {
        let callers = match self.rate {
            Some(r) => format!("{} callers at {r} calls/s", self.callers),
            None => format!("{} callers x {} in flight", self.callers, self.window),
        };
        let callees = match (self.shared, self.callees) {
            (Some(policy), k) => format!("shared {k}/{policy}"),
            (None, 1) => "1 callee".to_string(),
            (None, k) => format!("{k} callees, one procedure each"),
        };
        match self.progressive {
            Some(n) => format!("{callers} -> {callees}, progressive {n}"),
            None => format!("{callers} -> {callees}"),
        }
    }
}

/// State shared by the scenario's tasks.
pub struct Run {
    pub(crate) cfg: Rpc,
    pub(crate) target: Target,
    pub(crate) shared: Arc<Shared>,
    /// The procedure callee k registers (all the same when shared).
    pub(crate) procedures: Vec<Text>,
    /// Callees registered (or failed to).
    pub(crate) registered: AtomicUsize,
    /// A callee's REGISTER was refused: the callers make no calls.
    pub(crate) refused: AtomicBool,
    pub(crate) callers_done: AtomicUsize,
    /// Chunks of the measured calls (1 per call unless progressive).
    pub(crate) chunks: AtomicU64,
    /// A progressive call came back with the wrong number of chunks.
    pub(crate) short_reported: AtomicBool,
    /// A call came back with an ERROR.
    pub(crate) error_reported: AtomicBool,
}

impl Run {
    /// For the report (`label` starts each table line): the mode as JSON
    /// and table lines, with the chunks of the measured calls and chunks/s
    /// in a progressive run.
    pub fn report(&self, label: &str) -> (Value, Vec<(String, String)>) {
        let cfg = &self.cfg;
        let secs = (cfg.stop_at - self.shared.measure_from) as f64 / 1e9;
        let mode = cfg.mode();
        let mut v = json!({
            "mode": mode, "callees": cfg.callees, "shared": cfg.shared.is_some(),
            "invoke": cfg.shared, "progressive": cfg.progressive,
        });
        let mut rows = vec![(format!("{label}mode"), mode)];
        if cfg.progressive.is_some() {
            let chunks = self.chunks.load(Relaxed);
            let per_s = chunks as f64 / secs.max(1e-9);
            v["chunks"] = json!(chunks);
            v["chunks_per_s"] = json!(per_s);
            let line = format!("{chunks} ({per_s:.0}/s)");
            rows.push((format!("{label}chunks (measured)"), line));
        }
        (v, rows)
    }
}

/// The scenario's tasks, and the run (for its report).
pub fn tasks(cfg: Rpc, target: Target, shared: Arc<Shared>) -> (Vec<Task>, Arc<Run>) {
    let procedures = (0..cfg.callees.max(1))
        .map(|k| match cfg.shared {
            Some(_) => Text::from_static("com.switchyard.load.echo"),
            None => Text::from(format!("com.switchyard.load.echo{k}")),
        })
        .collect();
    let run = Arc::new(Run {
        cfg,
        target,
        shared,
        procedures,
        registered: AtomicUsize::new(0),
        refused: AtomicBool::new(false),
        callers_done: AtomicUsize::new(0),
        chunks: AtomicU64::new(0),
        short_reported: AtomicBool::new(false),
        error_reported: AtomicBool::new(false),
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
    (tasks, run)
}

impl Run {
    async fn callee(self: Arc<Self>, k: usize) {
        let mut counts = Counts::default();
        let served = match self.register(k).await {
            Ok(c) => {
                self.registered.fetch_add(1, Relaxed);
                self.serve(c).await
            }
            Err(e) => {
                self.refused.store(true, Relaxed);
                self.registered.fetch_add(1, Relaxed);
                Err(e)
            }
        };
        if let Err(e) = served {
            self.shared
                .fail(&mut counts, format_args!("callee {k}"), &e);
        }
        self.shared.merge(&counts, &histogram());
    }

    /// Joins and registers callee `k`'s procedure.
    async fn register(&self, k: usize) -> Result<Conn> {
        let mut c = Conn::join(&self.target).await?;
        let options = match self.cfg.shared {
            Some(policy) => Dict::new().with("invoke", policy),
            None => Dict::new(),
        };
        let procedure = self.procedures[k % self.procedures.len()].clone();
        let request = RequestId(c.request());
        c.queue(&Message::Register {
            request,
            options,
            procedure: procedure.clone(),
        });
        c.flush().await?;
        let invoke = self.cfg.shared.unwrap_or("single");
        match c.recv_timeout(ANSWER_TIMEOUT).await? {
            Message::Registered { .. } => Ok(c),
            Message::Error { error, .. } => {
                bail!("REGISTER {procedure} with invoke={invoke} refused: {error}")
            }
            other => bail!("REGISTER answered with {}", other.name()),
        }
    }

    /// Answers INVOCATIONs until every caller is done.
    async fn serve(&self, mut c: Conn) -> Result<()> {
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

    /// Echoes an INVOCATION's payload back: one YIELD, or N chunks.
    fn answer(&self, c: &mut Conn, msg: Message) {
        let Message::Invocation {
            request, payload, ..
        } = msg
        else {
            return;
        };
        for _ in 1..self.cfg.progressive.unwrap_or(1) {
            c.queue(&Message::Yield {
                request,
                options: Dict::new().with("progress", true),
                payload: payload.clone(),
            });
        }
        c.queue(&Message::Yield {
            request,
            options: Dict::new(),
            payload,
        });
    }
}
