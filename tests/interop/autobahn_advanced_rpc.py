"""Autobahn-Python against a running Switchyard: the Advanced RPC features.

Usage: autobahn_advanced_rpc.py URL websocket|rawsocket json|msgpack|cbor

Every step joins sessions of its own (so one step's failure cannot spoil the
next), and every wait is bounded, so a missing feature fails in seconds:

- plain: a baseline call, callee and caller in two sessions;
- progressive: a callee streams chunks through `details.progress(...)`, the
  caller collects them with `CallOptions(on_progress=...)`;
- cancel: the caller cancels the future of a pending call (Autobahn sends
  CANCEL); the caller must see ERROR wamp.error.canceled, the callee's handler
  must be interrupted, and the callee must stay usable;
- timeout: `CallOptions(timeout=300)` (Autobahn puts the number on the wire as
  given; the router reads milliseconds) must end in wamp.error.timeout, and the
  callee gets INTERRUPT killnowait;
- shared: two callees register one procedure with invoke=roundrobin and serve
  two of four calls each; a third registration asking for another policy is
  refused with wamp.error.procedure_already_exists.

Lines starting with "wire:" show what Autobahn sent or got. Prints INTEROP OK
only if every step passed; exits non-zero otherwise.
"""
import asyncio
import os
import sys
import time

from autobahn.asyncio.component import Component
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, RegisterOptions

from harness import bounded, join_component, run_steps, transport, until

# The whole script's budget, in seconds.
TOTAL = 60.0
# The call timeout the timeout step asks for, in milliseconds.
TIMEOUT_MS = 300


class Peer:
    """A joined session and the WAMP messages it received and sent."""

    def __init__(self, name, comp):
        self.name = name
        self.comp = comp
        self.session = None
        self.received = []
        self.sent = []
        self.closed = None

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
            self.sent.append(msg)
            send(msg)

        wire.send = sent

    def sent_any(self, cls):
        return any(isinstance(m, cls) for m in self.sent)

    def got(self, cls, pred=lambda m: True):
        return [m for m in self.received if isinstance(m, cls) and pred(m)]

    def state(self):
        return f"{self.name} session closed: {self.closed}" if self.closed else f"{self.name} session open"


class Run:
    def __init__(self, url, kind, serializer):
        self.url, self.kind, self.serializer = url, kind, serializer
        self.prefix = f"com.interop.adv.p{os.getpid()}"
        self.peers = []

    def uri(self, name):
        return f"{self.prefix}.{name}"

    async def join(self, name):
        comp = Component(transports=[transport(self.url, self.kind, self.serializer)], realm="realm1")
        peer = Peer(name, comp)
        self.peers.append(peer)
        await join_component(comp, peer, f"{name} joining realm1 over {self.kind}/{self.serializer}")
        return peer

    async def close_all(self):
        for peer in self.peers:
            try:
                await asyncio.wait_for(asyncio.ensure_future(peer.comp.stop()), 2)
            except Exception:  # a session the router already dropped
                pass
        self.peers = []


def on_interrupt(callee, interrupted):
    """What a handler does when its task is canceled: Autobahn cancels it on
    INTERRUPT, and asyncio on shutdown (then there is no one to answer)."""
    if not callee.session.is_attached():
        return None
    interrupted.set_result(True)
    raise ApplicationError("wamp.error.canceled", "interrupted by the router")


async def after_interrupt(run, caller, callee, request):
    """The callee answers the INTERRUPT with an ERROR. The call is over for the
    caller, so the router must drop that answer: Autobahn aborts a session that
    gets a second ERROR for a call it no longer has. The ping goes through the
    callee after its answer, so a wrongly forwarded answer would come first."""
    await until(lambda: callee.sent_any(message.Error), "the callee's answer to the INTERRUPT")
    got = await bounded(caller.session.call(run.uri("ping")), f"a call to the callee ({callee.state()})")
    assert got == "pong", got
    errors = [m.marshal() for m in caller.got(message.Error, lambda m: m.request == request)]
    assert len(errors) == 1, f"the caller got {len(errors)} ERRORs for the call: {errors}"
    assert caller.closed is None, caller.state()


async def step_plain(run):
    callee, caller = await run.join("callee"), await run.join("caller")
    await bounded(callee.session.register(lambda x: x * 2, run.uri("double")), "REGISTERED")
    got = await bounded(caller.session.call(run.uri("double"), 21), "RESULT of a plain call")
    assert got == 42, got


async def step_progressive(run):
    callee, caller = await run.join("callee"), await run.join("caller")

    async def produce(n, details=None):
        if details.progress is None:
            raise ApplicationError(
                "com.interop.no_receive_progress",
                "INVOCATION.Details carried no receive_progress, so Autobahn offers no details.progress",
            )
        for i in range(n):
            details.progress(i, f"chunk-{i}")
            await asyncio.sleep(0.01)
        details.progress(label="kwargs-only chunk")
        return "done"

    await bounded(
        callee.session.register(produce, run.uri("progressive"), options=RegisterOptions(details=True)),
        "REGISTERED",
    )
    chunks = []
    final = await bounded(
        caller.session.call(
            run.uri("progressive"),
            3,
            options=CallOptions(on_progress=lambda *a, **kw: chunks.append((list(a), kw))),
        ),
        "the final RESULT of a progressive call",
    )
    expected = [([i, f"chunk-{i}"], {}) for i in range(3)] + [([], {"label": "kwargs-only chunk"})]
    assert final == "done", f"final result {final!r}"
    assert chunks == expected, f"progressive chunks {chunks!r}, expected {expected!r}"
    flags = [bool(r.progress) for r in caller.got(message.Result)]
    assert flags == [True] * 4 + [False], f"RESULT.Details.progress flags in arrival order: {flags}"
    invocation = callee.got(message.Invocation)[0]
    call = next(m for m in caller.sent if isinstance(m, message.Call))
    print("wire: CALL options", call.marshal()[2], flush=True)
    print("wire: INVOCATION receive_progress =", invocation.receive_progress, flush=True)


async def step_cancel(run):
    callee, caller = await run.join("callee"), await run.join("caller")
    loop = asyncio.get_running_loop()
    started, interrupted = loop.create_future(), loop.create_future()

    async def slow():
        started.set_result(True)
        try:
            await asyncio.sleep(30)
            return "finished"
        except asyncio.CancelledError:
            return on_interrupt(callee, interrupted)

    await bounded(callee.session.register(slow, run.uri("slow")), "REGISTERED")
    await bounded(callee.session.register(lambda: "pong", run.uri("ping")), "REGISTERED")
    pending = caller.session.call(run.uri("slow"))
    await bounded(asyncio.shield(started), "the INVOCATION of the call to cancel")
    request = next(m.request for m in caller.sent if isinstance(m, message.Call))
    pending.cancel()  # Autobahn's canceller sends CANCEL
    await until(
        lambda: caller.got(message.Error, lambda m: m.request == request),
        f"ERROR for the canceled call ({caller.state()})",
    )
    error = caller.got(message.Error, lambda m: m.request == request)[0]
    assert error.request_type == message.Call.MESSAGE_TYPE, error
    assert error.error == "wamp.error.canceled", f"the caller got {error.error}"
    cancel = next(m for m in caller.sent if isinstance(m, message.Cancel))
    print("wire: CANCEL options", cancel.marshal()[2], flush=True)
    await bounded(interrupted, "INTERRUPT to the callee's handler (Autobahn cancels its task)")
    interrupt = callee.got(message.Interrupt)[0]
    print("wire: INTERRUPT mode", interrupt.mode, "reason", interrupt.reason, flush=True)
    await after_interrupt(run, caller, callee, request)


async def step_timeout(run):
    callee, caller = await run.join("callee"), await run.join("caller")
    interrupted = asyncio.get_running_loop().create_future()

    async def sleepy():
        try:
            await asyncio.sleep(30)
            return "too late"
        except asyncio.CancelledError:
            return on_interrupt(callee, interrupted)

    await bounded(callee.session.register(sleepy, run.uri("sleepy")), "REGISTERED")
    await bounded(callee.session.register(lambda: "pong", run.uri("ping")), "REGISTERED")
    began = time.monotonic()
    try:
        got = await bounded(
            caller.session.call(run.uri("sleepy"), options=CallOptions(timeout=TIMEOUT_MS)),
            f"wamp.error.timeout for CALL.Options.timeout={TIMEOUT_MS} (ms)",
        )
        raise AssertionError(f"the call returned {got!r} instead of timing out")
    except ApplicationError as e:
        assert e.error == "wamp.error.timeout", f"the caller got {e.error}"
    took = time.monotonic() - began
    assert 0.2 <= took <= 3.0, f"the timeout took {took:.3f} s for {TIMEOUT_MS} ms"
    call = next(m for m in caller.sent if isinstance(m, message.Call))
    print(f"wire: CALL options {call.marshal()[2]}, ERROR after {took * 1000:.0f} ms", flush=True)
    await bounded(interrupted, "INTERRUPT to the callee after the timeout")
    interrupt = callee.got(message.Interrupt)[0]
    assert interrupt.mode == "killnowait", f"INTERRUPT mode {interrupt.mode!r}"
    await after_interrupt(run, caller, callee, call.request)


async def step_shared(run):
    one, two, caller = await run.join("callee-1"), await run.join("callee-2"), await run.join("caller")
    served = {"callee-1": 0, "callee-2": 0}

    def serving(name):
        def serve():
            served[name] += 1
            return name

        return serve

    rr = RegisterOptions(invoke="roundrobin")
    await bounded(one.session.register(serving("callee-1"), run.uri("shared"), options=rr), "REGISTERED (first)")
    await bounded(two.session.register(serving("callee-2"), run.uri("shared"), options=rr), "REGISTERED (second)")
    try:
        await bounded(
            caller.session.register(lambda: "x", run.uri("shared"), options=RegisterOptions(invoke="single")),
            "ERROR for a registration with another policy",
        )
        raise AssertionError("a registration with invoke=single joined a roundrobin procedure")
    except ApplicationError as e:
        assert e.error == "wamp.error.procedure_already_exists", f"the third registration got {e.error}"
    order = [await bounded(caller.session.call(run.uri("shared")), f"RESULT of call {i}") for i in range(4)]
    assert served == {"callee-1": 2, "callee-2": 2}, f"calls served {served}, in order {order}"
    assert order[0] != order[1] and order[:2] == order[2:], f"roundrobin order {order}"


STEPS = [
    ("plain", step_plain),
    ("progressive", step_progressive),
    ("cancel", step_cancel),
    ("timeout", step_timeout),
    ("shared", step_shared),
]


async def main(url, kind, serializer):
    return await run_steps(STEPS, lambda: Run(url, kind, serializer), kind, serializer)


async def bounded_main(*args):
    return await asyncio.wait_for(main(*args), TOTAL)


if __name__ == "__main__":
    sys.exit(asyncio.run(bounded_main(*sys.argv[1:4])))
