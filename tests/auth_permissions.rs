//! Authorization over real sockets, for 1-3 shards x WebSocket/RawSocket x
//! every serializer, with roles of exact, prefix and wildcard rules
//! configured in TOML (a realm per setup): each action allowed or denied
//! (a denied request gets ERROR `wamp.error.not_authorized` and the session
//! goes on), the most specific rule deciding, a denied unacknowledged
//! PUBLISH never delivered, calls between shards checked against the
//! caller's role, the meta API under the same rules, rules that disclose
//! callers and publishers, and a pattern subscription that must not bring
//! a role events of topics it may not subscribe to.
//!
//! "Nothing else arrived" is proven by order, never by waiting: what one
//! session sends reaches another in order, so a message received after a
//! later request's answer was never sent.
#![allow(clippy::unwrap_used)]

mod common;

use common::auth::{for_each_setup_from_toml, Credentials};
use common::{arg, first_arg, matrix, Client, Router, Setup};
use switchyard::auth::Action;
use switchyard::wire::message::code;
use switchyard::wire::{Dict, Message, Payload, SubscriptionId, Value};

const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";
const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";
const SENTINEL: u64 = 1_000_000;

/// The roles of every realm.
///
/// user: everything under `com.app.` but the exact `com.app.secret`, and
/// only call and subscribe under the longer prefix `com.app.ro.`; nothing
/// under `com.deny.`; everything on `com.*.open` and nothing on
/// `com.*.blocked` (wildcards: they decide only where no exact or prefix
/// rule matches); everything under `com.disclose.`, disclosing callers and
/// publishers; calls of the meta API (`wamp.`).
///
/// guest: call and subscribe under `com.app.`, nothing under
/// `com.app.admin.`, only publish and subscribe under `com.app.ro.` (the
/// longest prefix decides alone: its rules are not merged with shorter ones).
const ROLES: &str = r#"
[[realms.realm.roles]]
name = "user"
permissions = [
  { uri = "com.app.", match = "prefix", allow = { call = true, register = true, publish = true, subscribe = true } },
  { uri = "com.app.secret", match = "exact", allow = {} },
  { uri = "com.app.ro.", match = "prefix", allow = { call = true, subscribe = true } },
  { uri = "com.deny.", match = "prefix", allow = {} },
  { uri = "com..open", match = "wildcard", allow = { call = true, register = true, publish = true, subscribe = true } },
  { uri = "com..blocked", match = "wildcard", allow = {} },
  { uri = "com.disclose.", match = "prefix", allow = { call = true, register = true, publish = true, subscribe = true }, disclose = { caller = true, publisher = true } },
  { uri = "wamp.", match = "prefix", allow = { call = true } },
]
[[realms.realm.roles]]
name = "guest"
permissions = [
  { uri = "com.app.", match = "prefix", allow = { call = true, subscribe = true } },
  { uri = "com.app.admin.", match = "prefix", allow = {} },
  { uri = "com.app.ro.", match = "prefix", allow = { publish = true, subscribe = true } },
]
"#;

/// A realm per setup of `shards`, each with alice (user) and gus (guest).
fn config(shards: usize) -> String {
    let realm = |s: Setup| {
        format!(
            "[[realms.realm]]\nname = \"{}\"\nanonymous = false\n\
             [[realms.realm.principals]]\nauthid = \"alice\"\nauthrole = \"user\"\nticket = \"a-t1cket\"\n\
             [[realms.realm.principals]]\nauthid = \"gus\"\nauthrole = \"guest\"\nticket = \"g-t1cket\"\n\
             {ROLES}",
            s.realm()
        )
    };
    matrix()
        .into_iter()
        .filter(|s| s.shards == shards)
        .map(realm)
        .collect()
}

fn for_each_setup(scenario: impl Fn(&Router, Setup)) {
    for_each_setup_from_toml(config, scenario);
}

fn alice() -> Credentials {
    Credentials::ticket("alice", "a-t1cket")
}

fn gus() -> Credentials {
    Credentials::ticket("gus", "g-t1cket")
}

/// A session of `creds` on `shard`, in the setup's realm.
fn login(router: &Router, setup: Setup, shard: usize, creds: &Credentials) -> Client {
    router.login_on(setup, shard % router.shards, &setup.realm(), creds)
}

fn request_type(action: Action) -> u64 {
    match action {
        Action::Call => code::CALL,
        Action::Register => code::REGISTER,
        Action::Publish => code::PUBLISH,
        Action::Subscribe => code::SUBSCRIBE,
    }
}

/// Sends `action` on `uri` (a PUBLISH acknowledged); `Ok` for its success
/// reply, `Err(error URI)` for an ERROR. An ERROR must answer this request,
/// and a `not_authorized` one name the action and URI in its argument.
fn attempt(c: &mut Client, action: Action, uri: &str) -> Result<(), String> {
    let request = c.request();
    let (options, topic_or_procedure) = (Dict::new(), uri.into());
    c.send(&match action {
        Action::Call => Message::Call {
            request,
            options,
            procedure: topic_or_procedure,
            payload: Payload::empty(),
        },
        Action::Register => Message::Register {
            request,
            options,
            procedure: topic_or_procedure,
        },
        Action::Publish => Message::Publish {
            request,
            options: options.with("acknowledge", true),
            topic: topic_or_procedure,
            payload: Payload::empty(),
        },
        Action::Subscribe => Message::Subscribe {
            request,
            options,
            topic: topic_or_procedure,
        },
    });
    let reply = c.recv();
    match (&reply, action) {
        (Message::Result { request: r, .. }, Action::Call)
        | (Message::Registered { request: r, .. }, Action::Register)
        | (Message::Published { request: r, .. }, Action::Publish)
        | (Message::Subscribed { request: r, .. }, Action::Subscribe)
            if *r == request =>
        {
            Ok(())
        }
        (
            Message::Error {
                request_type: t,
                request: r,
                error,
                payload,
                ..
            },
            _,
        ) if *r == request && *t == request_type(action) => {
            if error.as_str() == NOT_AUTHORIZED {
                assert_denial_text(payload, action, uri);
            }
            Err(error.to_string())
        }
        _ => panic!(
            "expected the answer to {} {uri}, got {reply:?}",
            action.name()
        ),
    }
}

/// A denial's argument names the action and the URI.
fn assert_denial_text(payload: &Payload, action: Action, uri: &str) {
    let (args, _) = payload.to_values().unwrap();
    let text = match args {
        Some(Value::List(l)) => l.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let text = text.unwrap_or_else(|| panic!("a denial without a message: {payload:?}"));
    assert!(text.contains(action.name()) && text.contains(uri), "{text}");
}

/// Asserts what `attempt` gets: `Ok`, or the error URI.
fn expect(c: &mut Client, action: Action, uri: &str, want: Result<(), &str>) {
    let got = attempt(c, action, uri);
    assert_eq!(
        got.as_ref().map_err(String::as_str).copied(),
        want,
        "{} {uri}",
        action.name()
    );
}

#[test]
fn each_action_is_allowed_or_denied_and_the_session_goes_on() {
    use Action::*;
    let denied = Err(NOT_AUTHORIZED);
    for_each_setup(|router, setup| {
        let mut a = login(router, setup, 0, &alice());
        let cases = [
            (Register, "com.app.secret", denied),
            (Register, "com.app.mine", Ok(())),
            (Subscribe, "com.app.secret", denied),
            (Subscribe, "com.app.news", Ok(())),
            (Publish, "com.app.secret", denied),
            (Publish, "com.app.news", Ok(())),
            (Call, "com.app.secret", denied),
            (Call, "com.app.nobody", Err(NO_SUCH_PROCEDURE)),
            (Call, "com.app.mine.unregistered", Err(NO_SUCH_PROCEDURE)),
        ];
        for (action, uri, want) in cases {
            expect(&mut a, action, uri, want);
        }
        let mut g = login(router, setup, router.shards - 1, &gus());
        let cases = [
            (Register, "com.app.gus", denied),
            (Publish, "com.app.news", denied),
            (Subscribe, "com.app.news", Ok(())),
            (Call, "com.app.admin.x", denied),
            (Call, "com.app.nobody", Err(NO_SUCH_PROCEDURE)),
        ];
        for (action, uri, want) in cases {
            expect(&mut g, action, uri, want);
        }
    });
}

#[test]
fn the_most_specific_rule_decides() {
    use Action::*;
    let user = [
        // An exact rule inside an allowing prefix; only that URI.
        (Publish, "com.app.secret", false),
        (Publish, "com.app.secret.sub", true),
        (Publish, "com.app.secretive", true),
        // A longer prefix narrows the shorter one.
        (Subscribe, "com.app.ro.feed", true),
        (Call, "com.app.ro.proc", true),
        (Publish, "com.app.ro.feed", false),
        (Register, "com.app.ro.proc", false),
        // Wildcards decide only where no exact or prefix rule matches.
        (Publish, "com.other.open", true),
        (Register, "com.other.open", true),
        (Publish, "com.deny.open", false),
        (Publish, "com.app.blocked", true),
        (Publish, "com.other.blocked", false),
        // No matching rule.
        (Publish, "com.other.closed", false),
        (Subscribe, "org.app.news", false),
    ];
    let guest = [
        (Publish, "com.app.ro.feed", true),
        (Call, "com.app.ro.proc", false),
        (Call, "com.app.admin.x", false),
        (Call, "com.app.x", true),
        (Subscribe, "com.app.admin.feed", false),
    ];
    for_each_setup(|router, setup| {
        for (who, creds, cases) in [("user", alice(), &user[..]), ("guest", gus(), &guest[..])] {
            let mut c = login(router, setup, 0, &creds);
            for &(action, uri, allowed) in cases {
                let got = attempt(&mut c, action, uri);
                let denied = matches!(&got, Err(e) if e == NOT_AUTHORIZED);
                assert_eq!(!denied, allowed, "{who}: {} {uri}: {got:?}", action.name());
            }
        }
    });
}

/// The next EVENT of `c`: its subscription, first argument and details.
fn next_event(c: &mut Client) -> (SubscriptionId, u64, Dict) {
    match c.recv() {
        Message::Event {
            subscription,
            details,
            payload,
            ..
        } => (subscription, first_arg(&payload), details),
        other => panic!("expected EVENT, got {other:?}"),
    }
}

#[test]
fn a_denied_unacknowledged_publish_is_not_delivered() {
    for_each_setup(|router, setup| {
        for p in 0..router.shards {
            let mut sub = login(router, setup, p + 1, &alice());
            let ro = sub.subscribe("com.app.ro.feed");
            let feed = sub.subscribe("com.app.feed");
            // The subscription is live: a guest may publish there.
            let mut guest = login(router, setup, p, &gus());
            guest.publish("com.app.ro.feed", Dict::new(), arg(1));
            assert_eq!(next_event(&mut sub).0, ro);
            // A user may not: dropped without an ERROR.
            let mut user = login(router, setup, p, &alice());
            user.publish("com.app.ro.feed", Dict::new(), arg(2));
            user.publish_acked("com.app.feed", arg(SENTINEL));
            let (subscription, n, _) = next_event(&mut sub);
            assert_eq!(
                (subscription, n),
                (feed, SENTINEL),
                "the denied event arrived"
            );
        }
    });
}

/// `caller` calls `procedure` with argument `n`; `callee` must get exactly
/// that invocation (so nothing sent before it reached the callee) and
/// answers it. Returns the INVOCATION's details.
fn call_through(caller: &mut Client, callee: &mut Client, procedure: &str, n: u64) -> Dict {
    let request = caller.call(procedure, arg(n));
    let details = match callee.recv() {
        Message::Invocation {
            request: inv,
            details,
            payload,
            ..
        } => {
            assert_eq!(first_arg(&payload), n, "an earlier call reached the callee");
            callee.send(&Message::Yield {
                request: inv,
                options: Dict::new(),
                payload,
            });
            details
        }
        other => panic!("expected INVOCATION of {procedure}, got {other:?}"),
    };
    match caller.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => assert_eq!(first_arg(&payload), n),
        other => panic!("expected RESULT of {procedure}, got {other:?}"),
    }
    details
}

#[test]
fn calls_between_shards_are_checked_against_the_callers_role() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        let mut users: Vec<Client> = (0..n).map(|s| login(router, setup, s, &alice())).collect();
        let mut guests: Vec<Client> = (0..n).map(|s| login(router, setup, s, &gus())).collect();
        for i in 0..n {
            let mut callee = login(router, setup, i, &alice());
            let admin = format!("com.app.admin.{i}");
            let echo = format!("com.app.echo.{i}");
            callee.register(&admin).unwrap();
            callee.register(&echo).unwrap();
            for j in (0..n).filter(|&j| j != i || n == 1) {
                let guest = &mut guests[j];
                expect(guest, Action::Call, &admin, Err(NOT_AUTHORIZED));
                call_through(guest, &mut callee, &echo, j as u64);
                call_through(&mut users[j], &mut callee, &admin, j as u64);
            }
        }
    });
}

/// Calls `procedure`; `Ok(first result argument)` or `Err(error URI)`.
fn meta(c: &mut Client, procedure: &str, args: Vec<Value>) -> Result<Value, String> {
    let request = c.call(procedure, Payload::args(args));
    match c.recv() {
        Message::Result {
            request: r,
            payload,
            ..
        } if r == request => match payload.to_values().unwrap().0 {
            Some(Value::List(mut l)) if !l.is_empty() => Ok(l.remove(0)),
            other => panic!("{procedure} returned {other:?}"),
        },
        Message::Error {
            request_type: code::CALL,
            request: r,
            error,
            ..
        } if r == request => Err(error.to_string()),
        other => panic!("expected the answer of {procedure}, got {other:?}"),
    }
}

#[test]
fn the_meta_api_obeys_the_rules() {
    for_each_setup(|router, setup| {
        let mut user = login(router, setup, 0, &alice());
        let mut guest = login(router, setup, router.shards - 1, &gus());
        let count = meta(&mut user, "wamp.session.count", vec![]).unwrap();
        assert!(count.as_u64().unwrap() >= 2, "{count:?}");
        let me = Value::UInt(guest.session.0);
        let details = meta(&mut user, "wamp.session.get", vec![me.clone()]).unwrap();
        assert_eq!(
            details.as_dict().unwrap().get_str("authrole").unwrap(),
            Some("guest")
        );
        for (procedure, args) in [
            ("wamp.session.count", vec![]),
            ("wamp.session.get", vec![me]),
        ] {
            let got = meta(&mut guest, procedure, args);
            assert_eq!(got.unwrap_err(), NOT_AUTHORIZED, "{procedure}");
        }
        expect(
            &mut user,
            Action::Subscribe,
            "wamp.session.on_join",
            Err(NOT_AUTHORIZED),
        );
        expect(&mut guest, Action::Subscribe, "com.app.news", Ok(()));
    });
}

fn assert_identified(details: &Dict, key: &str, who: &Client, disclosed: bool) {
    if disclosed {
        assert_eq!(
            details.get(key),
            Some(&Value::UInt(who.session.0)),
            "{details:?}"
        );
        let authid = details.get_str(&format!("{key}_authid")).unwrap();
        let authrole = details.get_str(&format!("{key}_authrole")).unwrap();
        assert_eq!((authid, authrole), (Some("alice"), Some("user")));
    } else {
        assert_eq!(details.get(key), None, "{details:?}");
    }
}

#[test]
fn rules_that_disclose_identify_callers_and_publishers() {
    for_each_setup(|router, setup| {
        let n = router.shards;
        for i in 0..n {
            let mut callee = login(router, setup, i, &alice());
            let mut caller = login(router, setup, i + 1, &alice());
            let cases = [
                (format!("com.disclose.proc.{i}"), true),
                (format!("com.app.proc.{i}"), false),
            ];
            for (procedure, disclosed) in &cases {
                callee.register(procedure).unwrap();
                let details = call_through(&mut caller, &mut callee, procedure, 7);
                assert_identified(&details, "caller", &caller, *disclosed);
            }
            for (topic, disclosed) in [("com.disclose.topic", true), ("com.app.plain", false)] {
                let sub = callee.subscribe(topic);
                caller.publish_acked(topic, arg(8));
                let (subscription, _, details) = next_event(&mut callee);
                assert_eq!(subscription, sub);
                assert_identified(&details, "publisher", &caller, disclosed);
            }
        }
    });
}

/// A SUBSCRIBE with a pattern is checked against the rules as the URI it
/// names, so a pattern may cover topics the role may not subscribe to.
/// Either the subscription is refused or those topics' events stay away.
#[test]
fn a_pattern_subscription_gets_no_events_the_role_may_not_subscribe_to() {
    for_each_setup(|router, setup| {
        let mut guest = login(router, setup, 0, &gus());
        expect(
            &mut guest,
            Action::Subscribe,
            "com.app.admin.feed",
            Err(NOT_AUTHORIZED),
        );
        let request = guest.request();
        guest.send(&Message::Subscribe {
            request,
            options: Dict::new().with("match", "prefix"),
            topic: "com.app.a".into(),
        });
        match guest.recv() {
            Message::Subscribed { request: r, .. } if r == request => {}
            Message::Error {
                request: r, error, ..
            } if r == request && error.as_str() == NOT_AUTHORIZED => return,
            other => panic!("expected the SUBSCRIBE's answer, got {other:?}"),
        }
        let mut user = login(router, setup, router.shards - 1, &alice());
        user.publish_acked("com.app.admin.feed", arg(1));
        user.publish_acked("com.app.about", arg(SENTINEL));
        let (_, n, details) = next_event(&mut guest);
        assert_eq!(
            n, SENTINEL,
            "guest got an event of com.app.admin.feed: {details:?}"
        );
    });
}
