//! What a role (broker, dealer, home) works through instead of the whole
//! shard: `Cx`, the narrow context of one call (the outbox to other shards,
//! ID allocation, counters, the shard's sessions), and `Outbox`, the
//! envelopes produced on this shard, batched per destination until the
//! runtime's flusher sends them (or the shard applies its own).

use super::envelope::Envelope;
use super::ids::{IdAlloc, ShardId};
pub use super::stats::Stats;
use super::timers::CallTimers;
use crate::routing::{home_shard, MatchPolicy, UriCheck};
use crate::session::notify::Notify;
use crate::session::outbound::{FrameKind, Pushed};
use crate::session::pressure::{self, Pressure};
use crate::session::Sessions;
use crate::wire::{encode, Dict, ErrorUri, Message, Payload, RequestId, SessionId, Text};
use bytes::BytesMut;
use std::rc::Rc;

/// Envelopes produced on this shard, per destination, waiting to be sent,
/// and each destination's valve: pressed while that shard says its queues
/// are full, or while its mesh channel is, so an envelope pushed meanwhile
/// pauses whoever fed it.
pub struct Outbox {
    me: ShardId,
    out: Vec<Vec<Envelope>>,
    notify: Rc<Notify>,
    peers: Vec<Rc<Pressure>>,
    /// Destinations with more than `BACKLOG` envelopes waiting (their
    /// valve is pressed until the flusher takes them).
    backlogged: Vec<bool>,
}

/// Envelopes waiting for one destination above which the sessions that
/// add more pause until the flusher has sent them (a session whose reads
/// never block would otherwise grow the batch without bound).
pub const BACKLOG: usize = 256;

impl Outbox {
    /// An empty outbox for shard `me` of `nr_shards`.
    pub fn new(me: ShardId, nr_shards: usize) -> Self {
        Outbox {
            me,
            out: (0..nr_shards).map(|_| Vec::new()).collect(),
            notify: Rc::new(Notify::default()),
            peers: (0..nr_shards).map(|_| Pressure::new()).collect(),
            backlogged: vec![false; nr_shards],
        }
    }

    /// The valve of destination `dest`.
    pub fn peer(&self, dest: ShardId) -> &Rc<Pressure> {
        &self.peers[dest]
    }

    /// The flag raised when envelopes for another shard are queued.
    pub fn notifier(&self) -> Rc<Notify> {
        self.notify.clone()
    }

    /// Queues `env` for `dest`.
    pub fn push(&mut self, dest: ShardId, env: Envelope) {
        self.out[dest].push(env);
        if dest != self.me {
            if self.out[dest].len() > BACKLOG && !self.backlogged[dest] {
                self.backlogged[dest] = true;
                self.peers[dest].press(None);
            }
            if self.peers[dest].is_pressed() {
                pressure::met(&self.peers[dest]);
            }
            self.notify.notify();
        }
    }

    /// Takes the batch for `dest` (empty when there is none).
    pub fn take(&mut self, dest: ShardId) -> Vec<Envelope> {
        if std::mem::take(&mut self.backlogged[dest]) {
            self.peers[dest].release();
        }
        std::mem::take(&mut self.out[dest])
    }

    /// Puts back a batch that could not be sent, ahead of newer envelopes.
    pub fn put_back(&mut self, dest: ShardId, mut batch: Vec<Envelope>) {
        batch.append(&mut self.out[dest]);
        self.out[dest] = batch;
    }
}

/// A message too large for its receiver's transport (it was not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub len: usize,
    pub max: usize,
}

impl TooLarge {
    /// Says what did not fit whom, e.g. "RESULT of 2000 bytes exceeds the caller's limit of 1024".
    pub fn describe(&self, what: &str, whom: &str) -> String {
        format!(
            "{what} of {} bytes exceeds the {whom}'s limit of {}",
            self.len, self.max
        )
    }
}

/// The context of one role call.
pub struct Cx<'a> {
    pub me: ShardId,
    pub nr_shards: usize,
    pub uri_check: UriCheck,
    pub outbox: &'a mut Outbox,
    pub ids: &'a mut IdAlloc,
    pub stats: &'a mut Stats,
    pub sessions: &'a mut Sessions,
    pub timers: &'a mut CallTimers,
    /// Sessions to close once the current entry point is done (killed
    /// through the meta API); the shard closes them.
    pub closing: &'a mut Vec<SessionId>,
}

impl Cx<'_> {
    /// Queues `env` for shard `dest` (this one included: the shard applies
    /// its own envelopes before the current entry point returns).
    pub fn send(&mut self, dest: ShardId, env: Envelope) {
        self.outbox.push(dest, env);
    }

    /// Sends `make()` to every shard but this one.
    pub fn broadcast(&mut self, make: impl Fn() -> Envelope) {
        for dest in (0..self.nr_shards).filter(|d| *d != self.me) {
            self.outbox.push(dest, make());
        }
    }

    /// The home shard of (realm, uri, match).
    pub fn home_of(&self, realm: &str, uri: &str, policy: MatchPolicy) -> ShardId {
        home_shard(realm, uri, policy, self.nr_shards)
    }

    /// Encodes `msg` for local session `sid` and queues it as a reply.
    pub fn reply(&mut self, sid: SessionId, msg: &Message) {
        let _ = self.reply_within(sid, msg, false);
    }

    /// `reply`, unless the encoded message exceeds the largest message the
    /// session's transport accepts (then nothing is sent).
    pub fn reply_limited(&mut self, sid: SessionId, msg: &Message) -> Result<(), TooLarge> {
        self.reply_within(sid, msg, true)
    }

    fn reply_within(
        &mut self,
        sid: SessionId,
        msg: &Message,
        limited: bool,
    ) -> Result<(), TooLarge> {
        let Some(s) = self.sessions.get(&sid) else {
            return Ok(());
        };
        let mut out = BytesMut::with_capacity(32);
        encode(s.serializer, msg, &mut out);
        let max = if limited {
            s.outbound.max_message()
        } else {
            usize::MAX
        };
        if out.len() > max {
            self.stats.oversized_replies += 1;
            let len = out.len();
            return Err(TooLarge { len, max });
        }
        if s.outbound.push(out.freeze(), FrameKind::Reply) == Pushed::Overflow {
            self.stats.slow_consumer_disconnects += 1;
        }
        Ok(())
    }

    /// Sends `[ERROR, request_type, request, {}, error]` to `sid`.
    pub fn reply_error(
        &mut self,
        sid: SessionId,
        request_type: u64,
        request: RequestId,
        error: ErrorUri,
    ) {
        let msg = Message::Error {
            request_type,
            request,
            details: Dict::new(),
            error: Text::from(error),
            payload: Payload::empty(),
        };
        self.reply(sid, &msg);
    }
}
