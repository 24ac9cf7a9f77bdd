"""Autobahn-Python against a running Switchyard: pub/sub and RPC.

Usage: autobahn_client.py URL websocket|rawsocket json|msgpack|cbor
Session A registers two procedures and subscribes; session B calls them
(including a binary argument and an unknown procedure) and publishes three
acknowledged events, which A must receive in order. Prints INTEROP OK.
"""
import asyncio
import sys

from autobahn.asyncio.component import Component
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions


def transport(url, kind, serializer):
    if kind == "websocket":
        return {"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}
    return {"type": "rawsocket", "url": url, "serializer": serializer, "max_retries": 0}


async def main(url, kind, serializer):
    loop = asyncio.get_running_loop()
    ready, got_all, outcome = loop.create_future(), loop.create_future(), loop.create_future()
    events = []

    a = Component(transports=[transport(url, kind, serializer)], realm="realm1")

    @a.on_join
    async def a_joined(session, details):
        def on_event(n):
            events.append(n)
            if len(events) == 3 and not got_all.done():
                got_all.set_result(True)

        await session.register(lambda x, y: x + y, "com.interop.add2")
        await session.register(lambda *args, **kwargs: CallResult(*args, **kwargs), "com.interop.echo")
        await session.subscribe(on_event, "com.interop.topic")
        ready.set_result(session)

    a.start(loop)
    session_a = await asyncio.wait_for(ready, 20)

    b = Component(transports=[transport(url, kind, serializer)], realm="realm1")

    @b.on_join
    async def b_joined(session, details):
        try:
            assert await session.call("com.interop.add2", 2, 3) == 5
            r = await session.call("com.interop.echo", 1, b"\x00\x01\xff", "x", key={"a": [1, 2]})
            assert list(r.results) == [1, b"\x00\x01\xff", "x"], r.results
            assert r.kwresults == {"key": {"a": [1, 2]}}, r.kwresults
            try:
                await session.call("com.interop.nope")
                raise AssertionError("calling an unknown procedure succeeded")
            except ApplicationError as e:
                assert e.error == "wamp.error.no_such_procedure", e.error
            for i in range(3):
                await session.publish("com.interop.topic", i, options=PublishOptions(acknowledge=True))
            await asyncio.wait_for(got_all, 20)
            assert events == [0, 1, 2], events
            outcome.set_result(True)
        except BaseException as e:  # report any failure to the main task
            outcome.set_exception(e)
        await session.leave()

    b.start(loop)
    await asyncio.wait_for(outcome, 40)
    await session_a.leave()
    print("INTEROP OK", kind, serializer, flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
