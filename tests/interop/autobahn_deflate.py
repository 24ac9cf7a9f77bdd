"""Autobahn-Python against a running Switchyard: WebSocket permessage-deflate.

Usage: autobahn_deflate.py URL json|msgpack|cbor on|off

Every session offers permessage-deflate exactly as Autobahn's ApplicationRunner
does (`PerMessageDeflateOffer()`, accepting any answer) and cuts its outgoing
messages into 16 KiB frames, so the router reassembles compressed fragments.
With "on" the router must agree (no context takeover either way), and:

- negotiated: the extension is active on the session's WebSocket;
- pubsub: a ~200 kB event arrives compressed, a small one plain (the router
  compresses from 1 KiB on), and both arrive intact;
- rpc: a ~200 kB argument reaches the callee compressed and the ~200 kB result
  the caller compressed.

With "off" the offer must be declined and the same pub/sub and RPC work
uncompressed. Autobahn compresses everything it sends once agreed. Prints
INTEROP OK only if every step passed; exits non-zero otherwise.
"""
import asyncio
import os
import sys

from autobahn.asyncio.component import Component
from autobahn.wamp.types import PublishOptions
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)

from harness import bounded, join_component, run_steps

# The whole script's budget, in seconds.
TOTAL = 60.0
# A payload that compresses well: about 200 kB of text.
LARGE = "".join(f"item {i}; " for i in range(20000))


def accept(response):
    """What ApplicationRunner accepts: any permessage-deflate answer."""
    if isinstance(response, PerMessageDeflateResponse):
        return PerMessageDeflateResponseAccept(response)


def deflate_transport(url, serializer):
    return {
        "type": "websocket",
        "url": url,
        "serializers": [serializer],
        "max_retries": 0,
        "options": {
            "perMessageCompressionOffers": [PerMessageDeflateOffer()],
            "perMessageCompressionAccept": accept,
            "autoFragmentSize": 16384,
        },
    }


class Peer:
    """A joined session and how many messages it got and sent compressed."""

    def __init__(self, name, comp):
        self.name, self.comp = name, comp
        self.session = None
        self.pmce = None
        self.inflated = 0
        self.deflated = 0
        self.closed = None

    def tap(self, session):
        self.session = session
        self.pmce = session._transport._perMessageCompress
        if self.pmce is None:
            return
        start_decompress, start_compress = self.pmce.start_decompress_message, self.pmce.start_compress_message

        def inflating():
            self.inflated += 1
            return start_decompress()

        def deflating():
            self.deflated += 1
            return start_compress()

        self.pmce.start_decompress_message = inflating
        self.pmce.start_compress_message = deflating

    def state(self):
        return f"{self.name} session closed: {self.closed}" if self.closed else f"{self.name} session open"


class Run:
    def __init__(self, url, serializer, on):
        self.url, self.serializer, self.on = url, serializer, on
        self.prefix = f"com.interop.deflate.p{os.getpid()}"
        self.peers = []

    def uri(self, name):
        return f"{self.prefix}.{name}"

    async def join(self, name):
        comp = Component(transports=[deflate_transport(self.url, self.serializer)], realm="realm1")
        peer = Peer(name, comp)
        self.peers.append(peer)
        await join_component(comp, peer, f"{name} joining realm1 over websocket/{self.serializer}")
        if self.on:
            assert peer.pmce is not None, "the router did not agree to permessage-deflate"
        else:
            assert peer.pmce is None, f"the router agreed to {peer.pmce!r} with compression off"
        return peer

    async def close_all(self):
        for peer in self.peers:
            try:
                await asyncio.wait_for(asyncio.ensure_future(peer.comp.stop()), 2)
            except Exception:  # a session the router already dropped
                pass
        self.peers = []


async def step_negotiated(run):
    peer = await run.join("peer")
    if not run.on:
        print("wire: no permessage-deflate (declined as configured)", flush=True)
        return
    p = peer.pmce
    assert p.EXTENSION_NAME == "permessage-deflate", p.EXTENSION_NAME
    assert p.server_no_context_takeover and p.client_no_context_takeover, repr(p)
    assert p.server_max_window_bits == 15 and p.client_max_window_bits == 15, repr(p)
    ext = [e.EXTENSION_NAME for e in peer.session._transport.websocket_extensions_in_use]
    assert ext == ["permessage-deflate"], ext
    print("wire:", repr(p), flush=True)


async def step_pubsub(run):
    sub, pub = await run.join("subscriber"), await run.join("publisher")
    loop = asyncio.get_running_loop()
    got = []
    arrived = [loop.create_future(), loop.create_future()]

    def on_event(text, n):
        got.append((text, n, sub.inflated))
        arrived[len(got) - 1].set_result(True)

    await bounded(sub.session.subscribe(on_event, run.uri("topic")), "SUBSCRIBED")
    before = sub.inflated
    ack = PublishOptions(acknowledge=True)
    await bounded(pub.session.publish(run.uri("topic"), "small", 1, options=ack), "PUBLISHED (small)")
    await bounded(arrived[0], "the small EVENT")
    await bounded(pub.session.publish(run.uri("topic"), LARGE, 2, options=ack), "PUBLISHED (large)")
    await bounded(arrived[1], "the large EVENT")
    (small_text, one, after_small), (large_text, two, after_large) = got
    assert (small_text, one) == ("small", 1), got[0][:2]
    assert (large_text, two) == (LARGE, 2), f"large EVENT of {len(large_text)} chars"
    if run.on:
        assert after_small == before, f"the small EVENT came compressed ({before} -> {after_small})"
        assert after_large == before + 1, f"the large EVENT came plain ({before} -> {after_large})"
        assert pub.deflated > 0, "Autobahn compressed nothing"
        print(f"wire: publisher compressed {pub.deflated} messages; subscriber inflated {sub.inflated}", flush=True)


async def step_rpc(run):
    callee, caller = await run.join("callee"), await run.join("caller")
    seen = {}

    def echo(text):
        seen["inflated"] = callee.inflated
        return text[::-1]

    await bounded(callee.session.register(echo, run.uri("reverse")), "REGISTERED")
    before_callee, before_caller = callee.inflated, caller.inflated
    result = await bounded(caller.session.call(run.uri("reverse"), LARGE), "RESULT of a large call")
    assert result == LARGE[::-1], f"RESULT of {len(result)} chars"
    if run.on:
        assert seen["inflated"] == before_callee + 1, "the large INVOCATION came plain"
        assert caller.inflated == before_caller + 1, "the large RESULT came plain"


if __name__ == "__main__":
    url, serializer, mode = sys.argv[1:4]
    steps = [("negotiated", step_negotiated), ("pubsub", step_pubsub), ("rpc", step_rpc)]

    async def main():
        make_run = lambda: Run(url, serializer, mode == "on")
        return await asyncio.wait_for(run_steps(steps, make_run, f"websocket+deflate-{mode}", serializer), TOTAL)

    sys.exit(asyncio.run(main()))
