//! The payload the generator sends: `[source, seq, t_ns, <padding>]`, so a
//! receiver can tell who sent it, detect gaps, duplicates and reordering,
//! and measure end-to-end latency from the (intended) send time.

use bytes::Bytes;
use switchyard::wire::{Payload, Value};

/// One stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub source: u64,
    pub seq: u64,
    pub t_ns: u64,
}

/// The payload for `stamp` with `pad` bytes of binary padding.
pub fn payload(stamp: Stamp, pad: &Bytes) -> Payload {
    Payload::args(vec![
        Value::UInt(stamp.source),
        Value::UInt(stamp.seq),
        Value::UInt(stamp.t_ns),
        Value::Bytes(pad.clone()),
    ])
}

/// The stamp in a received payload.
pub fn read(payload: &Payload) -> Option<Stamp> {
    let arg = payload.args.as_ref()?.to_value().ok()?;
    let list = arg.as_list()?;
    Some(Stamp {
        source: list.first()?.as_u64()?,
        seq: list.get(1)?.as_u64()?,
        t_ns: list.get(2)?.as_u64()?,
    })
}

/// Tracks the sequence numbers seen from each source.
#[derive(Default)]
pub struct Sequences {
    last: std::collections::HashMap<u64, u64>,
}

/// How a received sequence number relates to the ones before it.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    Next,
    Duplicate,
    Late,
}

impl Sequences {
    /// Records `seq` from `source` (sequence numbers start at 1).
    pub fn see(&mut self, source: u64, seq: u64) -> Arrival {
        let last = self.last.entry(source).or_insert(0);
        if seq == *last {
            Arrival::Duplicate
        } else if seq < *last {
            Arrival::Late
        } else {
            *last = seq;
            Arrival::Next
        }
    }
}
