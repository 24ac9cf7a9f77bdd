//! Reading the router's `/metrics` in tests: the Prometheus text parsed
//! into samples keyed by (metric name with its labels other than `shard`,
//! `shard`), checked line by line for the exposition's shape.

use super::http::request;
use super::Router;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub type Samples = BTreeMap<(String, String), f64>;

/// Samples by (metric name and labels other than `shard`, `shard` label);
/// every line must be a comment
/// (`# HELP`/`# TYPE`) or a sample `name{labels} value`.
pub fn parse(text: &str) -> Samples {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap();
            assert!(kind == "HELP" || kind == "TYPE", "bad comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample");
        let (name, labels) = series.split_once('{').expect("labels");
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        assert!(name.chars().all(valid), "bad metric name: {line}");
        // `shard` first; any other labels (login counters' `method`) become
        // part of the key's name.
        let labels = labels.strip_suffix('}').expect("closed labels");
        let (shard, rest) = labels.split_once(',').unwrap_or((labels, ""));
        let shard = shard
            .strip_prefix("shard=\"")
            .and_then(|l| l.strip_suffix('"'))
            .expect("a shard label first");
        let key = if rest.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{rest}}}")
        };
        let value: f64 = value.parse().expect("a number");
        out.insert((key, shard.to_string()), value);
    }
    out
}

pub fn scrape(router: &Router) -> Samples {
    let reply = request(router.running.http_addr().unwrap(), "GET", "/metrics");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply
        .headers
        .contains("content-type: text/plain; version=0.0.4"));
    parse(&reply.body)
}

/// A sample's value, as an integer (every series but a histogram's `_sum`).
pub fn value(m: &Samples, name: &str, shard: &str) -> u64 {
    float(m, name, shard) as u64
}

pub fn float(m: &Samples, name: &str, shard: &str) -> f64 {
    *m.get(&(name.to_string(), shard.to_string()))
        .unwrap_or_else(|| panic!("{name}{{shard=\"{shard}\"}} missing"))
}

/// The `shard="all"` series of every metric is the sum of the shards'
/// that have it (a shard has no mesh series to itself, and only the
/// realms it knows); every shard has the series without another label.
pub fn assert_sums(m: &Samples, shards: usize) {
    let names: Vec<&String> = m.keys().map(|(n, _)| n).collect();
    for name in names.into_iter().filter(|n| *n != "switchyard_shard_up") {
        let per_shard = (0..shards).filter_map(|s| m.get(&(name.clone(), s.to_string())));
        if !name.contains('{') {
            assert_eq!(per_shard.clone().count(), shards, "{name} on every shard");
        }
        let sum: f64 = per_shard.sum();
        let all = float(m, name, "all");
        assert!(
            (all - sum).abs() <= 1e-9 * all.abs().max(1.0),
            "{name}: {all} != {sum}"
        );
    }
}

/// Scrapes until `ready` holds (a connection's end is counted once its
/// task has run), for at most 10 s; the last scrape.
pub fn scrape_until(router: &Router, ready: impl Fn(&Samples) -> bool) -> Samples {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = scrape(router);
        if ready(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How much series `name` grew on `shard` from `before` to `after`.
pub fn grew(before: &Samples, after: &Samples, name: &str, shard: &str) -> u64 {
    value(after, name, shard) - value(before, name, shard)
}
