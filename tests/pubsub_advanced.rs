//! Advanced Pub/Sub over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer, with publishers and subscribers on chosen shards:
//! subscriber black/white listing, publisher exclusion, publisher
//! identification, event retention, event history
//! (`wamp.subscription.get_events`), subscription revocation
//! (`wamp.subscription.remove_subscriber`), and their announcement in WELCOME.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.
//!
//! Beyond the spec, these tests hold the router to ARCHITECTURE's "linearizable
//! where clients can see it":
//! - a retained event is stored before the PUBLISHED of its (acknowledged)
//!   publication: a SUBSCRIBE sent after that answer gets it;
//! - a revocation is in force when the caller of `remove_subscriber` gets its
//!   RESULT: a publication sent after that answer no longer reaches the session;
//! - an event of a history is stored before the PUBLISHED of its
//!   (acknowledged) publication: a `get_events` sent after that answer has it.
//!
//! The order the history tests check is the order of one publisher's events. `get_events`
//! answers `RESULT.Arguments = [[event, ...]]`: the list is one argument.
//!
//! The realm policies (disclosing every publisher, event history) are set in
//! `disclosing_realm` and `history_realm` below, the only two places that
//! depend on how `RealmSettings` spells them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::Duration;
use switchyard::routing::{home_shard, MatchPolicy};
use switchyard::runtime::RouterOptions;
use switchyard::shard::RealmSettings;
use switchyard::wire::message::code;
use switchyard::wire::{
    Dict, Message, Payload, PublicationId, Serializer, SessionId, SubscriptionId, Value,
};

/// First arguments from here on mark sentinel publications.
const SENTINEL: u64 = 1_000_000;

const GET_EVENTS: &str = "wamp.subscription.get_events";
const REMOVE_SUBSCRIBER: &str = "wamp.subscription.remove_subscriber";

/// A subscription or session ID no router hands out in these tests (2^53).
const UNKNOWN_ID: u64 = 1 << 53;

// ---------------------------------------------------------------------------
// Realm policies

/// One `RealmSettings.pubsub.history` entry, as the tests need it.
struct History {
    topic: &'static str,
    policy: MatchPolicy,
    limit: usize,
    max_age: Option<Duration>,
}

/// A realm whose broker discloses every publisher
/// (`RealmSettings.pubsub.disclose_publisher = true`).
fn disclosing_realm(name: &str) -> RealmSettings {
    let mut realm = RealmSettings::open(name);
    realm.pubsub.disclose_publisher = true;
    realm
}

/// A realm keeping the event history `entries` describe
/// (`RealmSettings.pubsub.history`).
fn history_realm(name: &str, entries: &[History]) -> RealmSettings {
    let mut realm = RealmSettings::open(name);
    for e in entries {
        realm.pubsub.history.push(switchyard::realm::HistorySpec {
            topic: e.topic.into(),
            policy: e.policy,
            limit: e.limit,
            max_age: e.max_age,
        });
    }
    realm
}

/// A router of `shards` shards with one realm per setup of the matrix, named
/// `{prefix}.{setup realm}`, made by `realm`.
fn router_with(shards: usize, prefix: &str, realm: impl Fn(&str) -> RealmSettings) -> Router {
    let mut opts = RouterOptions::local(shards);
    for setup in matrix().into_iter().filter(|s| s.shards == shards) {
        let name = format!("{prefix}.{}", setup.realm());
        opts.settings.realms.push(realm(&name));
    }
    Router::start_with(opts)
}

/// `for_each_setup`, in realms of their own made by `realm` (see `router_with`).
fn for_each_setup_in(
    prefix: &str,
    realm: impl Fn(&str) -> RealmSettings,
    scenario: impl Fn(&Router, Setup, &str),
) {
    for shards in 1..=3 {
        let router = router_with(shards, prefix, &realm);
        for setup in matrix().into_iter().filter(|s| s.shards == shards) {
            eprintln!("-- {setup:?}");
            scenario(&router, setup, &format!("{prefix}.{}", setup.realm()));
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

fn ids(clients: &[&Client]) -> Value {
    Value::List(clients.iter().map(|c| Value::UInt(c.session.0)).collect())
}

fn authid(c: &Client) -> String {
    format!("anonymous-{}", c.session.0)
}

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::str(*s)).collect())
}

/// The session on another serializer than `setup`'s (for cross-serializer checks).
fn other_serializer(setup: Setup, n: usize) -> Setup {
    let serializer = Serializer::ALL[(setup.serializer.index() + 1 + n % 2) % 3];
    Setup {
        serializer,
        ..setup
    }
}

/// A topic under `prefix` whose home shard (for an exact subscription) is `home`.
fn topic_homed(realm: &str, prefix: &str, home: usize, shards: usize) -> String {
    (0..10_000)
        .map(|i| format!("{prefix}.t{i}"))
        .find(|t| home_shard(realm, t, MatchPolicy::Exact, shards) == home)
        .expect("a topic for every home shard")
}

fn subscribe_with(c: &mut Client, topic: &str, options: Dict) -> SubscriptionId {
    let request = c.request();
    c.send(&Message::Subscribe {
        request,
        options,
        topic: topic.into(),
    });
    match c.recv() {
        Message::Subscribed {
            request: r,
            subscription,
        } if r == request => subscription,
        other => panic!("expected SUBSCRIBED for {topic}, got {other:?}"),
    }
}

fn get_retained() -> Dict {
    Dict::new().with("get_retained", true)
}

/// An acknowledged publication with `options`; returns its ID.
fn publish_acked_with(
    c: &mut Client,
    topic: &str,
    options: Dict,
    payload: Payload,
) -> PublicationId {
    let request = c.publish(topic, options.with("acknowledge", true), payload);
    match c.recv() {
        Message::Published {
            request: r,
            publication,
        } if r == request => publication,
        other => panic!("expected PUBLISHED for {topic}, got {other:?}"),
    }
}

fn publish_retained(c: &mut Client, topic: &str, options: Dict, payload: Payload) -> PublicationId {
    publish_acked_with(c, topic, options.with("retain", true), payload)
}

struct Event {
    subscription: SubscriptionId,
    publication: PublicationId,
    details: Dict,
    payload: Payload,
}

impl Event {
    fn n(&self) -> u64 {
        first_arg(&self.payload)
    }

    fn retained(&self) -> bool {
        self.details.get_bool("retained").unwrap() == Some(true)
    }

    fn topic(&self) -> Option<String> {
        self.details.get_str("topic").unwrap().map(String::from)
    }
}

fn next_event(c: &mut Client) -> Event {
    match c.recv() {
        Message::Event {
            subscription,
            publication,
            details,
            payload,
        } => Event {
            subscription,
            publication,
            details,
            payload,
        },
        other => panic!("expected EVENT, got {other:?}"),
    }
}

/// The events `c` got before the one whose first argument is `sentinel`.
fn events_before(c: &mut Client, sentinel: u64) -> Vec<Event> {
    let mut got = Vec::new();
    loop {
        let e = next_event(c);
        if e.n() == sentinel {
            return got;
        }
        got.push(e);
    }
}

/// Reads `c` until it has the event `sentinel` and `want` others, in any
/// order (retained events come from the topics' homes, the sentinel from its
/// publisher); returns the others.
fn events_around(c: &mut Client, want: usize, sentinel: u64) -> Vec<Event> {
    let mut got = Vec::new();
    let mut seen_sentinel = false;
    while !seen_sentinel || got.len() < want {
        let e = next_event(c);
        if e.n() == sentinel {
            assert!(!seen_sentinel, "the sentinel arrived twice");
            seen_sentinel = true;
        } else {
            got.push(e);
        }
    }
    got
}

/// A fresh session on `topic`'s home shard publishes the plain event
/// `sentinel` (its path to every shard is the one the retained events of
/// `topic` take from there).
fn sentinel_from_home(router: &Router, setup: Setup, realm: &str, topic: &str, sentinel: u64) {
    let home = home_shard(realm, topic, MatchPolicy::Exact, router.shards);
    let mut c = router.join_on_in(setup, home, realm);
    publish_acked_with(&mut c, topic, Dict::new(), arg(sentinel));
}

/// The answer to a CALL: its RESULT payload or its ERROR URI.
fn answer(c: &mut Client, request: switchyard::wire::RequestId) -> Result<Payload, String> {
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => Ok(payload),
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Err(error.to_string()),
        other => panic!("expected RESULT or ERROR for {request}, got {other:?}"),
    }
}

fn features_of(details: &Dict, role: &str) -> Dict {
    details
        .get_dict("roles")
        .unwrap()
        .and_then(|r| r.get_dict(role).unwrap())
        .and_then(|d| d.get_dict("features").unwrap())
        .cloned()
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Announcement

#[test]
fn welcome_announces_the_advanced_pubsub_features() {
    let router = Router::start(1);
    let setup = matrix()[0];
    let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
    let Message::Welcome { details, .. } = c.hello(&setup.realm()) else {
        panic!("expected WELCOME")
    };
    let features = features_of(&details, "broker");
    for f in [
        "subscriber_blackwhite_listing",
        "publisher_exclusion",
        "publisher_identification",
        "event_retention",
        "event_history",
        "subscription_revocation",
    ] {
        assert_eq!(
            features.get(f),
            Some(&Value::Bool(true)),
            "broker feature {f}"
        );
    }
}

// ---------------------------------------------------------------------------
// Subscriber black/white listing and publisher exclusion

const WHO: [&str; 4] = ["the publisher", "a", "b", "c"];

/// The publisher on `publisher_shard` and subscribers a, b, c on shards 0,
/// last and 1 (mod the shard count), all four subscribed to `topic`.
fn audience(router: &Router, setup: Setup, publisher_shard: usize, topic: &str) -> Vec<Client> {
    let n = router.shards;
    let mut all = vec![router.join_on(setup, publisher_shard)];
    for shard in [0, n - 1, 1 % n] {
        all.push(router.join_on(setup, shard));
    }
    let subs: Vec<_> = all.iter_mut().map(|c| c.subscribe(topic)).collect();
    assert!(subs.windows(2).all(|w| w[0] == w[1]));
    all
}

/// Publishes event `n` with `options` from `clients[0]`, then a sentinel that
/// reaches all four; asserts exactly `receivers` (indexes into `clients`) got
/// event `n`, once.
fn check_delivery(
    clients: &mut [Client],
    topic: &str,
    options: Dict,
    n: u64,
    receivers: &[usize],
    case: &str,
) {
    clients[0].publish(topic, options, arg(n));
    let all = Dict::new().with("exclude_me", false);
    clients[0].publish(topic, all, arg(SENTINEL + n));
    for (i, c) in clients.iter_mut().enumerate() {
        let got: Vec<u64> = events_before(c, SENTINEL + n)
            .iter()
            .map(Event::n)
            .collect();
        let want = if receivers.contains(&i) {
            vec![n]
        } else {
            vec![]
        };
        assert_eq!(got, want, "{case}: what {} got", WHO[i]);
    }
}

#[test]
fn the_publisher_is_excluded_by_default_and_included_on_request() {
    for_each_setup(|router, setup| {
        for p in 0..router.shards {
            let topic = format!("com.adv.exclusion.p{p}");
            let mut clients = audience(router, setup, p, &topic);
            let cases = [
                ("no options", Dict::new(), &[1, 2, 3][..]),
                (
                    "exclude_me=true",
                    Dict::new().with("exclude_me", true),
                    &[1, 2, 3],
                ),
                (
                    "exclude_me=false",
                    Dict::new().with("exclude_me", false),
                    &[0, 1, 2, 3],
                ),
            ];
            for (n, (case, options, receivers)) in cases.into_iter().enumerate() {
                check_delivery(&mut clients, &topic, options, n as u64, receivers, case);
            }
        }
    });
}

#[test]
fn black_and_white_lists_choose_the_receivers_on_every_shard() {
    for_each_setup(|router, setup| {
        for p in 0..router.shards {
            let topic = format!("com.adv.lists.p{p}");
            let mut clients = audience(router, setup, p, &topic);
            let [me, a, b, c] = [0, 1, 2, 3].map(|i| &clients[i]);
            let (ida, idb, idc) = (authid(a), authid(b), authid(c));
            let o = Dict::new;
            let no_exclusion = || Dict::new().with("exclude_me", false);
            let cases: Vec<(&str, Dict, &[usize])> = vec![
                ("exclude [b]", o().with("exclude", ids(&[b])), &[1, 3]),
                ("exclude []", o().with("exclude", ids(&[])), &[1, 2, 3]),
                (
                    "eligible [a, c]",
                    o().with("eligible", ids(&[a, c])),
                    &[1, 3],
                ),
                ("eligible [c]", o().with("eligible", ids(&[c])), &[3]),
                ("eligible [b]", o().with("eligible", ids(&[b])), &[2]),
                ("eligible []", o().with("eligible", ids(&[])), &[]),
                (
                    "exclude_authid [a]",
                    o().with("exclude_authid", strs(&[&ida])),
                    &[2, 3],
                ),
                (
                    "eligible_authid [b]",
                    o().with("eligible_authid", strs(&[&idb])),
                    &[2],
                ),
                (
                    "eligible_authid []",
                    o().with("eligible_authid", strs(&[])),
                    &[],
                ),
                (
                    "exclude_authrole [anonymous]",
                    o().with("exclude_authrole", strs(&["anonymous"])),
                    &[],
                ),
                (
                    "exclude_authrole [admin]",
                    o().with("exclude_authrole", strs(&["admin"])),
                    &[1, 2, 3],
                ),
                (
                    "eligible_authrole [anonymous]",
                    o().with("eligible_authrole", strs(&["anonymous"])),
                    &[1, 2, 3],
                ),
                (
                    "eligible_authrole [admin]",
                    o().with("eligible_authrole", strs(&["admin"])),
                    &[],
                ),
                (
                    "eligible [a, b, c] and exclude [a]",
                    o().with("eligible", ids(&[a, b, c]))
                        .with("exclude", ids(&[a])),
                    &[2, 3],
                ),
                (
                    "eligible [a, b] and eligible_authid [b, c]",
                    o().with("eligible", ids(&[a, b]))
                        .with("eligible_authid", strs(&[&idb, &idc])),
                    &[2],
                ),
                (
                    "eligible_authrole [anonymous], exclude_authid [c] and exclude [a]",
                    o().with("eligible_authrole", strs(&["anonymous"]))
                        .with("exclude_authid", strs(&[&idc]))
                        .with("exclude", ids(&[a])),
                    &[2],
                ),
                (
                    "eligible_authid [a, b, c] and exclude_authrole [anonymous]",
                    o().with("eligible_authid", strs(&[&ida, &idb, &idc]))
                        .with("exclude_authrole", strs(&["anonymous"])),
                    &[],
                ),
                (
                    "exclude [a] and exclude_authid [b]",
                    o().with("exclude", ids(&[a]))
                        .with("exclude_authid", strs(&[&idb])),
                    &[3],
                ),
                (
                    "exclude_me=false and eligible [publisher, a]",
                    no_exclusion().with("eligible", ids(&[me, a])),
                    &[0, 1],
                ),
                (
                    "eligible [publisher] (exclude_me defaults to true)",
                    o().with("eligible", ids(&[me])),
                    &[],
                ),
                (
                    "exclude_me=false and exclude [publisher]",
                    no_exclusion().with("exclude", ids(&[me])),
                    &[1, 2, 3],
                ),
                (
                    "exclude_me=false and eligible_authid [publisher]",
                    no_exclusion().with("eligible_authid", strs(&[&authid(me)])),
                    &[0],
                ),
                (
                    "exclude_me=false and eligible_authrole [anonymous]",
                    no_exclusion().with("eligible_authrole", strs(&["anonymous"])),
                    &[0, 1, 2, 3],
                ),
            ];
            for (n, (case, options, receivers)) in cases.into_iter().enumerate() {
                check_delivery(&mut clients, &topic, options, n as u64, receivers, case);
            }
        }
    });
}

#[test]
fn an_acknowledged_filtered_publication_is_acknowledged_even_when_nobody_is_eligible() {
    for_each_setup(|router, setup| {
        let topic = "com.adv.lists.acked";
        let mut clients = audience(router, setup, router.shards - 1, topic);
        let options = Dict::new().with("eligible", ids(&[]));
        publish_acked_with(&mut clients[0], topic, options, arg(1));
        let options = Dict::new().with("eligible", ids(&[&clients[2]]));
        publish_acked_with(&mut clients[0], topic, options, arg(2));
        let all = Dict::new().with("exclude_me", false);
        clients[0].publish(topic, all, arg(SENTINEL));
        for (i, c) in clients.iter_mut().enumerate() {
            let got: Vec<u64> = events_before(c, SENTINEL).iter().map(Event::n).collect();
            let want = if i == 2 { vec![2] } else { vec![] };
            assert_eq!(got, want, "what {} got", WHO[i]);
        }
    });
}

// ---------------------------------------------------------------------------
// Publisher identification

fn assert_disclosed(details: &Dict, publisher: &Client) {
    assert_eq!(
        details.get("publisher"),
        Some(&Value::UInt(publisher.session.0)),
        "{details:?}"
    );
    assert_eq!(
        details.get_str("publisher_authid").unwrap(),
        Some(authid(publisher).as_str())
    );
    assert_eq!(
        details.get_str("publisher_authrole").unwrap(),
        Some("anonymous")
    );
}

fn assert_undisclosed(details: &Dict) {
    for key in ["publisher", "publisher_authid", "publisher_authrole"] {
        assert_eq!(details.get(key), None, "{key} in {details:?}");
    }
}

#[test]
fn the_publisher_is_disclosed_when_it_asks() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        for p in 0..n {
            let topic = format!("com.adv.disclose.p{p}");
            let mut subs: Vec<Client> = (0..n).map(|s| router.join_on(setup, s)).collect();
            for s in subs.iter_mut() {
                s.subscribe(&topic);
            }
            let mut pattern = router.join_on(setup, (p + 1) % n);
            let prefix = Dict::new().with("match", "prefix");
            subscribe_with(&mut pattern, "com.adv.disclose.", prefix);
            let mut publisher = router.join_on(setup, p);
            let cases = [
                (Dict::new().with("disclose_me", true), true),
                (Dict::new(), false),
                (Dict::new().with("disclose_me", false), false),
                (
                    Dict::new()
                        .with("disclose_me", true)
                        .with("acknowledge", true),
                    true,
                ),
            ];
            for (i, (options, disclosed)) in cases.into_iter().enumerate() {
                let acked = options.get("acknowledge").is_some();
                let request = publisher.publish(&topic, options, arg(i as u64));
                if acked {
                    assert!(
                        matches!(publisher.recv(), Message::Published { request: r, .. } if r == request)
                    );
                }
                for (k, c) in subs.iter_mut().chain([&mut pattern]).enumerate() {
                    let e = next_event(c);
                    assert_eq!(e.n(), i as u64);
                    if k == n {
                        assert_eq!(e.topic().as_deref(), Some(topic.as_str()));
                    }
                    if disclosed {
                        assert_disclosed(&e.details, &publisher);
                    } else {
                        assert_undisclosed(&e.details);
                    }
                }
            }
        }
    });
}

#[test]
fn a_realm_policy_discloses_every_publisher() {
    let router = router_with(2, "disclose", disclosing_realm);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let realm = format!("disclose.{}", setup.realm());
        let mut subs: Vec<Client> = (0..2)
            .map(|s| router.join_on_in(setup, s, &realm))
            .collect();
        for s in subs.iter_mut() {
            s.subscribe("com.adv.disclosed");
        }
        for p in 0..2 {
            let mut publisher = router.join_on_in(setup, p, &realm);
            publisher.publish("com.adv.disclosed", Dict::new(), arg(p as u64));
            for s in subs.iter_mut() {
                let e = next_event(s);
                assert_eq!(e.n(), p as u64);
                assert_disclosed(&e.details, &publisher);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Event retention

/// Asserts `e` is the retained event `payload` of subscription `sub`.
fn assert_retained(e: &Event, sub: SubscriptionId, payload: &Payload) {
    assert_eq!(e.subscription, sub);
    assert!(e.retained(), "Details.retained missing: {:?}", e.details);
    assert_same_payload(&e.payload, payload);
}

#[test]
fn a_retained_event_reaches_later_subscribers_wherever_the_topic_lives() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        for (p, s, h) in (0..n * n * n).map(|i| (i % n, i / n % n, i / (n * n))) {
            let topic = topic_homed(&realm, &format!("com.adv.retain.p{p}s{s}h{h}"), h, n);
            // A subscriber at publication time gets it as a plain event.
            let mut early = router.join_on(setup, s);
            let early_sub = early.subscribe(&topic);
            let mut publisher = router.join_on(setup, p);
            let payload = sample_payload((p * 100 + s * 10 + h) as u64);
            publish_retained(&mut publisher, &topic, Dict::new(), payload.clone());
            let e = next_event(&mut early);
            assert_eq!(e.subscription, early_sub);
            assert_same_payload(&e.payload, &payload);
            assert!(!e.retained(), "a live event is not marked retained");
            // A later subscriber, on another serializer, gets it after SUBSCRIBED.
            let mut late = router.join_on_in(other_serializer(setup, p + s + h), s, &realm);
            let sub = subscribe_with(&mut late, &topic, get_retained());
            assert_eq!(sub, early_sub);
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
            let got = events_around(&mut late, 1, SENTINEL);
            assert_retained(&got[0], sub, &payload);
            // Nothing more for either: not a second copy, nor a replay to `early`.
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
            assert_eq!(next_event(&mut late).n(), SENTINEL + 1);
            let early_got: Vec<u64> = events_before(&mut early, SENTINEL + 1)
                .iter()
                .map(Event::n)
                .collect();
            assert_eq!(early_got, vec![SENTINEL], "(p, s, h) = ({p}, {s}, {h})");
        }
    });
}

#[test]
fn a_newer_retained_event_replaces_the_older_and_plain_ones_do_not() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        for s in 0..n {
            let topic = format!("com.adv.retain.newer.s{s}");
            let mut first = router.join_on(setup, 0);
            publish_retained(&mut first, &topic, Dict::new(), arg(1));
            let mut second = router.join_on(setup, n - 1);
            publish_retained(&mut second, &topic, Dict::new(), arg(2));
            publish_acked_with(&mut first, &topic, Dict::new(), arg(3));
            let mut sub = router.join_on_in(other_serializer(setup, s), s, &realm);
            let id = subscribe_with(&mut sub, &topic, get_retained());
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
            let got = events_around(&mut sub, 1, SENTINEL);
            assert_retained(&got[0], id, &arg(2));
            sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
            assert_eq!(next_event(&mut sub).n(), SENTINEL + 1);
        }
    });
}

#[test]
fn without_get_retained_a_subscriber_gets_no_retained_event() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let topic = "com.adv.retain.quiet";
        let mut publisher = router.join_on(setup, 0);
        publish_retained(&mut publisher, topic, Dict::new(), arg(1));
        for s in 0..n {
            for options in [Dict::new(), Dict::new().with("get_retained", false)] {
                let mut sub = router.join_on(setup, s);
                subscribe_with(&mut sub, topic, options);
                sentinel_from_home(router, setup, &realm, topic, SENTINEL);
                assert_eq!(next_event(&mut sub).n(), SENTINEL);
            }
            // get_retained on a topic that has none retained gives nothing either.
            let mut sub = router.join_on(setup, s);
            subscribe_with(&mut sub, "com.adv.retain.none", get_retained());
            sentinel_from_home(router, setup, &realm, "com.adv.retain.none", SENTINEL);
            assert_eq!(next_event(&mut sub).n(), SENTINEL);
        }
    });
}

#[test]
fn pattern_subscriptions_get_every_matching_retained_event_with_its_topic() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let retained = [
            ("com.adv.retp.a", 0, sample_payload(1)),
            ("com.adv.retp.b.x", n - 1, sample_payload(2)),
            ("com.adv.retq.c.x", 1 % n, sample_payload(3)),
        ];
        for (topic, shard, payload) in &retained {
            let mut publisher = router.join_on(setup, *shard);
            publish_retained(&mut publisher, topic, Dict::new(), payload.clone());
        }
        let cases = [
            (
                "prefix",
                "com.adv.retp.",
                &[0, 1][..],
                "com.adv.retp.sentinel",
            ),
            (
                "wildcard",
                "com.adv.retp..x",
                &[1],
                "com.adv.retp.sentinel.x",
            ),
            ("wildcard", "com.adv..c.x", &[2], "com.adv.sentinel.c.x"),
        ];
        for s in 0..n {
            for (policy, pattern, want, sentinel_topic) in cases {
                let mut sub = router.join_on_in(other_serializer(setup, s), s, &realm);
                let options = get_retained().with("match", policy);
                let id = subscribe_with(&mut sub, pattern, options);
                let mut p = router.join_on(setup, (s + 1) % n);
                publish_acked_with(&mut p, sentinel_topic, Dict::new(), arg(SENTINEL));
                let mut got = events_around(&mut sub, want.len(), SENTINEL);
                got.sort_by_key(Event::topic);
                let topics: Vec<_> = got.iter().map(|e| e.topic().unwrap()).collect();
                let expected: Vec<_> = want.iter().map(|&i| retained[i].0.to_string()).collect();
                assert_eq!(topics, expected, "{policy} {pattern}");
                for (e, &i) in got.iter().zip(want) {
                    assert_retained(e, id, &retained[i].2);
                }
                publish_acked_with(&mut p, sentinel_topic, Dict::new(), arg(SENTINEL + 1));
                assert_eq!(next_event(&mut sub).n(), SENTINEL + 1, "{policy} {pattern}");
            }
        }
    });
}

#[test]
fn retained_events_reapply_the_authid_and_authrole_filters_to_the_new_subscriber() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let realm = setup.realm();
        let mut publisher = router.join_on(setup, 1 % n);
        type Filter = fn(&str, &str) -> Dict;
        // (name, options for x's and y's authids, does x get it, does y get it)
        let cases: [(&str, Filter, bool, bool); 5] = [
            (
                "eligible_authid",
                |x, _| Dict::new().with("eligible_authid", strs(&[x])),
                true,
                false,
            ),
            (
                "exclude_authid",
                |_, y| Dict::new().with("exclude_authid", strs(&[y])),
                true,
                false,
            ),
            (
                "exclude_authrole",
                |_, _| Dict::new().with("exclude_authrole", strs(&["anonymous"])),
                false,
                false,
            ),
            (
                "eligible_authrole",
                |_, _| Dict::new().with("eligible_authrole", strs(&["anonymous"])),
                true,
                true,
            ),
            (
                "eligible_authrole_admin",
                |_, _| Dict::new().with("eligible_authrole", strs(&["admin"])),
                false,
                false,
            ),
        ];
        for (i, (name, filter, for_x, for_y)) in cases.into_iter().enumerate() {
            let mut x = router.join_on(setup, n - 1);
            let mut y = router.join_on(setup, 0);
            let topic = format!("com.adv.retain.filtered.{name}");
            let payload = arg(i as u64);
            let options = filter(&authid(&x), &authid(&y));
            publish_retained(&mut publisher, &topic, options, payload.clone());
            // y first, then x (y's events after that are not read).
            for (c, gets) in [(&mut y, for_y), (&mut x, for_x)] {
                let id = subscribe_with(c, &topic, get_retained());
                sentinel_from_home(router, setup, &realm, &topic, SENTINEL);
                if gets {
                    let got = events_around(c, 1, SENTINEL);
                    assert_retained(&got[0], id, &payload);
                    sentinel_from_home(router, setup, &realm, &topic, SENTINEL + 1);
                    assert_eq!(next_event(c).n(), SENTINEL + 1, "{name}");
                } else {
                    let who = authid(c);
                    assert_eq!(next_event(c).n(), SENTINEL, "{name}: {who} got it");
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Event history

/// The history entries of the history tests' realms.
fn history_entries() -> Vec<History> {
    vec![
        History {
            topic: "com.hist.exact",
            policy: MatchPolicy::Exact,
            limit: 5,
            max_age: None,
        },
        History {
            topic: "com.hist.pre.",
            policy: MatchPolicy::Prefix,
            limit: 10,
            max_age: None,
        },
        History {
            topic: "com.hist.aged",
            policy: MatchPolicy::Exact,
            limit: 10,
            max_age: Some(Duration::from_millis(300)),
        },
    ]
}

fn history_of(name: &str) -> RealmSettings {
    history_realm(name, &history_entries())
}

/// One event of a `get_events` answer.
#[derive(Debug)]
struct Stored {
    timestamp: String,
    subscription: u64,
    publication: PublicationId,
    details: Dict,
    args: Option<Value>,
    kwargs: Option<Value>,
}

impl Stored {
    fn n(&self) -> u64 {
        match &self.args {
            Some(Value::List(a)) => a[0].as_u64().expect("an integer first argument"),
            other => panic!("expected args, got {other:?}"),
        }
    }
}

enum Limit {
    Default,
    Positional(u64),
    Keyword(u64),
}

/// Asserts `ts` is an RFC 3339 date-time (`2024-05-01T12:00:00.123Z`, `...+02:00`).
fn assert_rfc3339(ts: &str) {
    let b = ts.as_bytes();
    let digits =
        |from: usize, to: usize| (from..to).all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0, 4)
        && b[4] == b'-'
        && digits(5, 7)
        && b[7] == b'-'
        && digits(8, 10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11, 13)
        && b[13] == b':'
        && digits(14, 16)
        && b[16] == b':'
        && digits(17, 19);
    assert!(shape, "not an RFC 3339 timestamp: {ts:?}");
    let rest = &ts[19..];
    let rest = match rest.strip_prefix('.') {
        Some(r) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let offset = |r: &str| {
        r.len() == 6 && (r.starts_with('+') || r.starts_with('-')) && r.as_bytes()[3] == b':'
    };
    assert!(
        rest == "Z" || rest == "z" || offset(rest),
        "not an RFC 3339 timestamp: {ts:?}"
    );
}

/// The events of a `get_events` RESULT: `Arguments = [[event, ...]]`, one
/// argument holding the list (a plain list for a client's call, e.g.
/// Autobahn's), oldest first.
fn parse_history(payload: &Payload) -> Vec<Stored> {
    let (args, _) = payload.to_values().unwrap();
    let items = match args {
        Some(Value::List(mut args)) if args.len() == 1 => match args.pop() {
            Some(Value::List(items)) => items,
            other => panic!("RESULT.Arguments[0] is not the list of events: {other:?}"),
        },
        other => panic!("expected RESULT.Arguments = [[event, ...]], got {other:?}"),
    };
    items
        .into_iter()
        .map(|item| {
            let Value::Dict(d) = item else {
                panic!("a history entry is not a dict: {item:?}")
            };
            let timestamp = d.get_str("timestamp").unwrap().expect("timestamp");
            assert_rfc3339(timestamp);
            Stored {
                timestamp: timestamp.to_string(),
                subscription: d.get_u64("subscription").unwrap().expect("subscription"),
                publication: PublicationId(d.get_u64("publication").unwrap().expect("publication")),
                details: d.get_dict("details").unwrap().expect("details").clone(),
                args: d.get("args").cloned(),
                kwargs: d.get("kwargs").cloned(),
            }
        })
        .collect()
}

/// Calls `wamp.subscription.get_events`: the stored events or the ERROR URI.
fn get_events(c: &mut Client, sub: SubscriptionId, limit: Limit) -> Result<Vec<Stored>, String> {
    let mut args = vec![Value::UInt(sub.0)];
    let mut kwargs = None;
    match limit {
        Limit::Default => {}
        Limit::Positional(n) => args.push(Value::UInt(n)),
        Limit::Keyword(n) => kwargs = Some(Dict::new().with("limit", n)),
    }
    let request = c.call(GET_EVENTS, Payload::from_values(Some(args), kwargs));
    answer(c, request).map(|p| parse_history(&p))
}

/// `get_events`, which must satisfy `done`: every acknowledged publication
/// is in the history once its PUBLISHED arrived, whatever shard keeps it.
fn events_when(
    c: &mut Client,
    sub: SubscriptionId,
    done: impl Fn(&[Stored]) -> bool,
) -> Vec<Stored> {
    let got =
        get_events(c, sub, Limit::Default).unwrap_or_else(|e| panic!("get_events failed: {e}"));
    assert!(
        done(&got),
        "the history lacks an acknowledged event: {got:?}"
    );
    got
}

fn publications(stored: &[Stored]) -> Vec<PublicationId> {
    stored.iter().map(|s| s.publication).collect()
}

#[test]
fn the_history_holds_the_latest_events_from_every_shard_once_in_publish_order() {
    for_each_setup_in("hist", history_of, |router, setup, realm| {
        let n = router.shards;
        let topic = "com.hist.exact";
        // Subscribers on every shard: one subscription, one history.
        let mut subs: Vec<Client> = (0..n)
            .map(|s| router.join_on_in(other_serializer(setup, s), s, realm))
            .collect();
        let sub = subs[0].subscribe(topic);
        for c in subs.iter_mut().skip(1) {
            assert_eq!(c.subscribe(topic), sub);
        }
        let mut publishers: Vec<Client> =
            (0..n).map(|p| router.join_on_in(setup, p, realm)).collect();
        let mut sent = Vec::new();
        for (p, c) in publishers.iter_mut().enumerate() {
            sent.push(c.publish_acked(topic, sample_payload(p as u64)));
        }
        let last = *sent.last().unwrap();
        // The caller is not a subscriber (so its next message is the answer).
        let caller = &mut router.join_on_in(other_serializer(setup, 1), n - 1, realm);
        let got = events_when(caller, sub, |h| {
            h.iter().any(|s| s.publication == last) && h.len() >= n
        });
        let mut want = sent.clone();
        want.sort();
        let mut have = publications(&got);
        have.sort();
        assert_eq!(have, want, "every event exactly once");
        for s in &got {
            assert_eq!(s.subscription, sub.0);
            let p = sent.iter().position(|&x| x == s.publication).unwrap();
            let payload = Payload::from_values(
                s.args.clone().map(|a| a.as_list().unwrap().to_vec()),
                s.kwargs.clone().map(|k| k.as_dict().unwrap().clone()),
            );
            assert_same_payload(&payload, &sample_payload(p as u64));
        }

        // Six more from one publisher: the history keeps the latest five, oldest first.
        let more: Vec<PublicationId> = (1..=6)
            .map(|k| publishers[0].publish_acked(topic, arg(100 + k)))
            .collect();
        let newest = more[5];
        let got = events_when(caller, sub, |h| {
            h.last().is_some_and(|s| s.publication == newest)
        });
        assert_eq!(publications(&got), more[1..].to_vec());
        assert_eq!(
            got.iter().map(Stored::n).collect::<Vec<_>>(),
            vec![102, 103, 104, 105, 106]
        );
        for s in &got {
            let no_kwargs = match &s.kwargs {
                None => true,
                Some(Value::Dict(d)) => d.is_empty(),
                Some(_) => false,
            };
            assert!(no_kwargs, "kwargs of an event that had none: {s:?}");
        }
        let stamps: Vec<&str> = got.iter().map(|s| s.timestamp.as_str()).collect();
        if stamps
            .iter()
            .all(|t| t.ends_with('Z') && t.len() == stamps[0].len())
        {
            assert!(
                stamps.windows(2).all(|w| w[0] <= w[1]),
                "timestamps go back: {stamps:?}"
            );
        }

        // A limit returns the latest ones, positional or as a keyword.
        let got = get_events(caller, sub, Limit::Positional(2)).unwrap();
        assert_eq!(publications(&got), more[4..].to_vec());
        let got = get_events(caller, sub, Limit::Keyword(3)).unwrap();
        assert_eq!(publications(&got), more[3..].to_vec());
        let got = get_events(caller, sub, Limit::Positional(100)).unwrap();
        assert_eq!(publications(&got), more[1..].to_vec());

        // Any session may ask, on any shard.
        let mut other = router.join_on_in(setup, (n - 1) / 2, realm);
        let got = get_events(&mut other, sub, Limit::Keyword(10)).unwrap();
        assert_eq!(publications(&got), more[1..].to_vec());
    });
}

#[test]
fn pattern_subscriptions_keep_their_own_history() {
    for_each_setup_in("hist", history_of, |router, setup, realm| {
        let n = router.shards;
        let mut sub = router.join_on_in(setup, n - 1, realm);
        let prefix = Dict::new().with("match", "prefix");
        let id = subscribe_with(&mut sub, "com.hist.pre.", prefix);
        let mut p = router.join_on_in(setup, 0, realm);
        let a = p.publish_acked("com.hist.pre.a", arg(1));
        p.publish_acked("com.hist.other", arg(2));
        let b = p.publish_acked("com.hist.pre.b.c", arg(3));
        let mut caller = router.join_on_in(setup, (n - 1) / 2, realm);
        let got = events_when(&mut caller, id, |h| {
            h.last().is_some_and(|s| s.publication == b)
        });
        assert_eq!(publications(&got), vec![a, b]);
        for (s, topic) in got.iter().zip(["com.hist.pre.a", "com.hist.pre.b.c"]) {
            if let Some(t) = s.details.get_str("topic").unwrap() {
                assert_eq!(t, topic, "Details.topic of a stored pattern event");
            }
        }
        // History is per (topic, match): the exact subscription to one of those
        // topics, and the prefix one to the exact history's topic, have none.
        let exact = caller.subscribe("com.hist.pre.a");
        let prefix = Dict::new().with("match", "prefix");
        let other_policy = subscribe_with(&mut caller, "com.hist.exact", prefix);
        for sub in [exact, other_policy] {
            let err = get_events(&mut caller, sub, Limit::Default).unwrap_err();
            assert_eq!(err, "wamp.error.history_unavailable");
        }
        let live: Vec<u64> = (0..2).map(|_| next_event(&mut sub).n()).collect();
        assert_eq!(live, vec![1, 3]);
    });
}

#[test]
fn get_events_refuses_unknown_subscriptions_and_those_without_history() {
    // The matrix realms keep no history at all.
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut c = router.join_on(setup, n - 1);
        let plain = c.subscribe("com.hist.exact");
        let prefix = Dict::new().with("match", "prefix");
        let pattern = subscribe_with(&mut c, "com.hist.", prefix);
        for sub in [plain, pattern] {
            let err = get_events(&mut c, sub, Limit::Default).unwrap_err();
            assert_eq!(err, "wamp.error.history_unavailable");
        }
        let unknown = SubscriptionId(UNKNOWN_ID);
        let err = get_events(&mut c, unknown, Limit::Positional(3)).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
        let mut far = router.join_on(setup, 0);
        let err = get_events(&mut far, plain, Limit::Default).unwrap_err();
        assert_eq!(err, "wamp.error.history_unavailable");
        let err = get_events(&mut far, unknown, Limit::Default).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
    });
}

#[test]
fn events_published_for_chosen_sessions_are_not_stored() {
    for_each_setup_in("hist", history_of, |router, setup, realm| {
        let n = router.shards;
        let topic = "com.hist.exact";
        let mut sub = router.join_on_in(setup, n - 1, realm);
        let id = sub.subscribe(topic);
        let bystander = router.join_on_in(setup, 0, realm);
        let mut p = router.join_on_in(setup, 0, realm);
        let first = p.publish_acked(topic, arg(1));
        let excluding = Dict::new().with("exclude", ids(&[&bystander]));
        publish_acked_with(&mut p, topic, excluding, arg(2));
        let choosing = Dict::new().with("eligible", ids(&[&sub]));
        publish_acked_with(&mut p, topic, choosing, arg(3));
        let last = p.publish_acked(topic, arg(4));
        let mut caller = router.join_on_in(setup, n - 1, realm);
        let got = events_when(&mut caller, id, |h| {
            h.last().is_some_and(|s| s.publication == last)
        });
        assert_eq!(publications(&got), vec![first, last]);
        // They were delivered all the same.
        let live: Vec<Event> = (0..4).map(|_| next_event(&mut sub)).collect();
        assert_eq!(
            live.iter().map(Event::n).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert_eq!((live[0].publication, live[3].publication), (first, last));
    });
}

#[test]
fn history_entries_older_than_the_max_age_are_dropped() {
    let router = router_with(2, "aged", history_of);
    for setup in matrix().into_iter().filter(|s| s.shards == 2) {
        let realm = format!("aged.{}", setup.realm());
        let mut sub = router.join_on_in(setup, 1, &realm);
        let id = sub.subscribe("com.hist.aged");
        let mut p = router.join_on_in(setup, 0, &realm);
        let mut caller = router.join_on_in(setup, 1, &realm);
        let old = p.publish_acked("com.hist.aged", arg(1));
        events_when(&mut caller, id, |h| {
            h.last().is_some_and(|s| s.publication == old)
        });
        // The max age is 300 ms: this is about time, so it waits.
        std::thread::sleep(Duration::from_millis(700));
        let new = p.publish_acked("com.hist.aged", arg(2));
        let got = events_when(&mut caller, id, |h| {
            h.last().is_some_and(|s| s.publication == new)
        });
        assert_eq!(publications(&got), vec![new]);
        assert_eq!(next_event(&mut sub).n(), 1);
        assert_eq!(next_event(&mut sub).n(), 2);
    }
}

// ---------------------------------------------------------------------------
// Subscription revocation

/// Every role, the subscriber announcing `subscription_revocation`.
fn revocation_roles() -> Dict {
    let mut r = roles();
    let features = Dict::new().with("subscription_revocation", true);
    r.insert("subscriber", Dict::new().with("features", features));
    r
}

/// Calls `wamp.subscription.remove_subscriber`.
fn remove_subscriber(
    c: &mut Client,
    sub: SubscriptionId,
    session: SessionId,
    reason: Option<&str>,
) -> Result<Payload, String> {
    let args = vec![Value::UInt(sub.0), Value::UInt(session.0)];
    let kwargs = reason.map(|r| Dict::new().with("reason", r));
    let request = c.call(REMOVE_SUBSCRIBER, Payload::from_values(Some(args), kwargs));
    answer(c, request)
}

fn assert_empty_result(p: &Payload) {
    let (args, kwargs) = p.to_values().unwrap();
    let empty = |v: &Option<Value>| match v {
        None => true,
        Some(Value::List(l)) => l.is_empty(),
        Some(Value::Dict(d)) => d.is_empty(),
        Some(_) => false,
    };
    assert!(
        empty(&args) && empty(&kwargs),
        "expected an empty RESULT, got {p:?}"
    );
}

fn expect_revoked(c: &mut Client, sub: SubscriptionId, reason: Option<&str>) {
    match c.recv() {
        Message::Unsubscribed {
            request,
            details: Some(details),
        } => {
            assert_eq!(request.0, 0);
            assert_eq!(details.get("subscription"), Some(&Value::UInt(sub.0)));
            if let Some(reason) = reason {
                assert_eq!(details.get_str("reason").unwrap(), Some(reason));
            }
        }
        other => panic!("expected [UNSUBSCRIBED, 0, {{subscription: {sub}, ...}}], got {other:?}"),
    }
}

/// Removes `victim` from `topic` by a caller on another shard while `other`
/// stays subscribed; `announced` says whether `victim` announced the feature.
fn revoke_and_check(
    router: &Router,
    setup: Setup,
    victim: &mut Client,
    announced: bool,
    tag: &str,
) {
    let n = router.shards;
    let topic = format!("com.adv.revoke.{tag}");
    let sentinel_topic = format!("com.adv.revoke.{tag}.sentinel");
    let mut other = router.join_on(setup, 0);
    let sub = other.subscribe(&topic);
    assert_eq!(victim.subscribe(&topic), sub);
    let sentinel_sub = victim.subscribe(&sentinel_topic);
    let mut caller = router.join_on(setup, 1 % n);
    let reason = "com.example.revoked";
    let result = remove_subscriber(&mut caller, sub, victim.session, Some(reason));
    assert_empty_result(&result.unwrap());
    if announced {
        expect_revoked(victim, sub, Some(reason));
    }
    // The victim gets no more events of `sub`; `other` still does.
    let mut p = router.join_on(setup, n - 1);
    p.publish_acked(&topic, arg(1));
    p.publish_acked(&sentinel_topic, arg(SENTINEL));
    assert_eq!(next_event(&mut other).n(), 1);
    let e = next_event(victim);
    assert_eq!((e.subscription, e.n()), (sentinel_sub, SENTINEL));
    // It may subscribe again; a second removal without a reason.
    assert_eq!(victim.subscribe(&topic), sub);
    p.publish_acked(&topic, arg(2));
    assert_eq!(next_event(victim).n(), 2);
    assert_eq!(next_event(&mut other).n(), 2);
    let result = remove_subscriber(&mut caller, sub, victim.session, None);
    assert_empty_result(&result.unwrap());
    if announced {
        expect_revoked(victim, sub, None);
    }
    p.publish_acked(&topic, arg(3));
    p.publish_acked(&sentinel_topic, arg(SENTINEL + 1));
    assert_eq!(next_event(&mut other).n(), 3);
    assert_eq!(next_event(victim).n(), SENTINEL + 1);
}

#[test]
fn remove_subscriber_revokes_with_unsubscribed_for_subscribers_that_announced_it() {
    for_each_setup(|router, setup| {
        for shard in 0..router.shards {
            let mut victim = router.join_on_with(setup, shard, revocation_roles());
            revoke_and_check(router, setup, &mut victim, true, &format!("told{shard}"));
        }
    });
}

#[test]
fn remove_subscriber_silently_drops_subscribers_that_did_not_announce_it() {
    for_each_setup(|router, setup| {
        for shard in 0..router.shards {
            let mut victim = router.join_on(setup, shard);
            revoke_and_check(router, setup, &mut victim, false, &format!("silent{shard}"));
        }
    });
}

#[test]
fn removing_the_last_subscriber_ends_the_subscription() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut victim = router.join_on_with(setup, n - 1, revocation_roles());
        let sub = victim.subscribe("com.adv.revoke.last");
        let sentinel_sub = victim.subscribe("com.adv.revoke.last.sentinel");
        let mut caller = router.join_on(setup, 0);
        let result = remove_subscriber(&mut caller, sub, victim.session, None);
        assert_empty_result(&result.unwrap());
        expect_revoked(&mut victim, sub, None);
        let mut p = router.join_on(setup, 0);
        p.publish_acked("com.adv.revoke.last", arg(1));
        p.publish_acked("com.adv.revoke.last.sentinel", arg(SENTINEL));
        let e = next_event(&mut victim);
        assert_eq!((e.subscription, e.n()), (sentinel_sub, SENTINEL));
        // The subscription is gone: removing again finds nothing.
        let err = remove_subscriber(&mut caller, sub, victim.session, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
    });
}

#[test]
fn remove_subscriber_refuses_unknown_subscriptions_and_sessions() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut sub = router.join_on(setup, n - 1);
        let id = sub.subscribe("com.adv.revoke.errors");
        let mut caller = router.join_on(setup, 0);
        let unknown = SubscriptionId(UNKNOWN_ID);
        let err = remove_subscriber(&mut caller, unknown, sub.session, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_subscription");
        let nobody = SessionId(UNKNOWN_ID);
        let err = remove_subscriber(&mut caller, id, nobody, None).unwrap_err();
        assert_eq!(err, "wamp.error.no_such_session");
        // The subscription is untouched.
        caller.publish_acked("com.adv.revoke.errors", arg(1));
        assert_eq!(next_event(&mut sub).n(), 1);
    });
}
