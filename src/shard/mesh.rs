//! The mesh between shards: one bounded crossbeam channel per ordered pair
//! of shards carrying batches of envelopes, and a glommio shared channel of
//! capacity one per pair used only as a doorbell (it wakes the receiver only
//! when it sleeps; a full doorbell means a wake-up is already pending).
//!
//! Routing code pushes envelopes into `MeshOut` synchronously; the flusher
//! task sends every destination's batch once the current task yields, so all
//! envelopes produced while handling one read batch travel together. A full
//! channel never blocks: the batch is kept and retried.

use super::envelope::Envelope;
use super::ids::ShardId;
use super::Shard;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use glommio::channels::shared_channel::{
    ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// A single-threaded wake-up flag with one waiter.
#[derive(Default)]
pub struct Notify {
    flag: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Notify {
    /// Sets the flag and wakes the waiter.
    pub fn notify(&self) {
        self.flag.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Waits until the flag is set, and clears it.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.flag.replace(false) {
                Poll::Ready(())
            } else {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// Envelopes produced on this shard, per destination, waiting to be flushed.
pub struct MeshOut {
    me: ShardId,
    out: Vec<Vec<Envelope>>,
    notify: Rc<Notify>,
}

impl MeshOut {
    /// An empty outbox for shard `me` of `nr_shards`.
    pub fn new(me: ShardId, nr_shards: usize) -> Self {
        MeshOut {
            me,
            out: (0..nr_shards).map(|_| Vec::new()).collect(),
            notify: Rc::new(Notify::default()),
        }
    }

    /// The flag the flusher waits on.
    pub fn notifier(&self) -> Rc<Notify> {
        self.notify.clone()
    }

    /// Queues `env` for `dest`.
    pub fn push(&mut self, dest: ShardId, env: Envelope) {
        self.out[dest].push(env);
        if dest != self.me {
            self.notify.notify();
        }
    }

    /// Takes the envelopes this shard sent itself.
    pub fn take_local(&mut self) -> Option<Vec<Envelope>> {
        let me = self.me;
        (!self.out[me].is_empty()).then(|| std::mem::take(&mut self.out[me]))
    }

    /// Takes the batch for `dest` (the flusher's job; public for in-process benches).
    pub fn take(&mut self, dest: ShardId) -> Vec<Envelope> {
        std::mem::take(&mut self.out[dest])
    }

    /// Puts back a batch that could not be sent, ahead of newer envelopes.
    fn put_back(&mut self, dest: ShardId, mut batch: Vec<Envelope>) {
        batch.append(&mut self.out[dest]);
        self.out[dest] = batch;
    }
}

/// Runs shards in one thread (tests, benches): moves every queued envelope
/// to its destination shard until none are left.
pub fn pump(shards: &mut [Shard]) {
    loop {
        let mut moved = false;
        for from in 0..shards.len() {
            for to in 0..shards.len() {
                let batch = shards[from].mesh.take(to);
                if !batch.is_empty() {
                    moved = true;
                    shards[to].apply_batch(batch);
                }
            }
        }
        if !moved {
            return;
        }
    }
}

/// One shard's ends of the mesh before they are connected to its executor.
pub struct MeshEnds {
    pub senders: Vec<Option<Sender<Vec<Envelope>>>>,
    pub bells_out: Vec<Option<SharedSender<()>>>,
    pub receivers: Vec<(Receiver<Vec<Envelope>>, SharedReceiver<()>)>,
}

/// Creates the mesh for `n` shards: one `MeshEnds` per shard.
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
            ends[to].receivers.push((rx, brx));
        }
    }
    ends
}

/// Starts the flusher and the inbox tasks of a shard on the current executor.
/// Every endpoint connects concurrently: a glommio shared channel connects
/// only once both of its ends do, on both shards.
pub async fn start(shard: Rc<RefCell<Shard>>, ends: MeshEnds) {
    for (rx, bell) in ends.receivers {
        let shard = shard.clone();
        glommio::spawn_local(async move {
            let bell = bell.connect().await;
            run_inbox(shard, rx, bell).await
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
    let notify = shard.borrow().mesh.notifier();
    glommio::spawn_local(run_flusher(shard, ends.senders, bells, notify)).detach();
}

/// Sends every pending batch once woken; retries batches that met a full channel.
async fn run_flusher(
    shard: Rc<RefCell<Shard>>,
    senders: Vec<Option<Sender<Vec<Envelope>>>>,
    bells: Vec<Option<ConnectedSender<()>>>,
    notify: Rc<Notify>,
) {
    loop {
        notify.wait().await;
        let mut blocked = false;
        for (dest, tx) in senders.iter().enumerate() {
            let Some(tx) = tx else { continue };
            let batch = shard.borrow_mut().mesh.take(dest);
            if batch.is_empty() {
                continue;
            }
            match tx.try_send(batch) {
                Ok(()) => {}
                Err(TrySendError::Full(batch)) => {
                    shard.borrow_mut().mesh.put_back(dest, batch);
                    blocked = true;
                }
                Err(TrySendError::Disconnected(_)) => continue,
            }
            if let Some(Some(bell)) = bells.get(dest) {
                let _ = bell.try_send(());
            }
        }
        if blocked {
            glommio::timer::sleep(Duration::from_micros(50)).await;
            notify.notify();
        }
    }
}

/// Applies every batch from one other shard, each time its doorbell rings.
async fn run_inbox(
    shard: Rc<RefCell<Shard>>,
    rx: Receiver<Vec<Envelope>>,
    bell: ConnectedReceiver<()>,
) {
    while bell.recv().await.is_some() {
        while let Ok(batch) = rx.try_recv() {
            shard.borrow_mut().apply_batch(batch);
        }
    }
    while let Ok(batch) = rx.try_recv() {
        shard.borrow_mut().apply_batch(batch);
    }
}
