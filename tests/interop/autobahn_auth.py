"""Autobahn-Python against a Switchyard realm with authentication and
authorization: every login method Autobahn-Python has a client for.

Usage: autobahn_auth.py URL websocket|rawsocket json|msgpack|cbor SEED PUBKEY [REALM]

SEED is the 32-byte Ed25519 seed (hex) of principal kim, PUBKEY its public key
as the router was configured with it. The realm (default auth.interop) is the
one of auth_realm.toml beside this script: anonymous = false and these
principals (authrole "user" unless said):

    svc    ticket "svc-ticket", authrole "service" (registers the procedures)
    tina   ticket "tina-ticket"
    carl   wampcra "carl-secret" (unsalted)
    sally  wampcra "cra-salt-secret", salt "cra-salt", 1000 iterations, keylen 32
    kim    cryptosign PUBKEY
    sam    scram "pencil", kdf argon2id (1 iteration, 64 KiB)

Role "user" may call com.interop.auth.* but not com.interop.auth.secret.* (a
longer prefix rule that allows nothing); role "service" may register both.

Each login step: a service session (ticket) registers add2 and secret; the
step's session logs in, WELCOME's authid / authrole / authmethod must be the
principal's, a call to add2 must answer, a call to secret must fail with
wamp.error.not_authorized, and the session must go on (add2 again).

- ticket, wampcra (Autobahn's AuthWampCra), wampcra-salted (the documented
  recipe: auth.derive_key(secret, salt, iterations, keylen) then
  auth.compute_wcs; the CHALLENGE must carry the configured salt parameters
  and a challenge naming the authid and the session WELCOME then assigns),
  cryptosign (AuthCryptoSign; CryptosignKey of SEED must have PUBKEY),
  cryptosign-by-key (no authid in HELLO: the router finds kim by the key),
  scram-argon2id (AuthScram, Autobahn's "scram" dialect; its on_welcome
  checks the router's scram_server_signature; Autobahn sends its
  AUTHENTICATE with an empty Extra, no nonce, which the router accepts in
  this dialect). SCRAM with
  kdf pbkdf2 is not tried: Autobahn-Python 26.10.2 hands the base64 salt text
  to its pbkdf2(), which refuses it ("Invalid argument types");
- wrong-ticket: tina with a wrong ticket never joins; the session is refused
  with wamp.error.authentication_failed.

Prints INTEROP OK only if every step passed; exits non-zero otherwise.
"""
import asyncio
import binascii
import itertools
import json
import os
import sys

from autobahn.asyncio.component import Component
from autobahn.wamp import auth
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.interfaces import IAuthenticator

from harness import bounded, run_steps, transport

# The whole script's budget, in seconds.
TOTAL = 60.0

STEP_NUMBER = itertools.count()

# The router's refusal of an Autobahn-Python SCRAM AUTHENTICATE (see above).


class SaltedCra:
    """WAMP-CRA the way Autobahn documents it for a salted secret: the HMAC
    key is auth.derive_key(secret, salt, iterations, keylen), the signature
    auth.compute_wcs(key, challenge). Keeps the CHALLENGE it answered."""

    name = "wampcra"

    def __init__(self, authid, secret):
        self._args = {"authid": authid}
        self.secret = secret
        self.challenge = None

    @property
    def authextra(self):
        return {}

    def on_challenge(self, session, challenge):
        self.challenge = dict(challenge.extra)
        e = challenge.extra
        key = auth.derive_key(self.secret, e["salt"], e["iterations"], e["keylen"])
        return auth.compute_wcs(key, e["challenge"]).decode("ascii")

    def on_welcome(self, session, authextra):
        return None


IAuthenticator.register(SaltedCra)


class Run:
    def __init__(self, url, kind, serializer, realm):
        self.url, self.kind, self.serializer, self.realm = url, kind, serializer, realm
        n = next(STEP_NUMBER)
        self.add2 = f"com.interop.auth.add2.p{os.getpid()}.s{n}"
        self.secret = f"com.interop.auth.secret.p{os.getpid()}.s{n}"
        self.comps = []

    def _start(self, authentication):
        loop = asyncio.get_running_loop()
        comp = Component(
            transports=[transport(self.url, self.kind, self.serializer)],
            realm=self.realm,
            authentication=authentication,
        )
        joined, left = loop.create_future(), loop.create_future()

        @comp.on_join
        def on_join(session, details):
            if not joined.done():
                joined.set_result((session, details))

        @comp.on_leave
        def on_leave(session, details):
            if not left.done():
                left.set_result(details)
            if not joined.done():
                joined.set_exception(ApplicationError(details.reason, details.message))

        comp.start(loop)
        self.comps.append(comp)
        return joined, left

    async def join(self, name, authentication):
        """(session, SessionDetails) of a session logged in with `authentication`."""
        joined, _ = self._start(authentication)
        return await bounded(joined, f"{name} joining {self.realm} over {self.kind}/{self.serializer}")

    async def refused(self, name, authentication):
        """The CloseDetails of a login that must not join."""
        joined, left = self._start(authentication)
        details = await bounded(left, f"the router refusing {name}")
        assert not (joined.done() and not joined.exception()), f"{name} joined"
        return details

    async def service(self):
        """The service session, with add2 and secret registered."""
        session, _ = await self.join("svc", {"ticket": {"authid": "svc", "ticket": "svc-ticket"}})
        await bounded(session.register(lambda x, y: x + y, self.add2), f"REGISTERED {self.add2}")
        await bounded(session.register(lambda: "leaked", self.secret), f"REGISTERED {self.secret}")
        return session

    async def close_all(self):
        for comp in self.comps:
            try:
                await asyncio.wait_for(asyncio.ensure_future(comp.stop()), 2)
            except Exception:  # a session that already left, or never joined
                pass
        self.comps = []


async def login_and_call(run, name, authentication, authid, authmethod, authrole="user"):
    """Logs in, checks WELCOME and the allowed and denied calls; returns
    (session, details)."""
    await run.service()
    session, d = await run.join(name, authentication)
    print(
        f"wire: WELCOME authid={d.authid!r} authrole={d.authrole!r} "
        f"authmethod={d.authmethod!r} authprovider={d.authprovider!r}",
        flush=True,
    )
    got = (d.authid, d.authrole, d.authmethod)
    assert got == (authid, authrole, authmethod), f"WELCOME (authid, authrole, authmethod) {got}"
    assert await bounded(session.call(run.add2, 2, 3), f"RESULT of {run.add2}") == 5
    try:
        await bounded(session.call(run.secret), f"ERROR for {run.secret}")
        raise AssertionError(f"role {authrole} called {run.secret}")
    except ApplicationError as e:
        assert e.error == "wamp.error.not_authorized", f"calling {run.secret}: {e.error}"
    assert await bounded(session.call(run.add2, 20, 22), f"RESULT of {run.add2} after the denial") == 42
    return session, d


def steps(seed, pubkey):
    async def ticket(run):
        await login_and_call(run, "tina", {"ticket": {"authid": "tina", "ticket": "tina-ticket"}}, "tina", "ticket")

    async def wampcra(run):
        creds = {"wampcra": {"authid": "carl", "secret": "carl-secret"}}
        await login_and_call(run, "carl", creds, "carl", "wampcra")

    async def wampcra_salted(run):
        cra = SaltedCra("sally", "cra-salt-secret")
        session, _ = await login_and_call(run, "sally", {"wampcra": cra}, "sally", "wampcra")
        e = cra.challenge
        got = (e.get("salt"), e.get("iterations"), e.get("keylen"))
        assert got == ("cra-salt", 1000, 32), f"CHALLENGE (salt, iterations, keylen) {got}"
        signed = json.loads(e["challenge"])
        assert signed.get("authid") == "sally", f"challenge authid {signed.get('authid')!r}"
        assert signed.get("authmethod") == "wampcra", f"challenge authmethod {signed.get('authmethod')!r}"
        assert signed.get("session") == session.session_id, (
            f"challenge session {signed.get('session')}, WELCOME {session.session_id}"
        )

    async def cryptosign(run):
        key = CryptosignKey.from_bytes(binascii.a2b_hex(seed))
        assert key.public_key() == pubkey, f"CryptosignKey public key {key.public_key()}, configured {pubkey}"
        creds = {"cryptosign": {"authid": "kim", "privkey": seed}}
        await login_and_call(run, "kim", creds, "kim", "cryptosign")

    async def cryptosign_by_key(run):
        await login_and_call(run, "the key of kim", {"cryptosign": {"privkey": seed}}, "kim", "cryptosign")

    async def scram_argon2id(run):
        creds = {"scram": {"authid": "sam", "password": "pencil"}}
        _, d = await login_and_call(run, "sam", creds, "sam", "scram")
        assert "scram_server_signature" in (d.authextra or {}), f"WELCOME authextra {d.authextra}"

    async def wrong_ticket(run):
        details = await run.refused("tina (wrong ticket)", {"ticket": {"authid": "tina", "ticket": "wrong"}})
        print(f"wire: refused with {details.reason} {details.message!r}", flush=True)
        assert details.reason == "wamp.error.authentication_failed", f"refused with {details.reason}"

    return [
        ("ticket", ticket),
        ("wampcra", wampcra),
        ("wampcra-salted", wampcra_salted),
        ("cryptosign", cryptosign),
        ("cryptosign-by-key", cryptosign_by_key),
        ("scram-argon2id", scram_argon2id),
        ("wrong-ticket", wrong_ticket),
    ]


async def main(url, kind, serializer, seed, pubkey, realm="auth.interop"):
    return await run_steps(steps(seed, pubkey), lambda: Run(url, kind, serializer, realm), kind, serializer)


async def bounded_main(*args):
    return await asyncio.wait_for(main(*args), TOTAL)


if __name__ == "__main__":
    sys.exit(asyncio.run(bounded_main(*sys.argv[1:7])))
