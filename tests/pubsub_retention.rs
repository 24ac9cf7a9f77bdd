//! Advanced Pub/Sub: event retention (`retain` / `get_retained`), with pattern
//! subscriptions and the authid/authrole filters. Over real sockets, for 1-3
//! shards x WebSocket/RawSocket x every serializer, with publishers and
//! subscribers on chosen shards.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.
//!
//! Beyond the spec, these tests hold the router to ARCHITECTURE's "linearizable
//! where clients can see it": a retained event is stored before the PUBLISHED
//! of its (acknowledged) publication: a SUBSCRIBE sent after that answer gets
//! it.

#![allow(clippy::unwrap_used)]

mod common;
mod pubsub_support;

use common::*;
use pubsub_support::*;
use switchyard::wire::{Dict, Payload, SubscriptionId};

// ---------------------------------------------------------------------------
// Event retention

/// Asserts `e` is the retained event `payload` of subscription `sub`.
fn assert_retained(e: &Event, sub: SubscriptionId, payload: &Payload) {
    assert_eq!(e.subscription, sub);
    assert!(e.retained(), "Details.retained missing: {:?}", e.details);
    assert_same_payload(&e.payload, payload);
}

#[test]
fn a_retained_event_reaches_later_subscribers_wherever_the_topic_lives() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        for (p, s, h) in (0..n * n * n).map(|i| (i % n, i / n % n, i / (n * n))) {
            let topic = topic_homed(&realm, &format!("com.adv.retain.p{p}s{s}h{h}"), h, n);
            // A subscriber at publication time gets it as a plain event.
            let mut early = router.join_on(setup, s);
            let early_sub = early.subscribe(&topic);
            let mut publisher = router.join_on(setup, p);
            let payload = sample_payload((p * 100 + s * 10 + h) as u64);
            publish_retained(&mut publisher, &topic, Dict::new(), payload.clone());
            let e = next_event(&mut early);
            assert_eq!(e.subscription, early_sub);
            assert_same_payload(&e.payload, &payload);
            assert!(!e.retained(), "a live event is not marked retained");
            // A later subscriber, on another serializer, gets it after SUBSCRIBED.
            let mut late = router.join_on_in(other_serializer(setup, p + s + h), s, &realm);
            let sub = subscribe_with(&mut late, &topic, get_retained());
            assert_eq!(sub, early_sub);
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
            let got = events_around(&mut late, 1, SENTINEL);
            assert_retained(&got[0], sub, &payload);
            // Nothing more for either: not a second copy, nor a replay to `early`.
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
            assert_eq!(next_event(&mut late).n(), SENTINEL + 1);
            let early_got: Vec<u64> = events_before(&mut early, SENTINEL + 1)
                .iter()
                .map(Event::n)
                .collect();
            assert_eq!(early_got, vec![SENTINEL], "(p, s, h) = ({p}, {s}, {h})");
        }
    });
}

#[test]
fn a_newer_retained_event_replaces_the_older_and_plain_ones_do_not() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        for s in 0..n {
            let topic = format!("com.adv.retain.newer.s{s}");
            let mut first = router.join_on(setup, 0);
            publish_retained(&mut first, &topic, Dict::new(), arg(1));
            let mut second = router.join_on(setup, n - 1);
            publish_retained(&mut second, &topic, Dict::new(), arg(2));
            publish_acked_with(&mut first, &topic, Dict::new(), arg(3));
            let mut sub = router.join_on_in(other_serializer(setup, s), s, &realm);
            let id = subscribe_with(&mut sub, &topic, get_retained());
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
            let got = events_around(&mut sub, 1, SENTINEL);
            assert_retained(&got[0], id, &arg(2));
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
            assert_eq!(next_event(&mut sub).n(), SENTINEL + 1);
        }
    });
}

#[test]
fn without_get_retained_a_subscriber_gets_no_retained_event() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let topic = "com.adv.retain.quiet";
        let mut publisher = router.join_on(setup, 0);
        publish_retained(&mut publisher, topic, Dict::new(), arg(1));
        for s in 0..n {
            for options in [Dict::new(), Dict::new().with("get_retained", false)] {
                let mut sub = router.join_on(setup, s);
                subscribe_with(&mut sub, topic, options);
                sentinel_from_home(router, setup, &realm, topic, SENTINEL);
                assert_eq!(next_event(&mut sub).n(), SENTINEL);
            }
            // get_retained on a topic that has none retained gives nothing either.
            let mut sub = router.join_on(setup, s);
            subscribe_with(&mut sub, "com.adv.retain.none", get_retained());
            sentinel_from_home(router, setup, &realm, "com.adv.retain.none", SENTINEL);
            assert_eq!(next_event(&mut sub).n(), SENTINEL);
        }
    });
}

#[test]
fn pattern_subscriptions_get_every_matching_retained_event_with_its_topic() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let retained = [
            ("com.adv.retp.a", 0, sample_payload(1)),
            ("com.adv.retp.b.x", n - 1, sample_payload(2)),
            ("com.adv.retq.c.x", 1 % n, sample_payload(3)),
        ];
        for (topic, shard, payload) in &retained {
            let mut publisher = router.join_on(setup, *shard);
            publish_retained(&mut publisher, topic, Dict::new(), payload.clone());
        }
        let cases = [
            (
                "prefix",
                "com.adv.retp.",
                &[0, 1][..],
                "com.adv.retp.sentinel",
            ),
            (
                "wildcard",
                "com.adv.retp..x",
                &[1],
                "com.adv.retp.sentinel.x",
            ),
            ("wildcard", "com.adv..c.x", &[2], "com.adv.sentinel.c.x"),
        ];
        for s in 0..n {
            for (policy, pattern, want, sentinel_topic) in cases {
                let mut sub = router.join_on_in(other_serializer(setup, s), s, &realm);
                let options = get_retained().with("match", policy);
                let id = subscribe_with(&mut sub, pattern, options);
                let mut p = router.join_on(setup, (s + 1) % n);
                publish_acked_with(&mut p, sentinel_topic, Dict::new(), arg(SENTINEL));
                let mut got = events_around(&mut sub, want.len(), SENTINEL);
                got.sort_by_key(Event::topic);
                let topics: Vec<_> = got.iter().map(|e| e.topic().unwrap()).collect();
                let expected: Vec<_> = want.iter().map(|&i| retained[i].0.to_string()).collect();
                assert_eq!(topics, expected, "{policy} {pattern}");
                for (e, &i) in got.iter().zip(want) {
                    assert_retained(e, id, &retained[i].2);
                }
                publish_acked_with(&mut p, sentinel_topic, Dict::new(), arg(SENTINEL + 1));
                assert_eq!(next_event(&mut sub).n(), SENTINEL + 1, "{policy} {pattern}");
            }
        }
    });
}

#[test]
fn retained_events_reapply_the_authid_and_authrole_filters_to_the_new_subscriber() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let mut publisher = router.join_on(setup, 1 % n);
        type Filter = fn(&str, &str) -> Dict;
        // (name, options for x's and y's authids, does x get it, does y get it)
        let cases: [(&str, Filter, bool, bool); 5] = [
            (
                "eligible_authid",
                |x, _| Dict::new().with("eligible_authid", strs(&[x])),
                true,
                false,
            ),
            (
                "exclude_authid",
                |_, y| Dict::new().with("exclude_authid", strs(&[y])),
                true,
                false,
            ),
            (
                "exclude_authrole",
                |_, _| Dict::new().with("exclude_authrole", strs(&["anonymous"])),
                false,
                false,
            ),
            (
                "eligible_authrole",
                |_, _| Dict::new().with("eligible_authrole", strs(&["anonymous"])),
                true,
                true,
            ),
            (
                "eligible_authrole_admin",
                |_, _| Dict::new().with("eligible_authrole", strs(&["admin"])),
                false,
                false,
            ),
        ];
        for (i, (name, filter, for_x, for_y)) in cases.into_iter().enumerate() {
            let mut x = router.join_on(setup, n - 1);
            let mut y = router.join_on(setup, 0);
            let topic = format!("com.adv.retain.filtered.{name}");
            let payload = arg(i as u64);
            let options = filter(&authid(&x), &authid(&y));
            publish_retained(&mut publisher, &topic, options, payload.clone());
            // y first, then x (y's events after that are not read).
            for (c, gets) in [(&mut y, for_y), (&mut x, for_x)] {
                let id = subscribe_with(c, &topic, get_retained());
                sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
                if gets {
                    let got = events_around(c, 1, SENTINEL);
                    assert_retained(&got[0], id, &payload);
                    sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
                    assert_eq!(next_event(c).n(), SENTINEL + 1, "{name}");
                } else {
                    let who = authid(c);
                    assert_eq!(next_event(c).n(), SENTINEL, "{name}: {who} got it");
                }
            }
        }
    });
}
