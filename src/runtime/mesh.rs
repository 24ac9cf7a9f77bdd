//! The mesh between shards: one bounded crossbeam channel per ordered pair
//! of shards carrying batches of envelopes, and a glommio shared channel of
//! capacity one per pair used only as a doorbell (it wakes the receiver only
//! when it sleeps; a full doorbell means a wake-up is already pending).
//!
//! Routing code pushes envelopes into the shard's `Outbox` synchronously;
//! the flusher task sends every destination's batch once the current task
//! yields, so all envelopes produced while handling one read batch travel
//! together. A full channel never blocks: the batch is kept and retried.
//! The shard's `Stats::mesh` counts, per destination, the envelopes and
//! batches sent and the sends that found the channel full.
//! The inbox applies at most `INBOX_TURN` batches, then yields to the
//! connection tasks.
//!
//! Flow control across shards (ARCHITECTURE.md section 8): when a batch
//! from shard A queued messages behind pressed valves here, the inbox tells
//! A (`Envelope::Pressure`), stops applying A's batches until those valves
//! release (declaring a stall past its deadline), then tells A they
//! drained; meanwhile A pauses the sessions that send here. A channel found
//! full, or an outbox backlog, presses A's own valve for this destination
//! until the backlog is sent.

use crate::realm::ids::ShardId;
use crate::realm::stats::MeshSent;
use crate::realm::Envelope;
use crate::session::notify::Notify;
use crate::session::pressure::{self, Pressure};
use crate::shard::Shard;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use glommio::channels::shared_channel::{
    ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Batches an inbox applies before it yields to other tasks.
const INBOX_TURN: usize = 64;

/// One shard's ends of the mesh before they are connected to its executor.
pub struct MeshEnds {
    pub senders: Vec<Option<Sender<Vec<Envelope>>>>,
    pub bells_out: Vec<Option<SharedSender<()>>>,
    /// Per source shard: its channel and doorbell.
    pub receivers: Vec<(ShardId, Receiver<Vec<Envelope>>, SharedReceiver<()>)>,
}

/// Creates the mesh for `n` shards, `capacity` batches per channel: one
/// `MeshEnds` per shard.
pub fn build(n: usize, capacity: usize) -> Vec<MeshEnds> {
    let mut ends: Vec<MeshEnds> = (0..n)
        .map(|_| MeshEnds {
            senders: (0..n).map(|_| None).collect(),
            bells_out: (0..n).map(|_| None).collect(),
            receivers: Vec::new(),
        })
        .collect();
    for from in 0..n {
        for to in (0..n).filter(|t| *t != from) {
            let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
            let (btx, brx) = glommio::channels::shared_channel::new_bounded(1);
            ends[from].senders[to] = Some(tx);
            ends[from].bells_out[to] = Some(btx);
            ends[to].receivers.push((from, rx, brx));
        }
    }
    ends
}

/// Starts the flusher and the inbox tasks of a shard on the current executor.
/// Every endpoint connects concurrently: a glommio shared channel connects
/// only once both of its ends do, on both shards.
pub async fn start(shard: Rc<RefCell<Shard>>, ends: MeshEnds, batch_max: usize) {
    for (from, rx, bell) in ends.receivers {
        let shard = shard.clone();
        glommio::spawn_local(async move {
            let bell = bell.connect().await;
            run_inbox(shard, from, rx, bell).await
        })
        .detach();
    }
    let connecting: Vec<_> = ends
        .bells_out
        .into_iter()
        .map(|b| b.map(|b| glommio::spawn_local(b.connect())))
        .collect();
    let mut bells = Vec::with_capacity(connecting.len());
    for task in connecting {
        bells.push(match task {
            Some(t) => Some(t.await),
            None => None,
        });
    }
    let notify = shard.borrow().outbox.notifier();
    let flusher = Flusher {
        shard,
        backlogged: vec![false; ends.senders.len()],
        senders: ends.senders,
        bells,
        batch_max: batch_max.max(1),
    };
    glommio::spawn_local(flusher.run(notify)).detach();
}

/// A shard's sending side of the mesh.
struct Flusher {
    shard: Rc<RefCell<Shard>>,
    senders: Vec<Option<Sender<Vec<Envelope>>>>,
    bells: Vec<Option<ConnectedSender<()>>>,
    batch_max: usize,
    /// Destinations whose channel was full (their valve is pressed).
    backlogged: Vec<bool>,
}

impl Flusher {
    /// Sends every pending batch once woken; retries batches that met a full channel.
    async fn run(mut self, notify: Rc<Notify>) {
        loop {
            notify.wait().await;
            let mut blocked = false;
            for dest in 0..self.senders.len() {
                let done = self.flush(dest);
                self.backlog(dest, !done);
                blocked |= !done;
            }
            if blocked {
                glommio::timer::sleep(Duration::from_micros(50)).await;
                notify.notify();
            }
        }
    }

    /// Presses the valve of `dest` while its channel is full.
    fn backlog(&mut self, dest: ShardId, full: bool) {
        if self.backlogged[dest] != full {
            self.backlogged[dest] = full;
            let shard = self.shard.borrow();
            let valve = shard.outbox.peer(dest);
            match full {
                true => valve.press(None),
                false => valve.release(),
            }
        }
    }

    /// Sends the queue for `dest` in batches of at most `batch_max`; false
    /// when the channel was full (the rest is kept, in order).
    fn flush(&self, dest: ShardId) -> bool {
        let Some(tx) = &self.senders[dest] else {
            return true;
        };
        let mut queue = self.shard.borrow_mut().outbox.take(dest);
        if queue.is_empty() {
            return true;
        }
        let mut count = MeshSent::default();
        let mut done = true;
        while !queue.is_empty() {
            let rest = if queue.len() > self.batch_max {
                queue.split_off(self.batch_max)
            } else {
                Vec::new()
            };
            let len = queue.len() as u64;
            match tx.try_send(queue) {
                Ok(()) => {
                    count.batches += 1;
                    count.envelopes += len;
                }
                Err(TrySendError::Full(mut batch)) => {
                    count.full += 1;
                    batch.extend(rest);
                    self.shard.borrow_mut().outbox.put_back(dest, batch);
                    done = false;
                    break;
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
            queue = rest;
        }
        let sent = count.batches > 0;
        if let Some(total) = self.shard.borrow_mut().stats.mesh.get_mut(dest) {
            total.envelopes += count.envelopes;
            total.batches += count.batches;
            total.full += count.full;
        }
        if sent {
            if let Some(Some(bell)) = self.bells.get(dest) {
                let _ = bell.try_send(());
            }
        }
        done
    }
}

/// Applies every batch from one other shard, each time its doorbell rings,
/// yielding to other tasks every `INBOX_TURN` batches.
async fn run_inbox(
    shard: Rc<RefCell<Shard>>,
    from: ShardId,
    rx: Receiver<Vec<Envelope>>,
    bell: ConnectedReceiver<()>,
) {
    let mut valves = Vec::new();
    while bell.recv().await.is_some() {
        drain(&shard, from, &rx, &mut valves).await;
    }
    drain(&shard, from, &rx, &mut valves).await;
}

/// Applies the batches waiting from shard `from`. After a batch that
/// queued messages behind pressed valves, the source is told to pause and
/// nothing more from it is applied until those valves release (a valve
/// past its stall deadline is declared stalled), so a slow queue here
/// passes its watermark by at most one batch, however far behind the
/// source's pause comes.
async fn drain(
    shard: &Rc<RefCell<Shard>>,
    from: ShardId,
    rx: &Receiver<Vec<Envelope>>,
    valves: &mut Vec<Rc<Pressure>>,
) {
    let mut applied = 0;
    while let Ok(batch) = rx.try_recv() {
        pressure::clear_met();
        shard.borrow_mut().apply_batch(batch);
        pressure::take_met(valves);
        applied += 1;
        if !valves.is_empty() {
            shard.borrow_mut().press_peer(from, true);
            pressure::wait_released(valves).await;
            shard.borrow_mut().press_peer(from, false);
        } else if applied % INBOX_TURN == 0 {
            futures_lite::future::yield_now().await;
        }
    }
}
