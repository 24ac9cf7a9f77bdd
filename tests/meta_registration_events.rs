//! The meta API's registration events (`wamp.registration.on_create` /
//! `on_register` / `on_unregister` / `on_delete`) in order: UNREGISTER, a
//! callee that leaves, a session gone before its REGISTERED. Over real sockets,
//! for 1-3 shards x WebSocket/RawSocket x every serializer, with an observer on
//! every shard and the actors on chosen shards.
//!
//! How "nothing else arrived" is proven (fences), and why every scenario that
//! ends sessions has a realm of its own: see `meta_support`.

#![allow(clippy::unwrap_used)]

mod common;
mod meta_support;

use meta_support::*;
use std::collections::HashSet;
use switchyard::wire::Dict;

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
                    let id = o.created(REG_CREATE, who, &ctx);
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
