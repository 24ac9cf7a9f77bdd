//! The meta API's session events: `wamp.session.on_join` / `on_leave` (GOODBYE,
//! dropped transport, `wamp.session.kill`), meta events through pattern
//! subscriptions, and no late delivery of unobserved ones. Over real sockets,
//! for 1-3 shards x WebSocket/RawSocket x every serializer, with an observer on
//! every shard and the actors on chosen shards.
//!
//! How "nothing else arrived" is proven (fences), and why every scenario that
//! ends sessions has a realm of its own: see `meta_support`.

#![allow(clippy::unwrap_used)]

mod common;
mod meta_support;

use meta_support::*;
use switchyard::wire::Dict;

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
