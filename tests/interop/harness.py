"""What the Autobahn-Python interop scripts share: the transport of a
Component, bounded waits (every wait fails in seconds, naming what it waited
for), and how a failure is described."""
import asyncio
import time

from autobahn.wamp.exception import ApplicationError

# The longest any single awaited step may take, in seconds.
STEP = 5.0


def transport(url, kind, serializer):
    if kind == "websocket":
        return {"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}
    return {"type": "rawsocket", "url": url, "serializer": serializer, "max_retries": 0}


async def bounded(awaitable, what, limit=STEP):
    """Awaits with a deadline; a timeout fails with a message naming the wait."""
    try:
        return await asyncio.wait_for(awaitable, limit)
    except asyncio.TimeoutError:
        raise AssertionError(f"no answer within {limit} s: {what}") from None


async def join_component(comp, peer, what):
    """Starts `comp` and waits (bounded) for its session: `peer.tap(session)`
    sees it join, and `peer.closed` says why it left."""
    loop = asyncio.get_running_loop()
    joined = loop.create_future()

    @comp.on_join
    def on_join(session, details):
        peer.tap(session)
        if not joined.done():
            joined.set_result(session)

    @comp.on_leave
    def on_leave(session, details):
        peer.closed = f"{details.reason} {details.message or ''}".strip()

    comp.start(loop)
    return await bounded(joined, what)


async def until(predicate, what, limit=STEP):
    """Polls `predicate` until it holds, failing after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit} s waiting for {what}")
        await asyncio.sleep(0.01)


def describe(e):
    if isinstance(e, ApplicationError):
        return f"ERROR {e.error} {list(e.args)}"
    return f"{type(e).__name__}: {e}"


async def run_steps(steps, make_run, kind, serializer):
    """Runs each (name, step) with a fresh run from `make_run()` (its
    sessions closed after the step, pass or fail); prints PASS/FAIL per step
    and INTEROP OK when none failed. Returns the exit status."""
    failed = []
    for name, step in steps:
        run = make_run()
        try:
            await step(run)
            print(f"PASS {name}", flush=True)
        except Exception as e:
            failed.append(name)
            states = "; ".join(p.state() for p in getattr(run, "peers", []) if hasattr(p, "state"))
            print(f"FAIL {name}: {describe(e)} [{states}]", flush=True)
        finally:
            await run.close_all()
    if failed:
        print(f"FAILED {kind} {serializer}: {', '.join(failed)}", flush=True)
        return 1
    print("INTEROP OK", kind, serializer, flush=True)
    return 0
