//! Black-box pub/sub tests over real sockets, for 1-3 shards x
//! WebSocket/RawSocket x every serializer, with subscribers on every shard.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer};

fn expect_event(c: &mut Client, want_sub: switchyard::wire::SubscriptionId, want: &Payload) {
    match c.recv() {
        Message::Event {
            subscription,
            payload,
            ..
        } => {
            assert_eq!(subscription, want_sub);
            assert_same_payload(&payload, want);
        }
        other => panic!("expected EVENT, got {other:?}"),
    }
}

#[test]
fn publish_reaches_subscribers_on_every_shard() {
    for_each_setup(|router, setup| {
        let mut subs: Vec<Client> = (0..router.shards)
            .map(|s| router.join_on(setup, s))
            .collect();
        let ids: Vec<_> = subs
            .iter_mut()
            .map(|c| c.subscribe("com.example.topic"))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "one subscription ID router-wide"
        );
        for shard in 0..router.shards {
            let mut publisher = router.join_on(setup, shard);
            let payload = sample_payload(shard as u64);
            publisher.publish_acked("com.example.topic", payload.clone());
            for s in subs.iter_mut() {
                expect_event(s, ids[0], &payload);
            }
        }
    });
}

#[test]
fn a_second_subscribe_returns_the_existing_id() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        let a = c.subscribe("com.twice");
        let b = c.subscribe("com.twice");
        assert_eq!(a, b);
        let mut p = router.join(setup);
        p.publish_acked("com.twice", Payload::empty());
        assert!(matches!(c.recv(), Message::Event { .. }));
        p.publish_acked("com.twice", Payload::args(vec![2u64.into()]));
        let Message::Event { payload, .. } = c.recv() else {
            panic!("expected the second event")
        };
        assert_same_payload(&payload, &Payload::args(vec![2u64.into()]));
    });
}

#[test]
fn the_publisher_is_excluded_unless_it_asks_otherwise() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        let sub = c.subscribe("com.self");
        c.publish_acked("com.self", Payload::args(vec![1u64.into()]));
        let opts = Dict::new()
            .with("acknowledge", true)
            .with("exclude_me", false);
        let request = c.publish("com.self", opts, Payload::args(vec![2u64.into()]));
        // Without exclude_me=false the first publication produced no event: the
        // next messages are the second event and its PUBLISHED, in some order.
        let mut got_event = false;
        for _ in 0..2 {
            match c.recv() {
                Message::Event {
                    subscription,
                    payload,
                    ..
                } => {
                    assert_eq!(subscription, sub);
                    assert_same_payload(&payload, &Payload::args(vec![2u64.into()]));
                    got_event = true;
                }
                Message::Published { request: r, .. } => assert_eq!(r, request),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(got_event);
    });
}

#[test]
fn invalid_and_reserved_topics_are_refused_when_acknowledged() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        for topic in ["com..bad", "wamp.session.on_join", "com.with space"] {
            let request = c.publish(
                topic,
                Dict::new().with("acknowledge", true),
                Payload::empty(),
            );
            match c.recv() {
                Message::Error {
                    request_type: code::PUBLISH,
                    request: r,
                    error,
                    ..
                } => {
                    assert_eq!(r, request);
                    assert_eq!(error, "wamp.error.invalid_uri");
                }
                other => panic!("expected ERROR for {topic}, got {other:?}"),
            }
        }
        let request = c.request();
        c.send(&Message::Subscribe {
            request,
            options: Dict::new(),
            topic: "com..bad".into(),
        });
        assert!(
            matches!(c.recv(), Message::Error { request_type: code::SUBSCRIBE, error, .. } if error == "wamp.error.invalid_uri")
        );
    });
}

#[test]
fn unsubscribe_stops_events_and_unknown_ids_are_errors() {
    for_each_setup(|router, setup| {
        let mut sub = router.join_on(setup, router.shards - 1);
        let mut other = router.join_on(setup, 0);
        let id = sub.subscribe("com.unsub");
        let other_id = other.subscribe("com.unsub");
        let request = sub.request();
        sub.send(&Message::Unsubscribe {
            request,
            subscription: id,
            options: Dict::new(),
        });
        assert!(matches!(sub.recv(), Message::Unsubscribed { request: r, .. } if r == request));
        let mut p = router.join(setup);
        p.publish_acked("com.unsub", Payload::args(vec![1u64.into()]));
        expect_event(&mut other, other_id, &Payload::args(vec![1u64.into()]));
        // `sub` got nothing: its next message is the answer to this request.
        let request = sub.request();
        sub.send(&Message::Unsubscribe {
            request,
            subscription: id,
            options: Dict::new(),
        });
        match sub.recv() {
            Message::Error {
                request_type: code::UNSUBSCRIBE,
                request: r,
                error,
                ..
            } => {
                assert_eq!(r, request);
                assert_eq!(error, "wamp.error.no_such_subscription");
            }
            other => panic!("expected ERROR no_such_subscription, got {other:?}"),
        }
    });
}

#[test]
fn a_topic_works_again_after_its_only_subscriber_left() {
    for_each_setup(|router, setup| {
        let mut gone = router.join_on(setup, router.shards - 1);
        gone.subscribe("com.cleanup");
        gone.goodbye();
        drop(gone);
        let mut p = router.join_on(setup, 0);
        p.publish_acked("com.cleanup", Payload::empty());
        let mut fresh = router.join_on(setup, router.shards - 1);
        let id = fresh.subscribe("com.cleanup");
        p.publish_acked("com.cleanup", Payload::args(vec![9u64.into()]));
        expect_event(&mut fresh, id, &Payload::args(vec![9u64.into()]));
    });
}

#[test]
fn events_cross_serializers_with_binary_payloads() {
    for_each_setup(|router, setup| {
        for sub_ser in Serializer::ALL {
            let sub_setup = Setup {
                serializer: sub_ser,
                ..setup
            };
            let mut sub = router.join_on_in(sub_setup, router.shards - 1, &setup.realm());
            let id = sub.subscribe("com.mixed");
            let mut p = router.join_on(setup, 0);
            let payload = sample_payload(7);
            p.publish_acked("com.mixed", payload.clone());
            expect_event(&mut sub, id, &payload);
            sub.goodbye();
        }
    });
}
