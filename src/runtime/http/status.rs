//! The status endpoints of the operators' HTTP listener:
//!
//! - `GET /status.json`: the router's uptime, its shards, and per shard and
//!   in total the sessions open and the counters an operator watches
//!   (messages in and out, events delivered, calls, slow-consumer
//!   disconnects, protocol violations), gathered from every shard like a
//!   metrics scrape. Counters only grow while the router runs: a client
//!   computes rates from two samples and their `uptime_ms`.
//! - `GET /` and `GET /status`: one self-contained page (`status.html`,
//!   inline CSS and JS, no external assets) that polls `/status.json`
//!   every second and draws rates and sparklines of the last minute.

use super::{gather, HttpContext, Response};
use crate::realm::report::ShardReport;
use crate::wire::counts::TypeCounts;
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The status page.
const PAGE: &str = include_str!("status.html");

/// The answer to `method path` if `path` is a status endpoint.
pub(super) async fn route(ctx: &HttpContext, method: &str, path: &str) -> Option<Response> {
    if !matches!(path, "/" | "/status" | "/status.json") {
        return None;
    }
    if method != "GET" {
        return Some(Response::text(405, "only GET is allowed"));
    }
    if path != "/status.json" {
        return Some(Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: PAGE.to_string(),
        });
    }
    let (reports, nr_shards) = gather(&ctx.shard).await;
    let uptime = ctx.shard.borrow().started.elapsed();
    Some(Response::json(
        200,
        status_of(&reports, nr_shards, uptime, SystemTime::now()),
    ))
}

/// Reads one number from a report.
type Read = fn(&ShardReport) -> u64;

/// The numbers of `/status.json`, for each shard and in total.
const FIELDS: &[(&str, Read)] = &[
    ("sessions", |r| r.footprint.sessions as u64),
    ("messages_in", |r| r.stats.messages_in.total()),
    ("messages_out", |r| r.stats.messages_out.total()),
    ("events_delivered", |r| r.stats.events_delivered),
    ("calls", |r| r.stats.calls),
    ("slow_consumer_disconnects", |r| {
        r.stats.slow_consumer_disconnects
    }),
    ("protocol_violations", |r| r.stats.protocol_violations),
];

/// The body of `/status.json`: `reports` (the shards that answered) out
/// of `nr_shards`, `uptime` after the router started, at `now`.
fn status_of(
    reports: &[ShardReport],
    nr_shards: usize,
    uptime: Duration,
    now: SystemTime,
) -> Value {
    let mut totals = Map::new();
    for (name, read) in FIELDS {
        totals.insert((*name).into(), reports.iter().map(read).sum::<u64>().into());
    }
    let (mut types_in, mut types_out) = (TypeCounts::default(), TypeCounts::default());
    for r in reports {
        types_in.add_all(&r.stats.messages_in);
        types_out.add_all(&r.stats.messages_out);
    }
    totals.insert("messages_in_by_type".into(), by_type(&types_in));
    totals.insert("messages_out_by_type".into(), by_type(&types_out));
    let shards: Vec<Value> = (0..nr_shards)
        .map(|s| shard_status(s, reports.iter().find(|r| r.shard == s)))
        .collect();
    json!({
        "timestamp_ms": now.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64,
        "uptime_ms": uptime.as_millis() as u64,
        "shard_count": nr_shards,
        "shards_answering": reports.len(),
        "totals": totals,
        "shards": shards,
    })
}

/// One shard's entry: `{"shard", "up": false}` when it did not answer.
fn shard_status(shard: usize, report: Option<&ShardReport>) -> Value {
    let mut entry = Map::new();
    entry.insert("shard".into(), shard.into());
    entry.insert("up".into(), report.is_some().into());
    if let Some(r) = report {
        for (name, read) in FIELDS {
            entry.insert((*name).into(), read(r).into());
        }
    }
    Value::Object(entry)
}

/// `{"PUBLISH": 12, ...}`: the types counted at least once.
fn by_type(counts: &TypeCounts) -> Value {
    let seen = counts.by_type().filter(|(_, n)| *n > 0);
    Value::Object(seen.map(|(name, n)| (name.into(), n.into())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::report::Footprint;
    use crate::wire::message::code;

    fn report(shard: usize, sessions: usize, publishes: u64) -> ShardReport {
        let mut stats = crate::realm::Stats {
            calls: 2,
            ..Default::default()
        };
        for _ in 0..publishes {
            stats.messages_in.add(code::PUBLISH);
            stats.messages_out.add(code::PUBLISHED);
        }
        stats.messages_out.add(code::EVENT);
        ShardReport {
            shard,
            stats,
            footprint: Footprint {
                sessions,
                ..Footprint::default()
            },
            realms: Vec::new(),
        }
    }

    #[test]
    fn status_sums_the_shards_that_answered_and_names_the_others() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let s = status_of(
            &[report(0, 2, 3), report(2, 5, 1)],
            3,
            Duration::from_millis(4500),
            now,
        );
        assert_eq!(s["timestamp_ms"], 1_700_000_000_123u64);
        assert_eq!(s["uptime_ms"], 4500);
        assert_eq!(
            (s["shard_count"].clone(), s["shards_answering"].clone()),
            (3.into(), 2.into())
        );
        let t = &s["totals"];
        assert_eq!(t["sessions"], 7);
        assert_eq!(t["messages_in"], 4);
        assert_eq!(t["messages_out"], 6);
        assert_eq!(t["calls"], 4);
        assert_eq!(t["protocol_violations"], 0);
        assert_eq!(t["messages_in_by_type"], json!({"PUBLISH": 4}));
        assert_eq!(
            t["messages_out_by_type"],
            json!({"PUBLISHED": 4, "EVENT": 2})
        );
        assert_eq!(s["shards"][0]["sessions"], 2);
        assert_eq!(s["shards"][1], json!({"shard": 1, "up": false}));
        assert_eq!(s["shards"][2]["messages_out"], 2);
        assert_eq!(s["shards"][2]["up"], true);
    }

    #[test]
    fn the_page_is_self_contained_and_polls_the_json() {
        assert!(PAGE.starts_with("<!doctype html>"));
        assert!(PAGE.contains("/status.json"));
        for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!PAGE.contains(external), "{external} in the page");
        }
    }
}
