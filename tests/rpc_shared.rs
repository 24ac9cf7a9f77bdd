//! Black-box tests of shared registrations and call reroute over real
//! sockets, for 1-3 shards x WebSocket/RawSocket x every serializer: the
//! invocation policies, joining and refused REGISTERs, a callee leaving
//! mid-call, the reroute of calls a callee refuses as unavailable, the
//! message size limits of callers and callees, and the WELCOME announcement.
//!
//! Callees are served from threads of their own (a blocking client waits on
//! one socket). Each reports every INVOCATION over a channel before it
//! answers, so once the caller has the answer of a call, every report of
//! that call is in the channel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use switchyard::transport::blocking;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, RequestId, Text, Value};

/// The invocation policies of shared registrations.
const SHARED: [&str; 5] = ["roundrobin", "random", "first", "last", "least_loaded"];

/// Every invocation policy.
const ALL: [&str; 6] = [
    "single",
    "roundrobin",
    "random",
    "first",
    "last",
    "least_loaded",
];

const PROCEDURE_ALREADY_EXISTS: &str = "wamp.error.procedure_already_exists";
const CANCELED: &str = "wamp.error.canceled";
const NO_AVAILABLE_CALLEE: &str = "wamp.error.no_available_callee";
const PAYLOAD_SIZE_EXCEEDED: &str = "wamp.error.payload_size_exceeded";

/// The receive limit of size-limited RawSocket clients.
const LIMIT: usize = 4096;

/// REGISTER.Options asking for invocation policy `policy`.
fn invoke(policy: &str) -> Dict {
    Dict::new().with("invoke", policy)
}

/// A payload of one string argument.
fn arg(s: &str) -> Payload {
    Payload::args(vec![Value::str(s)])
}

/// The first positional argument of `payload`.
fn first_arg(payload: &Payload) -> Value {
    match payload.to_values().expect("a decodable payload") {
        (Some(Value::List(args)), _) if !args.is_empty() => args[0].clone(),
        other => panic!("expected positional arguments, got {other:?}"),
    }
}

/// What a callee does with an INVOCATION (other than "stop").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// YIELD its own index.
    Yield,
    /// ERROR `wamp.error.unavailable`.
    Unavailable,
    /// Nothing: the invocation stays in flight.
    Hold,
    /// Leave the router without answering.
    Leave,
}

/// An INVOCATION a callee got: the callee's index and the call's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    callee: usize,
    arg: String,
}

/// Answers INVOCATIONs for callee `index` until a call of "stop" (answered
/// with a YIELD) or an `Answer::Leave`; then the session ends with the
/// connection.
fn serve(
    index: usize,
    mut callee: Client,
    answer: impl Fn(usize, &str) -> Answer,
    reports: Sender<Served>,
) {
    let yielded = |request| Message::Yield {
        request,
        options: Dict::new(),
        payload: Payload::args(vec![Value::UInt(index as u64)]),
    };
    loop {
        let (request, payload) = match callee.recv() {
            Message::Invocation {
                request, payload, ..
            } => (request, payload),
            Message::Interrupt { .. } => continue,
            other => panic!("callee {index}: expected INVOCATION, got {other:?}"),
        };
        let arg = first_arg(&payload)
            .as_str()
            .expect("a string argument")
            .to_string();
        if arg == "stop" {
            callee.send(&yielded(request));
            return;
        }
        let how = answer(index, &arg);
        reports
            .send(Served { callee: index, arg })
            .expect("the test reads the reports");
        match how {
            Answer::Yield => callee.send(&yielded(request)),
            Answer::Unavailable => callee.send(&Message::Error {
                request_type: code::INVOCATION,
                request,
                details: Dict::new(),
                error: Text::from("wamp.error.unavailable"),
                payload: Payload::empty(),
            }),
            Answer::Hold => {}
            Answer::Leave => return,
        }
    }
}

/// The callees of one procedure, each served by a thread of its own.
struct Callees {
    threads: Vec<JoinHandle<()>>,
    tx: Sender<Served>,
    rx: Receiver<Served>,
}

impl Callees {
    /// `n` callees joining one registration of `procedure` with invocation
    /// policy `policy` (`None`: no `invoke` option), one after another
    /// (callee i is the i-th in registration order), callee i on shard
    /// i % router.shards, each answering by `answer(i, argument)`.
    fn register<F>(
        router: &Router,
        setup: Setup,
        procedure: &str,
        policy: Option<&str>,
        n: usize,
        answer: F,
    ) -> Callees
    where
        F: Fn(usize, &str) -> Answer + Clone + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let mut callees = Callees {
            threads: Vec::new(),
            tx,
            rx,
        };
        let options = policy.map_or_else(Dict::new, invoke);
        let mut id = None;
        for i in 0..n {
            let mut callee = router.join_on_with(setup, i % router.shards, advanced_roles());
            let got = callee
                .register_with(procedure, options.clone())
                .unwrap_or_else(|e| panic!("callee {i} of {procedure} refused: {e:?}"));
            assert_eq!(*id.get_or_insert(got), got, "one registration ID");
            callees.spawn(callee, answer.clone());
        }
        callees
    }

    /// Serves `callee` from a new thread; returns its index.
    fn spawn(
        &mut self,
        callee: Client,
        answer: impl Fn(usize, &str) -> Answer + Send + 'static,
    ) -> usize {
        let index = self.threads.len();
        let reports = self.tx.clone();
        let thread = thread::spawn(move || serve(index, callee, answer, reports));
        self.threads.push(thread);
        index
    }

    /// The next INVOCATION reported (fails after `RECV_TIMEOUT`).
    fn next_served(&self) -> Served {
        self.rx
            .recv_timeout(RECV_TIMEOUT)
            .expect("a callee reports an INVOCATION")
    }

    /// The indices of the callees that got the INVOCATIONs reported since
    /// the last look, in order.
    fn served(&self) -> Vec<usize> {
        self.rx.try_iter().map(|s| s.callee).collect()
    }

    /// Calls `procedure` with "stop" until every callee thread has ended
    /// (a call routed to a callee already gone fails: it is only retried),
    /// then joins them.
    fn stop(self, caller: &mut Client, procedure: &str) {
        let mut rounds = 0;
        while self.threads.iter().any(|t| !t.is_finished()) {
            rounds += 1;
            assert!(
                rounds < 10_000,
                "callees still serving after {rounds} stops"
            );
            let request = caller.call(procedure, arg("stop"));
            // Answers of earlier calls (held calls canceled as their callee leaves) are skipped.
            loop {
                match caller.recv() {
                    Message::Result { request: r, .. } | Message::Error { request: r, .. }
                        if r == request =>
                    {
                        break
                    }
                    _ => {}
                }
            }
        }
        for thread in self.threads {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// The answer to call `request`: the index of the callee that answered, or the error URI.
fn outcome(caller: &mut Client, request: RequestId) -> Result<usize, String> {
    match caller.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => Ok(first_arg(&payload).as_u64().expect("a callee index") as usize),
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Err(error.as_str().to_string()),
        other => panic!("expected the answer to call {request:?}, got {other:?}"),
    }
}

/// Calls `procedure` with argument `what` and waits for the answer.
fn call(caller: &mut Client, procedure: &str, what: &str) -> Result<usize, String> {
    let request = caller.call(procedure, arg(what));
    outcome(caller, request)
}

/// A joined client of `setup` on `shard` whose RawSocket handshake
/// announces `max` bytes as its receive limit. (`Client::connect` opens a
/// transport with the default limit; it is replaced before HELLO.)
fn join_limited(router: &Router, setup: Setup, shard: usize, max: usize) -> Client {
    let url = router.url(setup.kind);
    for _ in 0..500 {
        let mut c = Client::connect(&url, setup.serializer);
        c.conn = blocking::Client::connect_with_limit(&url, setup.serializer, RECV_TIMEOUT, max)
            .expect("transport connects");
        match c.hello(&setup.realm()) {
            Message::Welcome { session, .. } => c.session = session,
            other => panic!("expected WELCOME, got {other:?}"),
        }
        if c.session.0 % router.shards as u64 == shard as u64 {
            return c;
        }
    }
    panic!("no session landed on shard {shard} in 500 tries");
}

/// `d[key]` as a dict.
fn dict<'a>(d: &'a Dict, key: &str) -> &'a Dict {
    d.get_dict(key)
        .expect("a dict")
        .unwrap_or_else(|| panic!("no {key} in {d:?}"))
}

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
        caller.call(procedure, arg("hold"));
        let first_holder = callees.next_served();
        caller.call(procedure, arg("hold"));
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
            let request = caller.call(&procedure, arg("leave"));
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
        let request = caller.call(procedure, arg("big"));
        callee.serve_one(|_| arg(&big));
        assert_eq!(
            outcome(&mut caller, request),
            Err(PAYLOAD_SIZE_EXCEEDED.into())
        );
        // The callee is still connected, and so is the caller.
        let request = caller.call(procedure, arg("small"));
        let got = callee.serve_one(|_| Payload::args(vec![Value::UInt(7)]));
        assert_same_payload(&got, &arg("small"));
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
        let request = caller.call(procedure, arg(&"x".repeat(2 * LIMIT)));
        assert_eq!(
            outcome(&mut caller, request),
            Err(PAYLOAD_SIZE_EXCEEDED.into())
        );
        // The next INVOCATION the callee gets is the next call's.
        let request = caller.call(procedure, arg("small"));
        let got = callee.serve_one(|_| Payload::args(vec![Value::UInt(8)]));
        assert_same_payload(&got, &arg("small"));
        assert_eq!(outcome(&mut caller, request), Ok(8));
    });
}
