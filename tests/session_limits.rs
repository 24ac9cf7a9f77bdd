#![allow(clippy::unwrap_used)]
//! Per-session limits over real sockets, 1-3 shards: a SUBSCRIBE, REGISTER,
//! CALL (the caller's calls, or the callee's invocations, in flight) or
//! acknowledged PUBLISH over its limit gets ERROR
//! `switchyard.error.limit_exceeded` naming the limit and its value, the
//! session goes on, and freeing room (UNSUBSCRIBE, a RESULT) lets the next
//! request through.

mod common;

use common::{arg, Client, Kind, Router};
use std::time::Instant;
use switchyard::wire::{Dict, Message, Payload, RequestId, Serializer, Text, Value};

const LIMITED: &str = "switchyard.error.limit_exceeded";

fn router(shards: usize) -> Router {
    Router::from_toml(
        shards,
        "[session]\nmax_subscriptions = 3\nmax_registrations = 2\n\
         max_calls_in_flight = 2\nmax_invocations_in_flight = 2\n\
         max_publications_per_s = 2\n",
    )
}

/// The ERROR's URI and args for `request`, or `None` for the expected success.
fn answer(c: &mut Client, request: RequestId) -> Option<(String, Vec<Value>)> {
    match c.recv() {
        Message::Error {
            request: r,
            error,
            payload,
            ..
        } if r == request => {
            let (args, _) = payload.to_values().unwrap();
            let args = args.and_then(|a| a.as_list().map(<[Value]>::to_vec));
            Some((error.as_str().to_owned(), args.unwrap_or_default()))
        }
        Message::Subscribed { request: r, .. }
        | Message::Registered { request: r, .. }
        | Message::Published { request: r, .. }
        | Message::Result { request: r, .. }
            if r == request =>
        {
            None
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn limit(name: &str, value: u64) -> Option<(String, Vec<Value>)> {
    Some((
        LIMITED.to_owned(),
        vec![Value::str(name), Value::UInt(value)],
    ))
}

fn subscribe(c: &mut Client, topic: &str) -> Option<(String, Vec<Value>)> {
    let request = c.request();
    c.send(&Message::Subscribe {
        request,
        options: Dict::new(),
        topic: Text::from(topic),
    });
    answer(c, request)
}

#[test]
fn subscriptions_and_registrations_stop_at_their_limits() {
    for shards in 1..=3 {
        let router = router(shards);
        for (kind, ser) in [
            (Kind::WebSocket, Serializer::Cbor),
            (Kind::RawSocket, Serializer::Json),
        ] {
            let mut c = Client::join(&router.url(kind), ser, "realm1");
            let first = c.subscribe("a.1");
            for t in ["a.2", "a.3"] {
                assert_eq!(subscribe(&mut c, t), None);
            }
            assert_eq!(
                subscribe(&mut c, "a.4"),
                limit("session.max_subscriptions", 3)
            );
            let request = c.request();
            c.send(&Message::Unsubscribe {
                request,
                options: Dict::new(),
                subscription: first,
            });
            assert!(matches!(c.recv(), Message::Unsubscribed { .. }));
            assert_eq!(
                subscribe(&mut c, "a.4"),
                None,
                "room again after UNSUBSCRIBE"
            );
            c.register("p.1").unwrap();
            c.register("p.2").unwrap();
            let refused = c.register("p.3").unwrap_err();
            assert_eq!(refused.as_str(), LIMITED);
            c.goodbye();
        }
    }
}

#[test]
fn calls_in_flight_stop_at_their_limit_until_one_is_answered() {
    for shards in 1..=3 {
        let router = router(shards);
        let url = router.url(Kind::RawSocket);
        let mut callee = Client::join(&url, Serializer::MsgPack, "realm1");
        callee.register("com.example.slow").unwrap();
        let mut caller = Client::join(&url, Serializer::MsgPack, "realm1");
        let first = caller.call("com.example.slow", arg(1));
        let second = caller.call("com.example.slow", arg(2));
        let third = caller.call("com.example.slow", arg(3));
        assert_eq!(
            answer(&mut caller, third),
            limit("session.max_calls_in_flight", 2)
        );
        // The callee got the two calls in flight, in order; answering the
        // first makes room for one more.
        assert_eq!(common::first_arg(&callee.serve_one(|p| p.clone())), 1);
        assert_eq!(answer(&mut caller, first), None);
        let fourth = caller.call("com.example.slow", arg(4));
        assert_eq!(common::first_arg(&callee.serve_one(|p| p.clone())), 2);
        assert_eq!(common::first_arg(&callee.serve_one(|p| p.clone())), 4);
        assert_eq!(answer(&mut caller, second), None);
        assert_eq!(answer(&mut caller, fourth), None);
    }
}

/// The next INVOCATION's request ID and first argument.
fn invocation(callee: &mut Client) -> (RequestId, u64) {
    match callee.recv() {
        Message::Invocation {
            request, payload, ..
        } => (request, common::first_arg(&payload)),
        other => panic!("expected INVOCATION, got {other:?}"),
    }
}

#[test]
fn invocations_in_flight_stop_at_the_callees_limit() {
    for shards in 1..=3 {
        let router = router(shards);
        let url = router.url(Kind::WebSocket);
        let mut callee = Client::join(&url, Serializer::Json, "realm1");
        callee.register("com.example.busy").unwrap();
        let mut callers: Vec<Client> = (0..3)
            .map(|_| Client::join(&url, Serializer::Json, "realm1"))
            .collect();
        let first = callers[0].call("com.example.busy", arg(1));
        let (inv1, n) = invocation(&mut callee);
        assert_eq!(n, 1);
        callers[1].call("com.example.busy", arg(2));
        assert_eq!(invocation(&mut callee).1, 2);
        let third = callers[2].call("com.example.busy", arg(3));
        assert_eq!(
            answer(&mut callers[2], third),
            limit("session.max_invocations_in_flight", 2)
        );
        // Answering one makes room on the callee.
        callee.send(&Message::Yield {
            request: inv1,
            options: Dict::new(),
            payload: arg(1),
        });
        assert_eq!(answer(&mut callers[0], first), None);
        let again = callers[2].call("com.example.busy", arg(4));
        assert_eq!(invocation(&mut callee).1, 4);
        let _ = again;
    }
}

#[test]
fn publications_beyond_the_rate_are_refused_and_the_session_goes_on() {
    let router = router(2);
    let mut c = Client::join(&router.url(Kind::WebSocket), Serializer::Json, "realm1");
    let start = Instant::now();
    let requests: Vec<RequestId> = (0..20)
        .map(|n| {
            c.publish(
                "com.example.fast",
                Dict::new().with("acknowledge", true),
                arg(n),
            )
        })
        .collect();
    let outcomes: Vec<_> = requests.into_iter().map(|r| answer(&mut c, r)).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let published = outcomes.iter().filter(|o| o.is_none()).count();
    // Two a second with one second of burst: 2 + what the time refilled.
    assert!(published >= 2, "{outcomes:?}");
    assert!(
        published as f64 <= 3.0 + 2.0 * elapsed,
        "{published} in {elapsed} s"
    );
    let refused = limit("session.max_publications_per_s", 2);
    assert!(
        outcomes.iter().all(|o| o.is_none() || *o == refused),
        "{outcomes:?}"
    );
    let request = c.call("wamp.session.count", Payload::empty());
    assert!(matches!(c.recv(), Message::Result { request: r, .. } if r == request));
}

#[test]
fn a_realm_may_set_its_own_limits() {
    let router = Router::from_toml(
        2,
        "[session]\nmax_subscriptions = 3\n\
         [[realms.realm]]\nname = \"com.strict\"\n\
         [realms.realm.session]\nmax_subscriptions = 1\n\
         [[realms.realm]]\nname = \"com.loose\"\n",
    );
    for (kind, ser) in [
        (Kind::WebSocket, Serializer::MsgPack),
        (Kind::RawSocket, Serializer::Cbor),
    ] {
        let mut strict = Client::join(&router.url(kind), ser, "com.strict");
        assert_eq!(subscribe(&mut strict, "s.1"), None);
        let over = subscribe(&mut strict, "s.2");
        assert_eq!(over, limit("session.max_subscriptions", 1));
        let mut loose = Client::join(&router.url(kind), ser, "com.loose");
        for t in ["l.1", "l.2", "l.3"] {
            assert_eq!(subscribe(&mut loose, t), None);
        }
        let over = subscribe(&mut loose, "l.4");
        assert_eq!(over, limit("session.max_subscriptions", 3));
    }
}
