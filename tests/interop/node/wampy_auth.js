// wampy logging in to a Switchyard realm with authentication and
// authorization.
//
// Usage: node wampy_auth.js WS_URL json|msgpack|cbor SEED PUBKEY
//
// The realm auth.interop is the one of ../auth_realm.toml (principals svc,
// tina, carl, sally, kim; roles service and user). SEED is the Ed25519 seed
// (hex) of kim, PUBKEY its public key as the router was configured with it.
//
// Each login step: a service session (ticket svc) registers add2 and secret;
// the step's session logs in, WELCOME's authid / authrole / authmethod must
// be the principal's, a call to add2 must answer, a call to secret must fail
// with wamp.error.not_authorized, and the session must go on (add2 again).
//
// - ticket: tina, answered by an onChallenge callback;
// - wampcra: carl, and wampcra-salted: sally, both with wampy's own plugin
//   (authPlugins.wampcra = wampy/wampcra sign(secret), which derives the key
//   from the CHALLENGE's salt, iterations and keylen when it has them);
// - cryptosign: kim, with wampy's plugin (wampy/cryptosign sign(SEED)) and
//   authextra.pubkey PUBKEY. wampy sends authmethods only with an authid, so
//   a login by key alone cannot be tried;
// - wrong-ticket: tina with a wrong ticket never joins; wampy's connect()
//   rejects with the router's wamp.error.authentication_failed.
//
// Prints INTEROP OK only if every step passed; exits non-zero otherwise.
'use strict';

const { pathToFileURL } = require('url');
const WebSocket = require('ws');
const { Wampy } = require('wampy');
const { MsgpackSerializer } = require('wampy/MsgpackSerializer.js');
const { CborSerializer } = require('wampy/CborSerializer.js');
const { JsonSerializer } = require('wampy/JsonSerializer.js');
const wampyCryptosign = require('wampy/cryptosign.js');
const { bounded, assertEqual, checkWelcome, errorUri, runSteps } = require('./lib.js');

const [url, serializer, seed, pubkey] = process.argv.slice(2);
const REALM = 'auth.interop';
const SERIALIZERS = {
  json: () => new JsonSerializer(),
  msgpack: () => new MsgpackSerializer(),
  cbor: () => new CborSerializer(),
};

// Connects with `options` (authid, authmethods, onChallenge or authPlugins);
// resolves to {client, details} on WELCOME, rejects as wampy's connect() does.
async function open(ctx, name, options) {
  const client = new Wampy(url, {
    realm: REALM,
    ws: WebSocket,
    serializer: SERIALIZERS[serializer](),
    autoReconnect: false,
    ...options,
  });
  ctx.cleanup.push(() => client.disconnect());
  const details = await bounded(client.connect(), `${name} joining ${REALM} over websocket/${serializer}`);
  return { client, details };
}

function ticket(authid, secret) {
  return {
    authid,
    authmethods: ['ticket'],
    onChallenge: (method) => {
      if (method !== 'ticket') throw new Error(`CHALLENGE for ${method}`);
      return secret;
    },
  };
}

let services = 0;

// A service session with add2 and secret registered, under URIs of their own.
async function service(ctx) {
  const { client } = await open(ctx, 'svc', ticket('svc', 'svc-ticket'));
  const n = `p${process.pid}.s${services++}`;
  const uris = { add2: `com.interop.auth.add2.${n}`, secret: `com.interop.auth.secret.${n}` };
  await bounded(client.register(uris.add2, ({ argsList }) => [argsList[0] + argsList[1]]), `REGISTERED ${uris.add2}`);
  await bounded(client.register(uris.secret, () => ['leaked']), `REGISTERED ${uris.secret}`);
  return uris;
}

async function loginAndCall(ctx, name, options, authid, authmethod) {
  const uris = await service(ctx);
  const { client, details } = await open(ctx, name, options);
  checkWelcome(details, authid, 'user', authmethod);
  const sum = await bounded(client.call(uris.add2, [2, 3]), `RESULT of ${uris.add2}`);
  assertEqual(sum.argsList, [5], 'add2(2, 3)');
  let denied = null;
  try {
    await bounded(client.call(uris.secret), `ERROR for ${uris.secret}`);
  } catch (e) {
    denied = e;
  }
  if (!denied) throw new Error(`role user called ${uris.secret}`);
  assertEqual(errorUri(denied), 'wamp.error.not_authorized', `the ERROR of ${uris.secret}`);
  const again = await bounded(client.call(uris.add2, [20, 22]), 'RESULT after the denial');
  assertEqual(again.argsList, [42], 'add2(20, 22)');
}

// wampy/wampcra.js is an ES module with top-level await, so it takes
// import(), which does not search NODE_PATH: require.resolve finds the file.
async function craPlugin(secret) {
  const { sign } = await import(pathToFileURL(require.resolve('wampy/wampcra.js')).href);
  return { authMode: 'auto', authPlugins: { wampcra: sign(secret) } };
}

async function ticketStep(ctx) {
  await loginAndCall(ctx, 'tina', ticket('tina', 'tina-ticket'), 'tina', 'ticket');
}

async function wampcra(ctx) {
  const options = { authid: 'carl', authmethods: ['wampcra'], ...(await craPlugin('carl-secret')) };
  await loginAndCall(ctx, 'carl', options, 'carl', 'wampcra');
}

async function wampcraSalted(ctx) {
  const options = { authid: 'sally', authmethods: ['wampcra'], ...(await craPlugin('cra-salt-secret')) };
  await loginAndCall(ctx, 'sally', options, 'sally', 'wampcra');
}

async function cryptosign(ctx) {
  const options = {
    authid: 'kim',
    authmethods: ['cryptosign'],
    authextra: { pubkey },
    authMode: 'auto',
    authPlugins: { cryptosign: wampyCryptosign.sign(seed) },
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
  console.log(`wire: refused with ${errorUri(refused)} ${JSON.stringify(refused.details)}`);
  assertEqual(errorUri(refused), 'wamp.error.authentication_failed', 'the refusal');
}

runSteps(`wampy auth websocket ${serializer}`, [
  ['ticket', ticketStep],
  ['wampcra', wampcra],
  ['wampcra-salted', wampcraSalted],
  ['cryptosign', cryptosign],
  ['wrong-ticket', wrongTicket],
]);
