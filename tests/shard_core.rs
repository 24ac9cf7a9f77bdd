//! The multi-shard protocol, in process and deterministic: shards are plain
//! values, the mesh is pumped by hand (all at once, or one round at a time
//! to stop an operation half way), and each session's outbound queue is
//! read directly. No sockets, no executor, no timing.
#![allow(clippy::unwrap_used)]

use futures_lite::future::{block_on, poll_once};
use std::rc::Rc;
use switchyard::session::outbound::{OutFrame, Outbound, SlowConsumer};
use switchyard::session::SessionEnd;
use switchyard::shard::{pump, Footprint, Settings, Shard};
use switchyard::wire::message::code;
use switchyard::wire::{decode, Dict, Message, Payload, RequestId, Serializer, SessionId, Text};

fn shards(n: usize) -> Vec<Shard> {
    (0..n)
        .map(|i| Shard::new(i, n, Settings::default()))
        .collect()
}

/// A client session on one shard, with its outbound queue.
struct Peer {
    shard: usize,
    id: SessionId,
    queue: Rc<Outbound>,
}

fn join(all: &mut [Shard], shard: usize) -> Peer {
    let queue = Rc::new(Outbound::new(1 << 20, SlowConsumer::Disconnect));
    let details = Dict::new().with("roles", Dict::new().with("caller", Dict::new()));
    let opened = all[shard]
        .open_session(
            Text::from("realm1"),
            &details,
            Serializer::Json,
            queue.clone(),
            usize::MAX,
        )
        .unwrap();
    Peer {
        shard,
        id: opened.session,
        queue,
    }
}

impl Peer {
    /// Hands `msg` to the peer's shard without moving any envelope.
    fn send(&self, all: &mut [Shard], msg: Message) {
        all[self.shard].handle_message(self.id, msg).unwrap();
    }

    /// Every message queued for the peer so far.
    fn received(&self) -> Vec<Message> {
        let mut frames = Vec::new();
        block_on(poll_once(self.queue.next_batch(&mut frames, usize::MAX)));
        frames
            .into_iter()
            .map(|f| match f {
                OutFrame::Message(b) => decode(Serializer::Json, b).unwrap(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }
}

/// Moves one round of envelopes: each shard's current batch for each other.
fn step(all: &mut [Shard]) {
    let n = all.len();
    let batches: Vec<_> = (0..n)
        .flat_map(|from| (0..n).map(move |to| (from, to)))
        .map(|(from, to)| (to, all[from].outbox.take(to)))
        .collect();
    for (to, batch) in batches.into_iter().filter(|(_, b)| !b.is_empty()) {
        all[to].apply_batch(batch);
    }
}

fn total(all: &[Shard]) -> Footprint {
    all.iter().map(Shard::footprint).sum()
}

fn register(request: u64, procedure: &str) -> Message {
    Message::Register {
        request: RequestId(request),
        options: Dict::new(),
        procedure: Text::from(procedure),
    }
}

fn subscribe(request: u64, topic: &str) -> Message {
    Message::Subscribe {
        request: RequestId(request),
        options: Dict::new(),
        topic: Text::from(topic),
    }
}

fn publish(request: u64, topic: &str) -> Message {
    Message::Publish {
        request: RequestId(request),
        options: Dict::new(),
        topic: Text::from(topic),
        payload: Payload::empty(),
    }
}

#[test]
fn two_shards_registering_one_procedure_in_the_same_turn_get_one_registered_and_one_refusal() {
    for n in 2..=3 {
        for procedure in ["com.p.a", "com.p.b", "com.p.c", "com.p.d"] {
            let mut all = shards(n);
            let (a, b) = (join(&mut all, 0), join(&mut all, n - 1));
            a.send(&mut all, register(1, procedure));
            b.send(&mut all, register(1, procedure));
            pump(&mut all);
            let replies: Vec<Message> = [a.received(), b.received()].concat();
            let registered = replies
                .iter()
                .filter(|m| matches!(m, Message::Registered { .. }))
                .count();
            let refused = replies.iter().filter(|m| {
                matches!(m, Message::Error { request_type: code::REGISTER, error, .. }
                    if error == "wamp.error.procedure_already_exists")
            });
            assert_eq!((registered, refused.count()), (1, 1), "{replies:?}");
            let f = total(&all);
            assert_eq!((f.procedures, f.home_registrations), (n, 1));
            assert_eq!(f.pending, 0);
        }
    }
}

#[test]
fn an_unsubscribe_racing_a_publish_from_another_shard_never_delivers_after_unsubscribed() {
    for publish_first in [false, true] {
        let mut all = shards(2);
        let (publisher, subscriber) = (join(&mut all, 0), join(&mut all, 1));
        subscriber.send(&mut all, subscribe(1, "com.t"));
        pump(&mut all);
        let Some(Message::Subscribed { subscription, .. }) = subscriber.received().pop() else {
            panic!("no SUBSCRIBED");
        };
        publisher.send(&mut all, publish(1, "com.t"));
        if publish_first {
            step(&mut all);
        }
        let unsubscribe = Message::Unsubscribe {
            request: RequestId(2),
            options: Dict::new(),
            subscription,
        };
        subscriber.send(&mut all, unsubscribe);
        pump(&mut all);
        let got = subscriber.received();
        let events = got
            .iter()
            .filter(|m| matches!(m, Message::Event { .. }))
            .count();
        assert_eq!(events, usize::from(publish_first), "{got:?}");
        assert!(
            matches!(got.last(), Some(Message::Unsubscribed { .. })),
            "{got:?}"
        );
        assert_eq!(
            total(&all),
            Footprint {
                sessions: 2,
                ..Footprint::default()
            }
        );
    }
}

#[test]
fn a_session_closing_while_its_subscribe_waits_for_other_shards_leaves_nothing_behind() {
    for rounds in 0..4 {
        for topic in ["com.x.1", "com.x.2", "com.x.3"] {
            let mut all = shards(3);
            let s = join(&mut all, 1);
            s.send(&mut all, subscribe(1, topic));
            for _ in 0..rounds {
                step(&mut all);
            }
            all[1].close_session(s.id, SessionEnd::TransportClosed);
            pump(&mut all);
            assert_eq!(
                total(&all),
                Footprint::default(),
                "{rounds} rounds, {topic}"
            );
        }
    }
}

#[test]
fn a_callee_closing_while_its_register_waits_for_replicas_leaves_nothing_behind() {
    for rounds in 0..4 {
        let mut all = shards(3);
        let callee = join(&mut all, 2);
        callee.send(&mut all, register(1, "com.proc"));
        for _ in 0..rounds {
            step(&mut all);
        }
        all[2].close_session(callee.id, SessionEnd::TransportClosed);
        pump(&mut all);
        assert_eq!(total(&all), Footprint::default(), "{rounds} rounds");
    }
}
