// wampy against a running Switchyard: plain and progressive calls, caller
// identification and call timeout.
//
// Usage: node wampy.js WS_URL json|msgpack|cbor
//
// - plain: a wampy callee doubles a number for a wampy caller;
// - progressive: a wampy caller (progress_callback, which sets
//   CALL.Options.receive_progress) gets the chunks of the raw callee (lib.js)
//   in order, then the final result;
// - disclose: a wampy caller with disclose_me; the callee's INVOCATION.Details
//   carry the caller's session id, authid and authrole;
// - timeout: a wampy call with timeout 300 (wampy documents milliseconds, as
//   the spec does) to a callee that never answers ends in wamp.error.timeout;
//   the callee gets INTERRUPT killnowait, and its late answer never reaches
//   the caller.
//
// Prints INTEROP OK only if every step passed; exits non-zero otherwise.
'use strict';

const WebSocket = require('ws');
const { Wampy } = require('wampy');
const { MsgpackSerializer } = require('wampy/MsgpackSerializer.js');
const { CborSerializer } = require('wampy/CborSerializer.js');
const { JsonSerializer } = require('wampy/JsonSerializer.js');
const {
  bounded, until, show, assertEqual, errorUri, runSteps, rawCalleeWithProcedures,
} = require('./lib.js');

const [url, serializer] = process.argv.slice(2);
const SERIALIZERS = {
  json: () => new JsonSerializer(),
  msgpack: () => new MsgpackSerializer(),
  cbor: () => new CborSerializer(),
};
const TIMEOUT_MS = 300;

async function join(ctx, name) {
  const client = new Wampy(url, {
    realm: 'realm1',
    ws: WebSocket,
    serializer: SERIALIZERS[serializer](),
    autoReconnect: false,
  });
  ctx.cleanup.push(() => client.disconnect());
  await bounded(client.connect(), `${name} joining realm1 over websocket/${serializer}`);
  return client;
}

async function plain(ctx) {
  const callee = await join(ctx, 'callee');
  const caller = await join(ctx, 'caller');
  await bounded(callee.register(ctx.uri('double'), ({ argsList }) => [argsList[0] * 2]), 'REGISTERED');
  const got = await bounded(caller.call(ctx.uri('double'), [21]), 'RESULT');
  assertEqual(got.argsList, [42], 'the plain call');
}

async function progressive(ctx) {
  await rawCalleeWithProcedures(url, ctx);
  const caller = await join(ctx, 'caller');
  const chunks = [];
  const got = await bounded(
    caller.call(ctx.uri('stream'), [3], {
      progress_callback: ({ argsList, details }) => chunks.push([details.progress, argsList]),
    }),
    'the final RESULT',
  );
  assertEqual(
    chunks,
    [[true, [0, 'chunk-0']], [true, [1, 'chunk-1']], [true, [2, 'chunk-2']]],
    'the progressive chunks',
  );
  assertEqual(got.argsList, ['done'], 'the final result');
}

async function disclose(ctx) {
  await rawCalleeWithProcedures(url, ctx);
  const caller = await join(ctx, 'caller');
  const got = await bounded(caller.call(ctx.uri('whoami'), null, { disclose_me: true }), 'RESULT');
  const who = got.argsDict || {};
  assertEqual(who.caller, caller.getSessionId(), 'INVOCATION.Details.caller');
  for (const key of ['caller_authid', 'caller_authrole']) {
    if (typeof who[key] !== 'string') throw new Error(`INVOCATION.Details.${key}: got ${show(who[key])}`);
  }
}

async function timeout(ctx) {
  const callee = await rawCalleeWithProcedures(url, ctx);
  const caller = await join(ctx, 'caller');
  const began = Date.now();
  let error = null;
  try {
    await bounded(
      caller.call(ctx.uri('hang'), null, { timeout: TIMEOUT_MS }),
      `wamp.error.timeout for CALL.Options.timeout=${TIMEOUT_MS} (ms)`,
    );
  } catch (e) {
    error = e;
  }
  const took = Date.now() - began;
  if (!error) throw new Error('the call to a callee that never answers succeeded');
  if (errorUri(error) !== 'wamp.error.timeout') throw error;
  if (took < 200 || took > 3000) throw new Error(`the timeout took ${took} ms for ${TIMEOUT_MS} ms`);
  await until(() => callee.interrupts.length > 0, 'INTERRUPT to the callee after the timeout');
  assertEqual(callee.interrupts[0][1].mode, 'killnowait', 'the INTERRUPT mode');
  // The callee answered the INTERRUPT; that answer must not reach the caller,
  // and the caller must stay usable (the ping passes the callee after it).
  const pong = await bounded(caller.call(ctx.uri('ping')), 'a call after the timeout');
  assertEqual(pong.argsList, ['pong'], 'the call after the timeout');
  console.log(`note: wamp.error.timeout after ${took} ms`);
}

runSteps(`wampy websocket ${serializer}`, [
  ['plain', plain],
  ['progressive', progressive],
  ['disclose', disclose],
  ['timeout', timeout],
]);
