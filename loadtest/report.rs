//! The report: the final table on stdout and the whole run as JSON
//! (`--json FILE`): config echo, machine, router version, results, and
//! router CPU/RSS sampled from /proc when `--router-pid` is given.

use crate::stats::Counts;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// CPU time (µs) and RSS (bytes) of a process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    pub cpu_us: u64,
    pub rss: u64,
}

/// Samples `pid` (None if it cannot be read).
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(ProcSample {
        cpu_us: ticks * 1_000_000 / hz,
        rss: rss_kb * 1024,
    })
}

/// Cores, CPU model and kernel of this machine.
pub fn machine() -> Value {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    json!({"cores": cores, "cpu_model": model, "kernel": kernel})
}

/// Latency percentiles in microseconds, and `percentiles`: the value at
/// each of `plot::quantiles()` (0 .. 0.99999 on the 1/(1-p) scale), then
/// the maximum as `q` = 1, each `{"q": .., "us": ..}`; empty when nothing
/// was measured.
pub fn latency(h: &Histogram<u64>) -> Value {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let max = h.max() as f64 / 1000.0;
    let percentiles: Vec<Value> = if h.is_empty() {
        Vec::new()
    } else {
        crate::plot::quantiles()
            .map(|q| json!({"q": q, "us": us(q)}))
            .chain([json!({"q": 1.0, "us": max})])
            .collect()
    };
    json!({
        "count": h.len(),
        "p50_us": us(0.5), "p90_us": us(0.9), "p99_us": us(0.99),
        "p999_us": us(0.999), "p9999_us": us(0.9999), "max_us": max,
        "percentiles": percentiles,
    })
}

/// The latency series of a JSON report, by scenario: (name, latency object).
pub fn latency_series(report: &Value) -> Vec<(&'static str, &Value)> {
    let r = &report["results"];
    let series = match report["scenario"].as_str().unwrap_or_default() {
        "pubsub" => vec![("event latency", &r["latency"])],
        "rpc" => vec![("call latency", &r["latency"])],
        "mixed" => vec![
            ("event latency", &r["latency"]),
            ("call latency", &r["extra"]["call_latency"]),
        ],
        "connect" => vec![("time to WELCOME", &r["time_to_welcome"])],
        _ => vec![("latency", &r["latency"])],
    };
    series.into_iter().filter(|(_, v)| v.is_object()).collect()
}

/// The rates of a JSON report, by scenario: (label, per second).
pub fn rates(report: &Value) -> Vec<(&'static str, Option<f64>)> {
    let r = &report["results"];
    let rate = r["throughput_per_s"].as_f64();
    let mut rates = match report["scenario"].as_str().unwrap_or_default() {
        "pubsub" => vec![("events/s", rate)],
        "rpc" => vec![("calls/s", rate)],
        "mixed" => vec![
            ("events/s", rate),
            ("calls/s", r["extra"]["calls_per_s"].as_f64()),
        ],
        "connect" => vec![("joins/s", r["joins_per_s"].as_f64())],
        _ => vec![("messages/s", rate)],
    };
    if let Some(chunks) = r["extra"]["chunks_per_s"].as_f64() {
        rates.push(("chunks/s", Some(chunks)));
    }
    rates
}

/// Prints the router's counter increases (`--metrics`), those above 0.
pub fn print_metrics(deltas: &std::collections::BTreeMap<String, f64>) {
    println!("router metrics (increase over the run; others 0)");
    for (name, d) in deltas.iter().filter(|(_, d)| **d != 0.0) {
        println!("  {name:<52} {d}");
    }
}

/// Prints the human-readable table; `rows` (e.g. the rpc mode) follow the
/// throughput.
pub fn print_table(
    scenario: &str,
    counts: &Counts,
    rate: f64,
    h: &Histogram<u64>,
    rows: &[(String, String)],
    router: &Value,
) {
    println!("== switchyard-load {scenario} ==");
    println!("{:<22} {}", "sent", counts.sent);
    println!("{:<22} {}", "received", counts.received);
    println!("{:<22} {:.0}/s", "throughput (measured)", rate);
    for (k, v) in rows {
        println!("{k:<22} {v}");
    }
    for (k, v) in [
        ("lost", counts.lost),
        ("duplicated", counts.duplicated),
        ("out of order", counts.out_of_order),
        ("errors", counts.errors),
    ] {
        println!("{k:<22} {v}");
    }
    if !h.is_empty() {
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{:<22} p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  p99.99 {:.1}  max {:.1}",
            "latency (us)",
            us(0.5),
            us(0.9),
            us(0.99),
            us(0.999),
            us(0.9999),
            h.max() as f64 / 1000.0
        );
    }
    if let Some(obj) = router.as_object().filter(|o| !o.is_empty()) {
        for (k, v) in obj {
            println!("{:<22} {v}", format!("router {k}"));
        }
    }
}
