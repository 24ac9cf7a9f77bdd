//! Shard reports for metrics and health: a shard answers `ReportMsg::Ask`
//! with its counters and footprint, and keeps the collections it started
//! itself (`Scrapes`), each gathering one report per shard until the
//! runtime that waits on it closes it. A late answer for a closed
//! collection is dropped.

use super::{Shard, ShardReport};
use crate::realm::report::{RealmUsage, ReportMsg};
use crate::realm::Envelope;
use crate::session::notify::Notify;
use rustc_hash::FxHashMap;
use std::rc::Rc;

/// One collection of reports in progress.
struct Scrape {
    reports: Vec<ShardReport>,
    notify: Rc<Notify>,
}

/// The collections of reports a shard started, by operation number.
#[derive(Default)]
pub struct Scrapes {
    next: u64,
    open: FxHashMap<u64, Scrape>,
}

impl Scrapes {
    /// The reports collection `op` has so far (0 once closed).
    pub fn answered(&self, op: u64) -> usize {
        self.open.get(&op).map_or(0, |s| s.reports.len())
    }

    /// Ends collection `op`: the reports it got.
    pub fn close(&mut self, op: u64) -> Vec<ShardReport> {
        self.open.remove(&op).map(|s| s.reports).unwrap_or_default()
    }

    fn add(&mut self, op: u64, report: ShardReport) {
        if let Some(s) = self.open.get_mut(&op) {
            s.reports.push(report);
            s.notify.notify();
        }
    }
}

impl Shard {
    /// This shard's counters and footprint now.
    pub fn report(&self) -> ShardReport {
        let mut stats = self.stats.clone();
        stats.messages_out = self.sent.snapshot();
        ShardReport {
            shard: self.id,
            stats,
            footprint: self.footprint(),
            realms: self.realm_usage(),
        }
    }

    /// Sessions and messages of each labelled realm, then of the others together.
    fn realm_usage(&self) -> Vec<RealmUsage> {
        let mut other = RealmUsage::default();
        let mut out = Vec::new();
        for (name, realm) in &self.realms {
            if realm.labelled {
                out.push(RealmUsage {
                    realm: Some(name.clone()),
                    sessions: realm.sessions_open,
                    messages_in: realm.messages_in,
                });
            } else {
                other.sessions += realm.sessions_open;
                other.messages_in += realm.messages_in;
            }
        }
        out.push(other);
        out
    }

    /// Starts collecting every shard's report: this shard's is in at once,
    /// the others are asked over the mesh. Returns the collection's number
    /// and the flag raised at each answer.
    pub fn open_scrape(&mut self) -> (u64, Rc<Notify>) {
        let op = self.scrapes.next;
        self.scrapes.next += 1;
        let notify = Rc::new(Notify::default());
        let scrape = Scrape {
            reports: vec![self.report()],
            notify: notify.clone(),
        };
        self.scrapes.open.insert(op, scrape);
        for dest in (0..self.nr_shards).filter(|d| *d != self.id) {
            let ask = ReportMsg::Ask { from: self.id, op };
            self.outbox.push(dest, Envelope::Report(ask));
        }
        (op, notify)
    }

    /// Answers a request for this shard's report, or files an answer.
    pub(super) fn apply_report(&mut self, msg: ReportMsg) {
        match msg {
            ReportMsg::Ask { from, op } => {
                let report = Box::new(self.report());
                self.outbox
                    .push(from, Envelope::Report(ReportMsg::Answer { op, report }));
            }
            ReportMsg::Answer { op, report } => self.scrapes.add(op, *report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Settings;

    #[test]
    fn a_scrape_collects_one_report_per_shard_through_envelopes() {
        let mut shards: Vec<Shard> = (0..3)
            .map(|id| Shard::new(id, 3, Settings::default()))
            .collect();
        shards[2].stats.calls = 7;
        let (op, _) = shards[0].open_scrape();
        assert_eq!(shards[0].scrapes.answered(op), 1);
        crate::shard::pump(&mut shards);
        assert_eq!(shards[0].scrapes.answered(op), 3);
        let reports = shards[0].scrapes.close(op);
        let calls: Vec<u64> = reports.iter().map(|r| r.stats.calls).collect();
        assert_eq!(calls.iter().sum::<u64>(), 7);
        assert_eq!(shards[0].scrapes.answered(op), 0);
    }
}
