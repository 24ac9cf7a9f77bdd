//! The harness of the shared-registration tests: callees served from
//! threads of their own (a blocking client waits on one socket), each
//! reporting every INVOCATION over a channel before it answers, so once the
//! caller has the answer of a call, every report of that call is in the
//! channel; plus joins with a size-limited RawSocket transport.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use switchyard::transport::blocking;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, RequestId, Text, Value};

/// The invocation policies of shared registrations.
pub const SHARED: [&str; 5] = ["roundrobin", "random", "first", "last", "least_loaded"];

/// Every invocation policy.
pub const ALL: [&str; 6] = [
    "single",
    "roundrobin",
    "random",
    "first",
    "last",
    "least_loaded",
];

pub const PROCEDURE_ALREADY_EXISTS: &str = "wamp.error.procedure_already_exists";
pub const CANCELED: &str = "wamp.error.canceled";
pub const NO_AVAILABLE_CALLEE: &str = "wamp.error.no_available_callee";
pub const PAYLOAD_SIZE_EXCEEDED: &str = "wamp.error.payload_size_exceeded";

/// The receive limit of size-limited RawSocket clients.
pub const LIMIT: usize = 4096;

/// REGISTER.Options asking for invocation policy `policy`.
pub fn invoke(policy: &str) -> Dict {
    Dict::new().with("invoke", policy)
}

/// A payload of one string argument.
pub fn text_arg(s: &str) -> Payload {
    Payload::args(vec![Value::str(s)])
}

/// The first positional argument of `payload`.
pub fn first_value(payload: &Payload) -> Value {
    match payload.to_values().expect("a decodable payload") {
        (Some(Value::List(args)), _) if !args.is_empty() => args[0].clone(),
        other => panic!("expected positional arguments, got {other:?}"),
    }
}

/// What a callee does with an INVOCATION (other than "stop").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
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
pub struct Served {
    pub callee: usize,
    pub arg: String,
}

/// Answers INVOCATIONs for callee `index` until a call of "stop" (answered
/// with a YIELD) or an `Answer::Leave`; then the session ends with the
/// connection.
pub fn serve(
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
        let arg = first_value(&payload)
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
pub struct Callees {
    pub threads: Vec<JoinHandle<()>>,
    pub tx: Sender<Served>,
    pub rx: Receiver<Served>,
}

impl Callees {
    /// `n` callees joining one registration of `procedure` with invocation
    /// policy `policy` (`None`: no `invoke` option), one after another
    /// (callee i is the i-th in registration order), callee i on shard
    /// i % router.shards, each answering by `answer(i, argument)`.
    pub fn register<F>(
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
    pub fn spawn(
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
    pub fn next_served(&self) -> Served {
        self.rx
            .recv_timeout(RECV_TIMEOUT)
            .expect("a callee reports an INVOCATION")
    }

    /// The indices of the callees that got the INVOCATIONs reported since
    /// the last look, in order.
    pub fn served(&self) -> Vec<usize> {
        self.rx.try_iter().map(|s| s.callee).collect()
    }

    /// Calls `procedure` with "stop" until every callee thread has ended
    /// (a call routed to a callee already gone fails: it is only retried),
    /// then joins them.
    pub fn stop(self, caller: &mut Client, procedure: &str) {
        let mut rounds = 0;
        while self.threads.iter().any(|t| !t.is_finished()) {
            rounds += 1;
            assert!(
                rounds < 10_000,
                "callees still serving after {rounds} stops"
            );
            let request = caller.call(procedure, text_arg("stop"));
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
pub fn outcome(caller: &mut Client, request: RequestId) -> Result<usize, String> {
    match caller.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => Ok(first_value(&payload).as_u64().expect("a callee index") as usize),
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
pub fn call(caller: &mut Client, procedure: &str, what: &str) -> Result<usize, String> {
    let request = caller.call(procedure, text_arg(what));
    outcome(caller, request)
}

/// A joined client of `setup` on `shard` whose RawSocket handshake
/// announces `max` bytes as its receive limit. (`Client::connect` opens a
/// transport with the default limit; it is replaced before HELLO.)
pub fn join_limited(router: &Router, setup: Setup, shard: usize, max: usize) -> Client {
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
pub fn dict<'a>(d: &'a Dict, key: &str) -> &'a Dict {
    d.get_dict(key)
        .expect("a dict")
        .unwrap_or_else(|| panic!("no {key} in {d:?}"))
}
