// autobahn-js against a running Switchyard: plain and progressive calls.
//
// Usage: node autobahn_js.js WS_URL json|msgpack|cbor
//
// - plain: an autobahn-js callee doubles a number for an autobahn-js caller;
// - progressive: an autobahn-js caller (CALL.Options.receive_progress) gets
//   the chunks of the raw callee (lib.js) in order, then the final result;
// - progressive-ab-callee: the same caller against an autobahn-js callee. That
//   callee announces progressive_call_results but not call_canceling, so a
//   dealer may withhold receive_progress from it; the call must succeed
//   either way, and any chunks must arrive in order.
//
// Prints INTEROP OK only if every step passed; exits non-zero otherwise.
'use strict';

// autobahn-js uses the WebSocket global, which Node has from version 22 on.
if (typeof globalThis.WebSocket === 'undefined') globalThis.WebSocket = require('ws');

const autobahn = require('autobahn');
const { bounded, assertEqual, runSteps, rawCalleeWithProcedures } = require('./lib.js');

const [url, serializer] = process.argv.slice(2);
const SERIALIZERS = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

async function join(ctx, name) {
  let opened = false;
  const connection = new autobahn.Connection({
    url,
    realm: 'realm1',
    serializers: [SERIALIZERS[serializer]()],
    max_retries: 0,
    retry_if_unreachable: false,
  });
  const session = new Promise((resolve, reject) => {
    connection.onopen = (s) => {
      opened = true;
      resolve(s);
    };
    connection.onclose = (reason, details) => {
      if (!opened) reject(new Error(`${name} could not join: ${reason} ${JSON.stringify(details)}`));
      return true; // no reconnection
    };
  });
  connection.open();
  ctx.cleanup.push(() => {
    if (connection.isOpen) connection.close();
  });
  return bounded(session, `${name} joining realm1 over websocket/${serializer}`);
}

// Calls with receive_progress; resolves to {final, chunks}.
function callWithProgress(session, uri, args) {
  const chunks = [];
  const result = session.call(uri, args, {}, { receive_progress: true });
  return new Promise((resolve, reject) => {
    result.then(
      (final) => resolve({ final, chunks }),
      reject,
      (chunk) => chunks.push(chunk instanceof autobahn.Result ? chunk.args : chunk),
    );
  });
}

async function plain(ctx) {
  const callee = await join(ctx, 'callee');
  const caller = await join(ctx, 'caller');
  await bounded(callee.register(ctx.uri('double'), (args) => args[0] * 2), 'REGISTERED');
  assertEqual(await bounded(caller.call(ctx.uri('double'), [21]), 'RESULT'), 42, 'the plain call');
}

async function progressive(ctx) {
  await rawCalleeWithProcedures(url, ctx);
  const caller = await join(ctx, 'caller');
  const got = await bounded(callWithProgress(caller, ctx.uri('stream'), [3]), 'the final RESULT');
  assertEqual(got.chunks, [[0, 'chunk-0'], [1, 'chunk-1'], [2, 'chunk-2']], 'the progressive chunks');
  assertEqual(got.final, 'done', 'the final result');
}

async function progressiveAbCallee(ctx) {
  const callee = await join(ctx, 'callee');
  const caller = await join(ctx, 'caller');
  let offered = false;
  await bounded(
    callee.register(ctx.uri('stream'), (args, kwargs, details) => {
      offered = Boolean(details.progress);
      for (let i = 0; offered && i < args[0]; i++) details.progress([i]);
      return 'done';
    }),
    'REGISTERED',
  );
  const got = await bounded(callWithProgress(caller, ctx.uri('stream'), [3]), 'the final RESULT');
  assertEqual(got.final, 'done', 'the final result');
  assertEqual(got.chunks, offered ? [0, 1, 2] : [], 'the progressive chunks');
  console.log(`note: the autobahn-js callee was ${offered ? '' : 'not '}offered receive_progress`);
}

runSteps(`autobahn-js websocket ${serializer}`, [
  ['plain', plain],
  ['progressive', progressive],
  ['progressive-ab-callee', progressiveAbCallee],
]);
