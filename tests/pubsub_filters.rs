//! Advanced Pub/Sub: the announcement of the advanced features in WELCOME,
//! subscriber black/white listing and publisher exclusion. Over real sockets,
//! for 1-3 shards x WebSocket/RawSocket x every serializer, with publishers and
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
// Announcement

#[test]
fn welcome_announces_the_advanced_pubsub_features() {
    let router = Router::start(1);
    let setup = matrix()[0];
    let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
    let Message::Welcome { details, .. } = c.hello(&setup.realm()) else {
        panic!("expected WELCOME")
    };
    let features = features_of(&details, "broker");
    for f in [
        "subscriber_blackwhite_listing",
        "publisher_exclusion",
        "publisher_identification",
        "event_retention",
        "event_history",
        "subscription_revocation",
    ] {
        assert_eq!(
            features.get(f),
            Some(&Value::Bool(true)),
            "broker feature {f}"
        );
    }
}

// ---------------------------------------------------------------------------
// Subscriber black/white listing and publisher exclusion

const WHO: [&str; 4] = ["the publisher", "a", "b", "c"];

/// The publisher on `publisher_shard` and subscribers a, b, c on shards 0,
/// last and 1 (mod the shard count), all four subscribed to `topic`.
fn audience(router: &Router, setup: Setup, publisher_shard: usize, topic: &str) -> Vec<Client> {
    let n = router.shards;
    let mut all = vec![router.join_on(setup, publisher_shard)];
    for shard in [0, n - 1, 1 % n] {
        all.push(router.join_on(setup, shard));
    }
    let subs: Vec<_> = all.iter_mut().map(|c| c.subscribe(topic)).collect();
    assert!(subs.windows(2).all(|w| w[0] == w[1]));
    all
}

/// Publishes event `n` with `options` from `clients[0]`, then a sentinel that
/// reaches all four; asserts exactly `receivers` (indexes into `clients`) got
/// event `n`, once.
fn check_delivery(
    clients: &mut [Client],
    topic: &str,
    options: Dict,
    n: u64,
    receivers: &[usize],
    case: &str,
) {
    clients[0].publish(topic, options, arg(n));
    let all = Dict::new().with("exclude_me", false);
    clients[0].publish(topic, all, arg(SENTINEL + n));
    for (i, c) in clients.iter_mut().enumerate() {
        let got: Vec<u64> = events_before(c, SENTINEL + n)
            .iter()
            .map(Event::n)
            .collect();
        let want = if receivers.contains(&i) {
            vec![n]
        } else {
            vec![]
        };
        assert_eq!(got, want, "{case}: what {} got", WHO[i]);
    }
}

#[test]
fn the_publisher_is_excluded_by_default_and_included_on_request() {
    for_each_setup(|router, setup| {
        for p in 0..router.shards {
            let topic = format!("com.adv.exclusion.p{p}");
            let mut clients = audience(router, setup, p, &topic);
            let cases = [
                ("no options", Dict::new(), &[1, 2, 3][..]),
                (
                    "exclude_me=true",
                    Dict::new().with("exclude_me", true),
                    &[1, 2, 3],
                ),
                (
                    "exclude_me=false",
                    Dict::new().with("exclude_me", false),
                    &[0, 1, 2, 3],
                ),
            ];
            for (n, (case, options, receivers)) in cases.into_iter().enumerate() {
                check_delivery(&mut clients, &topic, options, n as u64, receivers, case);
            }
        }
    });
}

#[test]
fn black_and_white_lists_choose_the_receivers_on_every_shard() {
    for_each_setup(|router, setup| {
        for p in 0..router.shards {
            let topic = format!("com.adv.lists.p{p}");
            let mut clients = audience(router, setup, p, &topic);
            let [me, a, b, c] = [0, 1, 2, 3].map(|i| &clients[i]);
            let (ida, idb, idc) = (authid(a), authid(b), authid(c));
            let o = Dict::new;
            let no_exclusion = || Dict::new().with("exclude_me", false);
            let cases: Vec<(&str, Dict, &[usize])> = vec![
                ("exclude [b]", o().with("exclude", ids(&[b])), &[1, 3]),
                ("exclude []", o().with("exclude", ids(&[])), &[1, 2, 3]),
                (
                    "eligible [a, c]",
                    o().with("eligible", ids(&[a, c])),
                    &[1, 3],
                ),
                ("eligible [c]", o().with("eligible", ids(&[c])), &[3]),
                ("eligible [b]", o().with("eligible", ids(&[b])), &[2]),
                ("eligible []", o().with("eligible", ids(&[])), &[]),
                (
                    "exclude_authid [a]",
                    o().with("exclude_authid", strs(&[&ida])),
                    &[2, 3],
                ),
                (
                    "eligible_authid [b]",
                    o().with("eligible_authid", strs(&[&idb])),
                    &[2],
                ),
                (
                    "eligible_authid []",
                    o().with("eligible_authid", strs(&[])),
                    &[],
                ),
                (
                    "exclude_authrole [anonymous]",
                    o().with("exclude_authrole", strs(&["anonymous"])),
                    &[],
                ),
                (
                    "exclude_authrole [admin]",
                    o().with("exclude_authrole", strs(&["admin"])),
                    &[1, 2, 3],
                ),
                (
                    "eligible_authrole [anonymous]",
                    o().with("eligible_authrole", strs(&["anonymous"])),
                    &[1, 2, 3],
                ),
                (
                    "eligible_authrole [admin]",
                    o().with("eligible_authrole", strs(&["admin"])),
                    &[],
                ),
                (
                    "eligible [a, b, c] and exclude [a]",
                    o().with("eligible", ids(&[a, b, c]))
                        .with("exclude", ids(&[a])),
                    &[2, 3],
                ),
                (
                    "eligible [a, b] and eligible_authid [b, c]",
                    o().with("eligible", ids(&[a, b]))
                        .with("eligible_authid", strs(&[&idb, &idc])),
                    &[2],
                ),
                (
                    "eligible_authrole [anonymous], exclude_authid [c] and exclude [a]",
                    o().with("eligible_authrole", strs(&["anonymous"]))
                        .with("exclude_authid", strs(&[&idc]))
                        .with("exclude", ids(&[a])),
                    &[2],
                ),
                (
                    "eligible_authid [a, b, c] and exclude_authrole [anonymous]",
                    o().with("eligible_authid", strs(&[&ida, &idb, &idc]))
                        .with("exclude_authrole", strs(&["anonymous"])),
                    &[],
                ),
                (
                    "exclude [a] and exclude_authid [b]",
                    o().with("exclude", ids(&[a]))
                        .with("exclude_authid", strs(&[&idb])),
                    &[3],
                ),
                (
                    "exclude_me=false and eligible [publisher, a]",
                    no_exclusion().with("eligible", ids(&[me, a])),
                    &[0, 1],
                ),
                (
                    "eligible [publisher] (exclude_me defaults to true)",
                    o().with("eligible", ids(&[me])),
                    &[],
                ),
                (
                    "exclude_me=false and exclude [publisher]",
                    no_exclusion().with("exclude", ids(&[me])),
                    &[1, 2, 3],
                ),
                (
                    "exclude_me=false and eligible_authid [publisher]",
                    no_exclusion().with("eligible_authid", strs(&[&authid(me)])),
                    &[0],
                ),
                (
                    "exclude_me=false and eligible_authrole [anonymous]",
                    no_exclusion().with("eligible_authrole", strs(&["anonymous"])),
                    &[0, 1, 2, 3],
                ),
            ];
            for (n, (case, options, receivers)) in cases.into_iter().enumerate() {
                check_delivery(&mut clients, &topic, options, n as u64, receivers, case);
            }
        }
    });
}

#[test]
fn an_acknowledged_filtered_publication_is_acknowledged_even_when_nobody_is_eligible() {
    for_each_setup(|router, setup| {
        let topic = "com.adv.lists.acked";
        let mut clients = audience(router, setup, router.shards - 1, topic);
        let options = Dict::new().with("eligible", ids(&[]));
        publish_acked_with(&mut clients[0], topic, options, arg(1));
        let options = Dict::new().with("eligible", ids(&[&clients[2]]));
        publish_acked_with(&mut clients[0], topic, options, arg(2));
        let all = Dict::new().with("exclude_me", false);
        clients[0].publish(topic, all, arg(SENTINEL));
        for (i, c) in clients.iter_mut().enumerate() {
            let got: Vec<u64> = events_before(c, SENTINEL).iter().map(Event::n).collect();
            let want = if i == 2 { vec![2] } else { vec![] };
            assert_eq!(got, want, "what {} got", WHO[i]);
        }
    });
}
