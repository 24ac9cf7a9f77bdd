//! A realm with the meta API switched off: it announces, publishes and answers
//! none of it. Over real sockets, for 1-3 shards x WebSocket/RawSocket x every
//! serializer, with an observer on every shard and the actors on chosen shards.
//!
//! How "nothing else arrived" is proven (fences), and why every scenario that
//! ends sessions has a realm of its own: see `meta_support`.

#![allow(clippy::unwrap_used)]

mod common;
mod meta_support;

use meta_support::*;
use switchyard::wire::{Dict, Value};

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
