//! Advanced Pub/Sub: subscription revocation
//! (`wamp.subscription.remove_subscriber`), for subscribers that announced it
//! and those that did not. Over real sockets, for 1-3 shards x
//! WebSocket/RawSocket x every serializer, with publishers and subscribers on
//! chosen shards.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.
//!
//! Beyond the spec, these tests hold the router to ARCHITECTURE's "linearizable
//! where clients can see it": a revocation is in force when the caller of
//! `remove_subscriber` gets its RESULT: a publication sent after that answer
//! no longer reaches the session.

#![allow(clippy::unwrap_used)]

mod common;
mod pubsub_support;

use common::*;
use pubsub_support::*;
use switchyard::wire::{Dict, Message, Payload, SessionId, SubscriptionId, Value};

// ---------------------------------------------------------------------------
// Subscription revocation

/// Every role, the subscriber announcing `subscription_revocation`.
fn revocation_roles() -> Dict {
    let mut r = roles();
    let features = Dict::new().with("subscription_revocation", true);
    r.insert("subscriber", Dict::new().with("features", features));
    r
}

/// Calls `wamp.subscription.remove_subscriber`.
fn remove_subscriber(
    c: &mut Client,
    sub: SubscriptionId,
    session: SessionId,
    reason: Option<&str>,
) -> Result<Payload, String> {
    let args = vec![Value::UInt(sub.0), Value::UInt(session.0)];
    let kwargs = reason.map(|r| Dict::new().with("reason", r));
    let request = c.call(REMOVE_SUBSCRIBER, Payload::from_values(Some(args), kwargs));
    answer(c, request)
}

fn assert_empty_result(p: &Payload) {
    let (args, kwargs) = p.to_values().unwrap();
    let empty = |v: &Option<Value>| match v {
        None => true,
        Some(Value::List(l)) => l.is_empty(),
        Some(Value::Dict(d)) => d.is_empty(),
        Some(_) => false,
    };
    assert!(
        empty(&args) && empty(&kwargs),
        "expected an empty RESULT, got {p:?}"
    );
}

fn expect_revoked(c: &mut Client, sub: SubscriptionId, reason: Option<&str>) {
    match c.recv() {
        Message::Unsubscribed {
            request,
            details: Some(details),
        } => {
            assert_eq!(request.0, 0);
            assert_eq!(details.get("subscription"), Some(&Value::UInt(sub.0)));
            if let Some(reason) = reason {
                assert_eq!(details.get_str("reason").unwrap(), Some(reason));
            }
        }
        other => panic!("expected [UNSUBSCRIBED, 0, {{subscription: {sub}, ...}}], got {other:?}"),
    }
}

/// Removes `victim` from `topic` by a caller on another shard while `other`
/// stays subscribed; `announced` says whether `victim` announced the feature.
fn revoke_and_check(
    router: &Router,
    setup: Setup,
    victim: &mut Client,
    announced: bool,
    tag: &str,
) {
    let n = router.shards;
    let topic = format!("com.adv.revoke.{tag}");
    let sentinel_topic = format!("com.adv.revoke.{tag}.sentinel");
    let mut other = router.join_on(setup, 0);
    let sub = other.subscribe(&topic);
    assert_eq!(victim.subscribe(&topic), sub);
    let sentinel_sub = victim.subscribe(&sentinel_topic);
    let mut caller = router.join_on(setup, 1 % n);
    let reason = "com.example.revoked";
    let result = remove_subscriber(&mut caller, sub, victim.session, Some(reason));
    assert_empty_result(&result.unwrap());
    if announced {
        expect_revoked(victim, sub, Some(reason));
    }
    // The victim gets no more events of `sub`; `other` still does.
    let mut p = router.join_on(setup, n - 1);
    p.publish_acked(&topic, arg(1));
    p.publish_acked(&sentinel_topic, arg(SENTINEL));
    assert_eq!(next_event(&mut other).n(), 1);
    let e = next_event(victim);
    assert_eq!((e.subscription, e.n()), (sentinel_sub, SENTINEL));
    // It may subscribe again; a second removal without a reason.
    assert_eq!(victim.subscribe(&topic), sub);
    p.publish_acked(&topic, arg(2));
    assert_eq!(next_event(victim).n(), 2);
    assert_eq!(next_event(&mut other).n(), 2);
    let result = remove_subscriber(&mut caller, sub, victim.session, None);
    assert_empty_result(&result.unwrap());
    if announced {
        expect_revoked(victim, sub, None);
    }
    p.publish_acked(&topic, arg(3));
    p.publish_acked(&sentinel_topic, arg(SENTINEL + 1));
    assert_eq!(next_event(&mut other).n(), 3);
    assert_eq!(next_event(victim).n(), SENTINEL + 1);
}

#[test]
fn remove_subscriber_revokes_with_unsubscribed_for_subscribers_that_announced_it() {
    for_each_setup(|router, setup| {
        for shard in 0..router.shards {
            let mut victim = router.join_on_with(setup, shard, revocation_roles());
            revoke_and_check(router, setup, &mut victim, true, &format!("told{shard}"));
        }
    });
}

#[test]
fn remove_subscriber_silently_drops_subscribers_that_did_not_announce_it() {
    for_each_setup(|router, setup| {
        for shard in 0..router.shards {
            let mut victim = router.join_on(setup, shard);
            revoke_and_check(router, setup, &mut victim, false, &format!("silent{shard}"));
        }
    });
}

#[test]
fn removing_the_last_subscriber_ends_the_subscription() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut victim = router.join_on_with(setup, n - 1, revocation_roles());
        let sub = victim.subscribe("com.adv.revoke.last");
        let sentinel_sub = victim.subscribe("com.adv.revoke.last.sentinel");
        let mut caller = router.join_on(setup, 0);
        let result = remove_subscriber(&mut caller, sub, victim.session, None);
        assert_empty_result(&result.unwrap());
        expect_revoked(&mut victim, sub, None);
        let mut p = router.join_on(setup, 0);
        p.publish_acked("com.adv.revoke.last", arg(1));
        p.publish_acked("com.adv.revoke.last.sentinel", arg(SENTINEL));
        let e = next_event(&mut victim);
        assert_eq!((e.subscription, e.n()), (sentinel_sub, SENTINEL));
        // The subscription is gone: removing again finds nothing.
        let err = remove_subscriber(&mut caller, sub, victim.session, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
    });
}

#[test]
fn remove_subscriber_refuses_unknown_subscriptions_and_sessions() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut sub = router.join_on(setup, n - 1);
        let id = sub.subscribe("com.adv.revoke.errors");
        let mut caller = router.join_on(setup, 0);
        let unknown = SubscriptionId(UNKNOWN_ID);
        let err = remove_subscriber(&mut caller, unknown, sub.session, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
        let nobody = SessionId(UNKNOWN_ID);
        let err = remove_subscriber(&mut caller, id, nobody, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_session");
        // The subscription is untouched.
        caller.publish_acked("com.adv.revoke.errors", arg(1));
        assert_eq!(next_event(&mut sub).n(), 1);
    });
}
