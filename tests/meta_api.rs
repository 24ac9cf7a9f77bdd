//! The meta API's procedures over real sockets, for 1-3 shards x
//! WebSocket/RawSocket x every serializer, with sessions placed on every
//! shard: session count, list, get and kill (by ID, authid, authrole, all),
//! and the registration and subscription lookups, aggregated over shards.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, Value};

/// Calls a meta procedure; its single result argument, or its error URI.
fn meta(
    c: &mut Client,
    procedure: &str,
    args: Vec<Value>,
    kwargs: Option<Dict>,
) -> Result<Value, String> {
    let request = c.call(procedure, Payload::from_values(Some(args), kwargs));
    loop {
        match c.recv() {
            Message::Result {
                request: r,
                payload,
                ..
            } if r == request => {
                let (args, _) = payload.to_values().unwrap();
                return Ok(match args {
                    Some(Value::List(mut l)) if !l.is_empty() => l.remove(0),
                    _ => Value::Null,
                });
            }
            Message::Error {
                request_type: code::CALL,
                request: r,
                error,
                ..
            } if r == request => return Err(error.to_string()),
            Message::Event { .. } => continue,
            other => panic!("expected the answer of {procedure}, got {other:?}"),
        }
    }
}

fn ids(v: Value) -> Vec<u64> {
    let Value::List(l) = v else {
        panic!("expected a list, got {v:?}")
    };
    let mut ids: Vec<u64> = l.iter().map(|x| x.as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

fn uint(v: Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an integer, got {v:?}"))
}

/// One session per shard, plus the asking one on the last shard.
fn sessions_everywhere(router: &Router, setup: Setup) -> (Vec<Client>, Client) {
    let others = (0..router.shards)
        .map(|s| router.join_on(setup, s))
        .collect();
    (others, router.join_on(setup, router.shards - 1))
}

#[test]
fn session_count_list_and_get_cover_every_shard() {
    for_each_setup(|router, setup| {
        let (others, mut asker) = sessions_everywhere(router, setup);
        let mut want: Vec<u64> = others.iter().map(|c| c.session.0).collect();
        want.push(asker.session.0);
        want.sort_unstable();
        let count = meta(&mut asker, "wamp.session.count", vec![], None).unwrap();
        assert_eq!(uint(count), want.len() as u64);
        let list = meta(&mut asker, "wamp.session.list", vec![], None).unwrap();
        assert_eq!(ids(list), want);
        let roles = Value::List(vec![Value::str("anonymous")]);
        let by_role = meta(&mut asker, "wamp.session.count", vec![roles], None).unwrap();
        assert_eq!(uint(by_role), want.len() as u64);
        let nobody = Value::List(vec![Value::str("admin")]);
        let none = meta(&mut asker, "wamp.session.list", vec![nobody], None).unwrap();
        assert!(ids(none).is_empty());
        for c in &others {
            let got = meta(
                &mut asker,
                "wamp.session.get",
                vec![Value::UInt(c.session.0)],
                None,
            );
            let Value::Dict(d) = got.unwrap() else {
                panic!("expected details")
            };
            assert_eq!(d.get("session"), Some(&Value::UInt(c.session.0)));
            let authid = format!("anonymous-{}", c.session.0);
            assert_eq!(d.get("authid"), Some(&Value::str(authid)));
            assert_eq!(d.get("authrole"), Some(&Value::str("anonymous")));
            let kind = match setup.kind {
                Kind::WebSocket => "websocket",
                Kind::RawSocket => "rawsocket",
            };
            let transport = d.get_dict("transport").unwrap().unwrap();
            assert_eq!(transport.get("type"), Some(&Value::str(kind)));
            assert!(transport
                .get_str("peer")
                .unwrap()
                .unwrap()
                .starts_with("127.0.0.1:"));
        }
        let unknown = meta(&mut asker, "wamp.session.get", vec![Value::UInt(3)], None);
        assert_eq!(unknown.unwrap_err(), "wamp.error.no_such_session");
    });
}

#[test]
fn a_killed_session_on_any_shard_gets_goodbye_and_is_gone() {
    for_each_setup(|router, setup| {
        let (mut others, mut asker) = sessions_everywhere(router, setup);
        let kwargs = Dict::new()
            .with("reason", "com.example.maintenance")
            .with("message", "bye");
        for victim in &mut others {
            let id = Value::UInt(victim.session.0);
            let done = meta(
                &mut asker,
                "wamp.session.kill",
                vec![id.clone()],
                Some(kwargs.clone()),
            );
            assert_eq!(done, Ok(Value::Null));
            match victim.recv() {
                Message::Goodbye { reason, details } => {
                    assert_eq!(reason, "com.example.maintenance");
                    assert_eq!(details.get("message"), Some(&Value::str("bye")));
                }
                other => panic!("expected GOODBYE, got {other:?}"),
            }
            victim.expect_closed();
            let gone = meta(&mut asker, "wamp.session.get", vec![id.clone()], None);
            assert_eq!(gone.unwrap_err(), "wamp.error.no_such_session");
            let again = meta(&mut asker, "wamp.session.kill", vec![id], None);
            assert_eq!(again.unwrap_err(), "wamp.error.no_such_session");
        }
        let own = Value::UInt(asker.session.0);
        let itself = meta(&mut asker, "wamp.session.kill", vec![own], None);
        assert_eq!(itself.unwrap_err(), "wamp.error.no_such_session");
        let count = meta(&mut asker, "wamp.session.count", vec![], None).unwrap();
        assert_eq!(uint(count), 1);
    });
}

#[test]
fn kill_by_authid_authrole_and_all_spare_the_caller() {
    for_each_setup(|router, setup| {
        let (mut others, mut asker) = sessions_everywhere(router, setup);
        let first = others.remove(0);
        let authid = Value::str(format!("anonymous-{}", first.session.0));
        let killed = meta(
            &mut asker,
            "wamp.session.kill_by_authid",
            vec![authid],
            None,
        );
        assert_eq!(ids(killed.unwrap()), vec![first.session.0]);
        let role = Value::str("anonymous");
        let n = meta(
            &mut asker,
            "wamp.session.kill_by_authrole",
            vec![role],
            None,
        );
        assert_eq!(uint(n.unwrap()), others.len() as u64);
        for mut c in others {
            assert!(matches!(c.recv(), Message::Goodbye { .. }));
            c.expect_closed();
        }
        let more = router.join_on(setup, 0);
        let all = meta(&mut asker, "wamp.session.kill_all", vec![], None);
        assert_eq!(uint(all.unwrap()), 1, "only the newcomer; never the caller");
        let mut more = more;
        let Message::Goodbye { reason, .. } = more.recv() else {
            panic!("expected GOODBYE")
        };
        assert_eq!(reason, "wamp.close.killed");
        let count = meta(&mut asker, "wamp.session.count", vec![], None).unwrap();
        assert_eq!(uint(count), 1);
    });
}

#[test]
fn registration_lookups_answer_from_every_shard() {
    for_each_setup(|router, setup| {
        let mut callee = router.join_on(setup, 0);
        let exact = callee.register("com.meta.proc").unwrap().0;
        let request = callee.request();
        callee.send(&Message::Register {
            request,
            options: Dict::new().with("match", "prefix"),
            procedure: "com.meta.".into(),
        });
        let Message::Registered { registration, .. } = callee.recv() else {
            panic!("expected REGISTERED")
        };
        let prefix = registration.0;
        let mut asker = router.join_on(setup, router.shards - 1);
        let Value::Dict(list) = meta(&mut asker, "wamp.registration.list", vec![], None).unwrap()
        else {
            panic!("expected a dict")
        };
        assert_eq!(ids(list.get("exact").unwrap().clone()), vec![exact]);
        assert_eq!(ids(list.get("prefix").unwrap().clone()), vec![prefix]);
        let uri = |s: &str| Value::str(s);
        let look = |a: &mut Client, args| meta(a, "wamp.registration.lookup", args, None);
        assert_eq!(
            look(&mut asker, vec![uri("com.meta.proc")]),
            Ok(Value::UInt(exact))
        );
        let prefix_opt = Value::Dict(Dict::new().with("match", "prefix"));
        let got = look(&mut asker, vec![uri("com.meta."), prefix_opt]);
        assert_eq!(got, Ok(Value::UInt(prefix)));
        assert_eq!(look(&mut asker, vec![uri("com.other")]), Ok(Value::Null));
        let best = |a: &mut Client, p| meta(a, "wamp.registration.match", vec![uri(p)], None);
        assert_eq!(best(&mut asker, "com.meta.proc"), Ok(Value::UInt(exact)));
        assert_eq!(best(&mut asker, "com.meta.x"), Ok(Value::UInt(prefix)));
        let Value::Dict(d) = meta(
            &mut asker,
            "wamp.registration.get",
            vec![Value::UInt(prefix)],
            None,
        )
        .unwrap() else {
            panic!("expected details")
        };
        assert_eq!(d.get("uri"), Some(&uri("com.meta.")));
        assert_eq!(d.get("match"), Some(&uri("prefix")));
        assert_eq!(d.get("invoke"), Some(&uri("single")));
        let callees = meta(
            &mut asker,
            "wamp.registration.list_callees",
            vec![Value::UInt(exact)],
            None,
        );
        assert_eq!(ids(callees.unwrap()), vec![callee.session.0]);
        let n = meta(
            &mut asker,
            "wamp.registration.count_callees",
            vec![Value::UInt(exact)],
            None,
        );
        assert_eq!(n, Ok(Value::UInt(1)));
        let missing = meta(
            &mut asker,
            "wamp.registration.get",
            vec![Value::UInt(424242)],
            None,
        );
        assert_eq!(missing.unwrap_err(), "wamp.error.no_such_registration");
        // UNREGISTERED comes once every shard's replica dropped the callee.
        let request = callee.request();
        callee.send(&Message::Unregister {
            request,
            registration: switchyard::wire::RegistrationId(exact),
            options: Dict::new(),
        });
        assert!(matches!(callee.recv(), Message::Unregistered { request: r, .. } if r == request));
        assert_eq!(
            look(&mut asker, vec![uri("com.meta.proc")]),
            Ok(Value::Null)
        );
    });
}

#[test]
fn subscription_lookups_aggregate_the_subscribers_of_every_shard() {
    for_each_setup(|router, setup| {
        let mut subscribers: Vec<Client> = (0..router.shards)
            .map(|s| router.join_on(setup, s))
            .collect();
        let mut id = 0;
        for s in &mut subscribers {
            id = s.subscribe("com.meta.topic").0;
        }
        let mut asker = router.join_on(setup, 0);
        let Value::Dict(list) = meta(&mut asker, "wamp.subscription.list", vec![], None).unwrap()
        else {
            panic!("expected a dict")
        };
        assert_eq!(ids(list.get("exact").unwrap().clone()), vec![id]);
        let topic = Value::str("com.meta.topic");
        let found = meta(
            &mut asker,
            "wamp.subscription.lookup",
            vec![topic.clone()],
            None,
        );
        assert_eq!(found, Ok(Value::UInt(id)));
        let matched = meta(&mut asker, "wamp.subscription.match", vec![topic], None);
        assert_eq!(ids(matched.unwrap()), vec![id]);
        let none = meta(
            &mut asker,
            "wamp.subscription.match",
            vec![Value::str("com.none")],
            None,
        );
        assert_eq!(none, Ok(Value::Null));
        let Value::Dict(d) = meta(
            &mut asker,
            "wamp.subscription.get",
            vec![Value::UInt(id)],
            None,
        )
        .unwrap() else {
            panic!("expected details")
        };
        assert_eq!(d.get("uri"), Some(&Value::str("com.meta.topic")));
        assert_eq!(d.get("match"), Some(&Value::str("exact")));
        let mut want: Vec<u64> = subscribers.iter().map(|c| c.session.0).collect();
        want.sort_unstable();
        let who = meta(
            &mut asker,
            "wamp.subscription.list_subscribers",
            vec![Value::UInt(id)],
            None,
        );
        assert_eq!(ids(who.unwrap()), want);
        let n = meta(
            &mut asker,
            "wamp.subscription.count_subscribers",
            vec![Value::UInt(id)],
            None,
        );
        assert_eq!(n, Ok(Value::UInt(want.len() as u64)));
        let missing = meta(
            &mut asker,
            "wamp.subscription.get",
            vec![Value::UInt(424242)],
            None,
        );
        assert_eq!(missing.unwrap_err(), "wamp.error.no_such_subscription");
        let unknown = meta(&mut asker, "wamp.subscription.bogus", vec![], None);
        assert_eq!(unknown.unwrap_err(), "wamp.error.no_such_procedure");
    });
}
