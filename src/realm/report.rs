//! What a shard reports about itself when asked (a metrics scrape or a
//! health check): its counters (`Stats`) and how much routing state it
//! holds (`Footprint`), and its sessions and messages per realm
//! (`RealmUsage`). Plain data, so a report crosses the mesh in a
//! `ReportMsg` envelope; the shard that asked collects one per shard.

use super::cx::Stats;
use super::ids::ShardId;
use crate::wire::Text;

/// How much routing state a shard holds (for metrics, tests and diagnostics).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub sessions: usize,
    pub topics: usize,
    pub interest: usize,
    pub procedures: usize,
    pub home_subscriptions: usize,
    pub home_registrations: usize,
    pub invocations: usize,
    pub calls: usize,
    pub pending: usize,
    /// Topics with a retained event kept here.
    pub retained: usize,
    /// Bytes of retained events kept here.
    pub retained_bytes: usize,
    /// Bytes waiting in the sessions' outbound queues.
    pub queued_bytes: usize,
    /// The most bytes one session's queue has held above its watermark.
    pub queue_peak_bytes: usize,
}

/// The footprint of several shards is the sum of theirs.
impl std::iter::Sum for Footprint {
    fn sum<I: Iterator<Item = Footprint>>(iter: I) -> Footprint {
        iter.fold(Footprint::default(), |a, f| Footprint {
            sessions: a.sessions + f.sessions,
            topics: a.topics + f.topics,
            interest: a.interest + f.interest,
            procedures: a.procedures + f.procedures,
            home_subscriptions: a.home_subscriptions + f.home_subscriptions,
            home_registrations: a.home_registrations + f.home_registrations,
            invocations: a.invocations + f.invocations,
            calls: a.calls + f.calls,
            retained: a.retained + f.retained,
            retained_bytes: a.retained_bytes + f.retained_bytes,
            pending: a.pending + f.pending,
            queued_bytes: a.queued_bytes + f.queued_bytes,
            queue_peak_bytes: a.queue_peak_bytes.max(f.queue_peak_bytes),
        })
    }
}

/// One realm's numbers on one shard, or those of the realms counted
/// together as `other` (`realm: None`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RealmUsage {
    pub realm: Option<Text>,
    /// Client sessions open.
    pub sessions: u64,
    /// Messages of its client sessions handed to its roles.
    pub messages_in: u64,
}

/// One shard's counters and footprint at the moment it was asked.
#[derive(Debug, Clone)]
pub struct ShardReport {
    pub shard: ShardId,
    pub stats: Stats,
    pub footprint: Footprint,
    /// Per labelled realm, then one entry for the others (`realm: None`).
    pub realms: Vec<RealmUsage>,
}

/// Envelopes about reports, handled by the shard itself (not a role).
#[derive(Debug)]
pub enum ReportMsg {
    /// Send this shard's report to `from`, for its collection `op`.
    Ask { from: ShardId, op: u64 },
    /// A shard's answer to `Ask`.
    Answer { op: u64, report: Box<ShardReport> },
}
