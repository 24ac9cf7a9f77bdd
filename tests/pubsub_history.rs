//! Advanced Pub/Sub: event history (`wamp.subscription.get_events`) in realms
//! keeping one (see `history_realm` in `pubsub_support`). Over real sockets,
//! for 1-3 shards x WebSocket/RawSocket x every serializer, with publishers and
//! subscribers on chosen shards.
//!
//! "Nothing else arrived" is proven by order, never by waiting: the events of
//! one publisher reach a subscriber in publish order, so everything a
//! subscriber got before an unfiltered sentinel publication is everything the
//! publications before it gave it.
//!
//! Beyond the spec, these tests hold the router to ARCHITECTURE's "linearizable
//! where clients can see it": an event of a history is stored before the
//! PUBLISHED of its (acknowledged) publication: a `get_events` sent after that
//! answer has it.
//!
//! The order the history tests check is the order of one publisher's events. `get_events`
//! answers `RESULT.Arguments = [[event, ...]]`: the list is one argument.

#![allow(clippy::unwrap_used)]

mod common;
mod pubsub_support;

use common::*;
use pubsub_support::*;
use std::time::Duration;
use switchyard::routing::MatchPolicy;
use switchyard::shard::RealmSettings;
use switchyard::wire::{Dict, Payload, PublicationId, SubscriptionId, Value};

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
