//! Advanced RPC over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer, with callers and callees on chosen shards:
//! progressive call results and invocations, call timeout, call canceling
//! (skip, kill, killnowait), caller identification, and races between a
//! call's end and its callee's answer (exactly one final answer per call).
//!
//! "Nothing else arrived" is proven by order, never by waiting: a later
//! call's INVOCATION or RESULT travels the same path (one FIFO channel per
//! pair of shards) as the message that must not have been sent.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, RequestId, Text, Value};

const PROC: &str = "com.example.adv";

fn expect_invocation(c: &mut Client) -> (RequestId, Dict, Payload) {
    match c.recv() {
        Message::Invocation {
            request,
            details,
            payload,
            ..
        } => (request, details, payload),
        other => panic!("expected INVOCATION, got {other:?}"),
    }
}

fn expect_result(c: &mut Client, request: RequestId) -> (Dict, Payload) {
    match c.recv() {
        Message::Result {
            request: r,
            details,
            payload,
        } if r == request => (details, payload),
        other => panic!("expected RESULT for {request}, got {other:?}"),
    }
}

fn expect_call_error(c: &mut Client, request: RequestId, uri: &str) {
    match c.recv() {
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request && error == uri => {}
        other => panic!("expected ERROR {uri} for {request}, got {other:?}"),
    }
}

fn expect_interrupt(c: &mut Client, request: RequestId, mode: &str, reason: &str) {
    match c.recv() {
        Message::Interrupt {
            request: r,
            options,
        } if r == request => {
            assert_eq!(options.get("mode"), Some(&Value::str(mode)));
            assert_eq!(options.get("reason"), Some(&Value::str(reason)));
        }
        other => panic!("expected INTERRUPT {mode} for {request}, got {other:?}"),
    }
}

fn yield_(c: &mut Client, request: RequestId, progress: bool, payload: Payload) {
    let options = if progress {
        Dict::new().with("progress", true)
    } else {
        Dict::new()
    };
    c.send(&Message::Yield {
        request,
        options,
        payload,
    });
}

fn callee_error(c: &mut Client, request: RequestId, uri: &str) {
    c.send(&Message::Error {
        request_type: code::INVOCATION,
        request,
        details: Dict::new(),
        error: Text::from(uri),
        payload: Payload::empty(),
    });
}

fn cancel(c: &mut Client, request: RequestId, mode: Option<&str>) {
    let options = mode.map_or(Dict::new(), |m| Dict::new().with("mode", m));
    c.send(&Message::Cancel { request, options });
}

/// A plain call served at once: proves that everything the router sent the
/// callee and the caller before it was already delivered.
fn sentinel(caller: &mut Client, callee: &mut Client, n: u64) {
    let request = caller.call(PROC, arg(n));
    let (inv, _, payload) = expect_invocation(callee);
    assert_eq!(
        first_arg(&payload),
        n,
        "the callee got something else first"
    );
    yield_(callee, inv, false, payload);
    let (_, got) = expect_result(caller, request);
    assert_eq!(first_arg(&got), n, "the caller got something else first");
}

/// A callee on the last shard and a caller on the first, both announcing the advanced features.
fn pair(router: &Router, setup: Setup) -> (Client, Client) {
    let mut callee = router.join_on_with(setup, router.shards - 1, advanced_roles());
    callee.register(PROC).unwrap();
    let caller = router.join_on_with(setup, 0, advanced_roles());
    (caller, callee)
}

#[test]
fn welcome_announces_the_advanced_rpc_features() {
    let router = Router::start(1);
    let setup = matrix()[0];
    let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
    let Message::Welcome { details, .. } = c.hello(&setup.realm()) else {
        panic!("expected WELCOME")
    };
    let features = details
        .get_dict("roles")
        .unwrap()
        .and_then(|r| r.get_dict("dealer").unwrap())
        .and_then(|d| d.get_dict("features").unwrap())
        .unwrap();
    for f in [
        "progressive_call_results",
        "progressive_call_invocations",
        "call_timeout",
        "call_canceling",
        "caller_identification",
        "shared_registration",
        "call_reroute",
    ] {
        assert_eq!(features.get(f), Some(&Value::Bool(true)), "{f}");
    }
}

#[test]
fn progressive_results_arrive_in_order_then_the_final_result() {
    for_each_setup(|router, setup| {
        let chunks = if router.shards == 3 { 2000 } else { 200 };
        let (mut caller, mut callee) = pair(router, setup);
        let options = Dict::new().with("receive_progress", true);
        let request = caller.call_with(PROC, options, Payload::empty());
        let (inv, details, _) = expect_invocation(&mut callee);
        assert_eq!(details.get("receive_progress"), Some(&Value::Bool(true)));
        for n in 0..chunks {
            yield_(&mut callee, inv, true, arg(n));
        }
        yield_(&mut callee, inv, false, arg(chunks));
        for n in 0..chunks {
            let (details, payload) = expect_result(&mut caller, request);
            assert_eq!(details.get("progress"), Some(&Value::Bool(true)));
            assert_eq!(first_arg(&payload), n);
        }
        let (details, payload) = expect_result(&mut caller, request);
        assert_eq!(details.get("progress"), None);
        assert_eq!(first_arg(&payload), chunks);
        // A YIELD after the final one is late: dropped.
        yield_(&mut callee, inv, true, arg(99));
        sentinel(&mut caller, &mut callee, 7);
    });
}

#[test]
fn progressive_results_for_a_caller_that_did_not_ask_are_dropped() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let request = caller.call(PROC, Payload::empty());
        let (inv, details, _) = expect_invocation(&mut callee);
        assert_eq!(details.get("receive_progress"), None);
        yield_(&mut callee, inv, true, arg(1));
        yield_(&mut callee, inv, false, arg(2));
        let (details, payload) = expect_result(&mut caller, request);
        assert_eq!((details.get("progress"), first_arg(&payload)), (None, 2));
        sentinel(&mut caller, &mut callee, 3);
    });
}

#[test]
fn progressive_invocations_stream_to_the_pinned_callee_under_one_id() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let request = caller.request();
        for n in 0..=20u64 {
            let options = if n < 20 {
                Dict::new().with("progress", true)
            } else {
                Dict::new()
            };
            caller.send(&Message::Call {
                request,
                options,
                procedure: Text::from(PROC),
                payload: arg(n),
            });
        }
        let mut id = None;
        for n in 0..=20u64 {
            let (inv, details, payload) = expect_invocation(&mut callee);
            assert_eq!(*id.get_or_insert(inv), inv, "one INVOCATION id");
            assert_eq!(first_arg(&payload), n);
            let more = details.get("progress") == Some(&Value::Bool(true));
            assert_eq!(more, n < 20, "chunk {n}");
        }
        yield_(&mut callee, id.unwrap(), false, arg(100));
        let (_, payload) = expect_result(&mut caller, request);
        assert_eq!(first_arg(&payload), 100);
        sentinel(&mut caller, &mut callee, 5);
    });
}

#[test]
fn progressive_invocations_need_the_feature_on_both_ends() {
    for_each_setup(|router, setup| {
        let mut plain_callee = router.join_on(setup, router.shards - 1);
        plain_callee.register("com.example.plain").unwrap();
        let mut caller = router.join_on_with(setup, 0, advanced_roles());
        let options = Dict::new().with("progress", true);
        let request = caller.call_with("com.example.plain", options.clone(), arg(1));
        expect_call_error(&mut caller, request, "wamp.error.feature_not_supported");
        let mut plain_caller = router.join_on(setup, 0);
        plain_caller.call_with("com.example.plain", options, arg(1));
        let reason = abort_reason(&plain_caller.recv()).to_string();
        assert_eq!(reason, "wamp.error.protocol_violation");
    });
}

#[test]
fn a_timeout_fails_the_call_and_interrupts_a_callee_that_can_cancel() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let options = Dict::new().with("timeout", 100u64);
        let request = caller.call_with(PROC, options, arg(1));
        let (inv, _, _) = expect_invocation(&mut callee);
        expect_call_error(&mut caller, request, "wamp.error.timeout");
        expect_interrupt(&mut callee, inv, "killnowait", "wamp.error.timeout");
        yield_(&mut callee, inv, false, arg(1));
        sentinel(&mut caller, &mut callee, 2);
    });
}

#[test]
fn a_timeout_sends_no_interrupt_to_a_callee_that_cannot_cancel() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register(PROC).unwrap();
        let mut caller = router.join_on(setup, 0);
        let request = caller.call_with(PROC, Dict::new().with("timeout", 50u64), arg(1));
        let (inv, _, _) = expect_invocation(&mut callee);
        expect_call_error(&mut caller, request, "wamp.error.timeout");
        sentinel(&mut caller, &mut callee, 2);
        // Its late answer is dropped.
        yield_(&mut callee, inv, false, arg(1));
        sentinel(&mut caller, &mut callee, 3);
    });
}

#[test]
fn a_progressive_call_times_out_after_its_results_stop() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let options = Dict::new()
            .with("receive_progress", true)
            .with("timeout", 400u64);
        let request = caller.call_with(PROC, options, Payload::empty());
        let (inv, _, _) = expect_invocation(&mut callee);
        yield_(&mut callee, inv, true, arg(1));
        expect_result(&mut caller, request);
        expect_call_error(&mut caller, request, "wamp.error.timeout");
        expect_interrupt(&mut callee, inv, "killnowait", "wamp.error.timeout");
    });
}

#[test]
fn cancel_skip_answers_at_once_without_interrupt() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let request = caller.call(PROC, arg(1));
        let (inv, _, _) = expect_invocation(&mut callee);
        cancel(&mut caller, request, Some("skip"));
        expect_call_error(&mut caller, request, "wamp.error.canceled");
        sentinel(&mut caller, &mut callee, 2);
        yield_(&mut callee, inv, false, arg(1));
        sentinel(&mut caller, &mut callee, 3);
    });
}

#[test]
fn cancel_kill_interrupts_and_forwards_the_callee_answer() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let request = caller.call(PROC, arg(1));
        let (inv, _, _) = expect_invocation(&mut callee);
        cancel(&mut caller, request, Some("kill"));
        expect_interrupt(&mut callee, inv, "kill", "wamp.error.canceled");
        // A repeated CANCEL is ignored.
        cancel(&mut caller, request, Some("killnowait"));
        callee_error(&mut callee, inv, "wamp.error.canceled");
        expect_call_error(&mut caller, request, "wamp.error.canceled");
        sentinel(&mut caller, &mut callee, 2);

        // The callee may win the race: its RESULT is passed on.
        let request = caller.call(PROC, arg(3));
        let (inv, _, _) = expect_invocation(&mut callee);
        cancel(&mut caller, request, Some("kill"));
        expect_interrupt(&mut callee, inv, "kill", "wamp.error.canceled");
        yield_(&mut callee, inv, false, arg(3));
        assert_eq!(first_arg(&expect_result(&mut caller, request).1), 3);
    });
}

#[test]
fn cancel_killnowait_answers_at_once_and_interrupts() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        for mode in [Some("killnowait"), None] {
            let request = caller.call(PROC, arg(1));
            let (inv, _, _) = expect_invocation(&mut callee);
            cancel(&mut caller, request, mode);
            expect_call_error(&mut caller, request, "wamp.error.canceled");
            expect_interrupt(&mut callee, inv, "killnowait", "wamp.error.canceled");
            yield_(&mut callee, inv, false, arg(1));
            sentinel(&mut caller, &mut callee, 2);
        }
        // A CANCEL for a finished or unknown call is ignored.
        cancel(&mut caller, RequestId(1), Some("kill"));
        cancel(&mut caller, RequestId(9999), Some("killnowait"));
        sentinel(&mut caller, &mut callee, 4);
    });
}

#[test]
fn a_callee_that_cannot_cancel_gets_no_interrupt_whatever_the_mode() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register(PROC).unwrap();
        let mut caller = router.join_on(setup, 0);
        for mode in ["kill", "killnowait"] {
            let request = caller.call(PROC, arg(1));
            let (inv, _, _) = expect_invocation(&mut callee);
            cancel(&mut caller, request, Some(mode));
            expect_call_error(&mut caller, request, "wamp.error.canceled");
            sentinel(&mut caller, &mut callee, 2);
            yield_(&mut callee, inv, false, arg(1));
        }
        sentinel(&mut caller, &mut callee, 3);
    });
}

#[test]
fn canceling_a_progressive_invocation_stops_the_stream() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let request = caller.request();
        let chunk = |c: &mut Client, n: u64| {
            c.send(&Message::Call {
                request,
                options: Dict::new().with("progress", true),
                procedure: Text::from(PROC),
                payload: arg(n),
            })
        };
        chunk(&mut caller, 0);
        let (inv, _, _) = expect_invocation(&mut callee);
        cancel(&mut caller, request, Some("killnowait"));
        expect_call_error(&mut caller, request, "wamp.error.canceled");
        expect_interrupt(&mut callee, inv, "killnowait", "wamp.error.canceled");
        // Later chunks of the stopped call go nowhere.
        chunk(&mut caller, 1);
        sentinel(&mut caller, &mut callee, 2);
    });
}

#[test]
fn a_callee_leaving_ends_a_progressive_call_once() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let options = Dict::new().with("receive_progress", true);
        let request = caller.call_with(PROC, options, Payload::empty());
        let (inv, _, _) = expect_invocation(&mut callee);
        yield_(&mut callee, inv, true, arg(1));
        expect_result(&mut caller, request);
        callee.goodbye();
        expect_call_error(&mut caller, request, "wamp.error.canceled");
        let mut other = router.join_on_with(setup, router.shards - 1, advanced_roles());
        other.register(PROC).unwrap();
        sentinel(&mut caller, &mut other, 2);
    });
}

#[test]
fn a_caller_leaving_interrupts_its_calls() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        let options = Dict::new().with("receive_progress", true);
        caller.call_with(PROC, options, Payload::empty());
        let (inv, _, _) = expect_invocation(&mut callee);
        caller.goodbye();
        expect_interrupt(&mut callee, inv, "killnowait", "wamp.error.canceled");
        yield_(&mut callee, inv, true, arg(1));
        let mut next = router.join_on_with(setup, 0, advanced_roles());
        sentinel(&mut next, &mut callee, 2);
    });
}

#[test]
fn the_caller_is_disclosed_on_request_and_by_the_callee_wish() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register(PROC).unwrap();
        let disclose = Dict::new().with("disclose_caller", true);
        callee.register_with("com.example.told", disclose).unwrap();
        let mut caller = router.join_on(setup, 0);
        let cases = [
            (PROC, Dict::new().with("disclose_me", true), true),
            (PROC, Dict::new(), false),
            ("com.example.told", Dict::new(), true),
        ];
        for (procedure, options, disclosed) in cases {
            let request = caller.call_with(procedure, options, arg(1));
            let (inv, details, _) = expect_invocation(&mut callee);
            let id = details.get("caller").cloned();
            if disclosed {
                assert_eq!(id, Some(Value::UInt(caller.session.0)));
                let authid = format!("anonymous-{}", caller.session.0);
                assert_eq!(details.get("caller_authid"), Some(&Value::str(authid)));
                let role = Some(Value::str("anonymous"));
                assert_eq!(details.get("caller_authrole").cloned(), role);
            } else {
                assert_eq!(id, None);
            }
            yield_(&mut callee, inv, false, arg(1));
            expect_result(&mut caller, request);
        }
    });
}

#[test]
fn a_realm_policy_discloses_every_caller() {
    let mut opts = switchyard::runtime::RouterOptions::local(2);
    let mut realm = switchyard::shard::RealmSettings::open("test.disclose");
    realm.rpc.disclose_caller = true;
    opts.settings.realms.push(realm);
    let router = Router::start_with(opts);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let mut callee = router.join_on_in(setup, 1, "test.disclose");
        let procedure = format!("com.example.{}", setup.realm());
        callee.register(&procedure).unwrap();
        let mut caller = router.join_on_in(setup, 0, "test.disclose");
        let request = caller.call(&procedure, arg(1));
        let (inv, details, _) = expect_invocation(&mut callee);
        assert_eq!(details.get("caller"), Some(&Value::UInt(caller.session.0)));
        yield_(&mut callee, inv, false, arg(1));
        expect_result(&mut caller, request);
    }
}

#[test]
fn a_realm_maximum_timeout_applies_to_calls_without_one() {
    let mut opts = switchyard::runtime::RouterOptions::local(2);
    let mut realm = switchyard::shard::RealmSettings::open("test.deadline");
    realm.rpc.max_timeout = Some(std::time::Duration::from_millis(100));
    opts.settings.realms.push(realm);
    let router = Router::start_with(opts);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let mut callee = router.join_on_in(setup, 1, "test.deadline");
        let procedure = format!("com.example.{}", setup.realm());
        callee.register(&procedure).unwrap();
        let mut caller = router.join_on_in(setup, 0, "test.deadline");
        let request = caller.call(&procedure, arg(1));
        expect_invocation(&mut callee);
        expect_call_error(&mut caller, request, "wamp.error.timeout");
    }
}

/// The caller's answers up to the sentinel's RESULT: exactly one for `request`.
fn answers_before_sentinel(caller: &mut Client, request: RequestId, sentinel: RequestId) -> usize {
    let mut answers = 0;
    loop {
        match caller.recv() {
            Message::Result { request: r, .. } if r == sentinel => return answers,
            Message::Result { request: r, .. } | Message::Error { request: r, .. }
                if r == request =>
            {
                answers += 1
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Serves the sentinel call, answering (and skipping) anything else first.
fn serve_sentinel(callee: &mut Client, n: u64) {
    loop {
        match callee.recv() {
            Message::Invocation {
                request, payload, ..
            } if first_arg(&payload) == n => return yield_(callee, request, false, payload),
            Message::Interrupt { .. } | Message::Invocation { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn a_call_racing_its_cancel_or_timeout_gets_exactly_one_answer() {
    for_each_setup(|router, setup| {
        let (mut caller, mut callee) = pair(router, setup);
        for round in 0..30u64 {
            let racer = match round % 3 {
                0 => Dict::new(),
                1 => Dict::new().with("timeout", 1u64),
                _ => Dict::new().with("receive_progress", true),
            };
            let request = caller.call_with(PROC, racer, arg(round));
            let (inv, _, _) = expect_invocation(&mut callee);
            let mode = ["skip", "kill", "killnowait"][(round % 3) as usize];
            cancel(&mut caller, request, Some(mode));
            yield_(&mut callee, inv, false, arg(round));
            let sentinel = caller.call(PROC, arg(1000 + round));
            serve_sentinel(&mut callee, 1000 + round);
            let answers = answers_before_sentinel(&mut caller, request, sentinel);
            assert_eq!(answers, 1, "round {round} ({mode})");
        }
    });
}

#[test]
fn strict_request_ids_let_progressive_chunks_reuse_their_call_id() {
    let mut opts = switchyard::runtime::RouterOptions::local(2);
    opts.settings.strict_request_ids = true;
    let router = Router::start_with(opts);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let mut callee = router.join_on_with(setup, 1, advanced_roles());
        callee.register(PROC).unwrap();
        let mut caller = router.join_on_with(setup, 0, advanced_roles());
        let request = caller.request();
        for (n, more) in [(0, true), (1, true), (2, false)] {
            let options = Dict::new().with("progress", more);
            caller.send(&Message::Call {
                request,
                options,
                procedure: Text::from(PROC),
                payload: arg(n),
            });
        }
        let mut inv = RequestId(0);
        for n in 0..3 {
            let (id, _, payload) = expect_invocation(&mut callee);
            assert_eq!(first_arg(&payload), n);
            inv = id;
        }
        yield_(&mut callee, inv, false, arg(9));
        expect_result(&mut caller, request);
        sentinel(&mut caller, &mut callee, 10);
    }
}
