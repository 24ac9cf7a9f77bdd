"""Autobahn-Python against a running Switchyard: the Advanced Pub/Sub features.

Usage: autobahn_advanced_pubsub.py URL websocket|rawsocket json|msgpack|cbor [HISTORY_REALM]

HISTORY_REALM (default test.history) must keep the event history of the topic
com.interop.history (exact match, at least 10 events); every other step runs in
realm1. Every step joins sessions of its own (so one step's failure cannot spoil
the next), and every wait is bounded, so a missing feature fails in seconds.
"Not delivered" is proven by order: a later unfiltered publication of the same
publisher must be the next event a subscriber sees.

- plain: a baseline publication reaches two subscribers;
- session_ids: `PublishOptions(eligible=[...])`, `exclude=[...]`, an empty
  `eligible` list (nobody) and both lists combined;
- auth: `eligible_authrole=['anonymous']` delivers, `['admin']` does not;
  `exclude_authrole`, `eligible_authid` and `exclude_authid` too;
- disclose: Autobahn's PublishOptions has no `disclose_me` (26.10.2 dropped it),
  so the step adds `disclose_me: true` to PUBLISH.Options on the wire; the
  subscriber must see `details.publisher` (and authid, authrole) in its
  EventDetails, and nothing for a publication without it;
- retention: `PublishOptions(retain=True)` twice, then a new session subscribing
  with `SubscribeOptions(get_retained=True)` gets the newer one with
  `details.retained` true; one subscribing without it gets nothing;
- history: in HISTORY_REALM, three events on com.interop.history, then
  `wamp.subscription.get_events(subscription_id, 10)` must answer a list (one
  argument) ending with them, oldest first (earlier runs against the same
  router may have left older ones).

Lines starting with "wire:" show what Autobahn sent or got. Prints INTEROP OK
only if every step passed; exits non-zero otherwise.
"""
import asyncio
import os
import sys

from autobahn.asyncio.component import Component
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions, SubscribeOptions

from harness import bounded, join_component, run_steps, transport, until

# The whole script's budget, in seconds.
TOTAL = 60.0
HISTORY_TOPIC = "com.interop.history"
END = "end"


class DisclosingPublish(message.Publish):
    """A PUBLISH whose Options carry disclose_me=true (Autobahn has no option for it)."""

    __slots__ = ()

    def marshal_options(self):
        options = super().marshal_options()
        options["disclose_me"] = True
        return options


class Peer:
    """A joined session, the WAMP messages it received and sent, and its events."""

    def __init__(self, name, comp):
        self.name = name
        self.comp = comp
        self.session = None
        self.received = []
        self.sent = []
        self.closed = None
        self.disclose = False
        # topic -> [(args, kwargs, EventDetails)], in arrival order
        self.events = {}

    def tap(self, session):
        self.session = session
        on_message = session.onMessage

        def received(msg):
            self.received.append(msg)
            on_message(msg)

        session.onMessage = received
        wire = session._transport
        send = wire.send

        def sent(msg):
            if self.disclose and isinstance(msg, message.Publish):
                msg.__class__ = DisclosingPublish
            self.sent.append(msg)
            send(msg)

        wire.send = sent

    @property
    def id(self):
        return self.session.session_id

    async def subscribe(self, topic, get_retained=None):
        """Subscribes, recording every event of `topic` with its details."""
        box = self.events.setdefault(topic, [])

        def on_event(*args, details=None, **kwargs):
            box.append((list(args), kwargs, details))

        options = SubscribeOptions(details=True, get_retained=get_retained)
        return await bounded(self.session.subscribe(on_event, topic, options=options), f"SUBSCRIBED to {topic}")

    def args(self, topic):
        """The first positional argument of each event of `topic`."""
        return [a[0] if a else None for a, _, _ in self.events.get(topic, [])]

    async def until_end(self, topic):
        await until(lambda: END in self.args(topic), f"the '{END}' event at {self.name} ({self.state()})")

    def last_sent(self, cls):
        return [m for m in self.sent if isinstance(m, cls)][-1]

    def state(self):
        return f"{self.name} session closed: {self.closed}" if self.closed else f"{self.name} session open"


class Run:
    def __init__(self, url, kind, serializer, history_realm):
        self.url, self.kind, self.serializer = url, kind, serializer
        self.history_realm = history_realm
        self.prefix = f"com.interop.advps.p{os.getpid()}"
        self.peers = []

    def uri(self, name):
        return f"{self.prefix}.{name}"

    async def join(self, name, realm="realm1"):
        comp = Component(transports=[transport(self.url, self.kind, self.serializer)], realm=realm)
        peer = Peer(name, comp)
        self.peers.append(peer)
        await join_component(comp, peer, f"{name} joining {realm} over {self.kind}/{self.serializer}")
        return peer

    async def close_all(self):
        for peer in self.peers:
            try:
                await asyncio.wait_for(asyncio.ensure_future(peer.comp.stop()), 2)
            except Exception:  # a session the router already dropped
                pass
        self.peers = []


async def publish(peer, topic, *args, kw=None, **options):
    """An acknowledged publication of `args` and `kw` with PublishOptions(**options); returns its ID."""
    opts = PublishOptions(acknowledge=True, **options)
    published = peer.session.publish(topic, *args, options=opts, **(kw or {}))
    pub = await bounded(published, f"PUBLISHED for {args} with {options} ({peer.state()})")
    return pub.id


async def step_plain(run):
    pub, s1, s2 = await run.join("publisher"), await run.join("s1"), await run.join("s2")
    topic = run.uri("plain")
    for s in (s1, s2):
        await s.subscribe(topic)
    await publish(pub, topic, "hello", b"\x00\x01\xff", kw={"key": {"a": [1, 2]}})
    await publish(pub, topic, END)
    for s in (s1, s2):
        await s.until_end(topic)
        (args, kwargs, _), _ = s.events[topic]
        assert args == ["hello", b"\x00\x01\xff"] and kwargs == {"key": {"a": [1, 2]}}, (args, kwargs)


async def step_session_ids(run):
    pub, s1, s2 = await run.join("publisher"), await run.join("s1"), await run.join("s2")
    topic = run.uri("ids")
    for s in (s1, s2):
        await s.subscribe(topic)
    await publish(pub, topic, "only-s1", eligible=[s1.id])
    await publish(pub, topic, "not-s1", exclude=[s1.id])
    await publish(pub, topic, "nobody", eligible=[])
    print("wire: PUBLISH options with eligible=[]", pub.last_sent(message.Publish).marshal()[2], flush=True)
    await publish(pub, topic, "s1-of-both", eligible=[s1.id, s2.id], exclude=[s2.id])
    await publish(pub, topic, END)
    for s in (s1, s2):
        await s.until_end(topic)
    got = (s1.args(topic), s2.args(topic))
    assert got == (["only-s1", "s1-of-both", END], ["not-s1", END]), f"s1 got {got[0]}, s2 got {got[1]}"


async def step_auth(run):
    pub, s1, s2 = await run.join("publisher"), await run.join("s1"), await run.join("s2")
    print(f"wire: anonymous identity authid={s2.session.authid!r} authrole={s2.session.authrole!r}", flush=True)
    topic = run.uri("auth")
    for s in (s1, s2):
        await s.subscribe(topic)
    await publish(pub, topic, "anonymous", eligible_authrole=["anonymous"])
    await publish(pub, topic, "admin", eligible_authrole=["admin"])
    await publish(pub, topic, "not-admin", exclude_authrole=["admin"])
    await publish(pub, topic, "no-anonymous", exclude_authrole=["anonymous"])
    await publish(pub, topic, "only-s2", eligible_authid=[s2.session.authid])
    await publish(pub, topic, "not-s2", exclude_authid=[s2.session.authid])
    await publish(pub, topic, END)
    for s in (s1, s2):
        await s.until_end(topic)
    got = (s1.args(topic), s2.args(topic))
    want = (["anonymous", "not-admin", "not-s2", END], ["anonymous", "not-admin", "only-s2", END])
    assert got == want, f"s1 got {got[0]}, s2 got {got[1]}"


async def step_disclose(run):
    pub, sub = await run.join("publisher"), await run.join("subscriber")
    topic = run.uri("disclose")
    await sub.subscribe(topic)
    pub.disclose = True
    await publish(pub, topic, "shown")
    print("wire: PUBLISH options", pub.last_sent(message.Publish).marshal()[2], flush=True)
    pub.disclose = False
    await publish(pub, topic, END)
    await sub.until_end(topic)
    assert sub.args(topic) == ["shown", END], f"got {sub.args(topic)}"
    shown, hidden = sub.events[topic][0][2], sub.events[topic][1][2]
    print(f"wire: EventDetails {shown}", flush=True)
    assert shown.publisher == pub.id, f"details.publisher {shown.publisher!r}, publisher {pub.id}"
    assert shown.publisher_authid == pub.session.authid, f"publisher_authid {shown.publisher_authid!r}"
    assert shown.publisher_authrole == "anonymous", f"publisher_authrole {shown.publisher_authrole!r}"
    assert hidden.publisher is None, f"an undisclosed publication named its publisher {hidden.publisher!r}"


async def step_retention(run):
    pub = await run.join("publisher")
    topic = run.uri("retained")
    await publish(pub, topic, "kept-1", retain=True)
    await publish(pub, topic, "kept-2", b"\x00\xff", kw={"key": "v"}, retain=True)
    late, plain = await run.join("late"), await run.join("plain")
    await late.subscribe(topic, get_retained=True)
    print("wire: SUBSCRIBE options", late.last_sent(message.Subscribe).marshal()[2], flush=True)
    await plain.subscribe(topic)
    await until(lambda: late.events[topic], f"the retained EVENT after SUBSCRIBED ({late.state()})")
    await publish(pub, topic, END)
    for s in (late, plain):
        await s.until_end(topic)
    assert late.args(topic) == ["kept-2", END], f"get_retained subscriber got {late.args(topic)}"
    assert plain.args(topic) == [END], f"plain subscriber got {plain.args(topic)}"
    args, kwargs, details = late.events[topic][0]
    assert args == ["kept-2", b"\x00\xff"] and kwargs == {"key": "v"}, (args, kwargs)
    event = [m for m in late.received if isinstance(m, message.Event)][0]
    print(f"wire: retained EVENT details {event.marshal()[3]}, EventDetails.retained={details.retained!r}", flush=True)
    assert details.retained is True, f"EventDetails.retained is {details.retained!r}"
    assert late.events[topic][1][2].retained in (None, False), "a live event marked retained"


def history_entries(result):
    """The events of a get_events answer: RESULT.Arguments = [[event, ...]],
    which Autobahn hands over as the plain list."""
    if isinstance(result, list):
        return result
    if isinstance(result, (CallResult, dict)) or result is None:
        raise AssertionError(
            "get_events answered one positional argument per event (or none); "
            f"expected the list of events as its one argument: {result!r}"
        )
    raise AssertionError(f"get_events answered {result!r}")


async def step_history(run):
    realm = run.history_realm
    sub, pub = await run.join("subscriber", realm), await run.join("publisher", realm)
    subscription = await sub.subscribe(HISTORY_TOPIC)
    token = f"{run.prefix}.{run.kind}.{run.serializer}"
    sent = [await publish(pub, HISTORY_TOPIC, token, i, b"\x00\x01\xff", kw={"n": i}) for i in range(3)]

    def mine(e):
        return isinstance(e, dict) and isinstance(e.get("args"), list) and e["args"][:1] == [token]

    # Each PUBLISHED came once its event was in the history: one read suffices.
    try:
        result = await bounded(
            sub.session.call("wamp.subscription.get_events", subscription.id, 10),
            "RESULT of wamp.subscription.get_events",
        )
    except ApplicationError as e:
        if e.error == "wamp.error.history_unavailable":
            raise AssertionError(
                f"wamp.error.history_unavailable: does realm {realm} keep the history of "
                f"{HISTORY_TOPIC} (exact)?"
            ) from None
        raise
    entries = history_entries(result)
    result_msg = [m for m in sub.received if isinstance(m, message.Result)][-1]
    print(f"wire: get_events RESULT args[0] {(result_msg.args or [None])[0]!r}", flush=True)
    assert len(entries) <= 10, f"get_events(limit=10) answered {len(entries)} events"
    ours = [e for e in entries if mine(e)]
    assert len(ours) == 3, f"{len(ours)} of our 3 events in the history: {entries!r}"
    assert entries[-3:] == ours, f"our events are not the latest three: {entries!r}"
    for i, (e, publication) in enumerate(zip(ours, sent)):
        assert isinstance(e.get("timestamp"), str), f"timestamp {e.get('timestamp')!r}"
        assert e.get("subscription") == subscription.id, f"subscription {e.get('subscription')!r}"
        assert e.get("publication") == publication, f"publication {e.get('publication')!r}, sent {publication}"
        assert isinstance(e.get("details"), dict), f"details {e.get('details')!r}"
        assert e["args"] == [token, i, b"\x00\x01\xff"], f"args {e['args']!r}"
        assert e.get("kwargs") == {"n": i}, f"kwargs {e.get('kwargs')!r}"


STEPS = [
    ("plain", step_plain),
    ("session_ids", step_session_ids),
    ("auth", step_auth),
    ("disclose", step_disclose),
    ("retention", step_retention),
    ("history", step_history),
]


async def main(url, kind, serializer, history_realm="test.history"):
    return await run_steps(STEPS, lambda: Run(url, kind, serializer, history_realm), kind, serializer)


async def bounded_main(*args):
    return await asyncio.wait_for(main(*args), TOTAL)


if __name__ == "__main__":
    sys.exit(asyncio.run(bounded_main(*sys.argv[1:5])))
