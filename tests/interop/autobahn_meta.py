"""Autobahn-Python against a running Switchyard: the meta API.

Usage: autobahn_meta.py URL websocket|rawsocket json|msgpack|cbor [REALM]

REALM (default realm1) must have the meta API. Other sessions may be in the
realm (earlier runs against the same router), so the checks are about this
run's sessions: the ones it holds open must be listed and counted, the ones
it saw leave must not be.

- an observer subscribes to wamp.session.on_join and on_leave; a session
  joins and leaves: the observer gets its on_join (details: session, authid,
  authrole) and its on_leave (session, authid, authrole);
- wamp.session.count and list (with and without filter_authroles) and get
  (a known and an unknown session) about sessions held open;
- wamp.registration.lookup, get, list_callees and count_callees after a
  peer registered a procedure;
- wamp.subscription.lookup, get, list_subscribers and count_subscribers
  after a peer subscribed to a topic;
- testaments: a session adds one (wamp.session.add_testament) and leaves: the
  observer gets the event; another adds two and flushes them
  (wamp.session.flush_testaments answers 2): nothing is published when it
  leaves (its on_leave comes, the testaments never do).

Every wait is bounded. Prints INTEROP OK only if every step passed; exits
non-zero otherwise.
"""
import asyncio
import os
import sys

from autobahn.asyncio.component import Component
from autobahn.wamp.exception import ApplicationError

from harness import bounded, run_steps, transport, until

# The whole script's budget, in seconds.
TOTAL = 60.0


class Run:
    def __init__(self, url, kind, serializer, realm):
        self.url, self.kind, self.serializer, self.realm = url, kind, serializer, realm
        self.prefix = f"com.interop.meta.p{os.getpid()}"
        self.comps = []

    def uri(self, name):
        return f"{self.prefix}.{name}"

    async def join(self, name):
        """A joined session of its own Component."""
        loop = asyncio.get_running_loop()
        comp = Component(transports=[transport(self.url, self.kind, self.serializer)], realm=self.realm)
        joined = loop.create_future()

        @comp.on_join
        def on_join(session, details):
            if not joined.done():
                joined.set_result(session)

        comp.start(loop)
        self.comps.append(comp)
        return await bounded(joined, f"{name} joining {self.realm} over {self.kind}/{self.serializer}")

    async def call(self, session, procedure, *args, **kwargs):
        return await bounded(session.call(procedure, *args, **kwargs), f"the RESULT of {procedure}{args}")

    async def close_all(self):
        for comp in self.comps:
            try:
                await asyncio.wait_for(asyncio.ensure_future(comp.stop()), 2)
            except Exception:  # a session that already left
                pass
        self.comps = []


class Observer:
    """A session subscribed to wamp.session.on_join and on_leave."""

    def __init__(self, session):
        self.session = session
        self.joins = {}  # session id -> details
        self.leaves = {}  # session id -> (authid, authrole)
        self.twice = []

    async def subscribe(self):
        def on_join(details):
            sid = details.get("session")
            if sid in self.joins:
                self.twice.append(("on_join", sid))
            self.joins[sid] = details

        def on_leave(sid, authid, authrole):
            if sid in self.leaves:
                self.twice.append(("on_leave", sid))
            self.leaves[sid] = (authid, authrole)

        await bounded(self.session.subscribe(on_join, "wamp.session.on_join"), "SUBSCRIBED to on_join")
        await bounded(self.session.subscribe(on_leave, "wamp.session.on_leave"), "SUBSCRIBED to on_leave")

    async def joined(self, sid):
        await until(lambda: sid in self.joins, f"the on_join of {sid}")
        return self.joins[sid]

    async def left(self, sid):
        await until(lambda: sid in self.leaves, f"the on_leave of {sid}")
        return self.leaves[sid]


async def leave(session, what):
    await bounded(session.leave(), f"{what} leaving")


async def step_join_leave(run):
    obs = Observer(await run.join("observer"))
    await obs.subscribe()
    peer = await run.join("peer")
    sid = peer.session_id
    details = await obs.joined(sid)
    print(f"wire: on_join details {details}", flush=True)
    assert details.get("authid") == peer.authid, f"on_join authid {details.get('authid')!r}, session's {peer.authid!r}"
    assert details.get("authrole") == "anonymous", f"on_join authrole {details.get('authrole')!r}"
    authid = peer.authid
    await leave(peer, "peer")
    got = await obs.left(sid)
    print(f"wire: on_leave args [{sid}, {got[0]!r}, {got[1]!r}]", flush=True)
    assert got == (authid, "anonymous"), f"on_leave args {got!r}"
    assert not obs.twice, f"events twice: {obs.twice}"


async def step_sessions(run):
    obs = Observer(await run.join("observer"))
    await obs.subscribe()
    peers = [await run.join(f"peer{i}") for i in range(5)]
    ids = sorted(p.session_id for p in peers)
    for sid in ids:
        await obs.joined(sid)
    print(f"wire: peers on shards (id % 3) {[sid % 3 for sid in ids]}", flush=True)
    mine = set(ids) | {obs.session.session_id}

    count = await run.call(obs.session, "wamp.session.count")
    assert isinstance(count, int) and count >= len(mine), f"count {count!r}, this run holds {len(mine)}"
    listed = await run.call(obs.session, "wamp.session.list")
    assert isinstance(listed, list), f"list answered {listed!r}"
    assert len(set(listed)) == len(listed), f"a session listed twice: {listed}"
    assert mine <= set(listed), f"missing from the list: {sorted(mine - set(listed))}"
    anonymous = await run.call(obs.session, "wamp.session.list", ["anonymous"])
    assert mine <= set(anonymous), f"missing from list(['anonymous']): {sorted(mine - set(anonymous))}"
    nobody = await run.call(obs.session, "wamp.session.list", ["com.interop.nobody"])
    assert nobody == [], f"list(['com.interop.nobody']) answered {nobody!r}"
    none = await run.call(obs.session, "wamp.session.count", ["com.interop.nobody"])
    assert none == 0, f"count(['com.interop.nobody']) answered {none!r}"

    for p in peers:
        d = await run.call(obs.session, "wamp.session.get", p.session_id)
        assert isinstance(d, dict), f"get answered {d!r}"
        assert d.get("session") == p.session_id, f"get({p.session_id}) session {d.get('session')!r}"
        assert d.get("authid") == p.authid, f"get authid {d.get('authid')!r}, session's {p.authid!r}"
        assert d.get("authrole") == "anonymous", f"get authrole {d.get('authrole')!r}"
    print(f"wire: wamp.session.get {d}", flush=True)
    try:
        await run.call(obs.session, "wamp.session.get", 3)
        raise AssertionError("wamp.session.get of an unknown session answered")
    except ApplicationError as e:
        assert e.error == "wamp.error.no_such_session", e.error

    gone = peers.pop()
    gone_id = gone.session_id
    await leave(gone, "a peer")
    await obs.left(gone_id)
    listed = await run.call(obs.session, "wamp.session.list")
    assert gone_id not in listed, f"{gone_id} listed after its on_leave"
    assert mine - {gone_id} <= set(listed), f"missing: {sorted(mine - {gone_id} - set(listed))}"
    try:
        await run.call(obs.session, "wamp.session.get", gone_id)
        raise AssertionError("wamp.session.get of a session that left answered")
    except ApplicationError as e:
        assert e.error == "wamp.error.no_such_session", e.error
    assert not obs.twice, f"events twice: {obs.twice}"


async def step_registrations(run):
    callee, asker = await run.join("callee"), await run.join("asker")
    proc = run.uri("proc")
    reg = await bounded(callee.register(lambda x: x, proc), f"REGISTERED {proc}")
    found = await run.call(asker, "wamp.registration.lookup", proc)
    assert found == reg.id, f"lookup({proc}) answered {found!r}, registration {reg.id}"
    nothing = await run.call(asker, "wamp.registration.lookup", run.uri("nope"))
    assert nothing is None, f"lookup of an unregistered procedure answered {nothing!r}"
    d = await run.call(asker, "wamp.registration.get", reg.id)
    print(f"wire: wamp.registration.get {d}", flush=True)
    assert d.get("uri") == proc and d.get("match") == "exact", f"get answered {d!r}"
    callees = await run.call(asker, "wamp.registration.list_callees", reg.id)
    assert callees == [callee.session_id], f"list_callees answered {callees!r}, callee {callee.session_id}"
    n = await run.call(asker, "wamp.registration.count_callees", reg.id)
    assert n == 1, f"count_callees answered {n!r}"
    listed = await run.call(asker, "wamp.registration.list")
    assert reg.id in listed.get("exact", []), f"list answered {listed!r}"
    assert await run.call(asker, proc, 7) == 7
    await bounded(reg.unregister(), "UNREGISTERED")
    # UNREGISTERED comes once every shard's replica dropped the callee.
    gone = await run.call(asker, "wamp.registration.lookup", proc)
    assert gone is None, f"lookup({proc}) answered {gone!r} after UNREGISTERED"


async def step_subscriptions(run):
    s1, s2, asker = await run.join("s1"), await run.join("s2"), await run.join("asker")
    topic = run.uri("topic")
    sub1 = await bounded(s1.subscribe(lambda *a: None, topic), f"SUBSCRIBED to {topic}")
    sub2 = await bounded(s2.subscribe(lambda *a: None, topic), f"SUBSCRIBED to {topic}")
    assert sub1.id == sub2.id, f"one topic, two subscription IDs: {sub1.id}, {sub2.id}"
    found = await run.call(asker, "wamp.subscription.lookup", topic)
    assert found == sub1.id, f"lookup({topic}) answered {found!r}, subscription {sub1.id}"
    nothing = await run.call(asker, "wamp.subscription.lookup", run.uri("nope"))
    assert nothing is None, f"lookup of a topic nobody subscribes to answered {nothing!r}"
    d = await run.call(asker, "wamp.subscription.get", sub1.id)
    print(f"wire: wamp.subscription.get {d}", flush=True)
    assert d.get("uri") == topic and d.get("match") == "exact", f"get answered {d!r}"
    who = await run.call(asker, "wamp.subscription.list_subscribers", sub1.id)
    want = sorted([s1.session_id, s2.session_id])
    assert isinstance(who, list) and sorted(who) == want, f"list_subscribers answered {who!r}, want {want}"
    n = await run.call(asker, "wamp.subscription.count_subscribers", sub1.id)
    assert n == 2, f"count_subscribers answered {n!r}"
    matched = await run.call(asker, "wamp.subscription.match", topic)
    assert matched == [sub1.id], f"match({topic}) answered {matched!r}"
    await bounded(sub2.unsubscribe(), "UNSUBSCRIBED")
    # The unsubscribing session's shard answered UNSUBSCRIBED after dropping it.
    who = await run.call(asker, "wamp.subscription.list_subscribers", sub1.id)
    assert who == [s1.session_id], f"list_subscribers answered {who!r} after UNSUBSCRIBED"


async def step_testament(run):
    obs = Observer(await run.join("observer"))
    await obs.subscribe()
    topic = run.uri("testament")
    got = []
    await bounded(obs.session.subscribe(lambda *a, **kw: got.append((list(a), kw)), topic), f"SUBSCRIBED {topic}")

    heir = await run.join("testator")
    heir_id = heir.session_id
    await obs.joined(heir_id)
    added = await run.call(heir, "wamp.session.add_testament", topic, ["gone", heir_id], {"why": "left"})
    assert added is None, f"add_testament answered {added!r}"
    await leave(heir, "the testator")
    await until(lambda: got, f"the testament on {topic}")
    await obs.left(heir_id)
    print(f"wire: testament event {got[0]}", flush=True)
    assert got == [(["gone", heir_id], {"why": "left"})], f"testament events {got!r}"

    flusher = await run.join("flusher")
    flusher_id = flusher.session_id
    await obs.joined(flusher_id)
    for i in range(2):
        await run.call(flusher, "wamp.session.add_testament", topic, ["flushed", i], {})
    flushed = await run.call(flusher, "wamp.session.flush_testaments")
    assert flushed == 2, f"flush_testaments answered {flushed!r}"
    await leave(flusher, "the flusher")
    await obs.left(flusher_id)
    # The session's shard publishes its testaments before its on_leave, on the
    # same path: the on_leave has come, so a testament would have too.
    assert len(got) == 1, f"flushed testaments were published: {got[1:]!r}"


STEPS = [
    ("join_leave", step_join_leave),
    ("sessions", step_sessions),
    ("registrations", step_registrations),
    ("subscriptions", step_subscriptions),
    ("testament", step_testament),
]


async def main(url, kind, serializer, realm="realm1"):
    return await run_steps(STEPS, lambda: Run(url, kind, serializer, realm), kind, serializer)


async def bounded_main(*args):
    return await asyncio.wait_for(main(*args), TOTAL)


if __name__ == "__main__":
    sys.exit(asyncio.run(bounded_main(*sys.argv[1:5])))
