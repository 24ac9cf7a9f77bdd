// autobahn-js logging in to a Switchyard realm with authentication and
// authorization.
//
// Usage: node autobahn_js_auth.js WS_URL json|msgpack|cbor SEED PUBKEY
//
// The realm auth.interop is the one of ../auth_realm.toml (principals svc,
// tina, carl, sally, kim; roles service and user). SEED is the Ed25519 seed
// (hex) of kim, PUBKEY its public key as the router was configured with it.
//
// Each login step: a service session (ticket svc) registers add2 and secret;
// the step's session logs in through autobahn-js's onchallenge, WELCOME's
// authid / authrole / authmethod must be the principal's, a call to add2
// must answer, a call to secret must fail with wamp.error.not_authorized, and
// the session must go on (add2 again).
//
// - ticket: tina;
// - wampcra: carl, signed with auth_cra.sign(secret, challenge);
// - wampcra-salted: sally, key = auth_cra.derive_key(secret, salt,
//   iterations, keylen) from the CHALLENGE (which must carry the configured
//   salt parameters), then auth_cra.sign(key, challenge);
// - cryptosign: kim, a tweetnacl key pair from SEED (its public key must be
//   PUBKEY), signed with auth_cryptosign.sign_challenge;
// - wrong-ticket: tina with a wrong ticket never joins; the router refuses
//   the session with wamp.error.authentication_failed.
//
// Prints INTEROP OK only if every step passed; exits non-zero otherwise.
'use strict';

// autobahn-js uses the WebSocket global, which Node has from version 22 on.
if (typeof globalThis.WebSocket === 'undefined') globalThis.WebSocket = require('ws');

const autobahn = require('autobahn');
const { bounded, assertEqual, checkWelcome, errorUri, runSteps } = require('./lib.js');

const [url, serializer, seed, pubkey] = process.argv.slice(2);
const REALM = 'auth.interop';
const SERIALIZERS = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

// Opens a connection with `options` (authmethods, authid, authextra,
// onchallenge); resolves to {session, details} on WELCOME, rejects with the
// router's reason when the session closes first.
function open(ctx, name, options) {
  let opened = false;
  const connection = new autobahn.Connection({
    url,
    realm: REALM,
    serializers: [SERIALIZERS[serializer]()],
    max_retries: 0,
    retry_if_unreachable: false,
    ...options,
  });
  const joined = new Promise((resolve, reject) => {
    connection.onopen = (session, details) => {
      opened = true;
      resolve({ session, details });
    };
    connection.onclose = (reason, details) => {
      if (!opened) {
        const e = new Error(`${name} could not join: ${reason} ${JSON.stringify(details)}`);
        e.error = details.reason;
        e.args = [details.message];
        reject(e);
      }
      return true; // no reconnection
    };
  });
  connection.open();
  ctx.cleanup.push(() => {
    if (connection.isOpen) connection.close();
  });
  return bounded(joined, `${name} joining ${REALM} over websocket/${serializer}`);
}

function ticket(authid, secret) {
  return {
    authmethods: ['ticket'],
    authid,
    onchallenge: (session, method) => {
      if (method !== 'ticket') throw new Error(`CHALLENGE for ${method}`);
      return secret;
    },
  };
}

let services = 0;

// A service session with add2 and secret registered, under URIs of their own.
async function service(ctx) {
  const { session } = await open(ctx, 'svc', ticket('svc', 'svc-ticket'));
  const n = `p${process.pid}.s${services++}`;
  const uris = { add2: `com.interop.auth.add2.${n}`, secret: `com.interop.auth.secret.${n}` };
  await bounded(session.register(uris.add2, (args) => args[0] + args[1]), `REGISTERED ${uris.add2}`);
  await bounded(session.register(uris.secret, () => 'leaked'), `REGISTERED ${uris.secret}`);
  return uris;
}

async function loginAndCall(ctx, name, options, authid, authmethod) {
  const uris = await service(ctx);
  const { session, details } = await open(ctx, name, options);
  checkWelcome(details, authid, 'user', authmethod);
  assertEqual(await bounded(session.call(uris.add2, [2, 3]), `RESULT of ${uris.add2}`), 5, 'add2(2, 3)');
  let denied = null;
  try {
    await bounded(session.call(uris.secret), `ERROR for ${uris.secret}`);
  } catch (e) {
    denied = e;
  }
  if (!denied) throw new Error(`role user called ${uris.secret}`);
  assertEqual(errorUri(denied), 'wamp.error.not_authorized', `the ERROR of ${uris.secret}`);
  assertEqual(await bounded(session.call(uris.add2, [20, 22]), 'RESULT after the denial'), 42, 'add2(20, 22)');
}

async function ticketStep(ctx) {
  await loginAndCall(ctx, 'tina', ticket('tina', 'tina-ticket'), 'tina', 'ticket');
}

async function wampcra(ctx) {
  const options = {
    authmethods: ['wampcra'],
    authid: 'carl',
    onchallenge: (session, method, extra) => {
      if (extra.salt !== undefined) throw new Error(`an unsalted secret's CHALLENGE has salt ${extra.salt}`);
      return autobahn.auth_cra.sign('carl-secret', extra.challenge);
    },
  };
  await loginAndCall(ctx, 'carl', options, 'carl', 'wampcra');
}

async function wampcraSalted(ctx) {
  let seen = null;
  const options = {
    authmethods: ['wampcra'],
    authid: 'sally',
    onchallenge: (session, method, extra) => {
      seen = extra;
      const key = autobahn.auth_cra.derive_key('cra-salt-secret', extra.salt, extra.iterations, extra.keylen);
      return autobahn.auth_cra.sign(key, extra.challenge);
    },
  };
  await loginAndCall(ctx, 'sally', options, 'sally', 'wampcra');
  assertEqual([seen.salt, seen.iterations, seen.keylen], ['cra-salt', 1000, 32], 'CHALLENGE [salt, iterations, keylen]');
}

async function cryptosign(ctx) {
  const seedBytes = Uint8Array.from(Buffer.from(seed, 'hex'));
  const pair = autobahn.nacl.sign.keyPair.fromSeed(seedBytes);
  assertEqual(autobahn.auth_cryptosign.public_key(pair), pubkey, 'the public key of SEED');
  const options = {
    authmethods: ['cryptosign'],
    authid: 'kim',
    authextra: { pubkey },
    onchallenge: (session, method, extra) => autobahn.auth_cryptosign.sign_challenge(pair, extra),
  };
  await loginAndCall(ctx, 'kim', options, 'kim', 'cryptosign');
}

async function wrongTicket(ctx) {
  let refused = null;
  try {
    await open(ctx, 'tina (wrong ticket)', ticket('tina', 'wrong'));
  } catch (e) {
    refused = e;
  }
  if (!refused) throw new Error('tina joined with a wrong ticket');
  console.log(`wire: refused with ${refused.error} ${JSON.stringify(refused.args)}`);
  assertEqual(refused.error, 'wamp.error.authentication_failed', 'the refusal');
}

runSteps(`autobahn-js auth websocket ${serializer}`, [
  ['ticket', ticketStep],
  ['wampcra', wampcra],
  ['wampcra-salted', wampcraSalted],
  ['cryptosign', cryptosign],
  ['wrong-ticket', wrongTicket],
]);
