//! The memory bounds of event retention, in process (the mesh pumped by
//! hand): retaining far more distinct topics than a realm allows keeps the
//! router within its topic and byte bounds, evicting the oldest topics and
//! counting what it evicted.
#![allow(clippy::unwrap_used)]

use std::rc::Rc;
use switchyard::session::outbound::{Outbound, SlowConsumer};
use switchyard::shard::{pump, RealmSettings, Settings, Shard};
use switchyard::wire::{
    Dict, Elem, Message, Payload, RequestId, Serializer, SessionId, Text, Value,
};

fn shards(n: usize, max_topics: usize, max_bytes: usize) -> Vec<Shard> {
    let mut realm = RealmSettings::open("realm1");
    realm.pubsub.retention.max_topics = max_topics;
    realm.pubsub.retention.max_bytes = max_bytes;
    let settings = Settings {
        realms: vec![realm],
        ..Settings::default()
    };
    (0..n).map(|i| Shard::new(i, n, settings.clone())).collect()
}

fn join(shard: &mut Shard) -> SessionId {
    let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
    let details = Dict::new().with("roles", Dict::new().with("publisher", Dict::new()));
    let opened = shard.open_session(Text::from("realm1"), &details, Serializer::MsgPack, q, 1000);
    opened.unwrap().session
}

/// Publishes a retained event to each of `topics` distinct topics.
fn retain_many(all: &mut [Shard], topics: usize, payload: &Payload) {
    let publisher = join(&mut all[0]);
    for n in 0..topics {
        let msg = Message::Publish {
            request: RequestId(n as u64 + 1),
            options: Dict::new().with("retain", true),
            topic: Text::from(format!("com.retained.t{n}")),
            payload: payload.clone(),
        };
        all[0].handle_message(publisher, msg).unwrap();
        if n % 1000 == 0 {
            pump(all);
        }
    }
    pump(all);
}

fn evicted(all: &[Shard]) -> u64 {
    all.iter().map(|s| s.stats.retained_evicted).sum()
}

#[test]
fn retaining_100000_topics_keeps_within_the_topic_bound() {
    let mut all = shards(2, 1000, 64 << 20);
    retain_many(&mut all, 100_000, &Payload::args(vec![Value::UInt(1)]));
    let held: usize = all.iter().map(|s| s.footprint().retained).sum();
    assert!(held <= 1000, "{held} retained topics held, limit 1000");
    assert!(held >= 990, "the bound is used, not undercut: {held}");
    assert_eq!(evicted(&all), 100_000 - held as u64);
}

#[test]
fn retained_bytes_stay_within_the_byte_bound() {
    let limit = 256 << 10;
    let mut all = shards(3, 1_000_000, limit);
    let mut raw = bytes::BytesMut::new();
    let args = Value::List(vec![Value::str("x".repeat(1000))]);
    switchyard::wire::codec::encode_value(Serializer::MsgPack, &args, &mut raw);
    let payload = Payload {
        args: Some(Elem::Raw {
            ser: Serializer::MsgPack,
            bytes: raw.freeze(),
        }),
        kwargs: None,
    };
    retain_many(&mut all, 20_000, &payload);
    let bytes: usize = all.iter().map(|s| s.footprint().retained_bytes).sum();
    let held: usize = all.iter().map(|s| s.footprint().retained).sum();
    assert!(bytes <= limit, "{bytes} retained bytes held, limit {limit}");
    assert!(bytes > limit / 2, "{bytes}");
    assert!(
        held < 300,
        "each event counts its 1000-byte payload: {held} held"
    );
    assert_eq!(evicted(&all), 20_000 - held as u64);
}
