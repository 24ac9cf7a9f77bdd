//! The session meta API at scale: 10,000 sessions on a 2-shard router (and
//! 3,000 on 3 shards), RawSocket + MsgPack, one observer subscribed to
//! `wamp.session.on_join` and `on_leave`, while a churn thread keeps
//! sessions joining and leaving on every shard. Whatever the observer has
//! seen before it calls `wamp.session.list` or `count` binds the answer:
//! a session it saw leave is never listed, a session the test holds open is
//! always listed, and nothing is listed twice; with the churn paused and
//! every event seen, list and count are exactly the sessions that joined
//! and did not leave. The list of 10,000+ IDs comes in one RESULT. The
//! latency of `wamp.session.count` at full size is printed (not asserted).
//!
//! Descriptors: the router runs in this process, so each session costs two
//! here (client and router end). The soft RLIMIT_NOFILE is raised as needed;
//! if the hard limit is too low, a helper process (this binary running
//! `session_holder`) holds the client ends past it, and only if even the
//! router's ends do not fit does the test open fewer sessions (and says so).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod meta_scale_support;

use common::*;
use meta_scale_support::*;
use std::collections::{BTreeSet, HashSet};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use switchyard::wire::{
    encode_to_bytes, Dict, Message, Payload, Serializer, SubscriptionId, Text, Value,
};

const ON_JOIN: &str = "wamp.session.on_join";
const ON_LEAVE: &str = "wamp.session.on_leave";

/// Sessions opened (or closed) between two checks.
const BATCH: usize = 1000;

/// How long the observer waits for the events it expects.
const EVENTS_DEADLINE: Duration = Duration::from_secs(60);

/// The scenarios share the process's file descriptors and the CPU: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Not a test of its own: the helper process of `scale` when the
/// descriptors of one process are short (does nothing otherwise; see
/// `meta_scale_support`).
#[test]
fn session_holder() {
    serve_as_holder();
}

/// The one result argument of a RESULT.
fn result_arg(payload: &Payload) -> Value {
    match payload.to_values().unwrap().0 {
        Some(Value::List(mut l)) if !l.is_empty() => l.remove(0),
        other => panic!("expected a result argument, got {other:?}"),
    }
}

/// A message the observer read.
enum Got {
    Joined(u64),
    Left(u64),
    Other(Box<Message>),
}

/// The session subscribed to the session meta events, and what it has seen.
struct Observer {
    c: Client,
    on_join: SubscriptionId,
    on_leave: SubscriptionId,
    /// Sessions whose `on_join` arrived.
    joined: HashSet<u64>,
    /// Sessions whose `on_leave` arrived.
    left: HashSet<u64>,
}

impl Observer {
    fn new(mut c: Client) -> Observer {
        let on_join = c.subscribe(ON_JOIN);
        let on_leave = c.subscribe(ON_LEAVE);
        Observer {
            c,
            on_join,
            on_leave,
            joined: HashSet::new(),
            left: HashSet::new(),
        }
    }

    /// Records a meta event; any other message is handed back.
    fn take(&mut self, m: Message) -> Got {
        let Message::Event {
            subscription,
            payload,
            ..
        } = &m
        else {
            return Got::Other(Box::new(m));
        };
        let (args, _) = payload.to_values().unwrap();
        let Some(Value::List(args)) = args else {
            panic!("a meta event without arguments: {m:?}")
        };
        if *subscription == self.on_join {
            let [Value::Dict(d)] = args.as_slice() else {
                panic!("on_join arguments: {args:?}")
            };
            let id = d.get("session").and_then(Value::as_u64).unwrap();
            let authid = format!("anonymous-{id}");
            assert_eq!(d.get("authid"), Some(&Value::str(authid)), "{d:?}");
            assert_eq!(d.get("authrole"), Some(&Value::str("anonymous")));
            assert!(self.joined.insert(id), "on_join of {id} twice");
            Got::Joined(id)
        } else if *subscription == self.on_leave {
            let [id, authid, authrole] = args.as_slice() else {
                panic!("on_leave arguments: {args:?}")
            };
            let id = id.as_u64().unwrap();
            assert_eq!(*authid, Value::str(format!("anonymous-{id}")));
            assert_eq!(*authrole, Value::str("anonymous"));
            assert!(
                self.joined.contains(&id),
                "on_leave of {id} before its on_join"
            );
            assert!(self.left.insert(id), "on_leave of {id} twice");
            Got::Left(id)
        } else {
            panic!("an event of an unknown subscription: {m:?}");
        }
    }

    /// Reads events until the observer has seen `ids` join (or leave).
    fn await_events<'a>(&mut self, leaves: bool, ids: impl IntoIterator<Item = &'a u64>) {
        let seen = if leaves { &self.left } else { &self.joined };
        let fresh = ids.into_iter().filter(|id| !seen.contains(id));
        let mut pending: HashSet<u64> = fresh.copied().collect();
        let deadline = Instant::now() + EVENTS_DEADLINE;
        while !pending.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the observer never saw {} of {} sessions (e.g. {:?})",
                if leaves {
                    "the on_leave"
                } else {
                    "the on_join"
                },
                pending.len(),
                pending.iter().next()
            );
            let m = self.c.recv();
            match self.take(m) {
                Got::Joined(id) if !leaves => pending.remove(&id),
                Got::Left(id) if leaves => pending.remove(&id),
                Got::Joined(_) | Got::Left(_) => false,
                Got::Other(other) => panic!("expected an event, got {other:?}"),
            };
        }
    }

    fn await_joins<'a>(&mut self, ids: impl IntoIterator<Item = &'a u64>) {
        self.await_events(false, ids);
    }

    fn await_leaves<'a>(&mut self, ids: impl IntoIterator<Item = &'a u64>) {
        self.await_events(true, ids);
    }

    /// Calls a meta procedure without arguments; its result argument, the
    /// RESULT's encoded size and the round trip (events meanwhile are recorded).
    fn call(&mut self, procedure: &str) -> (Value, usize, Duration) {
        let start = Instant::now();
        let request = self.c.call(procedure, Payload::empty());
        loop {
            let m = self.c.recv();
            let Got::Other(m) = self.take(m) else {
                continue;
            };
            match *m {
                Message::Result {
                    request: r,
                    ref payload,
                    ..
                } if r == request => {
                    let took = start.elapsed();
                    let size = encode_to_bytes(self.c.serializer, &m).len();
                    return (result_arg(payload), size, took);
                }
                other => panic!("expected the RESULT of {procedure}, got {other:?}"),
            }
        }
    }

    /// `wamp.session.list`: the IDs as listed (unsorted, duplicates kept) and the RESULT's size.
    fn list(&mut self) -> (Vec<u64>, usize) {
        let (v, size, _) = self.call("wamp.session.list");
        let Value::List(l) = v else {
            panic!("expected a list, got {v:?}")
        };
        (l.iter().map(|x| x.as_u64().unwrap()).collect(), size)
    }

    fn count(&mut self) -> u64 {
        self.call("wamp.session.count").0.as_u64().unwrap()
    }
}

/// Sessions held open by the test: here (opened in batches: HELLOs sent,
/// then the WELCOMEs read), and by the holder process past `room`.
struct Held {
    url: String,
    realm: String,
    open: Vec<Client>,
    /// How many sessions this process may hold.
    room: usize,
    holder: Option<Holder>,
    /// The holder's sessions.
    remote: Vec<u64>,
    /// Dropped connections whose session's `on_leave` has not been awaited yet.
    closing: HashSet<u64>,
    /// Every session the test opened.
    all: HashSet<u64>,
}

impl Held {
    fn open_batch(&mut self, n: usize) -> Vec<u64> {
        let here = n.min(self.room.saturating_sub(self.open.len()));
        let fresh = open_sessions(&self.url, &self.realm, here);
        let mut ids: Vec<u64> = fresh.iter().map(|c| c.session.0).collect();
        self.open.extend(fresh);
        if here < n {
            let (url, realm) = (&self.url, &self.realm);
            let holder = self.holder.get_or_insert_with(|| {
                eprintln!("holding sessions past {} in a helper process", self.room);
                Holder::spawn(url, realm)
            });
            let there = holder.open(n - here);
            assert_eq!(there.len(), n - here);
            self.remote.extend(&there);
            ids.extend(there);
        }
        for id in &ids {
            assert!(self.all.insert(*id), "session ID {id} handed out twice");
        }
        ids
    }

    /// Drops every session of the holder process at once (if there is one).
    fn close_remote(&mut self) {
        if let Some(holder) = self.holder.take() {
            self.closing.extend(self.remote.drain(..));
            holder.close();
        }
    }

    /// Closes `n` sessions: every other one with GOODBYE (gone when the
    /// router's GOODBYE arrives), the others by dropping the connection
    /// (gone some time later). Returns the IDs of the dropped ones.
    fn close_batch(&mut self, n: usize) -> Vec<u64> {
        let mut batch: Vec<Client> = self.open.drain(self.open.len() - n..).collect();
        let (mut polite, rude): (Vec<_>, Vec<_>) =
            batch.drain(..).enumerate().partition(|(i, _)| i % 2 == 0);
        for (_, c) in &mut polite {
            c.send(&Message::Goodbye {
                details: Dict::new(),
                reason: Text::from("wamp.close.close_realm"),
            });
        }
        for (_, c) in &mut polite {
            assert!(matches!(c.recv(), Message::Goodbye { .. }));
        }
        let dropped: Vec<u64> = rude.iter().map(|(_, c)| c.session.0).collect();
        self.closing.extend(&dropped);
        drop(rude);
        dropped
    }

    fn open_ids(&self) -> impl Iterator<Item = u64> + Clone + '_ {
        self.open
            .iter()
            .map(|c| c.session.0)
            .chain(self.remote.iter().copied())
    }

    fn len(&self) -> usize {
        self.open.len() + self.remote.len()
    }
}

enum ChurnCmd {
    Pause,
    Resume,
    Stop,
}

/// A thread that keeps one short-lived session at a time joining (HELLO)
/// and leaving (GOODBYE) on a connection to each shard. Paused, it holds no
/// session; it reports every session ID it was given.
struct Churn {
    cmds: Sender<ChurnCmd>,
    acks: Receiver<()>,
    ids: Arc<Mutex<Vec<u64>>>,
    conns: usize,
    thread: thread::JoinHandle<()>,
}

impl Churn {
    fn start(router: &Router, setup: Setup) -> Churn {
        let realm = setup.realm();
        let mut joined = Vec::new();
        let mut by_shard: Vec<Option<Client>> = (0..router.shards).map(|_| None).collect();
        for _ in 0..500 {
            if by_shard.iter().all(Option::is_some) {
                break;
            }
            let mut c = Client::connect(&router.url(setup.kind), setup.serializer);
            c.send(&hello(&realm));
            let id = welcome(c.recv()).0;
            joined.push(id);
            c.goodbye();
            let slot = &mut by_shard[(id % router.shards as u64) as usize];
            if slot.is_none() {
                *slot = Some(c);
            }
        }
        let mut conns: Vec<Client> = by_shard
            .into_iter()
            .map(|c| c.expect("a connection to every shard in 500 tries"))
            .collect();
        let (cmds, cmd_rx) = mpsc::channel();
        let (ack_tx, acks) = mpsc::channel();
        let ids = Arc::new(Mutex::new(joined));
        let seen = ids.clone();
        let n = conns.len();
        let thread = thread::spawn(move || {
            let mut paused = false;
            loop {
                let cmd = if paused {
                    Some(cmd_rx.recv().unwrap())
                } else {
                    match cmd_rx.try_recv() {
                        Ok(c) => Some(c),
                        Err(TryRecvError::Empty) => None,
                        Err(TryRecvError::Disconnected) => return,
                    }
                };
                match cmd {
                    Some(ChurnCmd::Pause) => {
                        paused = true;
                        ack_tx.send(()).unwrap();
                        continue;
                    }
                    Some(ChurnCmd::Resume) => paused = false,
                    Some(ChurnCmd::Stop) => return,
                    None => {}
                }
                for c in &mut conns {
                    c.send(&hello(&realm));
                }
                let mut fresh = Vec::with_capacity(conns.len());
                for c in &mut conns {
                    fresh.push(welcome(c.recv()).0);
                }
                seen.lock().unwrap().extend(fresh);
                for c in &mut conns {
                    c.goodbye();
                }
                thread::sleep(Duration::from_millis(1));
            }
        });
        Churn {
            cmds,
            acks,
            ids,
            conns: n,
            thread,
        }
    }

    /// Pauses the churn; its sessions so far (none of which is still open).
    fn pause(&self) -> Vec<u64> {
        self.cmds.send(ChurnCmd::Pause).unwrap();
        self.acks.recv_timeout(EVENTS_DEADLINE).unwrap();
        self.ids.lock().unwrap().clone()
    }

    fn resume(&self) {
        self.cmds.send(ChurnCmd::Resume).unwrap();
    }

    fn stop(self) -> Vec<u64> {
        self.cmds.send(ChurnCmd::Stop).unwrap();
        self.thread.join().expect("the churn thread");
        let ids = self.ids.lock().unwrap().clone();
        ids
    }
}

/// Everything ever listed, to check at the end that each was a real session.
#[derive(Default)]
struct Listed(HashSet<u64>);

/// A check while sessions join and leave: what the observer saw before
/// asking binds the answers.
fn check_during_churn(obs: &mut Observer, held: &Held, churn_conns: usize, listed: &mut Listed) {
    let left_before = obs.left.clone();
    let (list, _) = obs.list();
    let distinct: HashSet<u64> = list.iter().copied().collect();
    assert_eq!(distinct.len(), list.len(), "a session listed twice");
    let mut must = held.open_ids().chain([obs.c.session.0]);
    if let Some(missed) = must.find(|id| !distinct.contains(id)) {
        panic!("open session {missed} is not listed");
    }
    if let Some(gone) = list.iter().find(|id| left_before.contains(id)) {
        panic!("session {gone} is listed after its on_leave");
    }
    listed.0.extend(&list);
    let floor = held.len() as u64 + 1;
    let closing = held.closing.iter().filter(|id| !obs.left.contains(id));
    let ceiling = floor + closing.count() as u64 + churn_conns as u64;
    let count = obs.count();
    assert!(
        (floor..=ceiling).contains(&count),
        "count {count} outside [{floor}, {ceiling}]"
    );
}

/// With nothing joining or leaving and every event seen: list and count are
/// exactly the open sessions; returns the RESULT size of the list.
fn check_exact(obs: &mut Observer, held: &Held) -> usize {
    let want: BTreeSet<u64> = held.open_ids().chain([obs.c.session.0]).collect();
    let (list, size) = obs.list();
    assert_eq!(list.len(), want.len(), "the list has {} IDs", list.len());
    let got: BTreeSet<u64> = list.into_iter().collect();
    assert_eq!(got.len(), want.len(), "a session listed twice");
    if got != want {
        let missed: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        panic!("list: missed {missed:?}, extra {extra:?}");
    }
    assert_eq!(obs.count(), want.len() as u64);
    size
}

/// Pauses the churn and waits until the observer saw every event so far.
fn quiesce(obs: &mut Observer, held: &mut Held, churn: &Churn) {
    let churned = churn.pause();
    obs.await_joins(&churned);
    obs.await_leaves(&churned);
    obs.await_leaves(&held.closing);
    held.closing.clear();
}

/// Opens `sessions` sessions in batches with the churn running, checking
/// list and count after each batch and exactly at full size; measures
/// `count`; then closes half of this process's sessions in batches, and
/// finally everything (the holder's all at once), checking the same way.
fn scale(shards: usize, sessions: usize) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (sessions, room) = descriptor_plan(sessions);
    let started = Instant::now();
    let router = Router::start(shards);
    let setup = Setup {
        shards,
        kind: Kind::RawSocket,
        serializer: Serializer::MsgPack,
    };
    let mut obs = Observer::new(router.join(setup));
    let mut held = Held {
        url: router.url(Kind::RawSocket),
        realm: setup.realm(),
        open: Vec::new(),
        room,
        holder: None,
        remote: Vec::new(),
        closing: HashSet::new(),
        all: HashSet::new(),
    };
    let mut listed = Listed::default();
    let churn = Churn::start(&router, setup);

    while held.len() < sessions {
        let ids = held.open_batch(BATCH.min(sessions - held.len()));
        obs.await_joins(&ids);
        check_during_churn(&mut obs, &held, churn.conns, &mut listed);
    }
    let filled = started.elapsed();
    for shard in 0..shards as u64 {
        let n = held.open_ids().filter(|id| id % shards as u64 == shard);
        let n = n.count();
        eprintln!("shard {shard}: {n} sessions");
        assert!(n > 0, "no session on shard {shard}");
    }

    quiesce(&mut obs, &mut held, &churn);
    let size = check_exact(&mut obs, &held);
    let everyone = held.len() as u64 + 1;
    eprintln!(
        "{everyone} sessions on {shards} shards: wamp.session.list in one RESULT of {size} bytes"
    );
    let mut took: Vec<Duration> = (0..50)
        .map(|_| {
            let (v, _, t) = obs.call("wamp.session.count");
            assert_eq!(v.as_u64(), Some(everyone));
            t
        })
        .collect();
    took.sort_unstable();
    eprintln!(
        "wamp.session.count with {everyone} sessions on {shards} shards, 50 calls: median {:?}, max {:?}",
        took[took.len() / 2],
        took[took.len() - 1]
    );
    churn.resume();

    let keep = held.open.len() / 2;
    while held.open.len() > keep {
        let dropped = held.close_batch(BATCH.min(held.open.len() - keep));
        check_during_churn(&mut obs, &held, churn.conns, &mut listed);
        obs.await_leaves(&dropped);
        check_during_churn(&mut obs, &held, churn.conns, &mut listed);
    }
    quiesce(&mut obs, &mut held, &churn);
    check_exact(&mut obs, &held);
    churn.resume();

    held.close_remote();
    held.close_batch(held.open.len());
    check_during_churn(&mut obs, &held, churn.conns, &mut listed);
    quiesce(&mut obs, &mut held, &churn);
    check_exact(&mut obs, &held);

    let churned = churn.stop();
    eprintln!("churn: {} sessions joined and left", churned.len());
    assert!(!churned.is_empty(), "the churn never ran");
    let known: HashSet<u64> = held.all.iter().chain(&churned).copied().collect();
    let mut listed = listed.0;
    listed.remove(&obs.c.session.0);
    if let Some(ghost) = listed.iter().find(|id| !known.contains(id)) {
        panic!("listed {ghost}, which no test session was");
    }
    assert_eq!(obs.joined.len(), known.len(), "on_join of every session");
    assert_eq!(obs.left.len(), known.len(), "on_leave of every session");
    eprintln!(
        "{shards} shards, {sessions} sessions: filled in {filled:?}, done in {:?}",
        started.elapsed()
    );
}

#[test]
fn ten_thousand_sessions_on_two_shards_are_listed_and_counted_exactly() {
    scale(2, 10_000);
}

#[test]
fn three_thousand_sessions_on_three_shards_are_listed_and_counted_exactly() {
    scale(3, 3_000);
}
