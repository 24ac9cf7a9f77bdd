//! Fan-out benchmark, in process: one PUBLISH delivered to N subscribers
//! spread over M shards (the mesh pumped by hand), counting the bytes the
//! router produces. The baseline encodes the EVENT once per subscriber, as a
//! router without encode-once sharing would; the ratio is what sharing buys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::rc::Rc;
use std::time::Duration;
use switchyard::session::outbound::{Outbound, SlowConsumer};
use switchyard::shard::pump;
use switchyard::shard::{Settings, Shard};
use switchyard::wire::{
    encode, Dict, Message, Payload, PublicationId, RequestId, Serializer, SessionId,
    SubscriptionId, Text, Value,
};

struct World {
    shards: Vec<Shard>,
    queues: Vec<Rc<Outbound>>,
    subscribers: Vec<SessionId>,
    publisher: SessionId,
}

fn join(shard: &mut Shard, ser: Serializer) -> (SessionId, Rc<Outbound>) {
    let q = Rc::new(Outbound::new(1 << 30, SlowConsumer::Disconnect));
    let details = Dict::new().with("roles", Dict::new().with("subscriber", Dict::new()));
    let opened = shard
        .open_session(Text::from("realm1"), &details, ser, q.clone(), usize::MAX)
        .unwrap();
    (opened.session, q)
}

fn world(subscribers: usize, nr_shards: usize) -> World {
    let mut shards: Vec<Shard> = (0..nr_shards)
        .map(|i| Shard::new(i, nr_shards, Settings::default()))
        .collect();
    let mut queues = Vec::new();
    let mut sessions = Vec::new();
    for n in 0..subscribers {
        let shard = &mut shards[n % nr_shards];
        let (sid, q) = join(shard, Serializer::MsgPack);
        sessions.push(sid);
        let sub = Message::Subscribe {
            request: RequestId(1),
            options: Dict::new(),
            topic: Text::from("com.fanout"),
        };
        shard.handle_message(sid, sub).unwrap();
        pump(&mut shards);
        queues.push(q);
    }
    let (publisher, _) = join(&mut shards[0], Serializer::MsgPack);
    drain(&queues);
    World {
        shards,
        queues,
        subscribers: sessions,
        publisher,
    }
}

/// Empties every outbound queue, returning the bytes it held.
fn drain(queues: &[Rc<Outbound>]) -> usize {
    let mut bytes = 0;
    let mut out = Vec::new();
    for q in queues {
        if q.queued_bytes() > 0 {
            bytes += q.queued_bytes();
            futures_lite::future::block_on(q.next_batch(&mut out, usize::MAX));
            out.clear();
        }
    }
    bytes
}

fn publish(w: &mut World, payload: &Payload) -> usize {
    publish_with(w, Dict::new(), payload)
}

fn publish_with(w: &mut World, options: Dict, payload: &Payload) -> usize {
    send(w, options, payload);
    drain(&w.queues)
}

/// Publishes and routes (the mesh pumped), leaving the EVENTs queued.
fn send(w: &mut World, options: Dict, payload: &Payload) {
    let msg = Message::Publish {
        request: RequestId(1),
        options,
        topic: Text::from_static("com.fanout"),
        payload: payload.clone(),
    };
    w.shards[0].handle_message(w.publisher, msg).unwrap();
    pump(&mut w.shards);
}

/// The baseline: one encode per subscriber.
fn naive(subscribers: usize, payload: &Payload) -> usize {
    let mut bytes = 0;
    for _ in 0..subscribers {
        let msg = Message::Event {
            subscription: SubscriptionId(1),
            publication: PublicationId(7),
            details: Dict::new(),
            payload: payload.clone(),
        };
        let mut out = BytesMut::with_capacity(64);
        encode(Serializer::MsgPack, &msg, &mut out);
        bytes += std::hint::black_box(out.freeze()).len();
    }
    bytes
}

fn fanout(c: &mut Criterion) {
    let raw = {
        let mut out = BytesMut::new();
        switchyard::wire::codec::encode_value(
            Serializer::MsgPack,
            &Value::List(vec![Value::Bytes(Bytes::from(vec![1u8; 32]))]),
            &mut out,
        );
        out.freeze()
    };
    let payload = Payload {
        args: Some(switchyard::wire::Elem::Raw {
            ser: Serializer::MsgPack,
            bytes: raw,
        }),
        kwargs: None,
    };
    let mut g = c.benchmark_group("fanout");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    for (subscribers, shards) in [(100, 1), (1000, 1), (1000, 2), (1000, 4)] {
        let id = format!("{subscribers}subs/{shards}shards");
        g.throughput(Throughput::Elements(subscribers as u64));
        let mut w = world(subscribers, shards);
        let bytes = publish(&mut w, &payload);
        assert!(bytes > 0, "the subscribers got the event");
        eprintln!(
            "fanout {id}: {bytes} bytes produced per publish ({} per delivery)",
            bytes / subscribers
        );
        g.bench_function(BenchmarkId::new("switchyard", &id), |b| {
            b.iter(|| publish(&mut w, &payload))
        });
        g.bench_function(BenchmarkId::new("baseline_encode_each", &id), |b| {
            b.iter(|| naive(subscribers, &payload))
        });
    }
    g.finish();
}

/// A publish whose `eligible` list names 10 of 1000 subscribers, against a
/// publish to a topic with 10 subscribers.
fn eligible(c: &mut Criterion) {
    let payload = Payload::args(vec![Value::Bytes(Bytes::from(vec![1u8; 32]))]);
    let mut g = c.benchmark_group("eligible");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20)
        .throughput(Throughput::Elements(10));
    for shards in [1, 2] {
        let mut ten = world(10, shards);
        assert!(
            publish(&mut ten, &payload) > 0,
            "the subscribers got the event"
        );
        g.bench_function(BenchmarkId::new("10subs", shards), |b| {
            b.iter(|| publish(&mut ten, &payload))
        });
        let mut many = world(1000, shards);
        let picked: Vec<usize> = (0..1000).step_by(100).collect();
        let ids = picked
            .iter()
            .map(|i| Value::UInt(many.subscribers[*i].0))
            .collect();
        let queues: Vec<_> = picked.iter().map(|i| many.queues[*i].clone()).collect();
        let options = Dict::new().with("eligible", Value::List(ids));
        send(&mut many, options.clone(), &payload);
        assert!(drain(&queues) > 0, "the eligible subscribers got the event");
        assert_eq!(drain(&many.queues), 0, "nobody else did");
        // Only the eligible queues are drained: the others stay empty.
        g.bench_function(BenchmarkId::new("eligible10of1000", shards), |b| {
            b.iter(|| {
                send(&mut many, options.clone(), &payload);
                drain(&queues)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, fanout, eligible);
criterion_main!(benches);
