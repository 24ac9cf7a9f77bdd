//! Black-box session tests over real sockets: open/close, unknown realm and
//! protocol violations, for 1-3 shards x WebSocket/RawSocket x every serializer.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, RequestId, Text, Value};

#[test]
fn hello_gets_welcome_with_anonymous_identity_and_boolean_features() {
    for_each_setup(|router, setup| {
        let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
        let m = c.hello("realm1");
        let Message::Welcome { session, details } = m else {
            panic!("expected WELCOME, got {m:?}")
        };
        assert!(switchyard::wire::id::is_valid_id(session.0));
        assert_eq!(details.get_str("authrole"), Ok(Some("anonymous")));
        assert_eq!(details.get_str("authmethod"), Ok(Some("anonymous")));
        assert!(details.get_str("authid").unwrap().is_some());
        let roles = details.get_dict("roles").unwrap().unwrap();
        let keys: Vec<&str> = roles.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["broker", "dealer"]);
        for (_, role) in roles.iter() {
            let features = role
                .as_dict()
                .unwrap()
                .get_dict("features")
                .unwrap()
                .unwrap();
            assert!(features.iter().all(|(_, v)| matches!(v, Value::Bool(_))));
        }
    });
}

#[test]
fn two_sessions_get_distinct_authids() {
    for_each_setup(|router, setup| {
        let mut a = Client::connect(&router.url(setup.kind), setup.serializer);
        let mut b = Client::connect(&router.url(setup.kind), setup.serializer);
        let (Message::Welcome { details: da, .. }, Message::Welcome { details: db, .. }) =
            (a.hello("realm1"), b.hello("realm1"))
        else {
            panic!("expected two WELCOMEs")
        };
        assert_ne!(da.get_str("authid").unwrap(), db.get_str("authid").unwrap());
    });
}

#[test]
fn goodbye_is_answered_and_the_transport_can_join_again() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        c.goodbye();
        let Message::Welcome { session, .. } = c.hello("realm1") else {
            panic!("expected a second WELCOME")
        };
        assert_ne!(session, c.session);
    });
}

#[test]
fn unknown_realm_is_aborted_with_no_such_realm() {
    for_each_setup(|router, setup| {
        let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
        let m = c.hello("no.such.realm");
        assert_eq!(abort_reason(&m), "wamp.error.no_such_realm");
        c.expect_closed();
    });
}

/// Sends `msg` on a session and expects ABORT protocol_violation, then a closed transport.
fn expect_violation(c: &mut Client, msg: &Message) {
    c.send(msg);
    let m = c.recv();
    assert_eq!(
        abort_reason(&m),
        "wamp.error.protocol_violation",
        "after {msg:?}"
    );
    let Message::Abort { details, .. } = m else {
        unreachable!()
    };
    assert!(
        details.get_str("message").unwrap().is_some(),
        "ABORT carries a message"
    );
    c.expect_closed();
}

#[test]
fn messages_before_hello_are_protocol_violations() {
    for_each_setup(|router, setup| {
        let url = router.url(setup.kind);
        let early = [
            Message::Subscribe {
                request: RequestId(1),
                options: Dict::new(),
                topic: Text::from("com.a"),
            },
            Message::Goodbye {
                details: Dict::new(),
                reason: Text::from("wamp.close.close_realm"),
            },
            Message::Yield {
                request: RequestId(1),
                options: Dict::new(),
                payload: Payload::empty(),
            },
        ];
        for msg in &early {
            expect_violation(&mut Client::connect(&url, setup.serializer), msg);
        }
    });
}

#[test]
fn protocol_violations_on_an_established_session_abort_it() {
    for_each_setup(|router, setup| {
        let hello = Message::Hello {
            realm: Text::from("realm1"),
            details: Dict::new().with("roles", roles()),
        };
        expect_violation(&mut router.join(setup), &hello);
        let bad_error = Message::Error {
            request_type: code::PUBLISH,
            request: RequestId(1),
            details: Dict::new(),
            error: Text::from("com.err"),
            payload: Payload::empty(),
        };
        expect_violation(&mut router.join(setup), &bad_error);
        let stray_yield = Message::Yield {
            request: RequestId(77),
            options: Dict::new(),
            payload: Payload::empty(),
        };
        expect_violation(&mut router.join(setup), &stray_yield);
        let welcome = Message::Welcome {
            session: switchyard::wire::SessionId(5),
            details: Dict::new(),
        };
        expect_violation(&mut router.join(setup), &welcome);
        let wrong_option = Message::Publish {
            request: RequestId(1),
            options: Dict::new().with("acknowledge", 1u64),
            topic: Text::from("com.a"),
            payload: Payload::empty(),
        };
        expect_violation(&mut router.join(setup), &wrong_option);
    });
}

#[test]
fn undecodable_frames_are_protocol_violations() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        c.send_raw(b"this is not a WAMP message");
        let m = c.recv();
        assert_eq!(abort_reason(&m), "wamp.error.protocol_violation");
        c.expect_closed();
    });
}

#[test]
fn a_violation_ends_only_the_offending_session() {
    for_each_setup(|router, setup| {
        let mut good = router.join(setup);
        let mut bad = router.join(setup);
        good.subscribe("com.still.alive");
        bad.send_raw(b"this is not a WAMP message");
        assert_eq!(abort_reason(&bad.recv()), "wamp.error.protocol_violation");
        let mut publisher = router.join(setup);
        publisher.publish_acked("com.still.alive", Payload::args(vec![1u64.into()]));
        assert!(matches!(good.recv(), Message::Event { .. }));
    });
}

#[test]
fn known_options_of_the_wrong_type_are_protocol_violations() {
    for_each_setup(|router, setup| {
        let wrong = [
            Message::Publish {
                request: RequestId(1),
                options: Dict::new().with("exclude", 5u64),
                topic: Text::from("com.a"),
                payload: Payload::empty(),
            },
            Message::Subscribe {
                request: RequestId(1),
                options: Dict::new().with("match", 5u64),
                topic: Text::from("com.a"),
            },
            Message::Register {
                request: RequestId(1),
                options: Dict::new().with("invoke", true),
                procedure: Text::from("com.p"),
            },
            Message::Call {
                request: RequestId(1),
                options: Dict::new().with("timeout", "soon"),
                procedure: Text::from("com.p"),
                payload: Payload::empty(),
            },
        ];
        for msg in &wrong {
            expect_violation(&mut router.join(setup), msg);
        }
    });
}

#[test]
fn unknown_options_are_ignored() {
    for_each_setup(|router, setup| {
        let mut c = router.join(setup);
        let request = c.request();
        c.send(&Message::Publish {
            request,
            options: Dict::new()
                .with("acknowledge", true)
                .with("x_vendor_hint", "fast"),
            topic: Text::from("com.a"),
            payload: Payload::empty(),
        });
        match c.recv() {
            Message::Published { request: r, .. } => assert_eq!(r, request),
            other => panic!("expected PUBLISHED, got {other:?}"),
        }
    });
}
