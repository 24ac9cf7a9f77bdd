//! `Pending`: operations of this shard that wait for other shards (an ID from
//! a home shard, or acks from every other shard) before a reply goes out.

use super::envelope::OpId;
use crate::routing::MatchPolicy;
use crate::wire::{RegistrationId, RequestId, SessionId, Text};
use std::collections::HashMap;

/// What an operation does when its answer (or its last ack) arrives.
#[derive(Debug)]
pub enum Waiting {
    /// The home shard's subscription ID for a local (topic, policy).
    SubscriptionId {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
    },
    /// Acks of `InterestAdd` from every other shard.
    Interest {
        realm: Text,
        topic: Text,
        policy: MatchPolicy,
        remaining: usize,
    },
    /// The home shard's verdict on a REGISTER.
    RegistrationId {
        session: SessionId,
        request: RequestId,
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
    },
    /// Acks of `RegistrationAdd` from every other shard.
    RegistrationAdd {
        session: SessionId,
        request: RequestId,
        realm: Text,
        procedure: Text,
        policy: MatchPolicy,
        registration: RegistrationId,
        remaining: usize,
    },
}

/// The table of pending operations.
#[derive(Default)]
pub struct Pending {
    ops: HashMap<OpId, Waiting>,
    next: OpId,
}

impl Pending {
    /// Records `w` and returns its token (never 0: 0 means "no ack wanted").
    pub fn add(&mut self, w: Waiting) -> OpId {
        self.next += 1;
        self.ops.insert(self.next, w);
        self.next
    }

    /// Takes the operation `op`.
    pub fn take(&mut self, op: OpId) -> Option<Waiting> {
        self.ops.remove(&op)
    }

    /// Number of operations waiting.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Counts one ack for `op`; returns the operation when it was the last.
    pub fn ack(&mut self, op: OpId) -> Option<Waiting> {
        let done = match self.ops.get_mut(&op)? {
            Waiting::Interest { remaining, .. } | Waiting::RegistrationAdd { remaining, .. } => {
                *remaining = remaining.saturating_sub(1);
                *remaining == 0
            }
            _ => false,
        };
        if done {
            self.ops.remove(&op)
        } else {
            None
        }
    }
}
