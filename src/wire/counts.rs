//! Messages counted per type: a fixed array indexed by the type code, so
//! counting one message is an index and an add (no hashing, no
//! allocation). `TypeCounts` is the plain form a shard bumps for the
//! messages it handles; `TypeCells` the shared-within-one-thread form the
//! connection writers of a shard bump for the frames they send (they
//! only see encoded bytes: `count_frame` peeks the type code).

use super::codec::{peek_type, Serializer};
use super::message::{code, type_name};
use std::cell::Cell;

/// Slots: one per code up to YIELD (70), one for EVENT_RECEIVED (337) and
/// slot 0 for frames of no type (no message has code 0).
pub const SLOTS: usize = 72;

/// Every message type of the spec, in code order.
pub const TYPES: [u64; 25] = {
    use code::*;
    [
        HELLO,
        WELCOME,
        ABORT,
        CHALLENGE,
        AUTHENTICATE,
        GOODBYE,
        ERROR,
        PUBLISH,
        PUBLISHED,
        SUBSCRIBE,
        SUBSCRIBED,
        UNSUBSCRIBE,
        UNSUBSCRIBED,
        EVENT,
        CALL,
        CANCEL,
        RESULT,
        REGISTER,
        REGISTERED,
        UNREGISTER,
        UNREGISTERED,
        INVOCATION,
        INTERRUPT,
        YIELD,
        EVENT_RECEIVED,
    ]
};

/// The types a client sends the router (spec-digest 1.2, "C→R" and "both").
pub const FROM_CLIENT: &[u64] = {
    use code::*;
    &[
        HELLO,
        ABORT,
        AUTHENTICATE,
        GOODBYE,
        ERROR,
        PUBLISH,
        SUBSCRIBE,
        UNSUBSCRIBE,
        CALL,
        CANCEL,
        REGISTER,
        UNREGISTER,
        YIELD,
        EVENT_RECEIVED,
    ]
};

/// The types the router sends a client ("R→C" and "both").
pub const TO_CLIENT: &[u64] = {
    use code::*;
    &[
        WELCOME,
        ABORT,
        CHALLENGE,
        GOODBYE,
        ERROR,
        PUBLISHED,
        SUBSCRIBED,
        UNSUBSCRIBED,
        EVENT,
        RESULT,
        REGISTERED,
        UNREGISTERED,
        INVOCATION,
        INTERRUPT,
    ]
};

/// The slot of type `code`.
#[inline]
const fn slot(code: u64) -> usize {
    if code <= code::YIELD {
        code as usize
    } else if code == code::EVENT_RECEIVED {
        SLOTS - 1
    } else {
        0
    }
}

/// Messages per type.
#[derive(Clone, PartialEq, Eq)]
pub struct TypeCounts([u64; SLOTS]);

impl Default for TypeCounts {
    fn default() -> Self {
        TypeCounts([0; SLOTS])
    }
}

/// Only the types seen, by name.
impl std::fmt::Debug for TypeCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.by_type().filter(|(_, n)| *n > 0))
            .finish()
    }
}

impl TypeCounts {
    /// Counts one message of type `code`.
    #[inline]
    pub fn add(&mut self, code: u64) {
        self.0[slot(code)] += 1;
    }

    /// The messages of type `code` counted.
    pub fn get(&self, code: u64) -> u64 {
        self.0[slot(code)]
    }

    /// Every message counted (those of no known type included).
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// (spec name, count) of every type, in code order.
    pub fn by_type(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        TYPES.iter().map(|&c| (type_name(c), self.get(c)))
    }

    /// Adds `other`'s counts to these.
    pub fn add_all(&mut self, other: &TypeCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}

/// Messages per type, counted through a shared reference (by the tasks of
/// one thread).
pub struct TypeCells([Cell<u64>; SLOTS]);

impl Default for TypeCells {
    fn default() -> Self {
        TypeCells(std::array::from_fn(|_| Cell::new(0)))
    }
}

impl TypeCells {
    /// Counts one message of type `code`.
    #[inline]
    pub fn add(&self, code: u64) {
        let cell = &self.0[slot(code)];
        cell.set(cell.get() + 1);
    }

    /// Counts the encoded message `frame` of serializer `ser` by its type.
    #[inline]
    pub fn count_frame(&self, ser: Serializer, frame: &[u8]) {
        self.add(peek_type(ser, frame).unwrap_or(0));
    }

    /// The counts now.
    pub fn snapshot(&self) -> TypeCounts {
        TypeCounts(std::array::from_fn(|i| self.0[i].get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::Message;
    use crate::wire::{encode_to_bytes, Dict, PublicationId, SubscriptionId, Text};

    #[test]
    fn every_type_has_a_slot_of_its_own() {
        let mut slots: Vec<usize> = TYPES.iter().map(|&c| slot(c)).collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), TYPES.len());
        assert!(slots.iter().all(|&s| s > 0 && s < SLOTS));
        for dir in [FROM_CLIENT, TO_CLIENT] {
            assert!(dir.iter().all(|c| TYPES.contains(c)));
        }
        let both = TYPES
            .iter()
            .filter(|c| FROM_CLIENT.contains(c) || TO_CLIENT.contains(c));
        assert_eq!(
            both.count(),
            TYPES.len(),
            "every type flows one way or both"
        );
    }

    #[test]
    fn counts_add_up_by_type_and_in_total() {
        let mut a = TypeCounts::default();
        a.add(code::PUBLISH);
        a.add(code::PUBLISH);
        a.add(code::EVENT_RECEIVED);
        a.add(9999);
        assert_eq!(a.get(code::PUBLISH), 2);
        assert_eq!(a.get(code::EVENT_RECEIVED), 1);
        assert_eq!(a.total(), 4, "a code of no type still counts in the total");
        let mut sum = TypeCounts::default();
        sum.add_all(&a);
        sum.add_all(&a);
        assert_eq!(sum.get(code::PUBLISH), 4);
        let seen: Vec<_> = sum.by_type().filter(|(_, n)| *n > 0).collect();
        assert_eq!(seen, [("PUBLISH", 4), ("EVENT_RECEIVED", 2)]);
        assert_eq!(format!("{a:?}"), r#"{"PUBLISH": 2, "EVENT_RECEIVED": 1}"#);
    }

    #[test]
    fn cells_count_encoded_frames_by_their_type() {
        let cells = TypeCells::default();
        let event = Message::Event {
            subscription: SubscriptionId(1),
            publication: PublicationId(2),
            details: Dict::new(),
            payload: Default::default(),
        };
        let goodbye = Message::Goodbye {
            details: Dict::new(),
            reason: Text::from("wamp.close.normal"),
        };
        for ser in Serializer::ALL {
            cells.count_frame(ser, &encode_to_bytes(ser, &event));
            cells.count_frame(ser, &encode_to_bytes(ser, &goodbye));
        }
        cells.count_frame(Serializer::Json, b"not a frame");
        let counts = cells.snapshot();
        assert_eq!(counts.get(code::EVENT), 3);
        assert_eq!(counts.get(code::GOODBYE), 3);
        assert_eq!(counts.total(), 7);
    }
}
