//! Pattern-based subscriptions and registrations over real sockets, for 1-3
//! shards x WebSocket/RawSocket x every serializer: prefix and wildcard
//! matching, `Details.topic` / `Details.procedure`, and best-match routing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{
    Dict, Message, Payload, PublicationId, RegistrationId, RequestId, SubscriptionId, Text, Value,
};

fn subscribe_with(c: &mut Client, topic: &str, policy: &str) -> SubscriptionId {
    let request = c.request();
    let options = Dict::new().with("match", policy);
    c.send(&Message::Subscribe {
        request,
        options,
        topic: Text::from(topic),
    });
    match c.recv() {
        Message::Subscribed {
            request: r,
            subscription,
        } if r == request => subscription,
        other => panic!("expected SUBSCRIBED, got {other:?}"),
    }
}

fn register_with(c: &mut Client, procedure: &str, policy: &str) -> RegistrationId {
    let request = c.request();
    let options = Dict::new().with("match", policy);
    c.send(&Message::Register {
        request,
        options,
        procedure: Text::from(procedure),
    });
    match c.recv() {
        Message::Registered {
            request: r,
            registration,
        } if r == request => registration,
        other => panic!("expected REGISTERED, got {other:?}"),
    }
}

/// The next EVENT: (subscription, publication, Details.topic).
fn event(c: &mut Client) -> (SubscriptionId, PublicationId, Option<String>) {
    match c.recv() {
        Message::Event {
            subscription,
            publication,
            details,
            ..
        } => (
            subscription,
            publication,
            details.get_str("topic").unwrap().map(String::from),
        ),
        other => panic!("expected EVENT, got {other:?}"),
    }
}

#[test]
fn prefix_and_wildcard_subscribers_get_matching_events_with_the_topic() {
    for_each_setup(|router, setup| {
        let mut prefix = router.join_on(setup, router.shards - 1);
        let mut wild = router.join_on(setup, 0);
        let p = subscribe_with(&mut prefix, "com.app", "prefix");
        let w = subscribe_with(&mut wild, "com.app..run", "wildcard");
        let mut publisher = router.join_on(setup, router.shards / 2);
        publisher.publish_acked("com.app.x.run", Payload::empty());
        assert_eq!(
            event(&mut prefix),
            (p, event_pub(&mut wild, w), Some("com.app.x.run".into()))
        );
        publisher.publish_acked("com.app.y.stop", Payload::empty());
        publisher.publish_acked("com.appx.run", Payload::empty());
        let (sub, _, topic) = event(&mut prefix);
        assert_eq!((sub, topic.as_deref()), (p, Some("com.app.y.stop")));
        let (sub, _, topic) = event(&mut prefix);
        assert_eq!(
            (sub, topic.as_deref()),
            (p, Some("com.appx.run")),
            "prefix matching is by characters"
        );
        // The wildcard subscriber got neither: its next event is this one.
        publisher.publish_acked("com.app.z.run", Payload::empty());
        let (sub, _, topic) = event(&mut wild);
        assert_eq!((sub, topic.as_deref()), (w, Some("com.app.z.run")));
    });
}

/// The wildcard subscriber's event: checks it and returns the publication.
fn event_pub(c: &mut Client, want: SubscriptionId) -> PublicationId {
    let (sub, publication, topic) = event(c);
    assert_eq!(sub, want);
    assert_eq!(topic.as_deref(), Some("com.app.x.run"));
    publication
}

#[test]
fn one_event_per_matching_subscription_with_the_same_publication() {
    for_each_setup(|router, setup| {
        let mut c = router.join_on(setup, router.shards - 1);
        let exact = c.subscribe("com.multi.topic");
        let prefix = subscribe_with(&mut c, "com.multi", "prefix");
        assert_ne!(exact, prefix);
        let mut publisher = router.join_on(setup, 0);
        let publication =
            publisher.publish_acked("com.multi.topic", Payload::args(vec![Value::UInt(1)]));
        let mut got = [event(&mut c), event(&mut c)];
        got.sort_by_key(|(s, ..)| s.0);
        let mut want = [
            (exact, publication, None),
            (prefix, publication, Some("com.multi.topic".to_string())),
        ];
        want.sort_by_key(|(s, ..)| s.0);
        assert_eq!(got, want);
    });
}

#[test]
fn calls_go_to_the_best_matching_registration() {
    for_each_setup(|router, setup| {
        let mut wild = router.join_on(setup, 0);
        let mut prefix = router.join_on(setup, router.shards - 1);
        let w = register_with(&mut wild, "com.calc..add", "wildcard");
        let p = register_with(&mut prefix, "com.calc.int", "prefix");
        let mut caller = router.join_on(setup, router.shards / 2);
        for (procedure, callee_is_prefix) in
            [("com.calc.int.add", true), ("com.calc.float.add", false)]
        {
            let request = caller.call(procedure, Payload::args(vec![Value::UInt(2)]));
            let callee = if callee_is_prefix {
                &mut prefix
            } else {
                &mut wild
            };
            let Message::Invocation {
                request: inv,
                registration,
                details,
                ..
            } = callee.recv()
            else {
                panic!("expected INVOCATION for {procedure}")
            };
            assert_eq!(registration, if callee_is_prefix { p } else { w });
            assert_eq!(details.get_str("procedure").unwrap(), Some(procedure));
            callee.send(&Message::Yield {
                request: inv,
                options: Dict::new(),
                payload: Payload::empty(),
            });
            assert!(matches!(caller.recv(), Message::Result { request: r, .. } if r == request));
        }
        // An exact registration beats both, and its INVOCATION has no Details.procedure.
        let mut exact = router.join(setup);
        exact.register("com.calc.int.add").unwrap();
        let request = caller.call("com.calc.int.add", Payload::empty());
        let Message::Invocation {
            request: inv,
            details,
            ..
        } = exact.recv()
        else {
            panic!("expected INVOCATION")
        };
        assert_eq!(details.get("procedure"), None);
        exact.send(&Message::Yield {
            request: inv,
            options: Dict::new(),
            payload: Payload::empty(),
        });
        assert!(matches!(caller.recv(), Message::Result { request: r, .. } if r == request));
    });
}

#[test]
fn match_options_are_checked() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        subscribe_with(&mut c, "", "prefix");
        let request = c.request();
        let options = Dict::new().with("match", "exact");
        c.send(&Message::Subscribe {
            request,
            options,
            topic: Text::from("com.app."),
        });
        // The catch-all subscription also receives the router's meta events.
        assert!(
            matches!(recv_skipping_events(&mut c), Message::Error { request_type: code::SUBSCRIBE, error, .. } if error == "wamp.error.invalid_uri")
        );
        let options = Dict::new().with("match", "fuzzy");
        c.send(&Message::Subscribe {
            request: RequestId(99),
            options,
            topic: Text::from("com.app"),
        });
        let answer = recv_skipping_events(&mut c);
        assert_eq!(abort_reason(&answer), "wamp.error.protocol_violation");
    });
}

/// The next message that is not an EVENT.
fn recv_skipping_events(c: &mut Client) -> Message {
    loop {
        match c.recv() {
            Message::Event { .. } => continue,
            other => return other,
        }
    }
}
