//! The meta API's subscription events (`wamp.subscription.on_create` /
//! `on_subscribe` / `on_unsubscribe` / `on_delete`) in order: UNSUBSCRIBE,
//! dropped transport, kill, GOODBYE, revocation, a session gone before its
//! SUBSCRIBED. Over real sockets, for 1-3 shards x WebSocket/RawSocket x every
//! serializer, with an observer on every shard and the actors on chosen shards.
//!
//! How "nothing else arrived" is proven (fences), and why every scenario that
//! ends sessions has a realm of its own: see `meta_support`.

#![allow(clippy::unwrap_used)]

mod common;
mod meta_support;

use meta_support::*;
use std::collections::HashSet;
use switchyard::wire::Dict;

// ---------------------------------------------------------------------------
// Subscription events

#[test]
fn subscription_events_come_once_each_in_order_from_the_home_shard() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
            let mut a = scene.join((home + 1) % n);
            let mut b = scene.join((home + 2) % n);
            for policy in POLICIES {
                let topic = scene.homed("com.sub", home, policy);
                let id = subscribe_with(&mut a, &topic, policy);
                expect_created(&mut obs, SUB_CREATE, a.session.0, id, &topic, policy, None);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, id));
                assert_eq!(subscribe_with(&mut b, &topic, policy), id);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&b, id));
                unsubscribe(&mut a, id);
                expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&a, id));
                unsubscribe(&mut b, id);
                expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&b, id));
                expect_all(&mut obs, SUB_DELETE, &pair(&b, id));
            }
            fence_subscriptions(&scene, &mut obs);
        }
    });
}

#[test]
fn a_session_that_leaves_leaves_each_subscription_and_the_last_deletes_it() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
            let exact = scene.homed("com.leave", home, "exact");
            let prefix = scene.homed("com.leave", (home + 1) % n, "prefix");
            let mut a = scene.join(home);
            let mut b = scene.join((home + 2) % n);
            let mut c = scene.join((home + 1) % n);
            let e = subscribe_with(&mut a, &exact, "exact");
            expect_created(&mut obs, SUB_CREATE, a.session.0, e, &exact, "exact", None);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, e));
            for s in [&mut b, &mut c] {
                assert_eq!(subscribe_with(s, &exact, "exact"), e);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(s, e));
            }
            let p = subscribe_with(&mut b, &prefix, "prefix");
            expect_created(
                &mut obs,
                SUB_CREATE,
                b.session.0,
                p,
                &prefix,
                "prefix",
                None,
            );
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&b, p));
            // b's transport drops: it leaves both; the prefix subscription
            // goes with it (two homes: the streams interleave).
            let (b_exact, b_prefix) = (pair(&b, e), pair(&b, p));
            drop(b);
            expect_interleaved(
                &mut obs,
                &[
                    vec![(SUB_UNSUBSCRIBE, b_exact)],
                    vec![(SUB_UNSUBSCRIBE, b_prefix.clone()), (SUB_DELETE, b_prefix)],
                ],
            );
            // d's subscription is revoked (by a).
            let mut d = scene.join((home + 1) % n);
            assert_eq!(subscribe_with(&mut d, &exact, "exact"), e);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&d, e));
            let args = vec![uint(e), uint(d.session.0)];
            let revoked = call(
                &mut a,
                "wamp.subscription.remove_subscriber",
                args,
                Dict::new(),
            );
            assert_eq!(revoked, Ok((vec![], Dict::new())));
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&d, e));
            // c is killed (by a), then a says GOODBYE: the last one deletes it.
            let c_exact = pair(&c, e);
            end(c, End::Killed, &mut a, &HashSet::new());
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &c_exact);
            let a_exact = pair(&a, e);
            a.goodbye();
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &a_exact);
            expect_all(&mut obs, SUB_DELETE, &a_exact);
            fence_subscriptions(&scene, &mut obs);
        }
    });
}

#[test]
fn a_session_subscribing_again_is_announced_once() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
        let n = scene.shards();
        for home in 0..n {
            let mut a = scene.join((home + 1) % n);
            let topic = scene.homed("com.again", home, "exact");
            let id = subscribe_with(&mut a, &topic, "exact");
            expect_created(&mut obs, SUB_CREATE, a.session.0, id, &topic, "exact", None);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, id));
            assert_eq!(subscribe_with(&mut a, &topic, "exact"), id);
            // One UNSUBSCRIBE ends the subscription: the next events of
            // its home are its on_unsubscribe and on_delete.
            unsubscribe(&mut a, id);
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&a, id));
            expect_all(&mut obs, SUB_DELETE, &pair(&a, id));
        }
        fence_subscriptions(&scene, &mut obs);
    });
}

#[test]
fn a_subscriber_that_leaves_before_subscribed_is_named_by_the_events_of_its_subscription() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
        let n = scene.shards();
        for home in 0..n {
            for shard in 0..n {
                let a = scene.join(shard);
                let who = a.session.0;
                let topic = scene.homed("com.hasty", home, "exact");
                ask_and_drop(a, &topic, true);
                // Created, then (whether the router added the session before
                // it noticed the loss or not) deleted, all naming the session.
                for (i, o) in obs.iter_mut().enumerate() {
                    let ctx = format!("observer on shard {i}, subscriber on {shard}, home {home}");
                    let id = o.created(SUB_CREATE, who, &ctx);
                    let pair = vec![uint(who), id];
                    let mut ev = o.next();
                    if ev.topic == SUB_SUBSCRIBE {
                        assert_eq!(ev.args, pair, "{ctx}: {ev:?}");
                        ev = o.next();
                        assert_eq!(
                            (ev.topic.as_str(), &ev.args),
                            (SUB_UNSUBSCRIBE, &pair),
                            "{ctx}"
                        );
                        ev = o.next();
                    }
                    assert_eq!((ev.topic.as_str(), &ev.args), (SUB_DELETE, &pair), "{ctx}");
                }
            }
        }
        fence_subscriptions(&scene, &mut obs);
    });
}
