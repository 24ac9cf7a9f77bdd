"""Autobahn-Python against Switchyard's secure and local transports.

Usage:
  autobahn_secure.py wss  wss://127.0.0.1:PORT/ws SERIALIZER CAFILE
  autobahn_secure.py rss  rss://127.0.0.1:PORT    SERIALIZER CAFILE
  autobahn_secure.py unix /path/to/socket         SERIALIZER
  autobahn_secure.py cert wss://127.0.0.1:PORT/ws SERIALIZER CAFILE CERT KEY AUTHID REALM

wss, rss: WebSocket or RawSocket over TLS, trusting only CAFILE (the CA that
signed the router's certificate); a client trusting only the system CAs is
refused first. unix: RawSocket on a Unix domain socket. In each, session A
registers two procedures and subscribes; session B calls them (a binary
argument, keyword arguments, an unknown procedure) and publishes three
acknowledged events, which A must receive in order; both sessions see the
transport they came over (TLS or not).

cert: a session shows the client certificate CERT (key KEY) and joins REALM
with authmethod "tls"; WELCOME must name AUTHID and authmethod "tls", and the
session publishes an acknowledged event.

Prints INTEROP OK on success.
"""
import asyncio
import ssl
import sys
from urllib.parse import urlparse

from autobahn.asyncio.component import Component
from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallResult, PublishOptions

from harness import bounded

REALM = "realm1"


def tls_context(cafile, cert=None, key=None):
    context = ssl.create_default_context(cafile=cafile)
    if cert:
        context.load_cert_chain(cert, key)
    return context


def transport(mode, target, serializer, context):
    if mode == "unix":
        endpoint = {"type": "unix", "path": target}
        return {"type": "rawsocket", "serializer": serializer, "max_retries": 0, "endpoint": endpoint}
    url = urlparse(target)
    endpoint = {"type": "tcp", "host": url.hostname, "port": url.port, "tls": context}
    if mode == "wss":
        return {
            "type": "websocket",
            "url": target,
            "serializers": [serializer],
            "max_retries": 0,
            "endpoint": endpoint,
        }
    return {"type": "rawsocket", "serializer": serializer, "max_retries": 0, "endpoint": endpoint}


async def refused_without_the_ca(target):
    """A TLS client trusting only the system CAs fails to verify the router."""
    url = urlparse(target)
    try:
        _, writer = await bounded(
            asyncio.open_connection(url.hostname, url.port, ssl=ssl.create_default_context()),
            "a TLS handshake without the test CA",
        )
    except ssl.SSLCertVerificationError:
        return
    writer.close()
    raise AssertionError("a client that does not trust the test CA connected")


def check_transport(mode, details, who):
    t = details.transport
    assert t is not None, f"{who}: no transport details"
    secure = mode != "unix"
    assert t.is_secure == secure, f"{who}: is_secure {t.is_secure} over {mode}"
    if mode == "unix":
        assert t.peer.startswith("unix"), f"{who}: peer {t.peer} over unix"


async def pubsub_and_rpc(mode, target, serializer, cafile):
    context = tls_context(cafile) if mode != "unix" else None
    if context is not None:
        await refused_without_the_ca(target)
    loop = asyncio.get_running_loop()
    ready, got_all, outcome = loop.create_future(), loop.create_future(), loop.create_future()
    events = []

    a = Component(transports=[transport(mode, target, serializer, context)], realm=REALM)

    @a.on_join
    async def a_joined(session, details):
        try:
            check_transport(mode, details, "A")

            def on_event(n):
                events.append(n)
                if len(events) == 3 and not got_all.done():
                    got_all.set_result(True)

            await session.register(lambda x, y: x + y, "com.secure.add2")
            await session.register(
                lambda *args, **kwargs: CallResult(*args, **kwargs), "com.secure.echo"
            )
            await session.subscribe(on_event, "com.secure.topic")
            ready.set_result(session)
        except BaseException as e:
            ready.set_exception(e)

    a.start(loop)
    session_a = await bounded(ready, "session A joined, registered and subscribed", 20)

    b = Component(transports=[transport(mode, target, serializer, context)], realm=REALM)

    @b.on_join
    async def b_joined(session, details):
        try:
            check_transport(mode, details, "B")
            assert await session.call("com.secure.add2", 2, 3) == 5
            r = await session.call("com.secure.echo", 1, b"\x00\x01\xff", "x", key={"a": [1, 2]})
            assert list(r.results) == [1, b"\x00\x01\xff", "x"], r.results
            assert r.kwresults == {"key": {"a": [1, 2]}}, r.kwresults
            try:
                await session.call("com.secure.nope")
                raise AssertionError("calling an unknown procedure succeeded")
            except ApplicationError as e:
                assert e.error == "wamp.error.no_such_procedure", e.error
            for i in range(3):
                await session.publish("com.secure.topic", i, options=PublishOptions(acknowledge=True))
            await bounded(got_all, "three events at A", 20)
            assert events == [0, 1, 2], events
            outcome.set_result(True)
        except BaseException as e:  # report any failure to the main task
            outcome.set_exception(e)
        await session.leave()

    b.start(loop)
    await bounded(outcome, "session B's calls and publications", 40)
    await session_a.leave()


async def certificate_login(target, serializer, cafile, cert, key, authid, realm):
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    class Device(ApplicationSession):
        def onConnect(self):
            self.join(self.config.realm, authmethods=["tls"])

        async def onJoin(self, details):
            try:
                assert details.authmethod == "tls", details
                assert details.authid == authid, details
                assert details.transport.is_secure, details.transport
                await self.publish("com.secure.device", 1, options=PublishOptions(acknowledge=True))
                outcome.set_result(True)
            except BaseException as e:
                outcome.set_exception(e)
            self.leave()

        def onLeave(self, details):
            if not outcome.done():
                outcome.set_exception(AssertionError(f"left before joining: {details}"))
            self.disconnect()

    chosen = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
    runner = ApplicationRunner(
        target, realm, ssl=tls_context(cafile, cert, key), serializers=[chosen[serializer]()]
    )
    await bounded(runner.run(Device, start_loop=False), "the TLS connection", 20)
    await bounded(outcome, "a WELCOME for the client certificate", 20)


async def main(mode, target, serializer, *rest):
    if mode == "cert":
        await certificate_login(target, serializer, *rest)
    else:
        await pubsub_and_rpc(mode, target, serializer, rest[0] if rest else None)
    print("INTEROP OK", mode, serializer, flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
