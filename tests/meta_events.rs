//! The meta API's events and testaments over real sockets, for 1-3 shards x
//! WebSocket/RawSocket x every serializer, with an observer on every shard
//! and the actors on chosen shards: `wamp.session.on_join` / `on_leave`
//! (GOODBYE, dropped transport, `wamp.session.kill`), the subscription and
//! registration events in order (UNSUBSCRIBE/UNREGISTER, dropped transport,
//! kill, GOODBYE, revocation, a session gone before its SUBSCRIBED or
//! REGISTERED), meta events through pattern subscriptions, testaments
//! (`wamp.session.add_testament` / `flush_testaments`, published on
//! GOODBYE, transport loss and kill, retained on request), and a realm
//! with the meta API switched off.
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
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use switchyard::routing::{home_shard, MatchPolicy};
use switchyard::runtime::RouterOptions;
use switchyard::shard::RealmSettings;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Serializer, SubscriptionId, Text, Value};

const ON_JOIN: &str = "wamp.session.on_join";
const ON_LEAVE: &str = "wamp.session.on_leave";
const SUB_CREATE: &str = "wamp.subscription.on_create";
const SUB_SUBSCRIBE: &str = "wamp.subscription.on_subscribe";
const SUB_UNSUBSCRIBE: &str = "wamp.subscription.on_unsubscribe";
const SUB_DELETE: &str = "wamp.subscription.on_delete";
const REG_CREATE: &str = "wamp.registration.on_create";
const REG_REGISTER: &str = "wamp.registration.on_register";
const REG_UNREGISTER: &str = "wamp.registration.on_unregister";
const REG_DELETE: &str = "wamp.registration.on_delete";

const SESSION_EVENTS: [&str; 2] = [ON_JOIN, ON_LEAVE];
const SUBSCRIPTION_EVENTS: [&str; 4] = [SUB_CREATE, SUB_SUBSCRIBE, SUB_UNSUBSCRIBE, SUB_DELETE];
const REGISTRATION_EVENTS: [&str; 4] = [REG_CREATE, REG_REGISTER, REG_UNREGISTER, REG_DELETE];

const ADD_TESTAMENT: &str = "wamp.session.add_testament";
const FLUSH_TESTAMENTS: &str = "wamp.session.flush_testaments";
const TESTAMENT_ERROR: &str = "wamp.error.testament_error";
const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";

/// First arguments from here on mark fence publications.
const SENTINEL: u64 = 1_000_000;

/// Realms with the meta API per setup (one per scenario that needs its own).
const REALMS: usize = 12;

const POLICIES: [&str; 3] = ["exact", "prefix", "wildcard"];

// ---------------------------------------------------------------------------
// Routers, realms, scenes

/// The `i`th realm with the meta API of `setup`.
fn meta_realm(setup: Setup, i: usize) -> String {
    format!("meta{i}.{}", setup.realm())
}

/// The realm of `setup` with the meta API switched off.
fn meta_off_realm(setup: Setup) -> String {
    format!("nometa.{}", setup.realm())
}

/// A router of `shards` shards with, per setup, `REALMS` realms with the
/// meta API and one without.
fn router(shards: usize) -> Router {
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
struct Setting<'a> {
    router: &'a Router,
    setup: Setup,
    used: Cell<usize>,
}

impl Setting<'_> {
    fn shards(&self) -> usize {
        self.router.shards
    }

    /// A scene in a realm with the meta API nobody used yet.
    fn scene(&self) -> Scene<'_> {
        let i = self.used.get();
        assert!(i < REALMS, "raise REALMS");
        self.used.set(i + 1);
        self.scene_in(meta_realm(self.setup, i))
    }

    /// The scene of the realm without the meta API.
    fn scene_without_meta(&self) -> Scene<'_> {
        self.scene_in(meta_off_realm(self.setup))
    }

    fn scene_in(&self, realm: String) -> Scene<'_> {
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
fn for_each_setting(scenario: impl Fn(&Setting)) {
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
struct Scene<'a> {
    router: &'a Router,
    setup: Setup,
    realm: String,
    /// The sessions whose meta events observers skip: the observers, and
    /// the sessions a join discarded for landing on another shard (they
    /// come and go at their own pace).
    skipped: Rc<RefCell<HashSet<u64>>>,
    /// URIs handed out by `homed`.
    names: Cell<usize>,
}

impl Scene<'_> {
    fn shards(&self) -> usize {
        self.router.shards
    }

    /// A session on `shard` speaking `serializer`, and its WELCOME.Details.
    fn join_as(&self, shard: usize, serializer: Serializer) -> (Client, Dict) {
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
    fn join_on(&self, shard: usize) -> (Client, Dict) {
        self.join_as(shard, self.setup.serializer)
    }

    /// A session on `shard`.
    fn join(&self, shard: usize) -> Client {
        self.join_on(shard).0
    }

    /// An observer on every shard (index = shard), subscribed to `topics`
    /// (see `Observer::subscribe`).
    fn observers(&self, topics: &[&str]) -> Vec<Observer> {
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
    fn homed(&self, prefix: &str, home: usize, policy: &str) -> String {
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
// Observers

/// An event as an observer got it.
#[derive(Debug)]
struct Ev {
    /// Details.topic if there (pattern subscriptions), else the subscribed URI.
    topic: String,
    details: Dict,
    args: Vec<Value>,
    kwargs: Dict,
}

impl Ev {
    /// The session a meta event is about (its first argument, or the
    /// `session` of `on_join`'s details).
    fn about(&self) -> Option<u64> {
        if !self.topic.starts_with("wamp.") {
            return None;
        }
        match self.args.first()? {
            Value::Dict(d) => d.get("session")?.as_u64(),
            v => v.as_u64(),
        }
    }
}

/// A session subscribed to some topics; it reads events only.
struct Observer {
    c: Client,
    topics: Vec<(SubscriptionId, String)>,
    /// Events that came before a SUBSCRIBED.
    early: VecDeque<Message>,
    skipped: Rc<RefCell<HashSet<u64>>>,
}

impl Observer {
    /// Subscribes to `topic`: a prefix subscription if it ends with `.`, a
    /// wildcard one if it has an empty component, else an exact one.
    fn subscribe(&mut self, topic: &str) {
        let policy = if topic.ends_with('.') {
            "prefix"
        } else if topic.contains("..") {
            "wildcard"
        } else {
            "exact"
        };
        let request = self.c.request();
        self.c.send(&Message::Subscribe {
            request,
            options: Dict::new().with("match", policy),
            topic: topic.into(),
        });
        loop {
            match self.c.recv() {
                Message::Subscribed {
                    request: r,
                    subscription,
                } if r == request => {
                    self.topics.push((subscription, topic.to_string()));
                    return;
                }
                m @ Message::Event { .. } => self.early.push_back(m),
                other => panic!("expected SUBSCRIBED for {topic}, got {other:?}"),
            }
        }
    }

    /// The next event, skipping meta events about skipped sessions.
    fn next(&mut self) -> Ev {
        loop {
            let m = match self.early.pop_front() {
                Some(m) => m,
                None => self.c.recv(),
            };
            let Message::Event {
                subscription,
                details,
                payload,
                ..
            } = m
            else {
                panic!("expected EVENT, got {m:?}")
            };
            let subscribed = self.topics.iter().find(|(id, _)| *id == subscription);
            let topic = match (details.get_str("topic").unwrap(), subscribed) {
                (Some(t), _) => t.to_string(),
                (None, Some((_, t))) => t.clone(),
                (None, None) => panic!("EVENT of unknown subscription {subscription}"),
            };
            let (args, kwargs) = values(&payload);
            let ev = Ev {
                topic,
                details,
                args,
                kwargs,
            };
            if ev
                .about()
                .is_some_and(|s| self.skipped.borrow().contains(&s))
            {
                continue;
            }
            return ev;
        }
    }
}

/// A payload's arguments and keyword arguments (empty when absent).
fn values(p: &Payload) -> (Vec<Value>, Dict) {
    let (args, kwargs) = p.to_values().unwrap();
    let args = match args {
        None => Vec::new(),
        Some(Value::List(l)) => l,
        Some(other) => panic!("expected a list of arguments, got {other:?}"),
    };
    let kwargs = match kwargs {
        None => Dict::new(),
        Some(Value::Dict(d)) => d,
        Some(other) => panic!("expected keyword arguments, got {other:?}"),
    };
    (args, kwargs)
}

fn uint(n: u64) -> Value {
    Value::UInt(n)
}

/// `[session, id]`: the arguments of the events of one session and one
/// subscription or registration.
fn pair(c: &Client, id: u64) -> Vec<Value> {
    vec![uint(c.session.0), uint(id)]
}

fn authid(c: &Client) -> String {
    format!("anonymous-{}", c.session.0)
}

/// `on_leave`'s arguments for `c`: `[session, authid, authrole]`.
fn leave_args(c: &Client) -> Vec<Value> {
    vec![
        uint(c.session.0),
        Value::str(authid(c)),
        Value::str("anonymous"),
    ]
}

/// Every observer's next event is `topic` with arguments `args`.
fn expect_all(obs: &mut [Observer], topic: &str, args: &[Value]) {
    for (shard, o) in obs.iter_mut().enumerate() {
        let ev = o.next();
        assert_eq!(
            (ev.topic.as_str(), ev.args.as_slice()),
            (topic, args),
            "the next event of the observer on shard {shard}"
        );
    }
}

/// Every observer's next events are those of `streams`, each stream in its
/// order, the streams interleaved in any way (their publishers differ).
fn expect_interleaved(obs: &mut [Observer], streams: &[Vec<(&str, Vec<Value>)>]) {
    let total: usize = streams.iter().map(Vec::len).sum();
    for (shard, o) in obs.iter_mut().enumerate() {
        let mut next = vec![0; streams.len()];
        for _ in 0..total {
            let ev = o.next();
            let head = |s: usize| {
                streams[s]
                    .get(next[s])
                    .is_some_and(|(t, a)| *t == ev.topic && *a == ev.args)
            };
            let Some(s) = (0..streams.len()).find(|&s| head(s)) else {
                panic!(
                    "observer on shard {shard}: unexpected {ev:?}; \
                     had {next:?} of {streams:?}"
                );
            };
            next[s] += 1;
        }
    }
}

/// Every observer's next event is `on_join` of `joiner`, whose WELCOME had `welcome`.
fn expect_joined(obs: &mut [Observer], joiner: &Client, welcome: &Dict) {
    assert_eq!(
        welcome.get("authid"),
        Some(&Value::str(authid(joiner))),
        "WELCOME.authid"
    );
    for (shard, o) in obs.iter_mut().enumerate() {
        let ev = o.next();
        let ctx = format!("observer on shard {shard}: {ev:?}");
        assert_eq!(ev.topic, ON_JOIN, "{ctx}");
        let [Value::Dict(d)] = ev.args.as_slice() else {
            panic!("on_join has one argument, the details: {ctx}")
        };
        assert_eq!(d.get("session"), Some(&uint(joiner.session.0)), "{ctx}");
        for key in ["authid", "authrole", "authmethod", "authprovider"] {
            let want = welcome.get(key);
            assert!(want.is_some(), "WELCOME.{key}");
            assert_eq!(d.get(key), want, "{key}: {ctx}");
        }
        assert_eq!(d.get("authmethod"), Some(&Value::str("anonymous")));
        let serializer = Value::str(joiner.serializer.name());
        assert_eq!(d.get("serializer"), Some(&serializer), "{ctx}");
    }
}

/// Every observer's next event is `on_create` (`topic`: of a subscription
/// or a registration) by `session` of `id` for (`uri`, `policy`), with
/// `invoke` for a registration.
fn expect_created(
    obs: &mut [Observer],
    topic: &str,
    session: u64,
    id: u64,
    uri: &str,
    policy: &str,
    invoke: Option<&str>,
) {
    for (shard, o) in obs.iter_mut().enumerate() {
        let ev = o.next();
        let ctx = format!("observer on shard {shard}: {ev:?}");
        assert_eq!(ev.topic, topic, "{ctx}");
        let [Value::UInt(by), Value::Dict(d)] = ev.args.as_slice() else {
            panic!("on_create has [session, details]: {ctx}")
        };
        assert_eq!(*by, session, "{ctx}");
        assert_eq!(d.get("id"), Some(&uint(id)), "{ctx}");
        assert_eq!(d.get("uri"), Some(&Value::str(uri)), "{ctx}");
        assert_eq!(d.get("match"), Some(&Value::str(policy)), "{ctx}");
        let created = d.get("created").and_then(Value::as_str);
        assert!(created.is_some_and(|c| !c.is_empty()), "{ctx}");
        assert_eq!(d.get("invoke"), invoke.map(Value::str).as_ref(), "{ctx}");
    }
}

// ---------------------------------------------------------------------------
// Fences

/// On every shard in turn a session joins and says GOODBYE: each observer
/// (of `on_join` and `on_leave`) gets its two events next.
fn fence_sessions(scene: &Scene, obs: &mut [Observer]) {
    for shard in 0..scene.shards() {
        let (mut f, welcome) = scene.join_on(shard);
        expect_joined(obs, &f, &welcome);
        f.goodbye();
        expect_all(obs, ON_LEAVE, &leave_args(&f));
    }
}

/// On every shard in turn a subscription homed there is made and undone:
/// each observer (of the four subscription events) gets its events next.
fn fence_subscriptions(scene: &Scene, obs: &mut [Observer]) {
    for shard in 0..scene.shards() {
        let topic = scene.homed("com.fence.sub", shard, "exact");
        let mut f = scene.join(shard);
        let id = subscribe_with(&mut f, &topic, "exact");
        expect_created(obs, SUB_CREATE, f.session.0, id, &topic, "exact", None);
        expect_all(obs, SUB_SUBSCRIBE, &pair(&f, id));
        unsubscribe(&mut f, id);
        expect_all(obs, SUB_UNSUBSCRIBE, &pair(&f, id));
        expect_all(obs, SUB_DELETE, &pair(&f, id));
    }
}

/// On every shard in turn a registration homed there is made and undone:
/// each observer (of the four registration events) gets its events next.
fn fence_registrations(scene: &Scene, obs: &mut [Observer]) {
    for shard in 0..scene.shards() {
        let procedure = scene.homed("com.fence.reg", shard, "exact");
        let mut f = scene.join(shard);
        let id = register_with(&mut f, &procedure, Dict::new()).unwrap();
        let single = Some("single");
        expect_created(
            obs,
            REG_CREATE,
            f.session.0,
            id,
            &procedure,
            "exact",
            single,
        );
        expect_all(obs, REG_REGISTER, &pair(&f, id));
        unregister(&mut f, id);
        expect_all(obs, REG_UNREGISTER, &pair(&f, id));
        expect_all(obs, REG_DELETE, &pair(&f, id));
    }
}

/// A session on every shard publishes `SENTINEL + shard` to `topic`: each
/// observer (of `topic`) gets these and nothing else.
fn fence_publications(scene: &Scene, obs: &mut [Observer], topic: &str) {
    for shard in 0..scene.shards() {
        let mut f = scene.join(shard);
        f.publish_acked(topic, Payload::args(vec![uint(SENTINEL + shard as u64)]));
    }
    for (shard, o) in obs.iter_mut().enumerate() {
        let mut want: HashSet<u64> = (0..scene.shards() as u64).map(|s| SENTINEL + s).collect();
        while !want.is_empty() {
            let ev = o.next();
            let n = ev.args.first().and_then(Value::as_u64);
            let fence = ev.topic == topic && n.is_some_and(|n| want.remove(&n));
            assert!(fence, "observer on shard {shard}: {ev:?} before the fence");
        }
    }
}

// ---------------------------------------------------------------------------
// Client helpers

fn subscribe_with(c: &mut Client, topic: &str, policy: &str) -> u64 {
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

fn unsubscribe(c: &mut Client, id: u64) {
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

fn register_with(c: &mut Client, procedure: &str, options: Dict) -> Result<u64, String> {
    c.register_with(procedure, options)
        .map(|id| id.0)
        .map_err(|e| e.to_string())
}

fn unregister(c: &mut Client, id: u64) {
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
fn call(
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
fn add_testament(
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
fn flush_testaments(c: &mut Client, scope: Option<Value>) -> Result<u64, String> {
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

fn scope(s: &str) -> Dict {
    Dict::new().with("scope", s)
}

/// How a session ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Goodbye,
    Dropped,
    Killed,
}

const ENDS: [End; 3] = [End::Goodbye, End::Dropped, End::Killed];

/// Ends `leaver`'s session `how` (`killer` calls `wamp.session.kill`). Until
/// its GOODBYE, `leaver` may only get events about the sessions of `skipped`,
/// never one about itself.
fn end(mut leaver: Client, how: End, killer: &mut Client, skipped: &HashSet<u64>) {
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

fn features_of(welcome: &Dict, role: &str) -> Dict {
    welcome
        .get_dict("roles")
        .unwrap()
        .and_then(|r| r.get_dict(role).unwrap())
        .and_then(|d| d.get_dict("features").unwrap())
        .cloned()
        .unwrap_or_default()
}

/// The meta features and the roles announcing them.
const META_FEATURES: [(&str, &str); 5] = [
    ("broker", "session_meta_api"),
    ("broker", "subscription_meta_api"),
    ("dealer", "session_meta_api"),
    ("dealer", "registration_meta_api"),
    ("dealer", "testament_meta_api"),
];

/// One of the two serializers other than `s` (the joiners of some
/// scenarios speak another one than their observers).
fn other_serializer(s: Serializer, n: usize) -> Serializer {
    Serializer::ALL[(s.index() + 1 + n % 2) % 3]
}

// ---------------------------------------------------------------------------
// Session events

#[test]
fn on_join_and_on_leave_reach_an_observer_on_every_shard_once() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&SESSION_EVENTS);
        for shard in 0..scene.shards() {
            let serializer = other_serializer(setting.setup.serializer, shard);
            let (mut joiner, welcome) = scene.join_as(shard, serializer);
            expect_joined(&mut obs, &joiner, &welcome);
            joiner.goodbye();
            expect_all(&mut obs, ON_LEAVE, &leave_args(&joiner));
        }
        fence_sessions(&scene, &mut obs);
    });
}

#[test]
fn on_leave_reports_goodbye_dropped_transport_and_kill_but_not_to_the_leaver() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for how in ENDS {
            for shard in 0..n {
                let scene = setting.scene();
                let mut killer = scene.join((shard + 1) % n);
                let mut leaver = scene.join(shard);
                let mut obs = scene.observers(&SESSION_EVENTS);
                leaver.subscribe(ON_LEAVE);
                let left = leave_args(&leaver);
                let skipped = scene.skipped.borrow().clone();
                end(leaver, how, &mut killer, &skipped);
                expect_all(&mut obs, ON_LEAVE, &left);
                fence_sessions(&scene, &mut obs);
            }
        }
    });
}

#[test]
fn meta_events_reach_pattern_subscriptions_with_their_topic() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&["wamp.session.", "wamp..on_create"]);
        for shard in 0..scene.shards() {
            let (mut joiner, welcome) = scene.join_on(shard);
            expect_joined(&mut obs, &joiner, &welcome);
            let procedure = format!("com.pattern.p{shard}");
            let reg = register_with(&mut joiner, &procedure, Dict::new()).unwrap();
            let topic = format!("com.pattern.t{shard}");
            let sub = subscribe_with(&mut joiner, &topic, "exact");
            let single = Some("single");
            let who = joiner.session.0;
            expect_created(&mut obs, REG_CREATE, who, reg, &procedure, "exact", single);
            expect_created(&mut obs, SUB_CREATE, who, sub, &topic, "exact", None);
            joiner.goodbye();
            expect_all(&mut obs, ON_LEAVE, &leave_args(&joiner));
        }
        // Every event above came with Details.topic (`Observer::next`
        // falls back to the pattern, which no check above would accept).
        fence_sessions(&scene, &mut obs);
    });
}

#[test]
fn an_unobserved_meta_event_is_not_delivered_later() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&[ON_JOIN]);
        for shard in 0..scene.shards() {
            let (mut c, welcome) = scene.join_on(shard);
            expect_joined(&mut obs, &c, &welcome);
            c.goodbye();
        }
        for o in &mut obs {
            o.subscribe(ON_LEAVE);
        }
        // The next events are the fence's: no on_leave of the sessions
        // that left while nobody subscribed to it.
        fence_sessions(&scene, &mut obs);
    });
}

// ---------------------------------------------------------------------------
// Subscription events

#[test]
fn subscription_events_come_once_each_in_order_from_the_home_shard() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
            let mut a = scene.join((home + 1) % n);
            let mut b = scene.join((home + 2) % n);
            for policy in POLICIES {
                let topic = scene.homed("com.sub", home, policy);
                let id = subscribe_with(&mut a, &topic, policy);
                expect_created(&mut obs, SUB_CREATE, a.session.0, id, &topic, policy, None);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, id));
                assert_eq!(subscribe_with(&mut b, &topic, policy), id);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&b, id));
                unsubscribe(&mut a, id);
                expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&a, id));
                unsubscribe(&mut b, id);
                expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&b, id));
                expect_all(&mut obs, SUB_DELETE, &pair(&b, id));
            }
            fence_subscriptions(&scene, &mut obs);
        }
    });
}

#[test]
fn a_session_that_leaves_leaves_each_subscription_and_the_last_deletes_it() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
            let exact = scene.homed("com.leave", home, "exact");
            let prefix = scene.homed("com.leave", (home + 1) % n, "prefix");
            let mut a = scene.join(home);
            let mut b = scene.join((home + 2) % n);
            let mut c = scene.join((home + 1) % n);
            let e = subscribe_with(&mut a, &exact, "exact");
            expect_created(&mut obs, SUB_CREATE, a.session.0, e, &exact, "exact", None);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, e));
            for s in [&mut b, &mut c] {
                assert_eq!(subscribe_with(s, &exact, "exact"), e);
                expect_all(&mut obs, SUB_SUBSCRIBE, &pair(s, e));
            }
            let p = subscribe_with(&mut b, &prefix, "prefix");
            expect_created(
                &mut obs,
                SUB_CREATE,
                b.session.0,
                p,
                &prefix,
                "prefix",
                None,
            );
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&b, p));
            // b's transport drops: it leaves both; the prefix subscription
            // goes with it (two homes: the streams interleave).
            let (b_exact, b_prefix) = (pair(&b, e), pair(&b, p));
            drop(b);
            expect_interleaved(
                &mut obs,
                &[
                    vec![(SUB_UNSUBSCRIBE, b_exact)],
                    vec![(SUB_UNSUBSCRIBE, b_prefix.clone()), (SUB_DELETE, b_prefix)],
                ],
            );
            // d's subscription is revoked (by a).
            let mut d = scene.join((home + 1) % n);
            assert_eq!(subscribe_with(&mut d, &exact, "exact"), e);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&d, e));
            let args = vec![uint(e), uint(d.session.0)];
            let revoked = call(
                &mut a,
                "wamp.subscription.remove_subscriber",
                args,
                Dict::new(),
            );
            assert_eq!(revoked, Ok((vec![], Dict::new())));
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&d, e));
            // c is killed (by a), then a says GOODBYE: the last one deletes it.
            let c_exact = pair(&c, e);
            end(c, End::Killed, &mut a, &HashSet::new());
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &c_exact);
            let a_exact = pair(&a, e);
            a.goodbye();
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &a_exact);
            expect_all(&mut obs, SUB_DELETE, &a_exact);
            fence_subscriptions(&scene, &mut obs);
        }
    });
}

#[test]
fn a_session_subscribing_again_is_announced_once() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
        let n = scene.shards();
        for home in 0..n {
            let mut a = scene.join((home + 1) % n);
            let topic = scene.homed("com.again", home, "exact");
            let id = subscribe_with(&mut a, &topic, "exact");
            expect_created(&mut obs, SUB_CREATE, a.session.0, id, &topic, "exact", None);
            expect_all(&mut obs, SUB_SUBSCRIBE, &pair(&a, id));
            assert_eq!(subscribe_with(&mut a, &topic, "exact"), id);
            // One UNSUBSCRIBE ends the subscription: the next events of
            // its home are its on_unsubscribe and on_delete.
            unsubscribe(&mut a, id);
            expect_all(&mut obs, SUB_UNSUBSCRIBE, &pair(&a, id));
            expect_all(&mut obs, SUB_DELETE, &pair(&a, id));
        }
        fence_subscriptions(&scene, &mut obs);
    });
}

/// Sends SUBSCRIBE (REGISTER if not `subscribe`) for `uri` and drops the
/// transport at once, before the answer.
fn ask_and_drop(mut c: Client, uri: &str, subscribe: bool) {
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

#[test]
fn a_subscriber_that_leaves_before_subscribed_is_named_by_the_events_of_its_subscription() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&SUBSCRIPTION_EVENTS);
        let n = scene.shards();
        for home in 0..n {
            for shard in 0..n {
                let a = scene.join(shard);
                let who = a.session.0;
                let topic = scene.homed("com.hasty", home, "exact");
                ask_and_drop(a, &topic, true);
                // Created, then (whether the router added the session before
                // it noticed the loss or not) deleted, all naming the session.
                for (i, o) in obs.iter_mut().enumerate() {
                    let ctx = format!("observer on shard {i}, subscriber on {shard}, home {home}");
                    let created = o.next();
                    assert_eq!(created.topic, SUB_CREATE, "{ctx}: {created:?}");
                    assert_eq!(created.args.first(), Some(&uint(who)), "{ctx}: {created:?}");
                    let id = created.args[1]
                        .as_dict()
                        .unwrap()
                        .get("id")
                        .cloned()
                        .unwrap();
                    let pair = vec![uint(who), id];
                    let mut ev = o.next();
                    if ev.topic == SUB_SUBSCRIBE {
                        assert_eq!(ev.args, pair, "{ctx}: {ev:?}");
                        ev = o.next();
                        assert_eq!(
                            (ev.topic.as_str(), &ev.args),
                            (SUB_UNSUBSCRIBE, &pair),
                            "{ctx}"
                        );
                        ev = o.next();
                    }
                    assert_eq!((ev.topic.as_str(), &ev.args), (SUB_DELETE, &pair), "{ctx}");
                }
            }
        }
        fence_subscriptions(&scene, &mut obs);
    });
}

// ---------------------------------------------------------------------------
// Registration events

fn invoke(policy: &str) -> Dict {
    Dict::new().with("invoke", policy)
}

#[test]
fn registration_events_come_once_each_in_order_from_the_home_shard() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&REGISTRATION_EVENTS);
            let mut a = scene.join((home + 1) % n);
            let mut b = scene.join((home + 2) % n);
            for policy in POLICIES {
                let procedure = scene.homed("com.reg", home, policy);
                let options = Dict::new().with("match", policy);
                let id = register_with(&mut a, &procedure, options.clone()).unwrap();
                let single = Some("single");
                expect_created(
                    &mut obs,
                    REG_CREATE,
                    a.session.0,
                    id,
                    &procedure,
                    policy,
                    single,
                );
                expect_all(&mut obs, REG_REGISTER, &pair(&a, id));
                // A refused REGISTER announces nothing (the next events of
                // the home are a's).
                let refused = register_with(&mut b, &procedure, options);
                assert_eq!(refused, Err("wamp.error.procedure_already_exists".into()));
                unregister(&mut a, id);
                expect_all(&mut obs, REG_UNREGISTER, &pair(&a, id));
                expect_all(&mut obs, REG_DELETE, &pair(&a, id));
            }
            let shared = scene.homed("com.reg.shared", home, "exact");
            let id = register_with(&mut a, &shared, invoke("roundrobin")).unwrap();
            let rr = Some("roundrobin");
            expect_created(&mut obs, REG_CREATE, a.session.0, id, &shared, "exact", rr);
            expect_all(&mut obs, REG_REGISTER, &pair(&a, id));
            assert_eq!(register_with(&mut b, &shared, invoke("roundrobin")), Ok(id));
            expect_all(&mut obs, REG_REGISTER, &pair(&b, id));
            unregister(&mut a, id);
            expect_all(&mut obs, REG_UNREGISTER, &pair(&a, id));
            unregister(&mut b, id);
            expect_all(&mut obs, REG_UNREGISTER, &pair(&b, id));
            expect_all(&mut obs, REG_DELETE, &pair(&b, id));
            fence_registrations(&scene, &mut obs);
        }
    });
}

#[test]
fn a_callee_that_leaves_is_unregistered_and_the_last_deletes() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for home in 0..n {
            let scene = setting.scene();
            let mut obs = scene.observers(&REGISTRATION_EVENTS);
            let single = scene.homed("com.callee.single", home, "exact");
            let shared = scene.homed("com.callee.shared", (home + 1) % n, "prefix");
            let mut a = scene.join(home);
            let mut b = scene.join((home + 1) % n);
            let mut c = scene.join((home + 2) % n);
            let s = register_with(&mut a, &single, Dict::new()).unwrap();
            let once = Some("single");
            expect_created(&mut obs, REG_CREATE, a.session.0, s, &single, "exact", once);
            expect_all(&mut obs, REG_REGISTER, &pair(&a, s));
            let options = invoke("roundrobin").with("match", "prefix");
            let p = register_with(&mut b, &shared, options.clone()).unwrap();
            let rr = Some("roundrobin");
            expect_created(&mut obs, REG_CREATE, b.session.0, p, &shared, "prefix", rr);
            expect_all(&mut obs, REG_REGISTER, &pair(&b, p));
            for callee in [&mut c, &mut a] {
                assert_eq!(register_with(callee, &shared, options.clone()), Ok(p));
                expect_all(&mut obs, REG_REGISTER, &pair(callee, p));
            }
            // a's transport drops: the single registration goes, the shared
            // one keeps b and c (two homes: the streams interleave).
            let (a_single, a_shared) = (pair(&a, s), pair(&a, p));
            drop(a);
            expect_interleaved(
                &mut obs,
                &[
                    vec![(REG_UNREGISTER, a_single.clone()), (REG_DELETE, a_single)],
                    vec![(REG_UNREGISTER, a_shared)],
                ],
            );
            // b is killed (by c), then c's transport drops: the last deletes it.
            let b_shared = pair(&b, p);
            end(b, End::Killed, &mut c, &HashSet::new());
            expect_all(&mut obs, REG_UNREGISTER, &b_shared);
            let c_shared = pair(&c, p);
            drop(c);
            expect_all(&mut obs, REG_UNREGISTER, &c_shared);
            expect_all(&mut obs, REG_DELETE, &c_shared);
            fence_registrations(&scene, &mut obs);
        }
    });
}

#[test]
fn a_callee_that_leaves_before_registered_is_registered_then_unregistered() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&REGISTRATION_EVENTS);
        let n = scene.shards();
        for home in 0..n {
            for shard in 0..n {
                let a = scene.join(shard);
                let who = a.session.0;
                let procedure = scene.homed("com.hasty", home, "exact");
                ask_and_drop(a, &procedure, false);
                for (i, o) in obs.iter_mut().enumerate() {
                    let ctx = format!("observer on shard {i}, callee on {shard}, home {home}");
                    let created = o.next();
                    assert_eq!(created.topic, REG_CREATE, "{ctx}: {created:?}");
                    assert_eq!(created.args.first(), Some(&uint(who)), "{ctx}: {created:?}");
                    let id = created.args[1]
                        .as_dict()
                        .unwrap()
                        .get("id")
                        .cloned()
                        .unwrap();
                    let pair = vec![uint(who), id];
                    for topic in [REG_REGISTER, REG_UNREGISTER, REG_DELETE] {
                        let ev = o.next();
                        assert_eq!((ev.topic.as_str(), &ev.args), (topic, &pair), "{ctx}");
                    }
                }
            }
        }
        fence_registrations(&scene, &mut obs);
    });
}

// ---------------------------------------------------------------------------
// Testaments

/// Every observer's next event is the testament (`topic`, `args`, `kwargs`)
/// of session `will`.
fn expect_testament(obs: &mut [Observer], topic: &str, args: &[Value], kwargs: &Dict, will: u64) {
    for (shard, o) in obs.iter_mut().enumerate() {
        let ev = o.next();
        let ctx = format!("observer on shard {shard}: {ev:?}");
        assert_eq!(ev.topic, topic, "{ctx}");
        assert_eq!(ev.args, args, "{ctx}");
        assert_eq!(&ev.kwargs, kwargs, "{ctx}");
        assert_publisher(&ev.details, will, &ctx);
    }
}

/// `details` disclose session `will` as the publisher.
fn assert_publisher(details: &Dict, will: u64, ctx: &str) {
    let want = [
        ("publisher", uint(will)),
        ("publisher_authid", Value::str(format!("anonymous-{will}"))),
        ("publisher_authrole", Value::str("anonymous")),
    ];
    for (key, value) in want {
        assert_eq!(details.get(key), Some(&value), "{key}: {ctx}");
    }
}

fn args(ns: &[u64]) -> Vec<Value> {
    ns.iter().map(|n| uint(*n)).collect()
}

fn add(c: &mut Client, topic: &str, args: Vec<Value>, kwargs: Option<Dict>, options: Dict) {
    add_testament(c, topic, args, kwargs, options).unwrap();
}

#[test]
fn testaments_are_published_with_their_publisher_when_a_session_goes_away() {
    for_each_setting(|setting| {
        let n = setting.shards();
        for how in ENDS {
            for shard in 0..n {
                let scene = setting.scene();
                let mut killer = scene.join((shard + 1) % n);
                let mut will = scene.join(shard);
                let mut obs = scene.observers(&["com.will.a", "com.will.b"]);
                let kwargs = Dict::new().with("k", "v");
                let one = vec![uint(1), Value::str("one")];
                add(
                    &mut will,
                    "com.will.a",
                    one.clone(),
                    Some(kwargs.clone()),
                    Dict::new(),
                );
                add(&mut will, "com.will.b", args(&[2]), None, scope("detached"));
                add(
                    &mut will,
                    "com.will.a",
                    args(&[3]),
                    None,
                    scope("destroyed"),
                );
                let who = will.session.0;
                end(will, how, &mut killer, &HashSet::new());
                // Detached ones first, then destroyed ones, in the order added.
                let none = Dict::new();
                expect_testament(&mut obs, "com.will.b", &args(&[2]), &none, who);
                expect_testament(&mut obs, "com.will.a", &one, &kwargs, who);
                expect_testament(&mut obs, "com.will.a", &args(&[3]), &none, who);
                fence_publications(&scene, &mut obs, "com.will.a");
            }
        }
    });
}

#[test]
fn flush_testaments_drops_those_of_the_scope_asked() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&["com.will.a", "com.will.b"]);
        let mut will = scene.join(scene.shards() - 1);
        add(&mut will, "com.will.a", args(&[1]), None, Dict::new());
        add(
            &mut will,
            "com.will.a",
            args(&[2]),
            None,
            scope("destroyed"),
        );
        add(&mut will, "com.will.b", args(&[3]), None, scope("detached"));
        assert_eq!(flush_testaments(&mut will, None), Ok(2));
        assert_eq!(
            flush_testaments(&mut will, Some(Value::str("detached"))),
            Ok(1)
        );
        assert_eq!(
            flush_testaments(&mut will, Some(Value::str("destroyed"))),
            Ok(0)
        );
        assert_eq!(
            flush_testaments(&mut will, Some(Value::str("detached"))),
            Ok(0)
        );
        add(&mut will, "com.will.a", args(&[4]), None, Dict::new());
        add(&mut will, "com.will.b", args(&[5]), None, scope("detached"));
        add(
            &mut will,
            "com.will.a",
            args(&[6]),
            None,
            scope("destroyed"),
        );
        assert_eq!(
            flush_testaments(&mut will, Some(Value::str("detached"))),
            Ok(1)
        );
        let who = will.session.0;
        will.goodbye();
        let none = Dict::new();
        expect_testament(&mut obs, "com.will.a", &args(&[4]), &none, who);
        expect_testament(&mut obs, "com.will.a", &args(&[6]), &none, who);
        fence_publications(&scene, &mut obs, "com.will.b");
    });
}

#[test]
fn a_testament_published_with_retain_is_kept_for_later_subscribers() {
    for_each_setting(|setting| {
        let n = setting.shards();
        let scene = setting.scene();
        for shard in 0..n {
            // The topic's home (where retained events are kept) is another
            // shard than the session's, where there is another.
            let home = (shard + 1) % n;
            let topic = scene.homed("com.will.kept", home, "exact");
            let mut will = scene.join(shard);
            let options = Dict::new().with("publish_options", Dict::new().with("retain", true));
            let kwargs = Dict::new().with("why", "gone");
            add(&mut will, &topic, args(&[7]), Some(kwargs.clone()), options);
            let mut obs = scene.observers(&[&topic]);
            let who = will.session.0;
            drop(will);
            expect_testament(&mut obs, &topic, &args(&[7]), &kwargs, who);
            fence_publications(&scene, &mut obs, &topic);
            // The testament left the session's shard for the home before
            // the observers got it: an acknowledged retained publish from
            // that shard to the same home is answered after the home kept it.
            let fence = scene.homed("com.will.fence", home, "exact");
            let mut f = scene.join(shard);
            let request = f.publish(
                &fence,
                Dict::new().with("retain", true).with("acknowledge", true),
                Payload::args(args(&[0])),
            );
            match f.recv() {
                Message::Published { request: r, .. } if r == request => {}
                other => panic!("expected PUBLISHED, got {other:?}"),
            }
            for late_shard in 0..n {
                let mut late = scene.join(late_shard);
                let request = late.request();
                late.send(&Message::Subscribe {
                    request,
                    options: Dict::new().with("get_retained", true),
                    topic: topic.as_str().into(),
                });
                match late.recv() {
                    Message::Subscribed { request: r, .. } if r == request => {}
                    other => panic!("expected SUBSCRIBED, got {other:?}"),
                }
                match late.recv() {
                    Message::Event {
                        details, payload, ..
                    } => {
                        let ctx = format!("late subscriber on shard {late_shard}: {details:?}");
                        assert_eq!(details.get_bool("retained").unwrap(), Some(true), "{ctx}");
                        assert_eq!(values(&payload), (args(&[7]), kwargs.clone()), "{ctx}");
                        assert_publisher(&details, who, &ctx);
                    }
                    other => panic!("expected the retained EVENT, got {other:?}"),
                }
            }
        }
    });
}

#[test]
fn a_testament_scope_other_than_destroyed_or_detached_is_refused() {
    for_each_setting(|setting| {
        let scene = setting.scene();
        let mut obs = scene.observers(&["com.will.a"]);
        let mut will = scene.join(0);
        for bad in [Value::str("forever"), Value::str(""), uint(7)] {
            let options = Dict::new().with("scope", bad.clone());
            let refused = add_testament(&mut will, "com.will.a", args(&[1]), None, options);
            assert_eq!(refused, Err(TESTAMENT_ERROR.into()), "scope {bad:?}");
            let flushed = flush_testaments(&mut will, Some(bad.clone()));
            assert_eq!(flushed, Err(TESTAMENT_ERROR.into()), "scope {bad:?}");
        }
        assert_eq!(flush_testaments(&mut will, None), Ok(0));
        assert_eq!(
            flush_testaments(&mut will, Some(Value::str("detached"))),
            Ok(0)
        );
        add(&mut will, "com.will.a", args(&[2]), None, Dict::new());
        let who = will.session.0;
        will.goodbye();
        expect_testament(&mut obs, "com.will.a", &args(&[2]), &Dict::new(), who);
        fence_publications(&scene, &mut obs, "com.will.a");
    });
}

// ---------------------------------------------------------------------------
// A realm without the meta API

#[test]
fn a_realm_without_the_meta_api_announces_publishes_and_answers_none_of_it() {
    for_each_setting(|setting| {
        let on = setting.scene();
        let (_, welcome) = on.join_on(0);
        for (role, feature) in META_FEATURES {
            let features = features_of(&welcome, role);
            assert_eq!(
                features.get(feature),
                Some(&Value::Bool(true)),
                "{role} {feature}"
            );
        }
        let scene = setting.scene_without_meta();
        let (_, welcome) = scene.join_on(0);
        for (role, feature) in META_FEATURES {
            let features = features_of(&welcome, role);
            assert_ne!(
                features.get(feature),
                Some(&Value::Bool(true)),
                "{role} {feature}"
            );
        }
        let mut topics: Vec<&str> = SESSION_EVENTS.to_vec();
        topics.extend(SUBSCRIPTION_EVENTS);
        topics.extend(REGISTRATION_EVENTS);
        topics.push("com.off.fence");
        let mut obs = scene.observers(&topics);
        for shard in 0..scene.shards() {
            let mut c = scene.join(shard);
            let topic = scene.homed("com.off.topic", shard, "exact");
            let sub = subscribe_with(&mut c, &topic, "exact");
            let procedure = scene.homed("com.off.proc", shard, "exact");
            let reg = register_with(&mut c, &procedure, Dict::new()).unwrap();
            for procedure in ["wamp.session.count", ADD_TESTAMENT, FLUSH_TESTAMENTS] {
                let answer = call(&mut c, procedure, vec![], Dict::new());
                assert_eq!(answer, Err(NO_SUCH_PROCEDURE.into()), "{procedure}");
            }
            unsubscribe(&mut c, sub);
            unregister(&mut c, reg);
            let mut d = scene.join(shard);
            subscribe_with(&mut d, &topic, "exact");
            register_with(&mut d, &procedure, Dict::new()).unwrap();
            d.goodbye();
            c.goodbye();
        }
        // Nothing but the fence: no meta event from any shard.
        fence_publications(&scene, &mut obs, "com.off.fence");
    });
}
