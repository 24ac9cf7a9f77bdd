//! Invariants with many sessions across 3 shards and mixed transports and
//! serializers: every subscriber gets every event exactly once and in
//! publish order per publisher; no call is lost or answered twice.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::HashMap;
use switchyard::wire::{Dict, Message, Payload, Serializer, Value};

const EVENTS: u64 = 300;

fn setups() -> Vec<Setup> {
    let kinds = [Kind::WebSocket, Kind::RawSocket];
    (0..6)
        .map(|i| Setup {
            shards: 3,
            kind: kinds[i % 2],
            serializer: Serializer::ALL[i % 3],
        })
        .collect()
}

fn seq_of(payload: &Payload) -> (u64, u64) {
    let (Some(Value::List(args)), _) = payload.to_values().unwrap() else {
        panic!("event without arguments")
    };
    (args[0].as_u64().unwrap(), args[1].as_u64().unwrap())
}

#[test]
fn every_subscriber_gets_every_event_once_and_in_order() {
    let router = Router::start(3);
    let mut subscribers: Vec<Client> = setups()
        .iter()
        .enumerate()
        .map(|(i, s)| router.join_on_in(*s, i % 3, "realm1"))
        .collect();
    for s in subscribers.iter_mut() {
        s.subscribe("com.invariant.events");
    }
    let mut publishers: Vec<Client> = (0..3)
        .map(|shard| router.join_on_in(setups()[shard], shard, "realm1"))
        .collect();
    for n in 0..EVENTS {
        for (p, publisher) in publishers.iter_mut().enumerate() {
            let payload = Payload::args(vec![Value::UInt(p as u64), Value::UInt(n)]);
            publisher.publish("com.invariant.events", Dict::new(), payload);
        }
    }
    for sub in subscribers.iter_mut() {
        let mut next: HashMap<u64, u64> = HashMap::new();
        for _ in 0..EVENTS * 3 {
            let Message::Event { payload, .. } = sub.recv() else {
                panic!("expected EVENT")
            };
            let (publisher, n) = seq_of(&payload);
            let expected = next.entry(publisher).or_insert(0);
            assert_eq!(
                n, *expected,
                "publisher {publisher}: event {n} out of order or duplicated"
            );
            *expected += 1;
        }
        assert!(next.values().all(|n| *n == EVENTS));
    }
    // Nothing more is queued for anyone: a fresh acknowledged event is the next message.
    publishers[0].publish_acked(
        "com.invariant.events",
        Payload::args(vec![Value::UInt(9), Value::UInt(0)]),
    );
    for sub in subscribers.iter_mut() {
        let Message::Event { payload, .. } = sub.recv() else {
            panic!("expected EVENT")
        };
        assert_eq!(seq_of(&payload), (9, 0));
    }
}

#[test]
fn no_call_is_lost_or_answered_twice() {
    const CALLS: u64 = 200;
    let router = Router::start(3);
    let mut callees: Vec<Client> = (0..3)
        .map(|shard| router.join_on_in(setups()[shard + 3], shard, "realm1"))
        .collect();
    for (i, c) in callees.iter_mut().enumerate() {
        c.register(&format!("com.invariant.proc{i}")).unwrap();
    }
    let callers: Vec<Client> = (0..3)
        .map(|shard| router.join_on_in(setups()[shard], shard, "realm1"))
        .collect();
    let callee_threads: Vec<_> = callees
        .into_iter()
        .map(|mut c| {
            std::thread::spawn(move || {
                for _ in 0..CALLS {
                    c.serve_one(|p| p.clone());
                }
                c
            })
        })
        .collect();
    let caller_threads: Vec<_> = callers
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            std::thread::spawn(move || {
                let mut sent = HashMap::new();
                for n in 0..CALLS {
                    let proc = format!("com.invariant.proc{}", (n as usize + i) % 3);
                    let request = c.call(
                        &proc,
                        Payload::args(vec![Value::UInt(i as u64), Value::UInt(n)]),
                    );
                    sent.insert(request, n);
                }
                for _ in 0..CALLS {
                    let Message::Result {
                        request, payload, ..
                    } = c.recv()
                    else {
                        panic!("expected RESULT")
                    };
                    let n = sent
                        .remove(&request)
                        .expect("a RESULT for a pending call, once");
                    assert_eq!(seq_of(&payload), (i as u64, n));
                }
                assert!(sent.is_empty());
            })
        })
        .collect();
    for t in caller_threads {
        t.join().unwrap();
    }
    for (i, t) in callee_threads.into_iter().enumerate() {
        let mut c = t.join().unwrap();
        // The callee got exactly CALLS invocations: a ping call is the next one.
        let mut caller = Client::join(&router.url(Kind::WebSocket), Serializer::Json, "realm1");
        let proc_name = format!("com.invariant.ping{i}");
        c.register(&proc_name).unwrap();
        let request = caller.call(&proc_name, Payload::empty());
        c.serve_one(|_| Payload::empty());
        assert!(matches!(caller.recv(), Message::Result { request: r, .. } if r == request));
        c.goodbye();
    }
}
