//! Traffic between sessions of different transports and shards, for the
//! transport tests: acked events and pipelined calls each way, checked for
//! order and payload.

use super::*;
use switchyard::wire::{Message, Payload, SubscriptionId};

pub const KINDS: [Kind; 2] = [Kind::WebSocket, Kind::RawSocket];
/// Messages each way in `exchange`.
pub const N: u64 = 5;

pub fn expect_event(c: &mut Client, sub: SubscriptionId, want: &Payload) {
    match c.recv() {
        Message::Event {
            subscription,
            payload,
            ..
        } => {
            assert_eq!(subscription, sub);
            assert_same_payload(&payload, want);
        }
        other => panic!("expected EVENT, got {other:?}"),
    }
}

pub fn expect_result(c: &mut Client, request: switchyard::wire::RequestId, want: &Payload) {
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } => {
            assert_eq!(r, request);
            assert_same_payload(&payload, want);
        }
        other => panic!("expected RESULT, got {other:?}"),
    }
}

/// `a` and each of `others` (sessions of one realm) do pub/sub and RPC
/// both ways: `N` acknowledged events from `a` reach every other in order
/// and `N` from each other reach `a` in order; `N` pipelined calls of each
/// other reach `a` as callee in order and their results come back in
/// order; and the same with `a` calling each other. Topics and procedures
/// are named after `tag`.
pub fn exchange(tag: &str, a: &mut Client, others: &mut [&mut Client]) {
    let (down, up, at_a) = (
        format!("com.{tag}.down"),
        format!("com.{tag}.up"),
        format!("com.{tag}.a"),
    );
    let subs: Vec<_> = others.iter_mut().map(|c| c.subscribe(&down)).collect();
    for n in 0..N {
        a.publish_acked(&down, sample_payload(n));
    }
    for (c, sub) in others.iter_mut().zip(&subs) {
        for n in 0..N {
            expect_event(c, *sub, &sample_payload(n));
        }
    }
    let sub_up = a.subscribe(&up);
    for c in others.iter_mut() {
        for n in 0..N {
            c.publish_acked(&up, sample_payload(n));
        }
        for n in 0..N {
            expect_event(a, sub_up, &sample_payload(n));
        }
    }
    a.register(&at_a).unwrap();
    for c in others.iter_mut() {
        let requests: Vec<_> = (0..N).map(|n| c.call(&at_a, sample_payload(n))).collect();
        for n in 0..N {
            let got = a.serve_one(|p| p.clone());
            assert_same_payload(&got, &sample_payload(n));
        }
        for (n, r) in (0..N).zip(requests) {
            expect_result(c, r, &sample_payload(n));
        }
    }
    for (i, c) in others.iter_mut().enumerate() {
        let procedure = format!("com.{tag}.other{i}");
        c.register(&procedure).unwrap();
        let requests: Vec<_> = (0..N).map(|n| a.call(&procedure, arg(n))).collect();
        for n in 0..N {
            let got = c.serve_one(|p| arg(first_arg(p) * 10));
            assert_eq!(first_arg(&got), n);
        }
        for (n, r) in (0..N).zip(requests) {
            expect_result(a, r, &arg(n * 10));
        }
    }
}
