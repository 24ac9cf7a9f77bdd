//! Routing state across shards, in process (the mesh pumped by hand): a
//! session that leaves takes every subscription, interest entry,
//! registration replica, home entry and invocation with it, on every shard.
#![allow(clippy::unwrap_used)]

use std::rc::Rc;
use switchyard::session::outbound::{Outbound, SlowConsumer};
use switchyard::session::SessionEnd;
use switchyard::shard::pump;
use switchyard::shard::{Footprint, Settings, Shard};
use switchyard::wire::{Dict, Message, Payload, RequestId, Serializer, SessionId, Text};

fn shards(n: usize) -> Vec<Shard> {
    (0..n)
        .map(|i| Shard::new(i, n, Settings::default()))
        .collect()
}

fn join(shard: &mut Shard) -> SessionId {
    let q = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
    let details = Dict::new().with("roles", Dict::new().with("caller", Dict::new()));
    shard
        .open_session(
            Text::from("realm1"),
            &details,
            Serializer::Json,
            q,
            usize::MAX,
        )
        .unwrap()
        .session
}

fn send(all: &mut [Shard], shard: usize, sid: SessionId, msg: Message) {
    all[shard].handle_message(sid, msg).unwrap();
    pump(all);
}

fn subscribe(topic: &str) -> Message {
    Message::Subscribe {
        request: RequestId(1),
        options: Dict::new(),
        topic: Text::from(topic),
    }
}

fn register(procedure: &str) -> Message {
    Message::Register {
        request: RequestId(2),
        options: Dict::new(),
        procedure: Text::from(procedure),
    }
}

fn call(procedure: &str) -> Message {
    Message::Call {
        request: RequestId(3),
        options: Dict::new(),
        procedure: Text::from(procedure),
        payload: Payload::empty(),
    }
}

fn total(all: &[Shard]) -> Footprint {
    all.iter().map(Shard::footprint).sum()
}

#[test]
fn a_leaving_session_leaves_no_routing_state_on_any_shard() {
    let mut all = shards(3);
    let callee = join(&mut all[2]);
    let caller = join(&mut all[0]);
    send(&mut all, 2, callee, subscribe("com.a"));
    send(&mut all, 2, callee, subscribe("com.b"));
    send(&mut all, 2, callee, register("com.proc"));
    send(&mut all, 0, caller, subscribe("com.a"));
    send(&mut all, 0, caller, call("com.proc"));
    let busy = total(&all);
    assert_eq!(busy.sessions, 2);
    assert_eq!(busy.topics, 3, "com.a on shards 0 and 2, com.b on shard 2");
    assert_eq!(
        busy.procedures, 3,
        "a replica of the registration on every shard"
    );
    assert_eq!(busy.home_registrations, 1);
    assert_eq!(busy.invocations, 1, "the call is in flight to the callee");
    assert!(busy.interest >= 2);
    assert_eq!(busy.pending, 0, "every SUBSCRIBE and REGISTER completed");

    all[2].close_session(callee, SessionEnd::TransportClosed);
    pump(&mut all);
    let after_callee = total(&all);
    assert_eq!(after_callee.procedures, 0);
    assert_eq!(after_callee.home_registrations, 0);
    assert_eq!(
        after_callee.invocations, 0,
        "the in-flight call was canceled"
    );
    assert_eq!(after_callee.topics, 1, "only the caller's com.a remains");

    all[0].close_session(caller, SessionEnd::TransportClosed);
    pump(&mut all);
    assert_eq!(total(&all), Footprint::default());
}

#[test]
fn a_leaving_caller_releases_its_invocations_on_the_callee_shard() {
    let mut all = shards(2);
    let callee = join(&mut all[1]);
    let caller = join(&mut all[0]);
    send(&mut all, 1, callee, register("com.proc"));
    send(&mut all, 0, caller, call("com.proc"));
    assert_eq!(all[1].footprint().invocations, 1);
    all[0].close_session(caller, SessionEnd::TransportClosed);
    pump(&mut all);
    assert_eq!(all[1].footprint().invocations, 0);
    // A late YIELD for the forgotten invocation is dropped silently.
    let late = Message::Yield {
        request: RequestId(1),
        options: Dict::new(),
        payload: Payload::empty(),
    };
    assert!(all[1].handle_message(callee, late).is_ok());
}
