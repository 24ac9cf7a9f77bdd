//! The families with a label besides `shard`: counters per reason and
//! per destination shard (a small fixed set of values each), the per-realm
//! series (configured realms and the first auto-created ones by name, the
//! rest as `other`), and the sampled latency histograms (fixed buckets
//! filled from each shard's HDR histogram, merged for `shard="all"`).

use super::Labels;
use crate::realm::latency::Latency;
use crate::realm::report::ShardReport;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;

/// The upper bounds (seconds) of the latency histograms' buckets.
pub const BUCKETS: [f64; 23] = [
    1e-6,
    2.5e-6,
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
    2.5e-3,
    5e-3,
    1e-2,
    2.5e-2,
    5e-2,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// The label value of the realms without a label of their own.
pub const OTHER_REALM: &str = "other";

fn labels(shard: String, label: &'static str, value: &str) -> Labels {
    vec![("shard", shard), (label, value.to_string())]
}

/// One counter per (shard, value of `label`) and per value over the
/// shards; `read` gives a shard's count of the `i`th value (`None`: that
/// shard has no such series).
pub fn per_label(
    reports: &[ShardReport],
    label: &'static str,
    values: &[String],
    read: impl Fn(&ShardReport, usize) -> Option<u64>,
) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    for (i, value) in values.iter().enumerate() {
        let mut sum = 0;
        for r in reports {
            if let Some(n) = read(r, i) {
                let series = labels(r.shard.to_string(), label, value);
                family.get_or_create(&series).inc_by(n);
                sum += n;
            }
        }
        let all = labels("all".into(), label, value);
        family.get_or_create(&all).inc_by(sum);
    }
    family
}

/// The label values of `names`.
pub fn values<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names.map(str::to_string).collect()
}

/// Per destination shard (label `to`): a shard's own number has no series.
pub fn per_destination(
    reports: &[ShardReport],
    nr_shards: usize,
    read: fn(&crate::realm::stats::MeshSent) -> u64,
) -> Family<Labels, Counter> {
    let to: Vec<String> = (0..nr_shards).map(|s| s.to_string()).collect();
    per_label(reports, "to", &to, |r, dest| {
        let sent = r.stats.mesh.get(dest).filter(|_| dest != r.shard)?;
        Some(read(sent))
    })
}

/// Client sessions open and messages in, per realm label.
pub fn per_realm(reports: &[ShardReport]) -> (Family<Labels, Gauge>, Family<Labels, Counter>) {
    let sessions = Family::<Labels, Gauge>::default();
    let messages = Family::<Labels, Counter>::default();
    let name = |u: &crate::realm::report::RealmUsage| match &u.realm {
        Some(r) => r.as_str().to_string(),
        None => OTHER_REALM.to_string(),
    };
    for r in reports {
        for u in &r.realms {
            let realm = name(u);
            let series = labels(r.shard.to_string(), "realm", &realm);
            sessions
                .get_or_create(&series)
                .inc_by(super::gauge_value(u.sessions));
            messages.get_or_create(&series).inc_by(u.messages_in);
            let all = labels("all".into(), "realm", &realm);
            sessions
                .get_or_create(&all)
                .inc_by(super::gauge_value(u.sessions));
            messages.get_or_create(&all).inc_by(u.messages_in);
        }
    }
    (sessions, messages)
}

/// One histogram: its buckets (not cumulative), count and sum.
#[derive(Debug)]
struct Buckets {
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

impl Buckets {
    fn of(latency: &Latency) -> Buckets {
        Buckets {
            sum: latency.sum_seconds(),
            count: latency.count(),
            buckets: latency.buckets(&BUCKETS),
        }
    }
}

/// A histogram per shard and one over the shards, in that order.
#[derive(Debug)]
pub struct Histograms(Vec<(Labels, Buckets)>);

impl Histograms {
    /// The histograms of `read` in `reports`, and their merge as `shard="all"`.
    pub fn of(reports: &[ShardReport], read: fn(&ShardReport) -> &Latency) -> Histograms {
        let mut all = Latency::default();
        let mut out = Vec::with_capacity(reports.len() + 1);
        for r in reports {
            let latency = read(r);
            all.merge(latency);
            out.push((super::shard_label(r.shard), Buckets::of(latency)));
        }
        out.push((super::all_label(), Buckets::of(&all)));
        Histograms(out)
    }
}

impl EncodeMetric for Histograms {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, h) in &self.0 {
            let mut series = encoder.encode_family(labels)?;
            series.encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
