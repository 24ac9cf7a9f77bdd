//! Testaments: `wamp.session.add_testament` / `flush_testaments`, published on
//! GOODBYE, transport loss and kill, retained on request, and the scopes
//! refused. Over real sockets, for 1-3 shards x WebSocket/RawSocket x every
//! serializer, with an observer on every shard and the actors on chosen shards.
//!
//! How "nothing else arrived" is proven (fences), and why every scenario that
//! ends sessions has a realm of its own: see `meta_support`.

#![allow(clippy::unwrap_used)]

mod common;
mod meta_support;

use common::*;
use meta_support::*;
use std::collections::HashSet;
use switchyard::wire::{Dict, Message, Payload, Value};

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
