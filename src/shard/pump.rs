//! `pump`: runs shards in one thread (tests, benches) by moving every queued
//! envelope to its destination shard until none are left, in the order the
//! runtime's mesh would deliver them (FIFO per shard pair).

use super::Shard;

/// Moves every queued envelope to its destination shard until none are left.
pub fn pump(shards: &mut [Shard]) {
    loop {
        let mut moved = false;
        for from in 0..shards.len() {
            for to in 0..shards.len() {
                let batch = shards[from].outbox.take(to);
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
