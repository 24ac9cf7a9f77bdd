//! Helpers shared by the meta API event tests (`meta_session_events`,
//! `meta_subscription_events`, `meta_registration_events`, `meta_testaments`,
//! `meta_off_realm`): routers with realms per setup, scenes, observers
//! (`observers.rs`), fences and client helpers.
//!
//! "Nothing else arrived" is proven by order, never by waiting. Events one
//! shard publishes reach a session in the order it published them (one FIFO
//! channel per pair of shards), and every meta event of a kind has a known
//! publisher: a session's shard for `on_join` / `on_leave` (and its
//! testaments), the home shard of a subscription's or registration's key
//! for the events about it. So after the expected events, a fence makes
//! every shard publish an event the observers must get next (a session
//! joining and leaving there, a subscription or registration homed there
//! made and undone, or a plain publication from there): whatever a shard
//! published before its fence came before it.
//!
//! Every scenario that ends sessions uses a realm of its own, so no event
//! of one reaches the observers of the next. The observers skip the meta
//! events about the observers themselves (their subscriptions to the meta
//! topics) and about the sessions a join discarded for landing on another
//! shard (see `Scene`).
#![allow(dead_code, clippy::unwrap_used)]

mod observers;

pub use observers::*;

use crate::common::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use switchyard::routing::{home_shard, MatchPolicy};
use switchyard::runtime::RouterOptions;
use switchyard::shard::RealmSettings;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, SubscriptionId, Text, Value};

pub const ON_JOIN: &str = "wamp.session.on_join";
pub const ON_LEAVE: &str = "wamp.session.on_leave";
pub const SUB_CREATE: &str = "wamp.subscription.on_create";
pub const SUB_SUBSCRIBE: &str = "wamp.subscription.on_subscribe";
pub const SUB_UNSUBSCRIBE: &str = "wamp.subscription.on_unsubscribe";
pub const SUB_DELETE: &str = "wamp.subscription.on_delete";
pub const REG_CREATE: &str = "wamp.registration.on_create";
pub const REG_REGISTER: &str = "wamp.registration.on_register";
pub const REG_UNREGISTER: &str = "wamp.registration.on_unregister";
pub const REG_DELETE: &str = "wamp.registration.on_delete";

pub const SESSION_EVENTS: [&str; 2] = [ON_JOIN, ON_LEAVE];
pub const SUBSCRIPTION_EVENTS: [&str; 4] = [SUB_CREATE, SUB_SUBSCRIBE, SUB_UNSUBSCRIBE, SUB_DELETE];
pub const REGISTRATION_EVENTS: [&str; 4] = [REG_CREATE, REG_REGISTER, REG_UNREGISTER, REG_DELETE];

pub const ADD_TESTAMENT: &str = "wamp.session.add_testament";
pub const FLUSH_TESTAMENTS: &str = "wamp.session.flush_testaments";
pub const TESTAMENT_ERROR: &str = "wamp.error.testament_error";
pub const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";

/// First arguments from here on mark fence publications.
pub const SENTINEL: u64 = 1_000_000;

/// Realms with the meta API per setup (one per scenario that needs its own).
pub const REALMS: usize = 12;

pub const POLICIES: [&str; 3] = ["exact", "prefix", "wildcard"];

// ---------------------------------------------------------------------------
// Routers, realms, scenes

/// The `i`th realm with the meta API of `setup`.
pub fn meta_realm(setup: Setup, i: usize) -> String {
    format!("meta{i}.{}", setup.realm())
}

/// The realm of `setup` with the meta API switched off.
pub fn meta_off_realm(setup: Setup) -> String {
    format!("nometa.{}", setup.realm())
}

/// A router of `shards` shards with, per setup, `REALMS` realms with the
/// meta API and one without.
pub fn router(shards: usize) -> Router {
    let mut opts = RouterOptions::local(shards);
    for setup in matrix().into_iter().filter(|s| s.shards == shards) {
        for i in 0..REALMS {
            opts.settings
                .realms
                .push(RealmSettings::open(meta_realm(setup, i)));
        }
        let mut off = RealmSettings::open(meta_off_realm(setup));
        off.pubsub.meta_api = false;
        off.rpc.meta_api = false;
        opts.settings.realms.push(off);
    }
    Router::start_with(opts)
}

/// One setup on one router, handing out its realms.
pub struct Setting<'a> {
    pub router: &'a Router,
    pub setup: Setup,
    pub used: Cell<usize>,
}

impl Setting<'_> {
    pub fn shards(&self) -> usize {
        self.router.shards
    }

    /// A scene in a realm with the meta API nobody used yet.
    pub fn scene(&self) -> Scene<'_> {
        let i = self.used.get();
        assert!(i < REALMS, "raise REALMS");
        self.used.set(i + 1);
        self.scene_in(meta_realm(self.setup, i))
    }

    /// The scene of the realm without the meta API.
    pub fn scene_without_meta(&self) -> Scene<'_> {
        self.scene_in(meta_off_realm(self.setup))
    }

    pub fn scene_in(&self, realm: String) -> Scene<'_> {
        Scene {
            router: self.router,
            setup: self.setup,
            realm,
            skipped: Rc::default(),
            names: Cell::new(0),
        }
    }
}

/// Runs `scenario` for every setup, with a fresh router per shard count.
pub fn for_each_setting(scenario: impl Fn(&Setting)) {
    for shards in 1..=3 {
        let router = router(shards);
        for setup in matrix().into_iter().filter(|s| s.shards == shards) {
            eprintln!("-- {setup:?}");
            scenario(&Setting {
                router: &router,
                setup,
                used: Cell::new(0),
            });
        }
    }
}

/// Sessions of one realm.
pub struct Scene<'a> {
    pub router: &'a Router,
    pub setup: Setup,
    pub realm: String,
    /// The sessions whose meta events observers skip: the observers, and
    /// the sessions a join discarded for landing on another shard (they
    /// come and go at their own pace).
    pub skipped: Rc<RefCell<HashSet<u64>>>,
    /// URIs handed out by `homed`.
    pub names: Cell<usize>,
}

impl Scene<'_> {
    pub fn shards(&self) -> usize {
        self.router.shards
    }

    /// A session on `shard` speaking `serializer`, and its WELCOME.Details.
    pub fn join_as(&self, shard: usize, serializer: Serializer) -> (Client, Dict) {
        let url = self.router.url(self.setup.kind);
        for _ in 0..500 {
            let mut c = Client::connect(&url, serializer);
            c.send(&Message::Hello {
                realm: Text::from(self.realm.as_str()),
                details: Dict::new().with("roles", roles()),
            });
            let details = match c.recv() {
                Message::Welcome { session, details } => {
                    c.session = session;
                    details
                }
                other => panic!("expected WELCOME, got {other:?}"),
            };
            if c.session.0 % self.shards() as u64 == shard as u64 {
                return (c, details);
            }
            self.skipped.borrow_mut().insert(c.session.0);
        }
        panic!("no session landed on shard {shard} in 500 tries");
    }

    /// A session on `shard`, and its WELCOME.Details.
    pub fn join_on(&self, shard: usize) -> (Client, Dict) {
        self.join_as(shard, self.setup.serializer)
    }

    /// A session on `shard`.
    pub fn join(&self, shard: usize) -> Client {
        self.join_on(shard).0
    }

    /// An observer on every shard (index = shard), subscribed to `topics`
    /// (see `Observer::subscribe`).
    pub fn observers(&self, topics: &[&str]) -> Vec<Observer> {
        let mut all: Vec<Observer> = (0..self.shards())
            .map(|shard| {
                let c = self.join(shard);
                self.skipped.borrow_mut().insert(c.session.0);
                Observer {
                    c,
                    topics: Vec::new(),
                    early: VecDeque::new(),
                    skipped: self.skipped.clone(),
                }
            })
            .collect();
        for o in &mut all {
            for topic in topics {
                o.subscribe(topic);
            }
        }
        all
    }

    /// A new URI under `prefix` for `policy` ("exact", "prefix", "wildcard")
    /// whose home shard is `home`.
    pub fn homed(&self, prefix: &str, home: usize, policy: &str) -> String {
        let k = self.names.get();
        self.names.set(k + 1);
        let match_policy = MatchPolicy::from_name(policy).unwrap();
        (0..10_000)
            .map(|i| match policy {
                "exact" => format!("{prefix}.n{k}.e{i}"),
                "prefix" => format!("{prefix}.n{k}.p{i}."),
                _ => format!("{prefix}.n{k}..w{i}"),
            })
            .find(|uri| home_shard(&self.realm, uri, match_policy, self.shards()) == home)
            .expect("a URI for every home shard")
    }
}

// ---------------------------------------------------------------------------
// Client helpers

pub fn subscribe_with(c: &mut Client, topic: &str, policy: &str) -> u64 {
    let request = c.request();
    c.send(&Message::Subscribe {
        request,
        options: Dict::new().with("match", policy),
        topic: topic.into(),
    });
    match c.recv() {
        Message::Subscribed {
            request: r,
            subscription,
        } if r == request => subscription.0,
        other => panic!("expected SUBSCRIBED for {topic}, got {other:?}"),
    }
}

pub fn unsubscribe(c: &mut Client, id: u64) {
    let request = c.request();
    c.send(&Message::Unsubscribe {
        request,
        subscription: SubscriptionId(id),
        options: Dict::new(),
    });
    match c.recv() {
        Message::Unsubscribed { request: r, .. } if r == request => {}
        other => panic!("expected UNSUBSCRIBED, got {other:?}"),
    }
}

pub fn register_with(c: &mut Client, procedure: &str, options: Dict) -> Result<u64, String> {
    c.register_with(procedure, options)
        .map(|id| id.0)
        .map_err(|e| e.to_string())
}

pub fn unregister(c: &mut Client, id: u64) {
    let request = c.request();
    c.send(&Message::Unregister {
        request,
        registration: switchyard::wire::RegistrationId(id),
        options: Dict::new(),
    });
    match c.recv() {
        Message::Unregistered { request: r, .. } if r == request => {}
        other => panic!("expected UNREGISTERED, got {other:?}"),
    }
}

/// Calls `procedure` (the caller subscribes to nothing): the RESULT's
/// arguments and keyword arguments, or the ERROR's URI.
pub fn call(
    c: &mut Client,
    procedure: &str,
    args: Vec<Value>,
    kwargs: Dict,
) -> Result<(Vec<Value>, Dict), String> {
    let kwargs = (!kwargs.is_empty()).then_some(kwargs);
    let request = c.call(procedure, Payload::from_values(Some(args), kwargs));
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => Ok(values(&payload)),
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Err(error.to_string()),
        other => panic!("expected the answer of {procedure}, got {other:?}"),
    }
}

/// `add_testament(topic, args[, kwargs])` with keyword arguments `options`
/// (`publish_options`, `scope`); asserts a success is an empty RESULT.
pub fn add_testament(
    c: &mut Client,
    topic: &str,
    args: Vec<Value>,
    kwargs: Option<Dict>,
    options: Dict,
) -> Result<(), String> {
    let mut a = vec![Value::str(topic), Value::List(args)];
    a.extend(kwargs.map(Value::Dict));
    let answer = call(c, ADD_TESTAMENT, a, options)?;
    assert_eq!(
        answer,
        (vec![], Dict::new()),
        "add_testament answers nothing"
    );
    Ok(())
}

/// `flush_testaments(scope=?)`: how many it dropped, or the error.
pub fn flush_testaments(c: &mut Client, scope: Option<Value>) -> Result<u64, String> {
    let mut kwargs = Dict::new();
    if let Some(s) = scope {
        kwargs.insert("scope", s);
    }
    let (args, _) = call(c, FLUSH_TESTAMENTS, vec![], kwargs)?;
    match args.as_slice() {
        [Value::UInt(n)] => Ok(*n),
        other => panic!("flush_testaments answers [count], got {other:?}"),
    }
}

pub fn scope(s: &str) -> Dict {
    Dict::new().with("scope", s)
}

/// How a session ends.
#[derive(Debug, Clone, Copy)]
pub enum End {
    Goodbye,
    Dropped,
    Killed,
}

pub const ENDS: [End; 3] = [End::Goodbye, End::Dropped, End::Killed];

/// Ends `leaver`'s session `how` (`killer` calls `wamp.session.kill`). Until
/// its GOODBYE, `leaver` may only get events about the sessions of `skipped`,
/// never one about itself.
pub fn end(mut leaver: Client, how: End, killer: &mut Client, skipped: &HashSet<u64>) {
    match how {
        End::Dropped => return drop(leaver),
        End::Goodbye => leaver.send(&Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.close_realm".into(),
        }),
        End::Killed => {
            let id = uint(leaver.session.0);
            let killed = call(killer, "wamp.session.kill", vec![id], Dict::new());
            assert_eq!(killed, Ok((vec![], Dict::new())));
        }
    }
    loop {
        match leaver.recv() {
            Message::Goodbye { .. } => break,
            Message::Event { payload, .. } => {
                let about = values(&payload).0.first().and_then(Value::as_u64);
                let other = about.is_some_and(|s| skipped.contains(&s));
                assert!(
                    other,
                    "{how:?}: the leaver got an event {about:?} before GOODBYE"
                );
            }
            other => panic!("{how:?}: expected GOODBYE, got {other:?}"),
        }
    }
    // A killed session's transport is closed; after its own GOODBYE a
    // client may open another session on it.
    if let End::Killed = how {
        leaver.expect_closed();
    }
}

pub fn features_of(welcome: &Dict, role: &str) -> Dict {
    welcome
        .get_dict("roles")
        .unwrap()
        .and_then(|r| r.get_dict(role).unwrap())
        .and_then(|d| d.get_dict("features").unwrap())
        .cloned()
        .unwrap_or_default()
}

/// The meta features and the roles announcing them.
pub const META_FEATURES: [(&str, &str); 5] = [
    ("broker", "session_meta_api"),
    ("broker", "subscription_meta_api"),
    ("dealer", "session_meta_api"),
    ("dealer", "registration_meta_api"),
    ("dealer", "testament_meta_api"),
];

/// One of the two serializers other than `s` (the joiners of some
/// scenarios speak another one than their observers).
pub fn other_serializer(s: Serializer, n: usize) -> Serializer {
    Serializer::ALL[(s.index() + 1 + n % 2) % 3]
}

/// Sends SUBSCRIBE (REGISTER if not `subscribe`) for `uri` and drops the
/// transport at once, before the answer.
pub fn ask_and_drop(mut c: Client, uri: &str, subscribe: bool) {
    let request = c.request();
    let (options, uri) = (Dict::new(), Text::from(uri));
    c.send(&if subscribe {
        Message::Subscribe {
            request,
            options,
            topic: uri,
        }
    } else {
        Message::Register {
            request,
            options,
            procedure: uri,
        }
    });
}
