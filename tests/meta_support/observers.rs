//! Observers (sessions that read events only) and fences (an event from every
//! shard the observers must get next).

use super::*;
use crate::common::*;
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use switchyard::wire::{Dict, Message, Payload, SubscriptionId, Value};

// ---------------------------------------------------------------------------
// Observers

/// An event as an observer got it.
#[derive(Debug)]
pub struct Ev {
    /// Details.topic if there (pattern subscriptions), else the subscribed URI.
    pub topic: String,
    pub details: Dict,
    pub args: Vec<Value>,
    pub kwargs: Dict,
}

impl Ev {
    /// The session a meta event is about (its first argument, or the
    /// `session` of `on_join`'s details).
    pub fn about(&self) -> Option<u64> {
        if !self.topic.starts_with("wamp.") {
            return None;
        }
        match self.args.first()? {
            Value::Dict(d) => d.get("session")?.as_u64(),
            v => v.as_u64(),
        }
    }
}

impl Observer {
    /// The next event, which must be `create` naming session `who`: the new
    /// subscription's or registration's ID.
    pub fn created(&mut self, create: &str, who: u64, ctx: &str) -> Value {
        let created = self.next();
        assert_eq!(created.topic, create, "{ctx}: {created:?}");
        assert_eq!(created.args.first(), Some(&uint(who)), "{ctx}: {created:?}");
        let details = created.args[1].as_dict().unwrap();
        details.get("id").cloned().unwrap()
    }
}

/// A session subscribed to some topics; it reads events only.
pub struct Observer {
    pub c: Client,
    pub topics: Vec<(SubscriptionId, String)>,
    /// Events that came before a SUBSCRIBED.
    pub early: VecDeque<Message>,
    pub skipped: Rc<RefCell<HashSet<u64>>>,
}

impl Observer {
    /// Subscribes to `topic`: a prefix subscription if it ends with `.`, a
    /// wildcard one if it has an empty component, else an exact one.
    pub fn subscribe(&mut self, topic: &str) {
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
    pub fn next(&mut self) -> Ev {
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
pub fn values(p: &Payload) -> (Vec<Value>, Dict) {
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

pub fn uint(n: u64) -> Value {
    Value::UInt(n)
}

/// `[session, id]`: the arguments of the events of one session and one
/// subscription or registration.
pub fn pair(c: &Client, id: u64) -> Vec<Value> {
    vec![uint(c.session.0), uint(id)]
}

pub fn authid(c: &Client) -> String {
    format!("anonymous-{}", c.session.0)
}

/// `on_leave`'s arguments for `c`: `[session, authid, authrole]`.
pub fn leave_args(c: &Client) -> Vec<Value> {
    vec![
        uint(c.session.0),
        Value::str(authid(c)),
        Value::str("anonymous"),
    ]
}

/// Every observer's next event is `topic` with arguments `args`.
pub fn expect_all(obs: &mut [Observer], topic: &str, args: &[Value]) {
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
pub fn expect_interleaved(obs: &mut [Observer], streams: &[Vec<(&str, Vec<Value>)>]) {
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
pub fn expect_joined(obs: &mut [Observer], joiner: &Client, welcome: &Dict) {
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
pub fn expect_created(
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
pub fn fence_sessions(scene: &Scene, obs: &mut [Observer]) {
    for shard in 0..scene.shards() {
        let (mut f, welcome) = scene.join_on(shard);
        expect_joined(obs, &f, &welcome);
        f.goodbye();
        expect_all(obs, ON_LEAVE, &leave_args(&f));
    }
}

/// On every shard in turn a subscription homed there is made and undone:
/// each observer (of the four subscription events) gets its events next.
pub fn fence_subscriptions(scene: &Scene, obs: &mut [Observer]) {
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
pub fn fence_registrations(scene: &Scene, obs: &mut [Observer]) {
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
pub fn fence_publications(scene: &Scene, obs: &mut [Observer], topic: &str) {
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
