//! Advanced Pub/Sub: publisher identification, asked for by the publisher or
//! set by a realm policy that discloses every publisher. Over real sockets, for
//! 1-3 shards x WebSocket/RawSocket x every serializer, with publishers and
//! subscribers on chosen shards.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.

#![allow(clippy::unwrap_used)]

mod common;
mod pubsub_support;

use common::*;
use pubsub_support::*;
use switchyard::wire::{Dict, Message, Value};

// ---------------------------------------------------------------------------
// Publisher identification

fn assert_disclosed(details: &Dict, publisher: &Client) {
    assert_eq!(
        details.get("publisher"),
        Some(&Value::UInt(publisher.session.0)),
        "{details:?}"
    );
    assert_eq!(
        details.get_str("publisher_authid").unwrap(),
        Some(authid(publisher).as_str())
    );
    assert_eq!(
        details.get_str("publisher_authrole").unwrap(),
        Some("anonymous")
    );
}

fn assert_undisclosed(details: &Dict) {
    for key in ["publisher", "publisher_authid", "publisher_authrole"] {
        assert_eq!(details.get(key), None, "{key} in {details:?}");
    }
}

#[test]
fn the_publisher_is_disclosed_when_it_asks() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        for p in 0..n {
            let topic = format!("com.adv.disclose.p{p}");
            let mut subs: Vec<Client> = (0..n).map(|s| router.join_on(setup, s)).collect();
            for s in subs.iter_mut() {
                s.subscribe(&topic);
            }
            let mut pattern = router.join_on(setup, (p + 1) % n);
            let prefix = Dict::new().with("match", "prefix");
            subscribe_with(&mut pattern, "com.adv.disclose.", prefix);
            let mut publisher = router.join_on(setup, p);
            let cases = [
                (Dict::new().with("disclose_me", true), true),
                (Dict::new(), false),
                (Dict::new().with("disclose_me", false), false),
                (
                    Dict::new()
                        .with("disclose_me", true)
                        .with("acknowledge", true),
                    true,
                ),
            ];
            for (i, (options, disclosed)) in cases.into_iter().enumerate() {
                let acked = options.get("acknowledge").is_some();
                let request = publisher.publish(&topic, options, arg(i as u64));
                if acked {
                    assert!(
                        matches!(publisher.recv(), Message::Published { request: r, .. } if r == request)
                    );
                }
                for (k, c) in subs.iter_mut().chain([&mut pattern]).enumerate() {
                    let e = next_event(c);
                    assert_eq!(e.n(), i as u64);
                    if k == n {
                        assert_eq!(e.topic().as_deref(), Some(topic.as_str()));
                    }
                    if disclosed {
                        assert_disclosed(&e.details, &publisher);
                    } else {
                        assert_undisclosed(&e.details);
                    }
                }
            }
        }
    });
}

#[test]
fn a_realm_policy_discloses_every_publisher() {
    let router = router_with(2, "disclose", disclosing_realm);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let realm = format!("disclose.{}", setup.realm());
        let mut subs: Vec<Client> = (0..2)
            .map(|s| router.join_on_in(setup, s, &realm))
            .collect();
        for s in subs.iter_mut() {
            s.subscribe("com.adv.disclosed");
        }
        for p in 0..2 {
            let mut publisher = router.join_on_in(setup, p, &realm);
            publisher.publish("com.adv.disclosed", Dict::new(), arg(p as u64));
            for s in subs.iter_mut() {
                let e = next_event(s);
                assert_eq!(e.n(), p as u64);
                assert_disclosed(&e.details, &publisher);
            }
        }
    }
}
