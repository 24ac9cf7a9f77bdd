//! `Pending<W>`: a role's operations that wait for other shards (an ID from
//! a home shard, or an ack from every other shard) before a reply goes out.
//! What each operation does when its answer arrives is the role's own
//! `W` enum, matched exhaustively there.

use super::ids::OpId;
use std::collections::HashMap;

/// A table of waiting operations.
pub struct Pending<W> {
    ops: HashMap<OpId, W>,
    next: OpId,
}

impl<W> Default for Pending<W> {
    fn default() -> Self {
        Pending {
            ops: HashMap::new(),
            next: 0,
        }
    }
}

impl<W> Pending<W> {
    /// Records `w` and returns its token (never 0).
    pub fn add(&mut self, w: W) -> OpId {
        self.next += 1;
        self.ops.insert(self.next, w);
        self.next
    }

    /// Takes the operation `op`.
    pub fn take(&mut self, op: OpId) -> Option<W> {
        self.ops.remove(&op)
    }

    /// The operation `op`, still waiting.
    pub fn get_mut(&mut self, op: OpId) -> Option<&mut W> {
        self.ops.get_mut(&op)
    }

    /// Number of operations waiting.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}
