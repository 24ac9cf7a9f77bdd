//! Black-box RPC tests over real sockets, for 1-3 shards x
//! WebSocket/RawSocket x every serializer, with callers and callees on
//! different shards.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, Text, Value};

fn expect_result(c: &mut Client, request: switchyard::wire::RequestId, want: &Payload) {
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } => {
            assert_eq!(r, request);
            assert_same_payload(&payload, want);
        }
        other => panic!("expected RESULT, got {other:?}"),
    }
}

fn expect_call_error(c: &mut Client, request: switchyard::wire::RequestId, uri: &str) -> Payload {
    match c.recv() {
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            payload,
            ..
        } => {
            assert_eq!(r, request);
            assert_eq!(error, uri);
            payload
        }
        other => panic!("expected ERROR {uri}, got {other:?}"),
    }
}

#[test]
fn calls_reach_a_callee_on_any_shard() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register("com.example.add").unwrap();
        for shard in 0..router.shards {
            let mut caller = router.join_on(setup, shard);
            let request = caller.call("com.example.add", sample_payload(shard as u64));
            let got = callee.serve_one(|p| p.clone());
            assert_same_payload(&got, &sample_payload(shard as u64));
            expect_result(&mut caller, request, &sample_payload(shard as u64));
        }
    });
}

#[test]
fn a_callee_error_reaches_the_caller_with_its_arguments() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, 0);
        callee.register("com.example.fail").unwrap();
        let mut caller = router.join_on(setup, router.shards - 1);
        let request = caller.call("com.example.fail", Payload::empty());
        let Message::Invocation { request: inv, .. } = callee.recv() else {
            panic!("expected INVOCATION")
        };
        let args = Payload::from_values(
            Some(vec!["bad input".into()]),
            Some(Dict::new().with("code", 42u64)),
        );
        callee.send(&Message::Error {
            request_type: code::INVOCATION,
            request: inv,
            details: Dict::new(),
            error: Text::from("com.example.error.invalid"),
            payload: args.clone(),
        });
        let got = expect_call_error(&mut caller, request, "com.example.error.invalid");
        assert_same_payload(&got, &args);
    });
}

#[test]
fn calling_an_unknown_procedure_is_no_such_procedure() {
    for_each_setup(|router, setup| {
        let mut caller = router.join(setup);
        let request = caller.call("com.nobody.home", Payload::empty());
        expect_call_error(&mut caller, request, "wamp.error.no_such_procedure");
    });
}

#[test]
fn a_second_registration_is_refused_router_wide() {
    for_each_setup(|router, setup| {
        let mut first = router.join_on(setup, 0);
        first.register("com.example.once").unwrap();
        for shard in 0..router.shards {
            let mut second = router.join_on(setup, shard);
            assert_eq!(
                second.register("com.example.once"),
                Err(Text::from("wamp.error.procedure_already_exists"))
            );
        }
        assert_eq!(
            first.register("com.example.once"),
            Err(Text::from("wamp.error.procedure_already_exists"))
        );
        assert_eq!(
            first.register("wamp.reserved.proc"),
            Err(Text::from("wamp.error.invalid_uri"))
        );
    });
}

#[test]
fn a_callee_leaving_mid_call_cancels_the_call_at_once() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register("com.example.slow").unwrap();
        let mut caller = router.join_on(setup, 0);
        let request = caller.call("com.example.slow", Payload::empty());
        assert!(matches!(callee.recv(), Message::Invocation { .. }));
        drop(callee);
        expect_call_error(&mut caller, request, "wamp.error.canceled");
    });
}

#[test]
fn a_late_yield_after_the_caller_left_is_dropped_silently() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, 0);
        callee.register("com.example.late").unwrap();
        let mut caller = router.join_on(setup, router.shards - 1);
        caller.call("com.example.late", Payload::empty());
        let Message::Invocation { request, .. } = callee.recv() else {
            panic!("expected INVOCATION")
        };
        caller.goodbye();
        drop(caller);
        callee.send(&Message::Yield {
            request,
            options: Dict::new(),
            payload: Payload::empty(),
        });
        // The callee's session is still fine: a new call goes through.
        let mut caller2 = router.join(setup);
        let r2 = caller2.call("com.example.late", Payload::args(vec![Value::UInt(5)]));
        callee.serve_one(|p| p.clone());
        expect_result(&mut caller2, r2, &Payload::args(vec![Value::UInt(5)]));
    });
}

#[test]
fn registrations_vanish_with_their_session() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register("com.example.vanish").unwrap();
        callee.goodbye();
        // Other shards learn of the departure asynchronously: retry a bounded
        // number of round trips until the procedure can be registered again.
        let mut again = router.join_on(setup, 0);
        let ok = (0..1000).any(|_| again.register("com.example.vanish").is_ok());
        assert!(ok, "the procedure became free again");
        let mut caller = router.join(setup);
        let request = caller.call("com.example.vanish", Payload::empty());
        again.serve_one(|_| Payload::args(vec!["new callee".into()]));
        expect_result(
            &mut caller,
            request,
            &Payload::args(vec!["new callee".into()]),
        );
    });
}

#[test]
fn calls_cross_serializers_with_binary_payloads() {
    for_each_setup(|router, setup| {
        for callee_ser in Serializer::ALL {
            let callee_setup = Setup {
                serializer: callee_ser,
                ..setup
            };
            let mut callee = router.join_on_in(callee_setup, router.shards - 1, &setup.realm());
            // A name per callee: the previous callee's registration goes asynchronously.
            let procedure = format!("com.example.mixed.{}", callee_ser.name());
            callee.register(&procedure).unwrap();
            let mut caller = router.join_on(setup, 0);
            let request = caller.call(&procedure, sample_payload(3));
            let got = callee.serve_one(|_| sample_payload(4));
            assert_same_payload(&got, &sample_payload(3));
            expect_result(&mut caller, request, &sample_payload(4));
            callee.goodbye();
        }
    });
}
