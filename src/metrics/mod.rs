//! Prometheus exposition of the shards' reports. A scrape gathers one
//! `ShardReport` per shard (over the mesh, at scrape time: the hot path
//! only bumps plain per-shard integers), then builds a fresh
//! `prometheus-client` registry from those numbers and encodes it in the
//! Prometheus text format (0.0.4).
//!
//! Every metric has a `shard` label: one series per shard (`shard="0"`,
//! `shard="1"`, ...) and one summed over the shards that answered,
//! `shard="all"` (aggregate with `{shard!="all"}` to avoid counting twice).
//! Login counters also carry a `method` label, message counters a `type`
//! label (the spec's name: `PUBLISH`, `EVENT`, ...; every type that flows
//! that way, plus any other type seen), closed sessions and protocol
//! violations a `reason`, mesh counters the destination shard `to`, the
//! per-realm series a `realm` (bounded: see `labelled.rs`). The latency
//! histograms are sampled (one operation in `SAMPLE_EVERY`); their
//! `shard="all"` series merges the shards' HDR histograms.
//! `switchyard_shard_up{shard}` is 1 for each shard that answered within
//! the scrape's bound and 0 for the others (whose series are then absent).

mod labelled;

use crate::auth::principal::METHODS;
use crate::realm::latency::{Latency, SAMPLE_EVERY};
use crate::realm::report::ShardReport;
use crate::realm::stats::{MeshSent, REALM_LABELS};
use crate::session::{SessionEnd, ViolationKind};
use crate::wire::counts::{TypeCounts, FROM_CLIENT, TO_CLIENT, TYPES};
use crate::wire::message::type_name;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use labelled::{per_destination, per_label, per_realm, values, Histograms};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Reads one number from a report.
type Read = fn(&ShardReport) -> u64;

type Labels = Vec<(&'static str, String)>;

/// Counters (exposed with a `_total` suffix): name, help, value.
const COUNTERS: &[(&str, &str, Read)] = &[
    ("sessions_opened", "Sessions opened (WELCOME sent)", |r| {
        r.stats.sessions_opened
    }),
    ("events_delivered", "EVENTs queued to subscribers", |r| {
        r.stats.events_delivered
    }),
    (
        "events_dropped",
        "EVENTs dropped for a slow consumer (slow_consumer = drop_events)",
        |r| r.stats.events_dropped,
    ),
    (
        "events_filtered",
        "Deliveries a publish's receiver lists (black/white lists) turned away",
        |r| r.stats.events_filtered,
    ),
    (
        "calls",
        "CALLs routed to a callee (meta procedures not included)",
        |r| r.stats.calls,
    ),
    (
        "calls_answered",
        "Routed calls answered with a final RESULT (counted on the caller's shard)",
        |r| r.stats.calls_answered,
    ),
    (
        "calls_errored",
        "Routed calls answered with an ERROR: the callee's, or the router's when the callee left, \
         every callee was unavailable or the answer was too large (caller's shard)",
        |r| r.stats.calls_errored,
    ),
    (
        "calls_timed_out",
        "Routed calls ended by their timeout (caller's shard)",
        |r| r.stats.calls_timed_out,
    ),
    (
        "calls_canceled",
        "Routed calls ended by the caller's CANCEL (caller's shard)",
        |r| r.stats.calls_canceled,
    ),
    (
        "calls_unroutable",
        "CALLs no registration could take (no_such_procedure, or no callee with the features needed)",
        |r| r.stats.calls_unroutable,
    ),
    (
        "protocol_violations",
        "Sessions and handshakes aborted for a protocol violation",
        |r| r.stats.protocol_violations,
    ),
    (
        "requests_denied",
        "Requests the session's role did not allow",
        |r| r.stats.requests_denied,
    ),
    (
        "requests_limited",
        "Requests over a per-session limit",
        |r| r.stats.requests_limited,
    ),
    (
        "slow_consumer_disconnects",
        "Sessions disconnected as slow consumers (over budget, or stalled above the watermark)",
        |r| r.stats.slow_consumer_disconnects,
    ),
    (
        "flow_pauses",
        "Times a session or a shard's inbox stopped reading behind a queue above its watermark",
        |r| r.stats.flow_pauses,
    ),
    (
        "connections_refused",
        "Connections closed on accept: their address held its limit of connections or handshakes",
        |r| r.stats.connections_refused,
    ),
    (
        "flow_stalls",
        "Queues that stayed above their watermark for the stall timeout (slow-consumer policy applied)",
        |r| r.stats.flow_stalls,
    ),
    (
        "oversized_replies",
        "RESULTs and INVOCATIONs not sent: too large for the receiver's transport",
        |r| r.stats.oversized_replies,
    ),
    (
        "retained_evicted",
        "Retained events evicted to stay within the realm's bounds",
        |r| r.stats.retained_evicted,
    ),
];

/// A gauge: name, help, value.
type Gauge3 = (&'static str, &'static str, Read);

/// How the `shard="all"` series of a gauge table is made from the shards'.
type Aggregate = fn(&mut dyn Iterator<Item = u64>) -> u64;

/// Gauges: name, help, value.
const GAUGES: &[Gauge3] = &[
    ("sessions_open", "Client sessions open", |r| {
        r.footprint.sessions as u64
    }),
    (
        "topics",
        "Topics (with their match policy) with local subscribers",
        |r| r.footprint.topics as u64,
    ),
    (
        "procedures",
        "Registrations known (every shard holds a replica of each)",
        |r| r.footprint.procedures as u64,
    ),
    (
        "calls_in_flight",
        "CALLs waiting for their result (caller side)",
        |r| r.footprint.calls as u64,
    ),
    (
        "invocations_in_flight",
        "INVOCATIONs waiting for their YIELD (callee side)",
        |r| r.footprint.invocations as u64,
    ),
    (
        "retained_events",
        "Topics with a retained event kept here",
        |r| r.footprint.retained as u64,
    ),
    (
        "retained_bytes",
        "Bytes of retained events kept here",
        |r| r.footprint.retained_bytes as u64,
    ),
    (
        "outbound_queued_bytes",
        "Bytes waiting in the sessions' outbound queues",
        |r| r.footprint.queued_bytes as u64,
    ),
];

/// Gauges whose `shard="all"` series is the largest shard's, not the sum.
const MAX_GAUGES: &[Gauge3] = &[(
    "outbound_queue_peak_bytes",
    "The most bytes one session's outbound queue has held above its watermark",
    |r| r.footprint.queue_peak_bytes as u64,
)];

/// Counters per authentication method (label `method`): name, help, values.
const PER_METHOD: &[(&str, &str, PerMethod)] = &[
    ("logins", "Sessions opened, by authentication method", |r| {
        &r.stats.logins
    }),
    (
        "login_failures",
        "Logins refused for a wrong credential, by authentication method",
        |r| &r.stats.login_failures,
    ),
];

/// Reads one per-method array from a report.
type PerMethod = fn(&ShardReport) -> &[u64; METHODS.len()];

/// Counters per message type (label `type`): name, help, values, and the
/// types always exposed (others only once seen).
const PER_TYPE: &[(&str, &str, PerType, &[u64])] = &[
    (
        "messages_in",
        "Messages from clients handled (established sessions and handshakes), by type",
        |r| &r.stats.messages_in,
        FROM_CLIENT,
    ),
    (
        "messages_out",
        "Messages handed to client connections' writers, by type",
        |r| &r.stats.messages_out,
        TO_CLIENT,
    ),
];

/// Reads one per-type tally from a report.
type PerType = fn(&ShardReport) -> &TypeCounts;

/// Reads one mesh counter of a destination.
type ReadSent = fn(&MeshSent) -> u64;

/// Counters per destination shard (label `to`): name, help, value.
const PER_DESTINATION: &[(&str, &str, ReadSent)] = &[
    (
        "mesh_envelopes_sent",
        "Envelopes sent to another shard over the mesh, by destination",
        |m| m.envelopes,
    ),
    (
        "mesh_batches_sent",
        "Batches of envelopes sent to another shard over the mesh, by destination",
        |m| m.batches,
    ),
    (
        "mesh_full",
        "Sends to another shard that found its mesh channel full (the batch was kept and retried)",
        |m| m.full,
    ),
];

/// Reads one latency histogram from a report.
type ReadLatency = fn(&ShardReport) -> &Latency;

/// Sampled latency histograms (seconds): name, help, value.
const HISTOGRAMS: &[(&str, &str, ReadLatency)] = &[
    (
        "call_duration_seconds",
        "Round trip of routed calls through the router: CALL handled on the caller's shard \
         to the final RESULT queued for the caller",
        |r| &r.stats.call_latency,
    ),
    (
        "publish_fanout_duration_seconds",
        "PUBLISH handled on the publisher's shard to its last local delivery \
         (other shards' deliveries not included)",
        |r| &r.stats.publish_latency,
    ),
];

fn shard_label(shard: usize) -> Labels {
    vec![("shard", shard.to_string())]
}

fn all_label() -> Labels {
    vec![("shard", "all".to_string())]
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The Prometheus text of `reports` (the shards that answered) out of `nr_shards`.
pub fn exposition(reports: &[ShardReport], nr_shards: usize) -> String {
    let mut registry = Registry::with_prefix("switchyard");
    for (name, help, read) in COUNTERS {
        let family = Family::<Labels, Counter>::default();
        for r in reports {
            family.get_or_create(&shard_label(r.shard)).inc_by(read(r));
        }
        let sum = reports.iter().map(read).sum();
        family.get_or_create(&all_label()).inc_by(sum);
        registry.register(*name, *help, family);
    }
    let tables: [(&[Gauge3], Aggregate); 2] = [
        (GAUGES, |v| v.sum()),
        (MAX_GAUGES, |v| v.max().unwrap_or(0)),
    ];
    for (table, all) in tables {
        for (name, help, read) in table {
            let family = Family::<Labels, Gauge>::default();
            for r in reports {
                family
                    .get_or_create(&shard_label(r.shard))
                    .set(gauge_value(read(r)));
            }
            let total = all(&mut reports.iter().map(read));
            family.get_or_create(&all_label()).set(gauge_value(total));
            registry.register(*name, *help, family);
        }
    }
    for (name, help, read) in PER_METHOD {
        registry.register(*name, *help, per_method(reports, *read));
    }
    for (name, help, read, always) in PER_TYPE {
        registry.register(*name, *help, per_type(reports, *read, always));
    }
    register_labelled(&mut registry, reports, nr_shards);
    let up = Family::<Labels, Gauge>::default();
    for shard in 0..nr_shards {
        let answered = reports.iter().any(|r| r.shard == shard);
        up.get_or_create(&shard_label(shard))
            .set(i64::from(answered));
    }
    registry.register(
        "shard_up",
        "1 when the shard answered the scrape in time",
        up,
    );
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_text::encode(&mut out, &registry);
    out
}

/// The families with a label besides `shard` (reasons, destinations,
/// realms) and the latency histograms.
fn register_labelled(registry: &mut Registry, reports: &[ShardReport], nr_shards: usize) {
    let reasons = values(SessionEnd::ALL.iter().map(|e| e.name()));
    registry.register(
        "sessions_closed",
        "Client sessions ended, by reason",
        per_label(reports, "reason", &reasons, |r, i| {
            Some(r.stats.sessions_closed[i])
        }),
    );
    let kinds = values(ViolationKind::ALL.iter().map(|k| k.name()));
    registry.register(
        "protocol_violations_by_reason",
        "Sessions and handshakes aborted for a protocol violation, by reason",
        per_label(reports, "reason", &kinds, |r, i| {
            Some(r.stats.violations[i])
        }),
    );
    for (name, help, read) in PER_DESTINATION {
        registry.register(*name, *help, per_destination(reports, nr_shards, *read));
    }
    let (sessions, messages) = per_realm(reports);
    let others = format!("auto-created realms past the first {REALM_LABELS} of a shard: other");
    registry.register(
        "realm_sessions_open",
        format!("Client sessions open, by realm ({others})"),
        sessions,
    );
    registry.register(
        "realm_messages_in",
        format!(
            "Messages of established client sessions handed to their realm, by realm ({others})"
        ),
        messages,
    );
    for (name, help, read) in HISTOGRAMS {
        let help = format!("{help}; one in {SAMPLE_EVERY} sampled");
        registry.register(*name, help, Histograms::of(reports, *read));
    }
}

/// One counter per (shard, method), and per method over the shards.
fn per_method(reports: &[ShardReport], read: PerMethod) -> Family<Labels, Counter> {
    let methods = values(METHODS.iter().copied());
    per_label(reports, "method", &methods, |r, i| Some(read(r)[i]))
}

/// One counter per (shard, type), and per type over the shards: the
/// types of `always`, and any other seen on some shard.
fn per_type(reports: &[ShardReport], read: PerType, always: &[u64]) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    for code in TYPES {
        let sum: u64 = reports.iter().map(|r| read(r).get(code)).sum();
        if sum == 0 && !always.contains(&code) {
            continue;
        }
        let labels = |shard: String| vec![("shard", shard), ("type", type_name(code).to_string())];
        for r in reports {
            family
                .get_or_create(&labels(r.shard.to_string()))
                .inc_by(read(r).get(code));
        }
        family.get_or_create(&labels("all".into())).inc_by(sum);
    }
    family
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::report::Footprint;
    use crate::realm::Stats;

    fn report(shard: usize, calls: u64, sessions: usize) -> ShardReport {
        ShardReport {
            shard,
            stats: Stats {
                calls,
                ..Stats::default()
            },
            footprint: Footprint {
                sessions,
                ..Footprint::default()
            },
            realms: Vec::new(),
        }
    }

    fn has(text: &str, line: &str) {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }

    #[test]
    fn closes_and_violations_are_counted_per_reason_and_summed() {
        let mut a = report(0, 0, 0);
        a.stats.count_closed(SessionEnd::Goodbye);
        a.stats.count_closed(SessionEnd::SlowConsumer);
        a.stats.count_violation(ViolationKind::Decode);
        let mut b = report(1, 0, 0);
        b.stats.count_closed(SessionEnd::Goodbye);
        b.stats.count_violation(ViolationKind::Sequence);
        let text = exposition(&[a, b], 2);
        for line in [
            "switchyard_sessions_closed_total{shard=\"0\",reason=\"goodbye\"} 1",
            "switchyard_sessions_closed_total{shard=\"all\",reason=\"goodbye\"} 2",
            "switchyard_sessions_closed_total{shard=\"all\",reason=\"slow_consumer\"} 1",
            "switchyard_sessions_closed_total{shard=\"1\",reason=\"ping_timeout\"} 0",
            "switchyard_protocol_violations_total{shard=\"all\"} 2",
            "switchyard_protocol_violations_by_reason_total{shard=\"0\",reason=\"decode\"} 1",
            "switchyard_protocol_violations_by_reason_total{shard=\"all\",reason=\"sequence\"} 1",
            "switchyard_protocol_violations_by_reason_total{shard=\"all\",reason=\"handshake\"} 0",
        ] {
            has(&text, line);
        }
    }

    #[test]
    fn mesh_counters_are_per_destination_without_a_shards_own() {
        let mut a = report(0, 0, 0);
        a.stats = Stats::for_shards(3);
        a.stats.mesh[2].envelopes = 10;
        a.stats.mesh[2].batches = 2;
        a.stats.mesh[1].full = 1;
        let mut b = report(1, 0, 0);
        b.stats = Stats::for_shards(3);
        b.stats.mesh[2].envelopes = 5;
        let text = exposition(&[a, b], 3);
        for line in [
            "switchyard_mesh_envelopes_sent_total{shard=\"0\",to=\"2\"} 10",
            "switchyard_mesh_envelopes_sent_total{shard=\"all\",to=\"2\"} 15",
            "switchyard_mesh_envelopes_sent_total{shard=\"1\",to=\"0\"} 0",
            "switchyard_mesh_batches_sent_total{shard=\"0\",to=\"2\"} 2",
            "switchyard_mesh_full_total{shard=\"all\",to=\"1\"} 1",
        ] {
            has(&text, line);
        }
        assert!(!text.contains("{shard=\"0\",to=\"0\"}"), "{text}");
        assert!(!text.contains("{shard=\"1\",to=\"1\"}"), "{text}");
    }

    #[test]
    fn realms_have_their_labels_and_the_rest_is_other() {
        use crate::realm::report::RealmUsage;
        use crate::wire::Text;
        let usage = |realm: Option<&str>, sessions, messages_in| RealmUsage {
            realm: realm.map(Text::from),
            sessions,
            messages_in,
        };
        let mut a = report(0, 0, 0);
        a.realms = vec![usage(Some("realm1"), 2, 30), usage(None, 1, 4)];
        let mut b = report(1, 0, 0);
        b.realms = vec![usage(Some("realm1"), 1, 5), usage(None, 0, 0)];
        let text = exposition(&[a, b], 2);
        for line in [
            "switchyard_realm_sessions_open{shard=\"0\",realm=\"realm1\"} 2",
            "switchyard_realm_sessions_open{shard=\"all\",realm=\"realm1\"} 3",
            "switchyard_realm_sessions_open{shard=\"all\",realm=\"other\"} 1",
            "switchyard_realm_messages_in_total{shard=\"all\",realm=\"realm1\"} 35",
            "switchyard_realm_messages_in_total{shard=\"0\",realm=\"other\"} 4",
        ] {
            has(&text, line);
        }
    }

    #[test]
    fn sampled_latencies_are_histograms_per_shard_and_merged() {
        let mut a = report(0, 0, 0);
        a.stats.call_latency.record_ns(40_000);
        a.stats.call_latency.record_ns(3_000_000);
        let mut b = report(1, 0, 0);
        b.stats.call_latency.record_ns(40_000);
        b.stats.publish_latency.record_ns(2_000);
        let text = exposition(&[a, b], 2);
        for line in [
            "# TYPE switchyard_call_duration_seconds histogram",
            "switchyard_call_duration_seconds_count{shard=\"0\"} 2",
            "switchyard_call_duration_seconds_count{shard=\"all\"} 3",
            "switchyard_call_duration_seconds_bucket{shard=\"1\",le=\"5e-05\"} 1",
            "switchyard_call_duration_seconds_bucket{shard=\"all\",le=\"2.5e-05\"} 0",
            "switchyard_call_duration_seconds_bucket{shard=\"all\",le=\"5e-05\"} 2",
            "switchyard_call_duration_seconds_bucket{shard=\"all\",le=\"0.001\"} 2",
            "switchyard_call_duration_seconds_bucket{shard=\"all\",le=\"0.005\"} 3",
            "switchyard_call_duration_seconds_bucket{shard=\"all\",le=\"+Inf\"} 3",
            "switchyard_publish_fanout_duration_seconds_count{shard=\"all\"} 1",
            "switchyard_publish_fanout_duration_seconds_bucket{shard=\"1\",le=\"2.5e-06\"} 1",
        ] {
            has(&text, line);
        }
        let sum = text
            .lines()
            .find_map(|l| l.strip_prefix("switchyard_call_duration_seconds_sum{shard=\"all\"} "))
            .and_then(|v| v.parse::<f64>().ok());
        assert!(sum.is_some_and(|s| (s - 0.00308).abs() < 1e-9), "{text}");
        assert!(text.contains("one in 64 sampled"));
    }

    #[test]
    fn logins_are_counted_per_method_and_summed() {
        let mut a = report(0, 0, 0);
        a.stats.count_login("ticket");
        a.stats.count_login_failure("ticket");
        let mut b = report(1, 0, 0);
        b.stats.count_login("ticket");
        b.stats.count_login("anonymous");
        let text = exposition(&[a, b], 2);
        for line in [
            "switchyard_logins_total{shard=\"0\",method=\"ticket\"} 1",
            "switchyard_logins_total{shard=\"all\",method=\"ticket\"} 2",
            "switchyard_logins_total{shard=\"1\",method=\"anonymous\"} 1",
            "switchyard_login_failures_total{shard=\"all\",method=\"ticket\"} 1",
            "switchyard_login_failures_total{shard=\"all\",method=\"cryptosign\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn messages_are_counted_per_type_in_their_direction_and_summed() {
        use crate::wire::message::code;
        let mut a = report(0, 0, 0);
        a.stats.messages_in.add(code::PUBLISH);
        a.stats.messages_in.add(code::WELCOME);
        a.stats.messages_out.add(code::EVENT);
        let mut b = report(1, 0, 0);
        b.stats.messages_in.add(code::PUBLISH);
        b.stats.messages_out.add(code::EVENT);
        b.stats.messages_out.add(code::PUBLISHED);
        let text = exposition(&[a, b], 2);
        for line in [
            "# TYPE switchyard_messages_in_total counter",
            "switchyard_messages_in_total{shard=\"0\",type=\"PUBLISH\"} 1",
            "switchyard_messages_in_total{shard=\"all\",type=\"PUBLISH\"} 2",
            "switchyard_messages_in_total{shard=\"all\",type=\"CALL\"} 0",
            "switchyard_messages_in_total{shard=\"1\",type=\"WELCOME\"} 0",
            "switchyard_messages_in_total{shard=\"all\",type=\"WELCOME\"} 1",
            "switchyard_messages_out_total{shard=\"all\",type=\"EVENT\"} 2",
            "switchyard_messages_out_total{shard=\"1\",type=\"PUBLISHED\"} 1",
            "switchyard_messages_out_total{shard=\"0\",type=\"RESULT\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("switchyard_messages_out_total{shard=\"all\",type=\"PUBLISH\"}"));
    }

    #[test]
    fn every_metric_is_per_shard_and_summed() {
        let text = exposition(&[report(0, 3, 1), report(2, 4, 5)], 3);
        for line in [
            "# TYPE switchyard_calls_total counter",
            "switchyard_calls_total{shard=\"0\"} 3",
            "switchyard_calls_total{shard=\"2\"} 4",
            "switchyard_calls_total{shard=\"all\"} 7",
            "# TYPE switchyard_sessions_open gauge",
            "switchyard_sessions_open{shard=\"all\"} 6",
            "switchyard_shard_up{shard=\"1\"} 0",
            "switchyard_shard_up{shard=\"2\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
