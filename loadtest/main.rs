//! `switchyard-load`: the bundled WAMP load generator. It drives any
//! spec-following router over WebSocket or RawSocket with JSON, MsgPack or
//! CBOR, using Switchyard's own transport and codecs.
//!
//! `switchyard-load <pubsub|rpc|connect|mixed> [options]` or `--profile
//! FILE` (a TOML file of the same options; the command line overrides it);
//! `switchyard-load compare A.json B.json` compares two reports.

mod caller;
mod compare;
mod conn;
mod connect;
mod login;
mod metrics;
mod plot;
mod pubsub;
mod report;
mod rpc;
mod runner;
mod stamp;
mod stats;

use anyhow::{bail, Context, Result};
use clap::Parser;
use mimalloc::MiMalloc;
use serde_json::json;
use stats::{now_ns, Shared};
use std::sync::Arc;
use std::time::Duration;
use switchyard::wire::Serializer;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// The command line (every option may also come from `--profile`).
#[derive(Debug, Parser, serde::Deserialize, serde::Serialize, Default, Clone)]
#[command(
    name = "switchyard-load",
    version,
    about = "Load generator for WAMP routers",
    after_help = "Compare two --json reports: switchyard-load compare A.json B.json \
        [--plot FILE.svg] (see switchyard-load compare --help)."
)]
#[serde(deny_unknown_fields, default)]
struct Args {
    /// pubsub, rpc, connect or mixed [default: pubsub].
    scenario: Option<String>,
    /// A TOML profile (e.g. config/loadtest/fanout.toml); options given here win.
    #[arg(long)]
    #[serde(skip)]
    profile: Option<String>,
    /// Router URL: ws://host:port/path or rs://host:port [default: ws://127.0.0.1:8080/ws].
    #[arg(long)]
    url: Option<String>,
    /// json, msgpack or cbor [default: msgpack for rs://, json for ws://].
    #[arg(long)]
    serializer: Option<String>,
    #[arg(long)]
    realm: Option<String>,
    /// How every session logs in: anonymous, ticket, wampcra or cryptosign
    /// [default: anonymous].
    #[arg(long, value_name = "METHOD")]
    authmethod: Option<String>,
    /// HELLO.Details.authid: needed by ticket and wampcra; cryptosign may
    /// leave it out (the router finds the principal by the key).
    #[arg(long, value_name = "ID")]
    authid: Option<String>,
    /// ticket, wampcra: the ticket or the WAMP-CRA secret (a salted
    /// CHALLENGE derives the key). Shown by `ps`: see --secret-env.
    #[arg(long, value_name = "TEXT")]
    #[serde(skip_serializing)]
    secret: Option<String>,
    /// ticket, wampcra: read the secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// cryptosign: the 32-byte Ed25519 seed, 64 hex characters. Shown by
    /// `ps`: see --key-file.
    #[arg(long, value_name = "HEX")]
    #[serde(skip_serializing)]
    key: Option<String>,
    /// cryptosign: a file holding the seed in hex.
    #[arg(long, value_name = "PATH")]
    key_file: Option<String>,
    /// wss://, rss://: trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    ca: Option<String>,
    /// wss://, rss://: accept any server certificate (tests, benchmarks).
    #[arg(long)]
    insecure: Option<bool>,
    /// Connect from this many loopback source addresses (127.0.0.2 ...),
    /// for many connections to a loopback router [default: 1 = the kernel's choice].
    #[arg(long)]
    sources: Option<usize>,
    /// Client threads [default: 1].
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds of warm-up (not measured) [default: 1].
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds measured [default: 5].
    #[arg(long)]
    duration: Option<f64>,
    /// Write the whole report as JSON to this file.
    #[arg(long)]
    json: Option<String>,
    /// Draw the run's latency percentile distribution into this SVG file
    /// (x: percentile on the 1/(1-p) scale up to 99.999%, y: µs).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
    /// Scrape the router's Prometheus endpoint (e.g.
    /// http://127.0.0.1:8090/metrics) before and after the run and report
    /// how much each counter (`*_total`, the shard="all" series) grew, warm-up
    /// and connection set-up included. A malformed URL is refused before the
    /// run; an endpoint that does not answer is a warning, and the report
    /// goes without router metrics.
    #[arg(long, value_name = "URL")]
    metrics: Option<String>,
    /// Sample this router process's CPU time and RSS from /proc.
    #[arg(long)]
    router_pid: Option<u32>,
    /// ws://: offer permessage-deflate; once agreed, messages of 1 KiB or
    /// more are sent compressed.
    #[arg(long)]
    compression: bool,
    /// pubsub: publishers [1].
    #[arg(long)]
    publishers: Option<usize>,
    /// pubsub: subscribers [1].
    #[arg(long)]
    subscribers: Option<usize>,
    /// pubsub: topics [1].
    #[arg(long)]
    topics: Option<usize>,
    /// Payload bytes per message [64].
    #[arg(long)]
    payload: Option<usize>,
    /// pubsub: acknowledged publishes.
    #[arg(long)]
    ack: Option<bool>,
    /// Closed loop window: PUBLISHED or calls in flight per client; for
    /// fire-and-forget, deliveries in flight per subscriber [256].
    #[arg(long)]
    window: Option<u64>,
    /// Open loop: total messages per second (latency from the intended send time).
    #[arg(long)]
    rate: Option<f64>,
    /// rpc: callers [8].
    #[arg(long)]
    callers: Option<usize>,
    /// rpc: callees [1].
    #[arg(long)]
    callees: Option<usize>,
    /// rpc: all callees register one procedure (a shared registration).
    #[arg(long)]
    shared: Option<bool>,
    /// rpc with --shared: the invoke policy, roundrobin, random, first, last,
    /// least_loaded or single [roundrobin].
    #[arg(long)]
    invoke: Option<String>,
    /// rpc: calls ask for progressive results; callees answer in N chunks.
    #[arg(long)]
    progressive: Option<u32>,
    /// connect: sessions to open [1000].
    #[arg(long)]
    sessions: Option<usize>,
    /// connect: joins in flight [64].
    #[arg(long)]
    concurrency: Option<usize>,
    /// connect: seconds to hold the sessions [2].
    #[arg(long)]
    hold: Option<f64>,
    /// connect: events per second each held session publishes [0].
    #[arg(long)]
    trickle: Option<f64>,
    /// No progress lines.
    #[arg(long)]
    #[serde(skip)]
    quiet: bool,
}

macro_rules! merge {
    ($a:ident, $p:ident, $($f:ident),*) => { $( if $a.$f.is_none() { $a.$f = $p.$f.clone(); } )* };
}

/// The command line over the profile.
fn resolve(mut a: Args) -> Result<Args> {
    let Some(path) = a.profile.clone() else {
        return Ok(a);
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading profile {path}"))?;
    let p: Args = toml::from_str(&text).with_context(|| format!("profile {path}"))?;
    merge!(
        a, p, scenario, url, serializer, realm, authmethod, authid, secret, secret_env, key,
        key_file, ca, insecure, sources, threads, warmup, duration, json, plot, metrics,
        router_pid
    );
    merge!(
        a,
        p,
        publishers,
        subscribers,
        topics,
        payload,
        ack,
        window,
        rate,
        callers,
        callees,
        shared,
        invoke,
        progressive
    );
    merge!(a, p, sessions, concurrency, hold, trickle);
    a.compression |= p.compression;
    Ok(a)
}

fn target(a: &Args) -> Result<conn::Target> {
    let url = a
        .url
        .clone()
        .unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let default_ser = if url.starts_with("ws") {
        "json"
    } else {
        "msgpack"
    };
    let name = a.serializer.clone().unwrap_or_else(|| default_ser.into());
    let Some(serializer) = Serializer::from_name(&name) else {
        bail!("unknown serializer '{name}' (json, msgpack, cbor)")
    };
    let login = login::Login::from_args(
        &login::LoginArgs {
            authmethod: a.authmethod.as_deref(),
            authid: a.authid.as_deref(),
            secret: a.secret.as_deref(),
            secret_env: a.secret_env.as_deref(),
            key: a.key.as_deref(),
            key_file: a.key_file.as_deref(),
        },
        |var| std::env::var(var).ok(),
    )?;
    let tls = match (
        url.starts_with("wss://") || url.starts_with("rss://"),
        &a.ca,
    ) {
        (false, _) => None,
        (true, ca) => {
            let insecure = a.insecure.unwrap_or(false);
            if ca.is_none() && !insecure {
                bail!("{url} needs --ca FILE (the server's CA certificate) or --insecure true");
            }
            let ca = ca.as_deref().map(std::path::Path::new);
            let config = switchyard::transport::tls::client_config(ca, insecure, None)
                .map_err(|e| anyhow::anyhow!("--ca: {e}"))?;
            Some(config)
        }
    };
    Ok(conn::Target {
        url,
        serializer,
        realm: a.realm.clone().unwrap_or_else(|| "realm1".into()),
        login,
        sources: loopback_sources(a.sources.unwrap_or(1)),
        tls,
        compression: a.compression,
    })
}

/// `n` loopback source addresses 127.0.0.2, 127.0.0.3, ... (none for n <= 1).
fn loopback_sources(n: usize) -> Vec<std::net::IpAddr> {
    if n <= 1 {
        return Vec::new();
    }
    (0..n.min(250))
        .map(|i| std::net::IpAddr::from([127, 0, 0, 2 + i as u8]))
        .collect()
}

fn main() -> std::process::ExitCode {
    let outcome = if std::env::args_os().nth(1).is_some_and(|a| a == "compare") {
        let args = compare::CompareArgs::parse_from(std::env::args_os().skip(1));
        compare::run(&args).map(|()| true)
    } else {
        run(Args::parse())
    };
    match outcome {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("switchyard-load: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs the scenario; `Ok(false)` when it saw errors or losses.
fn run(args: Args) -> Result<bool> {
    let a = resolve(args)?;
    let scenario = a.scenario.clone().unwrap_or_else(|| "pubsub".into());
    let target = target(&a)?;
    if let Some(path) = &a.plot {
        plot::check_path(path)?;
    }
    if !matches!(scenario.as_str(), "pubsub" | "rpc" | "mixed" | "connect") {
        bail!("unknown scenario '{scenario}' (pubsub, rpc, connect, mixed)");
    }
    let scrape = metrics::Scrape::start(a.metrics.as_deref())?;
    let (mut body, clean) = measure(&a, &scenario, &target)?;
    if let Some(deltas) = scrape.finish() {
        report::print_metrics(&deltas);
        body["router_metrics"] = metrics::to_json(&deltas);
    }
    write_json(&a, &body)?;
    if let Some(path) = &a.plot {
        let curves: Vec<plot::Curve> = report::latency_series(&body)
            .into_iter()
            .filter_map(|(name, lat)| {
                plot::Curve::from_percentiles(name.to_string(), &lat["percentiles"])
            })
            .collect();
        if curves.is_empty() {
            eprintln!("switchyard-load: warning: no latency measured, no plot written to {path}");
        } else {
            plot::write_svg(path, &plot::title(&a, &scenario, &target, &body), &curves)?;
        }
    }
    Ok(clean)
}

/// Runs the scenario and prints its table: the JSON report, and whether
/// the run was clean.
fn measure(a: &Args, scenario: &str, target: &conn::Target) -> Result<(serde_json::Value, bool)> {
    let (warmup, duration) = (a.warmup.unwrap_or(1.0), a.duration.unwrap_or(5.0));
    let start = now_ns();
    let measure_from = start + (warmup * 1e9) as u64;
    let stop_at = measure_from + (duration * 1e9) as u64;
    let shared = Arc::new(Shared::new(measure_from));
    let pid = a.router_pid;
    let sampler =
        pid.map(|pid| std::thread::spawn(move || sample_window(pid, measure_from, stop_at)));
    let out = match scenario {
        "pubsub" => run_pubsub(a, target, &shared, stop_at)?,
        "rpc" => run_rpc(a, target, &shared, stop_at)?,
        "mixed" => run_mixed(a, target, &shared, stop_at)?,
        "connect" => return run_connect(a, target, &shared),
        other => bail!("unknown scenario '{other}' (pubsub, rpc, connect, mixed)"),
    };
    let (mut counts, hist) = shared
        .merged
        .lock()
        .map(|m| (m.0, m.1.clone()))
        .map_err(|_| anyhow::anyhow!("lock"))?;
    if let Some(expected) = out.expected {
        counts.lost = expected.saturating_sub(counts.received.saturating_sub(counts.duplicated));
    }
    let rate = hist.len() as f64 / duration;
    let window = sampler.and_then(|s| s.join().ok()).flatten();
    let router = router_numbers(window, hist.len(), None);
    report::print_table(scenario, &counts, rate, &hist, &out.rows, &router);
    let body = json!({
        "scenario": scenario, "config": a, "machine": report::machine(), "router_agent": out.agent,
        "results": {"counts": counts, "throughput_per_s": rate, "latency": report::latency(&hist), "expected": out.expected, "extra": out.extra},
        "router": router,
    });
    let clean = counts.errors == 0
        && counts.lost == 0
        && counts.duplicated == 0
        && counts.out_of_order == 0;
    Ok((body, clean))
}

/// What a scenario reports besides the shared counts.
#[derive(Default)]
struct Outcome {
    /// Deliveries the subscribers should have received (pub/sub).
    expected: Option<u64>,
    /// The router's `agent`.
    agent: String,
    /// Scenario-specific results (`results.extra` in the JSON report).
    extra: serde_json::Value,
    /// Extra lines of the table, e.g. the rpc mode.
    rows: Vec<(String, String)>,
}

fn pubsub_config(a: &Args, stop_at: u64) -> pubsub::PubSub {
    pubsub::PubSub {
        publishers: a.publishers.unwrap_or(1),
        subscribers: a.subscribers.unwrap_or(1),
        topics: a.topics.unwrap_or(1),
        payload: a.payload.unwrap_or(64),
        acknowledge: a.ack.unwrap_or(false),
        window: a.window.unwrap_or(256),
        rate: a.rate,
        stop_at,
    }
}

fn run_pubsub(
    a: &Args,
    target: &conn::Target,
    shared: &Arc<Shared>,
    stop_at: u64,
) -> Result<Outcome> {
    let (tasks, res) = pubsub::tasks(pubsub_config(a, stop_at), target.clone(), shared.clone());
    runner::run(a.threads.unwrap_or(1), tasks, shared, a.quiet)?;
    use pubsub::RunResult;
    let (expected, agent) = (Some(res.expected()), res.agent());
    Ok(Outcome {
        expected,
        agent,
        ..Outcome::default()
    })
}

fn rpc_config(a: &Args, stop_at: u64) -> Result<rpc::Rpc> {
    let shared = match (a.shared.unwrap_or(false), a.invoke.as_deref()) {
        (true, policy) => Some(rpc::Rpc::policy(policy.unwrap_or("roundrobin"))?),
        (false, None) => None,
        (false, Some(_)) => bail!("--invoke applies to a shared registration (--shared true)"),
    };
    if a.progressive == Some(0) {
        bail!("--progressive N needs N >= 1 (the chunks of each result)");
    }
    Ok(rpc::Rpc {
        callers: a.callers.unwrap_or(8),
        callees: a.callees.unwrap_or(1),
        window: a.window.unwrap_or(64),
        payload: a.payload.unwrap_or(64),
        shared,
        progressive: a.progressive,
        rate: a.rate,
        stop_at,
    })
}

fn run_rpc(a: &Args, target: &conn::Target, shared: &Arc<Shared>, stop_at: u64) -> Result<Outcome> {
    let cfg = rpc_config(a, stop_at)?;
    let (tasks, run) = rpc::tasks(cfg, target.clone(), shared.clone());
    runner::run(a.threads.unwrap_or(1), tasks, shared, a.quiet)?;
    let (extra, rows) = run.report("");
    Ok(Outcome {
        extra,
        rows,
        ..Outcome::default()
    })
}

/// Pub/sub and RPC at once (an open-loop `rate` applies to each part).
fn run_mixed(
    a: &Args,
    target: &conn::Target,
    shared: &Arc<Shared>,
    stop_at: u64,
) -> Result<Outcome> {
    let cfg = rpc_config(a, stop_at)?;
    let (mut tasks, res) = pubsub::tasks(pubsub_config(a, stop_at), target.clone(), shared.clone());
    let calls = Arc::new(Shared::new(shared.measure_from));
    let (rpc_tasks, run) = rpc::tasks(cfg, target.clone(), calls.clone());
    tasks.extend(rpc_tasks);
    runner::run(a.threads.unwrap_or(1), tasks, shared, a.quiet)?;
    let (c, h) = calls
        .merged
        .lock()
        .map(|m| (m.0, m.1.clone()))
        .map_err(|_| anyhow::anyhow!("lock"))?;
    // Call failures count against the run.
    let failed = stats::Counts {
        errors: c.errors + c.lost + c.duplicated,
        ..Default::default()
    };
    shared.merge(&failed, &stats::histogram());
    let secs = (stop_at - shared.measure_from) as f64 / 1e9;
    println!(
        "rpc part: {} calls answered, {} lost, {} errors",
        c.received, c.lost, c.errors
    );
    use pubsub::RunResult;
    let (mut rpc, rows) = run.report("rpc ");
    rpc["calls"] = json!(c);
    rpc["call_latency"] = report::latency(&h);
    rpc["calls_per_s"] = json!(h.len() as f64 / secs);
    Ok(Outcome {
        expected: Some(res.expected()),
        agent: res.agent(),
        extra: rpc,
        rows,
    })
}

fn run_connect(
    a: &Args,
    target: &conn::Target,
    shared: &Arc<Shared>,
) -> Result<(serde_json::Value, bool)> {
    let cfg = connect::Connect {
        sessions: a.sessions.unwrap_or(1000),
        concurrency: a.concurrency.unwrap_or(64),
        hold: Duration::from_secs_f64(a.hold.unwrap_or(2.0)),
        trickle: a.trickle.unwrap_or(0.0),
    };
    let sessions = cfg.sessions as u64;
    let before = a.router_pid.and_then(report::sample);
    let at_peak = Arc::new(std::sync::Mutex::new(None));
    let (pid, peak) = (a.router_pid, at_peak.clone());
    let on_all = Box::new(move || {
        if let (Some(pid), Ok(mut p)) = (pid, peak.lock()) {
            *p = report::sample(pid);
        }
    });
    let (tasks, run) = connect::tasks(cfg, target.clone(), shared.clone(), on_all);
    runner::run(a.threads.unwrap_or(1), tasks, shared, a.quiet)?;
    let (counts, hist) = shared
        .merged
        .lock()
        .map(|m| (m.0, m.1.clone()))
        .map_err(|_| anyhow::anyhow!("lock"))?;
    let secs = run
        .all_joined_at
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(run.started_at) as f64
        / 1e9;
    let rate = counts.received as f64 / secs.max(1e-9);
    let peak = at_peak.lock().ok().and_then(|p| *p);
    let router = router_numbers(before.zip(peak), 0, Some(sessions));
    report::print_table("connect", &counts, rate, &hist, &[], &router);
    let body = json!({
        "scenario": "connect", "config": a, "machine": report::machine(),
        "results": {"counts": counts, "joins_per_s": rate, "time_to_welcome": report::latency(&hist)},
        "router": router,
    });
    Ok((body, counts.errors == 0))
}

/// Samples the router at the start and the end of the measured window.
fn sample_window(pid: u32, from: u64, to: u64) -> Option<(report::ProcSample, report::ProcSample)> {
    std::thread::sleep(Duration::from_nanos(from.saturating_sub(now_ns())));
    let a = report::sample(pid)?;
    std::thread::sleep(Duration::from_nanos(to.saturating_sub(now_ns())));
    Some((a, report::sample(pid)?))
}

/// CPU per routed message and memory per session from two samples.
fn router_numbers(
    w: Option<(report::ProcSample, report::ProcSample)>,
    messages: u64,
    sessions: Option<u64>,
) -> serde_json::Value {
    let Some((a, b)) = w else { return json!({}) };
    let mut v = json!({"cpu_us": b.cpu_us - a.cpu_us, "rss_bytes": b.rss});
    if messages > 0 {
        v["cpu_us_per_message"] = json!((b.cpu_us - a.cpu_us) as f64 / messages as f64);
    }
    if let Some(n) = sessions.filter(|n| *n > 0) {
        v["bytes_per_session"] = json!(b.rss.saturating_sub(a.rss) / n);
    }
    v
}

fn write_json(a: &Args, body: &serde_json::Value) -> Result<()> {
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_vec_pretty(body)?)
            .with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
