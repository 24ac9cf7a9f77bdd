//! The load generator's reports beyond the table: `--plot` draws the run's
//! latency percentiles as SVG, the JSON report carries those percentiles,
//! `compare A.json B.json` sets two reports side by side (and plots both),
//! refusing reports of different scenarios, and `--metrics` adds how much
//! the router's own counters grew over the run.
#![allow(clippy::unwrap_used)]

mod common;

use common::loadgen::*;
use common::Router;
use serde_json::Value;
use std::path::PathBuf;

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "switchyard-loadgen-report-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An element of an SVG document: its name and attributes.
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The elements of `svg`, checked to be well-formed XML on the way: tags
/// balanced, attributes `name="value"`, text without a bare `&`. Returns
/// the elements in document order, and the texts.
fn parse_svg(svg: &str) -> (Vec<Element>, Vec<String>) {
    let (mut elements, mut texts, mut open) = (Vec::new(), Vec::new(), Vec::<String>::new());
    let mut rest = svg.trim_start();
    if rest.starts_with("<?xml") {
        rest = &rest[rest.find("?>").unwrap() + 2..];
    }
    loop {
        let lt = rest.find('<').unwrap_or(rest.len());
        let text = rest[..lt].trim();
        if !text.is_empty() {
            assert!(!open.is_empty(), "text outside the root: {text}");
            for entity in text.split('&').skip(1) {
                let name = &entity[..entity.find(';').expect("an entity")];
                assert!(
                    ["lt", "gt", "amp", "quot", "apos"].contains(&name) || name.starts_with('#'),
                    "bad entity &{name};"
                );
            }
            texts.push(text.to_string());
        }
        if lt == rest.len() {
            break;
        }
        rest = &rest[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = &comment[comment.find("-->").expect("a closed comment") + 3..];
            continue;
        }
        let gt = rest.find('>').expect("a closed tag");
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop().as_deref(),
                Some(name.trim()),
                "unbalanced </{name}>"
            );
            if open.is_empty() {
                assert!(rest.trim().is_empty(), "content after the root");
            }
            continue;
        }
        let (tag, closed) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let (name, mut attrs_text) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':'),
            "bad element name <{name}>"
        );
        assert!(
            open.is_empty() == elements.is_empty(),
            "a second root <{name}>"
        );
        let mut attrs = Vec::new();
        loop {
            attrs_text = attrs_text.trim_start();
            if attrs_text.is_empty() {
                break;
            }
            let (key, after) = attrs_text.split_once("=\"").expect("name=\"value\"");
            let end = after.find('"').expect("a closing quote");
            attrs.push((key.trim().to_string(), after[..end].to_string()));
            attrs_text = &after[end + 1..];
        }
        if !closed {
            open.push(name.to_string());
        }
        elements.push(Element {
            name: name.to_string(),
            attrs,
        });
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    (elements, texts)
}

/// The plotted curves: polylines of many points, as (stroke, points).
fn curves(elements: &[Element]) -> Vec<(String, Vec<(f64, f64)>)> {
    elements
        .iter()
        .filter(|e| e.name == "polyline")
        .map(|e| {
            let points = e
                .attr("points")
                .unwrap()
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<(f64, f64)>>();
            (e.attr("stroke").unwrap().to_string(), points)
        })
        .filter(|(_, points)| points.len() >= 30)
        .collect()
}

/// A latency distribution drawn left to right: x rising, and the latency
/// never falling (SVG y grows downwards).
fn assert_distribution(points: &[(f64, f64)]) {
    assert!(points.len() >= 40, "{} points", points.len());
    assert!(points.windows(2).all(|w| w[1].0 > w[0].0), "{points:?}");
    assert!(points.windows(2).all(|w| w[1].1 <= w[0].1), "{points:?}");
    assert!(points[0].1 > points[points.len() - 1].1, "a flat curve");
}

/// The `percentiles` of a latency series: 41 quantiles from 0 to 0.99999
/// and the maximum, neither falling; the named percentiles agree.
fn assert_percentiles(latency: &Value) {
    let p = latency["percentiles"].as_array().unwrap();
    assert_eq!(p.len(), 42, "{latency}");
    let q: Vec<f64> = p.iter().map(|e| e["q"].as_f64().unwrap()).collect();
    let us: Vec<f64> = p.iter().map(|e| e["us"].as_f64().unwrap()).collect();
    assert_eq!(
        (q[0], q[8], q[16], q[40], q[41]),
        (0.0, 0.9, 0.99, 0.99999, 1.0)
    );
    assert!(q.windows(2).all(|w| w[0] < w[1]), "{q:?}");
    assert!(us.windows(2).all(|w| w[0] <= w[1]), "not monotonic: {us:?}");
    assert!(us[0] > 0.0);
    assert_eq!(us[8], latency["p90_us"].as_f64().unwrap());
    assert_eq!(us[16], latency["p99_us"].as_f64().unwrap());
    assert_eq!(us[24], latency["p999_us"].as_f64().unwrap());
    assert_eq!(us[41], latency["max_us"].as_f64().unwrap());
}

#[test]
fn plot_draws_the_runs_percentile_distribution_as_svg() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let dir = scratch("plot");
    let svg_path = dir.join("rpc.svg");
    let report = load(
        &[
            "rpc",
            "--callers",
            "2",
            "--plot",
            svg_path.to_str().unwrap(),
        ],
        &rs,
    );
    assert_clean(&report);
    assert_percentiles(&report["results"]["latency"]);
    // Every existing field is still there.
    for key in [
        "count", "p50_us", "p90_us", "p99_us", "p999_us", "p9999_us", "max_us",
    ] {
        assert!(report["results"]["latency"][key].is_number(), "{key}");
    }
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.trim_start().starts_with("<svg"), "{svg:.200}");
    let (elements, texts) = parse_svg(&svg);
    assert_eq!(elements[0].name, "svg");
    let drawn = curves(&elements);
    assert_eq!(drawn.len(), 1, "one curve: {drawn:?}");
    assert_distribution(&drawn[0].1);
    for label in [
        "percentile",
        "0%",
        "90%",
        "99%",
        "99.9%",
        "99.99%",
        "99.999%",
        "call latency",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no '{label}' in {texts:?}"
        );
    }
    assert!(
        texts.iter().any(|t| t.starts_with("latency (µs")),
        "no y axis label in {texts:?}"
    );
    let title = texts.iter().find(|t| t.starts_with("rpc: ")).unwrap();
    assert!(title.contains("2 callers"), "{title}");
}

/// Every scenario's latency series carries percentiles; `mixed` plots two
/// curves (events and calls), `connect` its time to WELCOME.
#[test]
fn every_latency_series_has_percentiles_and_a_curve() {
    let router = Router::start(2);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let dir = scratch("series");
    let mixed_svg = dir.join("mixed.svg");
    let mixed = load(
        &[
            "mixed",
            "--callers",
            "2",
            "--rate",
            "1000",
            "--plot",
            mixed_svg.to_str().unwrap(),
        ],
        &ws,
    );
    assert_clean(&mixed);
    assert_percentiles(&mixed["results"]["latency"]);
    assert_percentiles(&mixed["results"]["extra"]["call_latency"]);
    let (elements, texts) = parse_svg(&std::fs::read_to_string(&mixed_svg).unwrap());
    let drawn = curves(&elements);
    assert_eq!(drawn.len(), 2, "{texts:?}");
    assert_ne!(drawn[0].0, drawn[1].0, "one colour per curve");
    for label in ["event latency", "call latency"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no '{label}' in {texts:?}"
        );
    }
    let connect_svg = dir.join("connect.svg");
    let connect = load(
        &[
            "connect",
            "--sessions",
            "100",
            "--hold",
            "0.1",
            "--plot",
            connect_svg.to_str().unwrap(),
        ],
        &ws,
    );
    assert_eq!(connect["results"]["counts"]["received"], 100);
    assert_percentiles(&connect["results"]["time_to_welcome"]);
    let (elements, texts) = parse_svg(&std::fs::read_to_string(&connect_svg).unwrap());
    assert_eq!(curves(&elements).len(), 1);
    assert!(texts.iter().any(|t| t == "time to WELCOME"), "{texts:?}");
}

/// The row `name` of a compare table: its A, B and B/A columns.
fn row(printed: &str, name: &str) -> (f64, f64, f64) {
    let line = printed
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with("  "))
        .unwrap_or_else(|| panic!("no row '{name}' in\n{printed}"));
    let cols: Vec<f64> = line[name.len()..]
        .split_whitespace()
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(cols.len(), 3, "{line}");
    (cols[0], cols[1], cols[2])
}

fn close(shown: f64, exact: f64, what: &str) {
    assert!(
        (shown - exact).abs() <= exact.abs() * 1e-3,
        "{what}: shown {shown}, report {exact}"
    );
}

#[test]
fn compare_sets_two_reports_side_by_side_and_plots_both() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let dir = scratch("compare");
    let (a_path, b_path) = (dir.join("baseline.json"), dir.join("candidate.json"));
    let a = load(&["pubsub", "--window", "256"], &rs);
    let b = load(&["pubsub", "--window", "8"], &rs);
    std::fs::write(&a_path, serde_json::to_vec_pretty(&a).unwrap()).unwrap();
    std::fs::write(&b_path, serde_json::to_vec_pretty(&b).unwrap()).unwrap();
    let svg_path = dir.join("both.svg");
    let (out, printed) = compare(&[
        a_path.to_str().unwrap(),
        b_path.to_str().unwrap(),
        "--plot",
        svg_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("baseline.json") && printed.contains("candidate.json"));
    for (name, key) in [
        ("event latency p50 (us)", "p50_us"),
        ("event latency p99 (us)", "p99_us"),
        ("event latency max (us)", "max_us"),
    ] {
        let (x, y) = (
            a["results"]["latency"][key].as_f64().unwrap(),
            b["results"]["latency"][key].as_f64().unwrap(),
        );
        let (shown_a, shown_b, ratio) = row(&printed, name);
        close(shown_a, x, name);
        close(shown_b, y, name);
        assert!(
            (ratio - y / x).abs() <= 0.0005 + 1e-9,
            "{name}: ratio {ratio}"
        );
    }
    let rate = |r: &Value| r["results"]["throughput_per_s"].as_f64().unwrap();
    let (shown_a, shown_b, ratio) = row(&printed, "events/s");
    close(shown_a, rate(&a), "events/s");
    close(shown_b, rate(&b), "events/s");
    assert!((ratio - rate(&b) / rate(&a)).abs() <= 0.0005 + 1e-9);
    let received = |r: &Value| r["results"]["counts"]["received"].as_f64().unwrap();
    let (shown_a, shown_b, _) = row(&printed, "received");
    assert_eq!((shown_a, shown_b), (received(&a), received(&b)));

    let (elements, texts) = parse_svg(&std::fs::read_to_string(&svg_path).unwrap());
    let drawn = curves(&elements);
    assert_eq!(drawn.len(), 2, "{texts:?}");
    assert_ne!(drawn[0].0, drawn[1].0, "one colour per run");
    for (_, points) in &drawn {
        assert_distribution(points);
    }
    for label in ["baseline", "candidate"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no '{label}' in {texts:?}"
        );
    }
}

/// Reports of different scenarios, a missing file and one that is no
/// report are refused with exit status 2, naming the file; no plot is drawn.
#[test]
fn compare_refuses_different_scenarios_and_unreadable_reports() {
    let router = Router::start(1);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let dir = scratch("refuse");
    let (pubsub, rpc) = (dir.join("pubsub.json"), dir.join("rpc.json"));
    let report = load(&["pubsub"], &rs);
    std::fs::write(&pubsub, serde_json::to_vec(&report).unwrap()).unwrap();
    std::fs::write(&rpc, serde_json::to_vec(&load(&["rpc"], &rs)).unwrap()).unwrap();
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not json {").unwrap();
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"something": "else"}"#).unwrap();
    let missing = dir.join("missing.json");
    let svg = dir.join("never.svg");
    let (p, r, g, o, m, s) = (
        pubsub.to_str().unwrap(),
        rpc.to_str().unwrap(),
        garbage.to_str().unwrap(),
        other.to_str().unwrap(),
        missing.to_str().unwrap(),
        svg.to_str().unwrap(),
    );
    for (args, says) in [
        (
            [p, r],
            format!(
                "{p} (scenario pubsub) and {r} (scenario rpc) measure different things: \
                 compare two reports of one scenario"
            ),
        ),
        ([p, m], format!("cannot read report {m}")),
        ([g, p], format!("{g} is not JSON")),
        (
            [p, o],
            format!("{o} is not a switchyard-load --json report"),
        ),
    ] {
        let (out, printed) = compare(&[args[0], args[1], "--plot", s]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {printed}");
        assert!(printed.contains(&says), "{args:?}: {printed}");
        assert!(!svg.exists(), "{args:?} drew a plot");
    }
    // The same report against itself: every ratio is 1.
    let (out, printed) = compare(&[p, p]);
    assert!(out.status.success(), "{printed}");
    assert_eq!(row(&printed, "event latency p99 (us)").2, 1.0);
}

#[test]
fn metrics_adds_the_routers_counter_increases() {
    let router = Router::start(2);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let url = format!("http://{}/metrics", router.running.http_addr().unwrap());
    let args = [
        "pubsub",
        "--publishers",
        "2",
        "--subscribers",
        "3",
        "--metrics",
        &url,
    ];
    let (out, printed, report) = run(&args, &rs);
    assert!(out.status.success(), "{printed}");
    let report = report.unwrap();
    assert_clean(&report);
    let m = report["router_metrics"]
        .as_object()
        .expect("router_metrics");
    let received = report["results"]["counts"]["received"].as_u64().unwrap();
    let delivered = m["switchyard_events_delivered_total"].as_u64().unwrap();
    assert!(delivered >= received, "{delivered} < {received}: {m:?}");
    // The five sessions of the run, logged in anonymously, made no calls.
    assert_eq!(m["switchyard_sessions_opened_total"], 5, "{m:?}");
    assert_eq!(
        m["switchyard_logins_total{method=\"anonymous\"}"], 5,
        "{m:?}"
    );
    assert_eq!(m["switchyard_calls_total"], 0, "{m:?}");
    assert!(m
        .keys()
        .all(|k| k.ends_with("_total") || k.contains("_total{")));
    assert!(m.keys().all(|k| !k.contains("shard")), "{m:?}");
    assert!(
        printed.contains("switchyard_events_delivered_total"),
        "{printed}"
    );

    // A second run counts only its own traffic.
    let again = load(&["rpc", "--callers", "1", "--metrics", &url], &rs);
    let m = &again["router_metrics"];
    assert_eq!(m["switchyard_events_delivered_total"], 0, "{m}");
    let calls = m["switchyard_calls_total"].as_u64().unwrap();
    assert!(calls >= again["results"]["counts"]["received"].as_u64().unwrap());
}

/// An endpoint that does not answer costs a warning and the section, not
/// the run; a malformed URL is refused before the run.
#[test]
fn metrics_that_do_not_answer_leave_the_run_alone() {
    let router = Router::start(1);
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    // A port nothing listens on: bound, then freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let (out, printed, report) = run(&["pubsub", "--metrics", &url], &rs);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("warning: --metrics"), "{printed}");
    let report = report.unwrap();
    assert_clean(&report);
    assert!(report.get("router_metrics").is_none(), "{report}");

    let (out, printed, report) = run(&["pubsub", "--metrics", "127.0.0.1:8090"], &rs);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("expected http://host:port/metrics"),
        "{printed}"
    );
    assert!(report.is_none(), "ran anyway");
}
