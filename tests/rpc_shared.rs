//! Black-box tests of shared registrations and call reroute over real
//! sockets, for 1-3 shards x WebSocket/RawSocket x every serializer: the
//! invocation policies, joining and refused REGISTERs, a callee leaving
//! mid-call, the reroute of calls a callee refuses as unavailable, the
//! message size limits of callers and callees, and the WELCOME announcement.
//!
//! Callees are served from threads of their own (`rpc_shared_support`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod rpc_shared_support;

use common::*;
use rpc_shared_support::*;
use switchyard::wire::{Message, Payload, Text, Value};
#[test]
fn welcome_announces_shared_registration_and_call_reroute() {
    for_each_setup(|router, setup| {
        let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
        let Message::Welcome { details, .. } = c.hello(&setup.realm()) else {
            panic!("expected WELCOME")
        };
        let features = dict(dict(dict(&details, "roles"), "dealer"), "features");
        for feature in ["shared_registration", "call_reroute"] {
            assert_eq!(features.get_bool(feature), Ok(Some(true)), "{feature}");
        }
    });
}

#[test]
fn roundrobin_cycles_through_the_callees_in_registration_order() {
    for_each_setup(|router, setup| {
        let procedure = "com.shared.roundrobin";
        let callees = Callees::register(router, setup, procedure, Some("roundrobin"), 3, |_, _| {
            Answer::Yield
        });
        let mut callers: Vec<Client> = (0..router.shards)
            .map(|shard| router.join_on(setup, shard))
            .collect();
        for (shard, caller) in callers.iter_mut().enumerate() {
            let got: Vec<usize> = (0..7)
                .map(|k| call(caller, procedure, &format!("call {k}")).unwrap())
                .collect();
            // Each shard cycles on its own, from the oldest callee.
            assert_eq!(got, [0, 1, 2, 0, 1, 2, 0], "caller on shard {shard}");
            assert_eq!(callees.served(), got, "one INVOCATION per call");
        }
        callees.stop(&mut callers[0], procedure);
    });
}

#[test]
fn first_and_last_pick_the_oldest_and_the_newest_callee() {
    for_each_setup(|router, setup| {
        let mut callers: Vec<Client> = (0..router.shards)
            .map(|shard| router.join_on(setup, shard))
            .collect();
        for (policy, oldest_or_newest) in [("first", 0), ("last", 2)] {
            let procedure = format!("com.shared.{policy}");
            let mut callees =
                Callees::register(router, setup, &procedure, Some(policy), 3, |_, _| {
                    Answer::Yield
                });
            for caller in &mut callers {
                for k in 0..2 {
                    let got = call(caller, &procedure, &format!("call {k}"));
                    assert_eq!(got, Ok(oldest_or_newest), "{policy}");
                }
            }
            // A fourth callee joins, on another shard than the third.
            let mut newest = router.join_on_with(setup, 3 % router.shards, advanced_roles());
            newest.register_with(&procedure, invoke(policy)).unwrap();
            let newest = callees.spawn(newest, |_, _| Answer::Yield);
            let want = if policy == "first" { 0 } else { newest };
            for caller in &mut callers {
                assert_eq!(call(caller, &procedure, "after"), Ok(want), "{policy}");
            }
            assert_eq!(callees.served().len(), 3 * callers.len(), "no reroute");
            callees.stop(&mut callers[0], &procedure);
        }
    });
}

#[test]
fn random_serves_every_call_and_reaches_every_callee() {
    for_each_setup(|router, setup| {
        let procedure = "com.shared.random";
        let callees = Callees::register(router, setup, procedure, Some("random"), 3, |_, _| {
            Answer::Yield
        });
        let mut callers: Vec<Client> = (0..router.shards)
            .map(|shard| router.join_on(setup, shard))
            .collect();
        let mut count = [0; 3];
        // With 60 calls, a callee missing all of them has probability 3 * (2/3)^60, about 1e-10.
        for k in 0..60 {
            let caller = &mut callers[k % router.shards];
            let got = call(caller, procedure, &format!("call {k}")).unwrap();
            assert_eq!(
                callees.served(),
                [got],
                "one INVOCATION, to the answering callee"
            );
            count[got] += 1;
        }
        assert!(count.iter().all(|n| *n > 0), "calls per callee: {count:?}");
        callees.stop(&mut callers[0], procedure);
    });
}

#[test]
fn least_loaded_avoids_callees_holding_unanswered_calls() {
    for_each_setup(|router, setup| {
        let procedure = "com.shared.least_loaded";
        let callees =
            Callees::register(router, setup, procedure, Some("least_loaded"), 3, |_, a| {
                if a == "hold" {
                    Answer::Hold
                } else {
                    Answer::Yield
                }
            });
        let mut caller = router.join_on(setup, router.shards - 1);
        caller.call(procedure, text_arg("hold"));
        let first_holder = callees.next_served();
        caller.call(procedure, text_arg("hold"));
        let second_holder = callees.next_served();
        assert_eq!(
            (first_holder.arg, second_holder.arg),
            ("hold".into(), "hold".into())
        );
        let (first_holder, second_holder) = (first_holder.callee, second_holder.callee);
        assert_ne!(
            first_holder, second_holder,
            "the second call avoids the first holder"
        );
        let idle = 3 - first_holder - second_holder;
        for k in 0..4 {
            let got = call(&mut caller, procedure, &format!("call {k}"));
            assert_eq!(
                got,
                Ok(idle),
                "callees {first_holder} and {second_holder} hold a call"
            );
        }
        assert_eq!(callees.served(), [idle; 4]);
        if router.shards > 1 {
            // Loads count per caller shard: from another shard every callee
            // is idle, and the ties go round-robin.
            let mut other = router.join_on(setup, 0);
            let mut got: Vec<usize> = (0..3)
                .map(|k| call(&mut other, procedure, &format!("other {k}")).unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, [0, 1, 2], "calls from another shard");
            callees.served();
        }
        callees.stop(&mut caller, procedure);
    });
}

#[test]
fn a_shared_registration_takes_callees_of_its_policy_only_once_each() {
    for_each_setup(|router, setup| {
        let mut a = router.join_on_with(setup, 0, advanced_roles());
        let mut b = router.join_on_with(setup, 1 % router.shards, advanced_roles());
        let mut c = router.join_on_with(setup, 2 % router.shards, advanced_roles());
        let taken = Err(Text::from(PROCEDURE_ALREADY_EXISTS));
        for policy in SHARED {
            let procedure = format!("com.shared.refuse.{policy}");
            let id = a.register_with(&procedure, invoke(policy)).unwrap();
            for other in ALL.into_iter().filter(|p| *p != policy) {
                let got = b.register_with(&procedure, invoke(other));
                assert_eq!(got, taken, "{other} joining {policy}");
            }
            assert_eq!(b.register(&procedure), taken, "no policy joining {policy}");
            let twice = a.register_with(&procedure, invoke(policy));
            assert_eq!(twice, taken, "the same session twice ({policy})");
            assert_eq!(b.register_with(&procedure, invoke(policy)), Ok(id));
            assert_eq!(c.register_with(&procedure, invoke(policy)), Ok(id));
            let twice = b.register_with(&procedure, invoke(policy));
            assert_eq!(twice, taken, "a joined session twice ({policy})");
        }
        // A single registration takes no second callee, whatever its policy.
        a.register("com.shared.refuse.single").unwrap();
        for policy in ALL {
            let got = b.register_with("com.shared.refuse.single", invoke(policy));
            assert_eq!(got, taken, "{policy} joining single");
        }
    });
}

#[test]
fn a_callee_leaving_mid_call_cancels_it_and_later_calls_go_to_the_others() {
    for_each_setup(|router, setup| {
        let mut caller = router.join_on(setup, router.shards - 1);
        for policy in SHARED {
            let procedure = format!("com.shared.leave.{policy}");
            let callees = Callees::register(router, setup, &procedure, Some(policy), 3, |_, a| {
                if a == "leave" {
                    Answer::Leave
                } else {
                    Answer::Yield
                }
            });
            let request = caller.call(&procedure, text_arg("leave"));
            let leaving = callees.next_served();
            assert_eq!(leaving.arg, "leave");
            let left = leaving.callee;
            match policy {
                "first" => assert_eq!(left, 0, "first"),
                "last" => assert_eq!(left, 2, "last"),
                _ => {}
            }
            // The callee's shard removes it from every replica before it
            // fails its calls; messages between two shards keep their order,
            // so the caller's next calls no longer see it.
            assert_eq!(outcome(&mut caller, request), Err(CANCELED.into()));
            let got: Vec<usize> = (0..4)
                .map(|k| call(&mut caller, &procedure, &format!("call {k}")).unwrap())
                .collect();
            assert!(!got.contains(&left), "{policy}: {got:?} after {left} left");
            match policy {
                "first" | "last" => assert_eq!(got, [1; 4], "{policy}"),
                "roundrobin" | "least_loaded" => {
                    let alternating = got.windows(2).all(|w| w[0] != w[1]);
                    assert!(alternating, "{policy}: {got:?}");
                }
                _ => {}
            }
            assert_eq!(callees.served(), got, "{policy}: one INVOCATION per call");
            callees.stop(&mut caller, &procedure);
        }
    });
}

#[test]
fn a_call_an_unavailable_callee_refuses_is_rerouted_to_another() {
    for_each_setup(|router, setup| {
        let mut callers: Vec<Client> = (0..router.shards)
            .map(|shard| router.join_on(setup, shard))
            .collect();
        for policy in SHARED {
            let procedure = format!("com.shared.reroute.{policy}");
            // The callee the policy picks first refuses every call.
            let refuser = if policy == "last" { 2 } else { 0 };
            let callees =
                Callees::register(router, setup, &procedure, Some(policy), 3, move |i, _| {
                    if i == refuser {
                        Answer::Unavailable
                    } else {
                        Answer::Yield
                    }
                });
            let mut refusals = 0;
            for k in 0..6 {
                let caller = &mut callers[k % router.shards];
                let got = call(caller, &procedure, &format!("call {k}")).unwrap();
                let served = callees.served();
                assert_ne!(got, refuser, "{policy}");
                if served.len() == 2 {
                    assert_eq!(served[0], refuser, "{policy}: only the refuser is retried");
                    refusals += 1;
                }
                assert_eq!(served.last(), Some(&got), "{policy}: {served:?}");
                match policy {
                    "first" | "last" => assert_eq!(served, [refuser, 1], "{policy}"),
                    _ => assert!(served.len() <= 2, "{policy}: {served:?}"),
                }
            }
            // Every shard starts at the oldest callee: roundrobin and
            // least_loaded reach the refuser too.
            if policy != "random" {
                assert!(refusals > 0, "{policy}: the refuser was never called");
            }
            callees.stop(&mut callers[0], &procedure);
        }
    });
}

#[test]
fn when_every_callee_is_unavailable_the_caller_gets_no_available_callee() {
    for_each_setup(|router, setup| {
        let mut caller = router.join_on(setup, router.shards - 1);
        for policy in SHARED {
            let procedure = format!("com.shared.unavailable.{policy}");
            let callees = Callees::register(router, setup, &procedure, Some(policy), 3, |_, _| {
                Answer::Unavailable
            });
            let got = call(&mut caller, &procedure, "call");
            assert_eq!(got, Err(NO_AVAILABLE_CALLEE.into()), "{policy}");
            let served = callees.served();
            let mut tried = served.clone();
            tried.sort_unstable();
            assert_eq!(tried, [0, 1, 2], "{policy}: each callee once");
            match policy {
                "first" => assert_eq!(served, [0, 1, 2]),
                "last" => assert_eq!(served, [2, 1, 0]),
                _ => {}
            }
            callees.stop(&mut caller, &procedure);
        }
    });
}

#[test]
fn a_single_callee_refusing_as_unavailable_gives_no_available_callee() {
    for_each_setup(|router, setup| {
        let procedure = "com.shared.single";
        let callees = Callees::register(router, setup, procedure, None, 1, |_, _| {
            Answer::Unavailable
        });
        let mut caller = router.join_on(setup, router.shards - 1);
        for k in 0..2 {
            let got = call(&mut caller, procedure, &format!("call {k}"));
            assert_eq!(got, Err(NO_AVAILABLE_CALLEE.into()));
            assert_eq!(callees.served(), [0], "one INVOCATION, no retry");
        }
        callees.stop(&mut caller, procedure);
    });
}

#[test]
fn a_result_too_large_for_the_caller_fails_the_call_and_spares_the_callee() {
    for_each_setup(|router, setup| {
        if setup.kind != Kind::RawSocket {
            return;
        }
        let procedure = "com.shared.limits.result";
        let mut caller = join_limited(router, setup, 0, LIMIT);
        let mut callee = router.join_on(setup, router.shards - 1);
        callee.register(procedure).unwrap();
        let big = "x".repeat(2 * LIMIT);
        let request = caller.call(procedure, text_arg("big"));
        callee.serve_one(|_| text_arg(&big));
        assert_eq!(
            outcome(&mut caller, request),
            Err(PAYLOAD_SIZE_EXCEEDED.into())
        );
        // The callee is still connected, and so is the caller.
        let request = caller.call(procedure, text_arg("small"));
        let got = callee.serve_one(|_| Payload::args(vec![Value::UInt(7)]));
        assert_same_payload(&got, &text_arg("small"));
        assert_eq!(outcome(&mut caller, request), Ok(7));
    });
}

#[test]
fn an_invocation_too_large_for_the_callee_fails_the_call() {
    for_each_setup(|router, setup| {
        if setup.kind != Kind::RawSocket {
            return;
        }
        let procedure = "com.shared.limits.invocation";
        let mut callee = join_limited(router, setup, router.shards - 1, LIMIT);
        callee.register(procedure).unwrap();
        let mut caller = router.join_on(setup, 0);
        let request = caller.call(procedure, text_arg(&"x".repeat(2 * LIMIT)));
        assert_eq!(
            outcome(&mut caller, request),
            Err(PAYLOAD_SIZE_EXCEEDED.into())
        );
        // The next INVOCATION the callee gets is the next call's.
        let request = caller.call(procedure, text_arg("small"));
        let got = callee.serve_one(|_| Payload::args(vec![Value::UInt(8)]));
        assert_same_payload(&got, &text_arg("small"));
        assert_eq!(outcome(&mut caller, request), Ok(8));
    });
}
