//! `Stats`: one shard's counters. Plain integers and fixed-size arrays
//! that only this shard touches (no atomics, no locks, nothing allocated
//! per message), plus the sampled latency histograms. A report clones
//! them at scrape time.

use super::latency::Latency;
use crate::auth::principal::{method_index, METHODS};
use crate::session::{SessionEnd, ViolationKind};
use crate::wire::counts::TypeCounts;

/// Auto-created realms that get their own `realm` label in the metrics,
/// per shard, in order of creation; later ones are counted as `other`.
pub const REALM_LABELS: usize = 32;

/// Per-shard counters (plain integers: only this shard touches them).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub sessions_opened: u64,
    /// Sessions ended, per reason (`SessionEnd::ALL` order).
    pub sessions_closed: [u64; SessionEnd::ALL.len()],
    pub events_delivered: u64,
    pub events_dropped: u64,
    /// Deliveries a publish's receiver lists turned away.
    pub events_filtered: u64,
    /// Retained events evicted to stay within the realm's bounds.
    pub retained_evicted: u64,
    pub slow_consumer_disconnects: u64,
    /// Times a session stopped being read behind a queue above its watermark.
    pub flow_pauses: u64,
    /// Queues that stayed above their watermark for the stall timeout.
    pub flow_stalls: u64,
    /// Connections closed on accept: their address was at its limit.
    pub connections_refused: u64,
    /// CALLs routed to a callee (meta procedures not included).
    pub calls: u64,
    /// Routed calls of this shard's callers answered with a final RESULT.
    pub calls_answered: u64,
    /// Routed calls answered with an ERROR (the callee's, or the router's
    /// when the callee left, every callee was unavailable or the answer
    /// did not fit the caller).
    pub calls_errored: u64,
    /// Routed calls ended by their timeout.
    pub calls_timed_out: u64,
    /// Routed calls ended by the caller's CANCEL.
    pub calls_canceled: u64,
    /// CALLs no registration could take (`no_such_procedure`, or no callee
    /// with the features the call needs).
    pub calls_unroutable: u64,
    /// Sessions and handshakes aborted for a protocol violation.
    pub protocol_violations: u64,
    /// The same, per kind (`ViolationKind::ALL` order).
    pub violations: [u64; ViolationKind::ALL.len()],
    /// Requests the session's role did not allow.
    pub requests_denied: u64,
    /// Requests over a per-session limit.
    pub requests_limited: u64,
    /// Sessions opened, per authentication method (`auth::principal::METHODS` order).
    pub logins: [u64; METHODS.len()],
    /// Logins refused for a wrong credential, per method (same order).
    pub login_failures: [u64; METHODS.len()],
    /// RESULTs and INVOCATIONs not sent: too large for the receiver's transport.
    pub oversized_replies: u64,
    /// Messages handled, per type: those of established sessions and of
    /// handshakes (decoded ones only).
    pub messages_in: TypeCounts,
    /// Messages handed to the connection writers, per type. The writers
    /// count into the shard's `TypeCells`; a report copies them here.
    pub messages_out: TypeCounts,
    /// What went over the mesh, per destination shard (indexed by shard;
    /// sized by `Stats::for_shards`).
    pub mesh: Vec<MeshSent>,
    /// Sampled round trips of routed calls: CALL on the caller's shard to
    /// the final RESULT queued for the caller.
    pub call_latency: Latency,
    /// Sampled local fan-outs: PUBLISH on the publisher's shard to its
    /// last local delivery.
    pub publish_latency: Latency,
    /// Auto-created realms given their own label so far (at most `REALM_LABELS`).
    pub auto_realm_labels: usize,
}

/// What a shard sent one other shard over the mesh.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MeshSent {
    /// Envelopes sent.
    pub envelopes: u64,
    /// Batches (channel sends) they went in.
    pub batches: u64,
    /// Sends that found the channel full (the batch was kept and retried).
    pub full: u64,
}

impl Stats {
    /// Zero counters for a shard of a router with `nr_shards` shards.
    pub fn for_shards(nr_shards: usize) -> Stats {
        Stats {
            mesh: vec![MeshSent::default(); nr_shards],
            ..Stats::default()
        }
    }

    /// Counts a session opened with `method`.
    pub fn count_login(&mut self, method: &str) {
        if let Some(i) = method_index(method) {
            self.logins[i] += 1;
        }
    }

    /// Counts a login refused for a wrong credential of `method`.
    pub fn count_login_failure(&mut self, method: &str) {
        if let Some(i) = method_index(method) {
            self.login_failures[i] += 1;
        }
    }

    /// Counts a session or handshake aborted for a violation of `kind`.
    pub fn count_violation(&mut self, kind: ViolationKind) {
        self.protocol_violations += 1;
        self.violations[kind as usize] += 1;
    }

    /// The violations of `kind` counted.
    pub fn violations_of(&self, kind: ViolationKind) -> u64 {
        self.violations[kind as usize]
    }

    /// Counts a session that ended for `why`.
    pub fn count_closed(&mut self, why: SessionEnd) {
        self.sessions_closed[why as usize] += 1;
    }

    /// The sessions counted as ended for `why`.
    pub fn closed_for(&self, why: SessionEnd) -> u64 {
        self.sessions_closed[why as usize]
    }

    /// Whether the next auto-created realm gets its own label (and counts it).
    pub fn label_auto_realm(&mut self) -> bool {
        let labelled = self.auto_realm_labels < REALM_LABELS;
        self.auto_realm_labels += usize::from(labelled);
        labelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_its_own_slot() {
        for (i, why) in SessionEnd::ALL.iter().enumerate() {
            assert_eq!(*why as usize, i, "{}", why.name());
        }
        for (i, kind) in ViolationKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{}", kind.name());
        }
        let mut s = Stats::for_shards(3);
        s.count_violation(ViolationKind::Sequence);
        s.count_closed(SessionEnd::Killed);
        assert_eq!(s.protocol_violations, 1);
        assert_eq!(s.violations_of(ViolationKind::Sequence), 1);
        assert_eq!(s.closed_for(SessionEnd::Killed), 1);
        assert_eq!(s.mesh.len(), 3);
    }

    #[test]
    fn only_the_first_auto_created_realms_get_a_label() {
        let mut s = Stats::default();
        let labelled = (0..REALM_LABELS + 5)
            .filter(|_| s.label_auto_realm())
            .count();
        assert_eq!(labelled, REALM_LABELS);
    }
}
