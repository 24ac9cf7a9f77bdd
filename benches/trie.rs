//! Matcher benchmark: the cost of matching one topic against N patterns,
//! for an exact-only mix and a mix of 80% exact, 10% prefix, 10% wildcard.
//! The baseline scans every pattern with the reference matcher, which is
//! what a router without an index does; read the results as ratios.
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;
use switchyard::routing::trie::pattern_matches;
use switchyard::routing::{MatchPolicy, PatternIndex};
use switchyard::wire::Text;

/// `n` patterns of the given mix over topics `com.app.<group>.<item>`.
fn patterns(n: usize, mixed: bool) -> Vec<(String, MatchPolicy)> {
    (0..n)
        .map(|i| {
            let (group, item) = (i % 97, i);
            match (mixed, i % 10) {
                (true, 0) => (format!("com.app.{group}."), MatchPolicy::Prefix),
                (true, 1) => (format!("com.app..{item}"), MatchPolicy::Wildcard),
                _ => (format!("com.app.{group}.{item}"), MatchPolicy::Exact),
            }
        })
        .collect()
}

fn trie(c: &mut Criterion) {
    let mut g = c.benchmark_group("trie");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    for n in [100, 10_000] {
        for (mix, mixed) in [("exact", false), ("mixed", true)] {
            let pats = patterns(n, mixed);
            let mut idx = PatternIndex::default();
            for (p, policy) in &pats {
                idx.insert(Text::from(p.as_str()), *policy, ());
            }
            // Item 42 is in group 42 (groups are i % 97).
            let topic = "com.app.42.42".to_string();
            let id = format!("{n}/{mix}");
            let mut found = 0;
            idx.matches(&topic, |_| found += 1);
            assert!(found >= 1);
            g.bench_function(BenchmarkId::new("index", &id), |b| {
                b.iter(|| {
                    let mut count = 0;
                    idx.matches(black_box(&topic), |_| count += 1);
                    count
                })
            });
            g.bench_function(BenchmarkId::new("baseline_scan", &id), |b| {
                b.iter(|| {
                    pats.iter()
                        .filter(|(p, pol)| pattern_matches(p, *pol, black_box(&topic)))
                        .count()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, trie);
criterion_main!(benches);
