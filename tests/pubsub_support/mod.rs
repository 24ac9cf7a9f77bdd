//! Helpers shared by the advanced Pub/Sub tests (`pubsub_filters`,
//! `pubsub_identification`, `pubsub_retention`, `pubsub_history`,
//! `pubsub_revocation`): realm policies, routers with a realm per setup,
//! subscribing and publishing with options, reading events, sentinels.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.
//!
//! The realm policies (disclosing every publisher, event history) are set in
//! `disclosing_realm` and `history_realm` below, the only two places that
//! depend on how `RealmSettings` spells them.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::*;
use std::time::Duration;
use switchyard::routing::{home_shard, MatchPolicy};
use switchyard::runtime::RouterOptions;
use switchyard::shard::RealmSettings;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, PublicationId, Serializer, SubscriptionId, Value};

/// First arguments from here on mark sentinel publications.
pub const SENTINEL: u64 = 1_000_000;

pub const GET_EVENTS: &str = "wamp.subscription.get_events";
pub const REMOVE_SUBSCRIBER: &str = "wamp.subscription.remove_subscriber";

/// A subscription or session ID no router hands out in these tests (2^53).
pub const UNKNOWN_ID: u64 = 1 << 53;

// ---------------------------------------------------------------------------
// Realm policies

/// One `RealmSettings.pubsub.history` entry, as the tests need it.
pub struct History {
    pub topic: &'static str,
    pub policy: MatchPolicy,
    pub limit: usize,
    pub max_age: Option<Duration>,
}

/// A realm whose broker discloses every publisher
/// (`RealmSettings.pubsub.disclose_publisher = true`).
pub fn disclosing_realm(name: &str) -> RealmSettings {
    let mut realm = RealmSettings::open(name);
    realm.pubsub.disclose_publisher = true;
    realm
}

/// A realm keeping the event history `entries` describe
/// (`RealmSettings.pubsub.history`).
pub fn history_realm(name: &str, entries: &[History]) -> RealmSettings {
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
pub fn router_with(shards: usize, prefix: &str, realm: impl Fn(&str) -> RealmSettings) -> Router {
    let mut opts = RouterOptions::local(shards);
    for setup in matrix().into_iter().filter(|s| s.shards == shards) {
        let name = format!("{prefix}.{}", setup.realm());
        opts.settings.realms.push(realm(&name));
    }
    Router::start_with(opts)
}

/// `for_each_setup`, in realms of their own made by `realm` (see `router_with`).
pub fn for_each_setup_in(
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

pub fn ids(clients: &[&Client]) -> Value {
    Value::List(clients.iter().map(|c| Value::UInt(c.session.0)).collect())
}

pub fn authid(c: &Client) -> String {
    format!("anonymous-{}", c.session.0)
}

pub fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::str(*s)).collect())
}

/// The session on another serializer than `setup`'s (for cross-serializer checks).
pub fn other_serializer(setup: Setup, n: usize) -> Setup {
    let serializer = Serializer::ALL[(setup.serializer.index() + 1 + n % 2) % 3];
    Setup {
        serializer,
        ..setup
    }
}

/// A topic under `prefix` whose home shard (for an exact subscription) is `home`.
pub fn topic_homed(realm: &str, prefix: &str, home: usize, shards: usize) -> String {
    (0..10_000)
        .map(|i| format!("{prefix}.t{i}"))
        .find(|t| home_shard(realm, t, MatchPolicy::Exact, shards) == home)
        .expect("a topic for every home shard")
}

pub fn subscribe_with(c: &mut Client, topic: &str, options: Dict) -> SubscriptionId {
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

pub fn get_retained() -> Dict {
    Dict::new().with("get_retained", true)
}

/// An acknowledged publication with `options`; returns its ID.
pub fn publish_acked_with(
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

pub fn publish_retained(
    c: &mut Client,
    topic: &str,
    options: Dict,
    payload: Payload,
) -> PublicationId {
    publish_acked_with(c, topic, options.with("retain", true), payload)
}

pub struct Event {
    pub subscription: SubscriptionId,
    pub publication: PublicationId,
    pub details: Dict,
    pub payload: Payload,
}

impl Event {
    pub fn n(&self) -> u64 {
        first_arg(&self.payload)
    }

    pub fn retained(&self) -> bool {
        self.details.get_bool("retained").unwrap() == Some(true)
    }

    pub fn topic(&self) -> Option<String> {
        self.details.get_str("topic").unwrap().map(String::from)
    }
}

pub fn next_event(c: &mut Client) -> Event {
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
pub fn events_before(c: &mut Client, sentinel: u64) -> Vec<Event> {
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
pub fn events_around(c: &mut Client, want: usize, sentinel: u64) -> Vec<Event> {
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
pub fn sentinel_from_home(router: &Router, setup: Setup, realm: &str, topic: &str, sentinel: u64) {
    let home = home_shard(realm, topic, MatchPolicy::Exact, router.shards);
    let mut c = router.join_on_in(setup, home, realm);
    publish_acked_with(&mut c, topic, Dict::new(), arg(sentinel));
}

/// The answer to a CALL: its RESULT payload or its ERROR URI.
pub fn answer(c: &mut Client, request: switchyard::wire::RequestId) -> Result<Payload, String> {
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

pub fn features_of(details: &Dict, role: &str) -> Dict {
    details
        .get_dict("roles")
        .unwrap()
        .and_then(|r| r.get_dict(role).unwrap())
        .and_then(|d| d.get_dict("features").unwrap())
        .cloned()
        .unwrap_or_default()
}
