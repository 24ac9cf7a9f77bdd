//! Test harness: an in-process router on free loopback ports, and a small
//! blocking WAMP client over the project's own transport and codecs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod apt;
pub mod auth;
pub mod bridge;
pub mod exchange;
pub mod http;
pub mod loadgen;
pub mod metrics;
pub mod process;
pub mod tls;

use bytes::Bytes;
use std::time::Duration;
use switchyard::runtime::{self, RouterOptions, Running};
use switchyard::shard::RealmSettings;
use switchyard::transport::blocking;
use switchyard::wire::message::code;
use switchyard::wire::{
    decode, encode_to_bytes, Dict, Message, Payload, PublicationId, RegistrationId, RequestId,
    Serializer, SessionId, SubscriptionId, Text, Value,
};

/// How long a client waits for an expected message before the test fails.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// Transport kinds under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WebSocket,
    RawSocket,
}

/// One combination of the test matrix.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub shards: usize,
    pub kind: Kind,
    pub serializer: Serializer,
}

impl Setup {
    /// A realm of its own, so scenarios of different setups never share
    /// procedures or topics (a departed session's cleanup is asynchronous).
    pub fn realm(&self) -> String {
        format!(
            "test.{}.{:?}.{}",
            self.shards,
            self.kind,
            self.serializer.name()
        )
        .to_lowercase()
    }
}

/// Every combination: 1, 2 and 3 shards x WebSocket/RawSocket x JSON/MsgPack/CBOR.
pub fn matrix() -> Vec<Setup> {
    let mut all = Vec::new();
    for shards in 1..=3 {
        for kind in [Kind::WebSocket, Kind::RawSocket] {
            for serializer in Serializer::ALL {
                all.push(Setup {
                    shards,
                    kind,
                    serializer,
                });
            }
        }
    }
    all
}

/// Runs `scenario` once per shard count, with a fresh router, for every transport x serializer.
pub fn for_each_setup(scenario: impl Fn(&Router, Setup)) {
    for shards in 1..=3 {
        let router = Router::start(shards);
        for setup in matrix().into_iter().filter(|s| s.shards == shards) {
            eprintln!("-- {setup:?}");
            scenario(&router, setup);
        }
    }
}

/// A router running in this process.
pub struct Router {
    pub running: Running,
    pub shards: usize,
}

impl Router {
    pub fn start(shards: usize) -> Router {
        Router::start_with(RouterOptions::local(shards))
    }

    /// `opts` plus a realm per setup of the matrix.
    fn with_test_realms(mut opts: RouterOptions) -> RouterOptions {
        opts.settings
            .realms
            .extend(matrix().iter().map(|s| RealmSettings::open(s.realm())));
        opts
    }

    pub fn start_with(opts: RouterOptions) -> Router {
        let opts = Router::with_test_realms(opts);
        let shards = opts.shards;
        Router {
            running: runtime::start(opts).expect("router starts"),
            shards,
        }
    }

    pub fn url(&self, kind: Kind) -> String {
        match kind {
            Kind::WebSocket => format!("ws://{}/ws", self.running.websocket_addr().unwrap()),
            Kind::RawSocket => format!("rs://{}", self.running.rawsocket_addr().unwrap()),
        }
    }

    /// A joined client of `setup`, in the setup's own realm.
    pub fn join(&self, setup: Setup) -> Client {
        Client::join(&self.url(setup.kind), setup.serializer, &setup.realm())
    }

    /// A joined client whose session lives on `shard` (session IDs encode their shard).
    pub fn join_on(&self, setup: Setup, shard: usize) -> Client {
        self.join_on_in(setup, shard, &setup.realm())
    }

    /// `join_on`, in `realm` (for peers of different setups that must meet).
    pub fn join_on_in(&self, setup: Setup, shard: usize, realm: &str) -> Client {
        self.join_on_as(setup, shard, realm, roles())
    }

    /// `join_on`, announcing `roles` (e.g. `advanced_roles()`).
    pub fn join_on_with(&self, setup: Setup, shard: usize, roles: Dict) -> Client {
        self.join_on_as(setup, shard, &setup.realm(), roles)
    }

    /// A joined client on `shard`, in `realm`, announcing `roles`.
    pub fn join_on_as(&self, setup: Setup, shard: usize, realm: &str, roles: Dict) -> Client {
        for _ in 0..500 {
            let mut c = Client::join_with(
                &self.url(setup.kind),
                setup.serializer,
                realm,
                roles.clone(),
            );
            if c.session.0 % self.shards as u64 == shard as u64 {
                return c;
            }
            // Closed before the next try, so no test counts a stray session.
            c.goodbye();
        }
        panic!("no session landed on shard {shard} in 500 tries");
    }
}

/// A blocking WAMP client.
pub struct Client {
    pub conn: blocking::Client,
    pub serializer: Serializer,
    pub session: SessionId,
    next_request: u64,
}

pub fn roles() -> Dict {
    let r = |n: &str| (n.to_string(), Dict::new());
    let mut d = Dict::new();
    for (name, v) in [r("publisher"), r("subscriber"), r("caller"), r("callee")] {
        d.insert(&name, v);
    }
    d
}

/// Every role, announcing the Advanced RPC features the router offers
/// (call canceling, progressive results and invocations, caller identification).
pub fn advanced_roles() -> Dict {
    let features = |names: &[&str]| {
        let mut f = Dict::new();
        for n in names {
            f.insert(n, Value::Bool(true));
        }
        Dict::new().with("features", f)
    };
    let common = [
        "call_canceling",
        "progressive_call_results",
        "progressive_call_invocations",
        "caller_identification",
    ];
    let mut callee = common.to_vec();
    callee.push("shared_registration");
    Dict::new()
        .with("caller", features(&common))
        .with("callee", features(&callee))
        .with("publisher", Dict::new())
        .with("subscriber", Dict::new())
}

impl Client {
    /// Opens the transport only.
    pub fn connect(url: &str, serializer: Serializer) -> Client {
        let conn =
            blocking::Client::connect(url, serializer, RECV_TIMEOUT).expect("transport connects");
        Client {
            conn,
            serializer,
            session: SessionId(0),
            next_request: 0,
        }
    }

    /// A session on `realm` over an already connected transport (e.g. one
    /// that negotiated compression).
    pub fn join_over(conn: blocking::Client, serializer: Serializer, realm: &str) -> Client {
        let mut c = Client {
            conn,
            serializer,
            session: SessionId(0),
            next_request: 0,
        };
        match c.hello(realm) {
            Message::Welcome { session, .. } => c.session = session,
            other => panic!("expected WELCOME, got {other:?}"),
        }
        c
    }

    /// Opens the transport and a session on `realm`.
    pub fn join(url: &str, serializer: Serializer, realm: &str) -> Client {
        Client::join_with(url, serializer, realm, roles())
    }

    /// Opens the transport and a session on `realm`, announcing `roles`.
    pub fn join_with(url: &str, serializer: Serializer, realm: &str, roles: Dict) -> Client {
        let mut c = Client::connect(url, serializer);
        c.send(&Message::Hello {
            realm: Text::from(realm),
            details: Dict::new().with("roles", roles),
        });
        match c.recv() {
            Message::Welcome { session, .. } => c.session = session,
            other => panic!("expected WELCOME, got {other:?}"),
        }
        c
    }

    /// Sends HELLO and returns the answer.
    pub fn hello(&mut self, realm: &str) -> Message {
        self.send(&Message::Hello {
            realm: Text::from(realm),
            details: Dict::new().with("roles", roles()),
        });
        self.recv()
    }

    /// Sends HELLO offering `authmethods` and returns the answer.
    pub fn hello_with(&mut self, realm: &str, authmethods: &[&str]) -> Message {
        let methods = authmethods.iter().map(|m| Value::str(*m)).collect();
        self.send(&Message::Hello {
            realm: Text::from(realm),
            details: Dict::new()
                .with("roles", roles())
                .with("authmethods", Value::List(methods)),
        });
        self.recv()
    }

    pub fn send(&mut self, msg: &Message) {
        self.conn
            .send(&encode_to_bytes(self.serializer, msg))
            .expect("send");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.conn.send(bytes).expect("send");
    }

    /// The next message (fails the test after `RECV_TIMEOUT`).
    pub fn recv(&mut self) -> Message {
        let frame: Bytes = self.conn.recv().expect("a message before the timeout");
        decode(self.serializer, frame).expect("the router sends valid messages")
    }

    /// The next message, or `None` if the transport closed.
    pub fn recv_or_closed(&mut self) -> Option<Message> {
        let frame = self.conn.recv().ok()?;
        Some(decode(self.serializer, frame).expect("the router sends valid messages"))
    }

    /// Asserts the transport is closed (after reading anything still queued).
    pub fn expect_closed(&mut self) {
        while let Some(m) = self.recv_or_closed() {
            assert!(
                matches!(m, Message::Goodbye { .. } | Message::Abort { .. }),
                "unexpected {m:?} before close"
            );
        }
    }

    pub fn request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    pub fn subscribe(&mut self, topic: &str) -> SubscriptionId {
        let request = self.request();
        self.send(&Message::Subscribe {
            request,
            options: Dict::new(),
            topic: Text::from(topic),
        });
        match self.recv() {
            Message::Subscribed {
                request: r,
                subscription,
            } if r == request => subscription,
            other => panic!("expected SUBSCRIBED, got {other:?}"),
        }
    }

    pub fn publish(&mut self, topic: &str, options: Dict, payload: Payload) -> RequestId {
        let request = self.request();
        self.send(&Message::Publish {
            request,
            options,
            topic: Text::from(topic),
            payload,
        });
        request
    }

    /// An acknowledged publish; returns the publication ID.
    pub fn publish_acked(&mut self, topic: &str, payload: Payload) -> PublicationId {
        let request = self.publish(topic, Dict::new().with("acknowledge", true), payload);
        match self.recv() {
            Message::Published {
                request: r,
                publication,
            } if r == request => publication,
            other => panic!("expected PUBLISHED, got {other:?}"),
        }
    }

    pub fn register(&mut self, procedure: &str) -> Result<RegistrationId, Text> {
        self.register_with(procedure, Dict::new())
    }

    /// REGISTER with `options`; the registration ID or the error URI.
    pub fn register_with(
        &mut self,
        procedure: &str,
        options: Dict,
    ) -> Result<RegistrationId, Text> {
        let request = self.request();
        self.send(&Message::Register {
            request,
            options,
            procedure: Text::from(procedure),
        });
        match self.recv() {
            Message::Registered {
                request: r,
                registration,
            } if r == request => Ok(registration),
            Message::Error {
                request_type: code::REGISTER,
                request: r,
                error,
                ..
            } if r == request => Err(error),
            other => panic!("expected REGISTERED, got {other:?}"),
        }
    }

    pub fn call(&mut self, procedure: &str, payload: Payload) -> RequestId {
        self.call_with(procedure, Dict::new(), payload)
    }

    /// CALL with `options`.
    pub fn call_with(&mut self, procedure: &str, options: Dict, payload: Payload) -> RequestId {
        let request = self.request();
        self.send(&Message::Call {
            request,
            options,
            procedure: Text::from(procedure),
            payload,
        });
        request
    }

    /// Receives an INVOCATION and answers it with YIELD(payload).
    pub fn serve_one(&mut self, reply: impl FnOnce(&Payload) -> Payload) -> Payload {
        match self.recv() {
            Message::Invocation {
                request, payload, ..
            } => {
                let out = reply(&payload);
                self.send(&Message::Yield {
                    request,
                    options: Dict::new(),
                    payload: out,
                });
                payload
            }
            other => panic!("expected INVOCATION, got {other:?}"),
        }
    }

    pub fn goodbye(&mut self) {
        self.send(&Message::Goodbye {
            details: Dict::new(),
            reason: Text::from("wamp.close.close_realm"),
        });
        match self.recv() {
            Message::Goodbye { .. } => {}
            other => panic!("expected GOODBYE, got {other:?}"),
        }
    }
}

/// A payload with positional and keyword arguments, including binary.
pub fn sample_payload(n: u64) -> Payload {
    Payload::from_values(
        Some(vec![
            Value::UInt(n),
            "text".into(),
            Value::Bytes(Bytes::from_static(&[0, 1, 2, 255])),
        ]),
        Some(Dict::new().with(
            "k",
            Value::List(vec![Value::Bool(true), Value::Null, Value::Float(1.5)]),
        )),
    )
}

/// A payload of one integer argument.
pub fn arg(n: u64) -> Payload {
    Payload::args(vec![Value::UInt(n)])
}

/// The first argument of a payload, an integer.
pub fn first_arg(p: &Payload) -> u64 {
    match p.to_values().unwrap().0 {
        Some(Value::List(args)) => match args.first() {
            Some(Value::UInt(n)) => *n,
            other => panic!("expected an integer argument, got {other:?}"),
        },
        other => panic!("expected arguments, got {other:?}"),
    }
}

/// Asserts two payloads hold the same values.
pub fn assert_same_payload(got: &Payload, want: &Payload) {
    assert_eq!(got.to_values().unwrap(), want.to_values().unwrap());
}

/// The ABORT reason of a message, or a failure.
pub fn abort_reason(m: &Message) -> &str {
    match m {
        Message::Abort { reason, .. } => reason.as_str(),
        other => panic!("expected ABORT, got {other:?}"),
    }
}
