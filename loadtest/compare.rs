//! `switchyard-load compare A.json B.json [--plot FILE.svg]`: two reports
//! written by `--json`, side by side. This module owns reading them, the
//! table (each row: A, B and B/A) and the chart of both runs' latency
//! percentiles. Reports of different scenarios are refused: their rates
//! and latencies measure different things.

use crate::plot::{self, Curve};
use crate::report;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;

/// `switchyard-load compare`.
#[derive(Debug, clap::Parser)]
#[command(
    bin_name = "switchyard-load compare",
    about = "Compares two reports written by `switchyard-load ... --json FILE`",
    long_about = "Compares two reports written by `switchyard-load ... --json FILE`: \
        scenario, counts, rates, latency percentiles (p50, p90, p99, p99.9, max), \
        router CPU and memory (runs with --router-pid) and the router counters \
        that grew (runs with --metrics), each row with A, B and the ratio B/A (\"-\" where a \
        report lacks the number or A is 0).\n\n\
        A missing or unreadable file, one that is not such a report, or two \
        reports of different scenarios is an error (exit status 2)."
)]
pub struct CompareArgs {
    /// The first report (A, the baseline).
    a: String,
    /// The second report (B).
    b: String,
    /// Also draw both runs' latency percentiles on one chart (an SVG file);
    /// the legend names the runs by their files' stems.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
}

/// Reads one report, naming the file in every error.
fn load(path: &str) -> Result<Value> {
    let text = std::fs::read(path).with_context(|| format!("cannot read report {path}"))?;
    let v: Value = serde_json::from_slice(&text)
        .with_context(|| format!("{path} is not JSON (a report written by --json?)"))?;
    if v["scenario"].as_str().is_none() || !v["results"].is_object() {
        bail!("{path} is not a switchyard-load --json report (no scenario or results)");
    }
    Ok(v)
}

/// A row's values: numbers (with a ratio) or text.
enum Cells {
    Numbers(Option<f64>, Option<f64>),
    Text(String, String),
}

/// Compares the reports and prints the table; draws the chart if asked.
pub fn run(args: &CompareArgs) -> Result<()> {
    if let Some(path) = &args.plot {
        plot::check_path(path)?;
    }
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let (sa, sb) = (scenario(&a), scenario(&b));
    if sa != sb {
        bail!(
            "{} (scenario {sa}) and {} (scenario {sb}) measure different things: \
             compare two reports of one scenario",
            args.a,
            args.b
        );
    }
    let (la, lb) = labels(&args.a, &args.b);
    println!("== switchyard-load compare: {sa} ==");
    let rows = rows(&args.a, &args.b, &a, &b);
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(24);
    println!("{:<width$} {:>16} {:>16} {:>8}", "", "A", "B", "B/A");
    for (name, cells) in &rows {
        match cells {
            Cells::Text(x, y) => println!("{name:<width$} {x:>16} {y:>16}"),
            Cells::Numbers(x, y) => {
                let ratio = match (x, y) {
                    (Some(x), Some(y)) if *x != 0.0 => format!("{:.3}", y / x),
                    _ => "-".into(),
                };
                let (x, y) = (cell(*x), cell(*y));
                println!("{name:<width$} {x:>16} {y:>16} {ratio:>8}");
            }
        }
    }
    if let Some(path) = &args.plot {
        let mut curves = Vec::new();
        for (label, file, report) in [(&la, &args.a, &a), (&lb, &args.b, &b)] {
            let series = report::latency_series(report);
            let many = series.len() > 1;
            for (name, lat) in series {
                let label = if many {
                    format!("{label} {name}")
                } else {
                    label.clone()
                };
                let Some(c) = Curve::from_percentiles(label, &lat["percentiles"]) else {
                    bail!("{file} has no latency percentiles to plot ({name})");
                };
                curves.push(c);
            }
        }
        let title = format!("{sa} latency: {la} vs {lb}");
        plot::write_svg(path, &title, &curves)?;
        println!("plot written to {path}");
    }
    Ok(())
}

fn scenario(report: &Value) -> &str {
    report["scenario"].as_str().unwrap_or_default()
}

/// The legend labels: the files' stems, or their paths if the stems agree.
fn labels(a: &str, b: &str) -> (String, String) {
    let stem = |p: &str| {
        std::path::Path::new(p)
            .file_stem()
            .map_or_else(|| p.to_string(), |s| s.to_string_lossy().into_owned())
    };
    let (sa, sb) = (stem(a), stem(b));
    if sa == sb {
        (a.to_string(), b.to_string())
    } else {
        (sa, sb)
    }
}

/// A number: integers as they are, others with 4 significant digits (at
/// least), without exponent.
fn cell(v: Option<f64>) -> String {
    let Some(v) = v else { return "-".into() };
    if v.fract() == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// The table's rows: every number either report has.
fn rows(fa: &str, fb: &str, a: &Value, b: &Value) -> Vec<(String, Cells)> {
    let mut rows = vec![
        ("report".to_string(), Cells::Text(fa.into(), fb.into())),
        (
            "scenario".to_string(),
            Cells::Text(scenario(a).into(), scenario(b).into()),
        ),
    ];
    let mode = |v: &Value| v["results"]["extra"]["mode"].as_str().map(String::from);
    let (x, y) = (mode(a), mode(b));
    if x.is_some() || y.is_some() {
        let dash = || "-".to_string();
        let cells = Cells::Text(x.unwrap_or_else(dash), y.unwrap_or_else(dash));
        rows.push(("mode".into(), cells));
    }
    // Rates, then latencies, in the scenario's order.
    let (ra, rb) = (report::rates(a), report::rates(b));
    for name in union(&ra, &rb) {
        let find = |r: &[(&str, Option<f64>)]| r.iter().find(|r| r.0 == name).and_then(|r| r.1);
        rows.push((name.to_string(), Cells::Numbers(find(&ra), find(&rb))));
    }
    let (la, lb) = (report::latency_series(a), report::latency_series(b));
    for series in union(&la, &lb) {
        let find = |l: &[(&str, &Value)], key: &str| {
            l.iter()
                .find(|l| l.0 == series)
                .and_then(|l| l.1[key].as_f64())
        };
        for (label, key) in [
            ("p50", "p50_us"),
            ("p90", "p90_us"),
            ("p99", "p99_us"),
            ("p99.9", "p999_us"),
            ("max", "max_us"),
        ] {
            let cells = Cells::Numbers(find(&la, key), find(&lb, key));
            rows.push((format!("{series} {label} (us)"), cells));
        }
    }
    let mut num = |name: &str, path: &[&str]| {
        let (x, y) = (at(a, path).as_f64(), at(b, path).as_f64());
        if x.is_some() || y.is_some() {
            rows.push((name.to_string(), Cells::Numbers(x, y)));
        }
    };
    for key in ["sent", "received", "lost", "errors"] {
        num(key, &["results", "counts", key]);
    }
    num(
        "router CPU per message (us)",
        &["router", "cpu_us_per_message"],
    );
    num("router CPU (us)", &["router", "cpu_us"]);
    num("router RSS (bytes)", &["router", "rss_bytes"]);
    num("router bytes per session", &["router", "bytes_per_session"]);
    let keys: BTreeSet<&String> = [a, b]
        .iter()
        .filter_map(|r| r["router_metrics"].as_object())
        .flat_map(|m| m.keys())
        .collect();
    // Router counters that grew in either run.
    let grew = |r: &Value, key: &str| r["router_metrics"][key].as_f64().is_some_and(|v| v != 0.0);
    for key in keys.into_iter().filter(|k| grew(a, k) || grew(b, k)) {
        num(key, &["router_metrics", key]);
    }
    rows
}

/// The names of `a`, then those only `b` has.
fn union<'n, T>(a: &[(&'n str, T)], b: &[(&'n str, T)]) -> Vec<&'n str> {
    let mut names: Vec<&str> = a.iter().map(|x| x.0).collect();
    for (n, _) in b {
        if !names.contains(n) {
            names.push(n);
        }
    }
    names
}

/// `v[p0][p1]...` (Null where missing).
fn at<'v>(v: &'v Value, path: &[&str]) -> &'v Value {
    path.iter().fold(v, |v, k| &v[*k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_four_significant_digits() {
        let shown: Vec<String> = [
            Some(123456.7),
            Some(12.345),
            Some(0.67123),
            Some(0.0),
            Some(2.0),
            None,
        ]
        .into_iter()
        .map(cell)
        .collect();
        assert_eq!(shown, ["123457", "12.35", "0.6712", "0", "2", "-"]);
    }

    #[test]
    fn labels_are_stems_unless_they_agree() {
        assert_eq!(
            labels("x/old.json", "y/new.json"),
            ("old".into(), "new".into())
        );
        assert_eq!(
            labels("x/run.json", "y/run.json"),
            ("x/run.json".into(), "y/run.json".into())
        );
    }
}
