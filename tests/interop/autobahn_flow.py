"""Autobahn-Python against a running Switchyard: flow control.

Usage: autobahn_flow.py URL websocket|rawsocket json|msgpack|cbor
Session A subscribes and reads slowly (its handler blocks the event loop
for 1 ms every 10 events, so its socket is not read meanwhile); session B
publishes 10,000 events of 2 KiB without acknowledgement, as fast as its
transport takes them, then one acknowledged event. A must receive every
event, in order, and stay joined. Prints INTEROP OK.
"""
import asyncio
import sys
import time

from autobahn.asyncio.component import Component
from autobahn.wamp.types import PublishOptions
from harness import transport

COUNT = 10_000
FILLER = b"\x5a" * 2048


async def main(url, kind, serializer):
    loop = asyncio.get_running_loop()
    ready, got_all, outcome = loop.create_future(), loop.create_future(), loop.create_future()
    seen = []

    a = Component(transports=[transport(url, kind, serializer)], realm="realm1")

    @a.on_join
    async def a_joined(session, details):
        def on_event(n, filler=None):
            seen.append(n)
            if len(seen) % 10 == 0:
                time.sleep(0.001)  # a slow consumer: nothing is read meanwhile
            if n == COUNT and not got_all.done():
                got_all.set_result(True)

        await session.subscribe(on_event, "com.interop.flood")
        ready.set_result(session)

    a.start(loop)
    session_a = await asyncio.wait_for(ready, 20)

    b = Component(transports=[transport(url, kind, serializer)], realm="realm1")

    @b.on_join
    async def b_joined(session, details):
        try:
            for i in range(COUNT):
                session.publish("com.interop.flood", i, FILLER)
            await session.publish("com.interop.flood", COUNT, options=PublishOptions(acknowledge=True))
            await asyncio.wait_for(got_all, 120)
            assert seen == list(range(COUNT + 1)), f"{len(seen)} events, first gap at " + str(
                next(i for i, n in enumerate(seen) if n != i)
            )
            outcome.set_result(True)
        except BaseException as e:  # report any failure to the main task
            outcome.set_exception(e)
        await session.leave()

    b.start(loop)
    await asyncio.wait_for(outcome, 180)
    assert session_a.is_attached(), "the slow subscriber was cut off"
    await session_a.leave()
    print("INTEROP OK", kind, serializer, flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
