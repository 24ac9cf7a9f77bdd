// Shared pieces of the Node interop scripts: bounded waits, a step runner,
// and a minimal WAMP callee written against the wire protocol.
//
// The callee speaks JSON over WebSocket and announces, for the callee role,
// progressive_call_results together with call_canceling: a dealer that
// follows the spec streams progressive results only to callees that can also
// be interrupted. Neither autobahn-js nor wampy announces call_canceling as a
// callee, so the scripts use this callee to check what their client library
// does as a caller.
'use strict';

const WebSocket = require('ws');

// The longest any single awaited step may take, in milliseconds.
const STEP_MS = 3000;
// The whole script's budget, in milliseconds.
const TOTAL_MS = 30000;

function bounded(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function until(predicate, what, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// JSON text of `value`; integers a decoder gave as BigInt (wampy's MessagePack
// decoder does so for every uint64, e.g. session IDs) count as numbers.
function show(value) {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? Number(v) : v));
}

function assertEqual(actual, expected, what) {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

// The WAMP error URI a client library rejected with: autobahn-js puts it in
// `error`, wampy in `errorUri`.
// Logs a WELCOME's identity and checks it names the expected principal.
function checkWelcome(details, authid, authrole, authmethod) {
  console.log(
    `wire: WELCOME authid=${details.authid} authrole=${details.authrole} ` +
      `authmethod=${details.authmethod} authprovider=${details.authprovider}`,
  );
  assertEqual(
    [details.authid, details.authrole, details.authmethod],
    [authid, authrole, authmethod],
    'WELCOME [authid, authrole, authmethod]',
  );
}

function errorUri(e) {
  return e && (e.errorUri || (typeof e.error === 'string' ? e.error : undefined));
}

function describe(e) {
  const uri = errorUri(e);
  if (uri) {
    const args = e.args || e.argsList;
    return `${uri}${args && args.length ? ' ' + show(args) : ''}`;
  }
  return e && e.message ? e.message : String(e);
}

// Runs `steps` (name, async fn(ctx)) in order; each gets a fresh context whose
// `cleanup` list is drained afterwards. Prints PASS/FAIL per step, then
// INTEROP OK and exits 0 only if every step passed.
async function runSteps(label, steps) {
  const budget = setTimeout(() => {
    console.log(`FAIL ${label}: the script ran past ${TOTAL_MS} ms`);
    process.exit(2);
  }, TOTAL_MS);
  budget.unref();
  const prefix = `com.interop.node.p${process.pid}`;
  const failed = [];
  for (const [name, step] of steps) {
    const ctx = { uri: (n) => `${prefix}.${name}.${n}`, cleanup: [] };
    try {
      await step(ctx);
      console.log(`PASS ${name}`);
    } catch (e) {
      failed.push(name);
      console.log(`FAIL ${name}: ${describe(e)}`);
    }
    for (const close of ctx.cleanup.reverse()) {
      try {
        await bounded(Promise.resolve().then(close), 'closing a session', 2000);
      } catch (_) {
        // a session the router already dropped
      }
    }
  }
  if (failed.length) {
    console.log(`FAILED ${label}: ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log(`INTEROP OK ${label}`);
  process.exit(0);
}

const MSG = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8,
  REGISTER: 64, REGISTERED: 65, INVOCATION: 68, INTERRUPT: 69, YIELD: 70,
};

// A callee joined to `realm` at `url` (ws://...), JSON serialization.
class RawCallee {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map(); // request id -> {resolve, reject}
    this.handlers = new Map(); // registration id -> handler
    this.interrupts = []; // [request, options] of each INTERRUPT received
    this.answered = []; // invocation requests answered after an INTERRUPT
    this.goodbye = null;
    this.closed = null;
  }

  static async join(url, realm = 'realm1') {
    const ws = new WebSocket(url, ['wamp.2.json']);
    const callee = new RawCallee(ws);
    const welcome = new Promise((resolve, reject) => {
      callee.onWelcome = resolve;
      callee.onAbort = reject;
    });
    ws.on('message', (data) => callee.dispatch(JSON.parse(data.toString())));
    ws.on('close', (code, reason) => {
      callee.closed = `websocket closed ${code} ${reason}`;
      callee.onAbort(new Error(callee.closed));
      for (const { reject } of callee.pending.values()) reject(new Error(callee.closed));
    });
    ws.on('error', (e) => callee.onAbort(e));
    await bounded(new Promise((resolve) => ws.on('open', resolve)), `a WebSocket connection to ${url}`);
    const features = {
      progressive_call_results: true,
      call_canceling: true,
      caller_identification: true,
      shared_registration: true,
    };
    callee.send([MSG.HELLO, realm, { roles: { callee: { features } } }]);
    callee.session = await bounded(welcome, 'WELCOME for the raw callee');
    return callee;
  }

  send(msg) {
    this.ws.send(JSON.stringify(msg));
  }

  dispatch(msg) {
    switch (msg[0]) {
      case MSG.WELCOME:
        this.onWelcome(msg[1]);
        break;
      case MSG.ABORT:
        this.onAbort(new Error(`ABORT ${msg[2]} ${JSON.stringify(msg[1])}`));
        break;
      case MSG.GOODBYE:
        if (this.goodbye) this.goodbye();
        else this.send([MSG.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
        break;
      case MSG.REGISTERED:
        this.settle(msg[1], null, msg[2]);
        break;
      case MSG.ERROR:
        this.settle(msg[2], new Error(`${msg[4]} ${JSON.stringify(msg[5] || [])}`));
        break;
      case MSG.INVOCATION:
        this.invoke(msg);
        break;
      case MSG.INTERRUPT:
        // Answer as a cancelable callee does; the router decides whether the
        // caller sees this answer (mode kill) or drops it (killnowait).
        this.interrupts.push([msg[1], msg[2]]);
        this.answered.push(msg[1]);
        this.send([MSG.ERROR, MSG.INVOCATION, msg[1], {}, 'wamp.error.canceled']);
        break;
      default:
        break;
    }
  }

  settle(request, error, value) {
    const p = this.pending.get(request);
    if (!p) return;
    this.pending.delete(request);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  // Registers `handler(invocation)`; the invocation has details, args, kwargs,
  // and yield(args, kwargs, options) / error(uri, args) to answer with.
  async register(uri, handler, options = {}) {
    const request = this.nextId++;
    const registered = new Promise((resolve, reject) => this.pending.set(request, { resolve, reject }));
    this.send([MSG.REGISTER, request, options, uri]);
    const id = await bounded(registered, `REGISTERED for ${uri}`);
    this.handlers.set(id, handler);
    return id;
  }

  invoke([, request, registration, details, args, kwargs]) {
    const handler = this.handlers.get(registration);
    const send = (msg) => this.send(msg);
    handler({
      request,
      details,
      args: args || [],
      kwargs: kwargs || {},
      yield(a = [], kw = {}, options = {}) {
        send([MSG.YIELD, request, options, a, kw]);
      },
      error(uri, a = []) {
        send([MSG.ERROR, MSG.INVOCATION, request, {}, uri, a]);
      },
    });
  }

  async leave() {
    if (this.closed) return;
    const bye = new Promise((resolve) => { this.goodbye = resolve; });
    this.send([MSG.GOODBYE, {}, 'wamp.close.close_realm']);
    await bounded(bye, 'GOODBYE from the router', 2000).catch(() => {});
    this.ws.close();
  }
}

// The procedures the scripts call on the raw callee; registers them under
// ctx.uri(...) and returns the callee.
async function rawCalleeWithProcedures(url, ctx) {
  const callee = await RawCallee.join(url);
  ctx.cleanup.push(() => callee.leave());
  // stream(n): n progressive chunks [i, "chunk-i"], then the final ["done"].
  await callee.register(ctx.uri('stream'), (inv) => {
    if (!inv.details.receive_progress) {
      inv.error('com.interop.no_receive_progress', ['INVOCATION.Details carried no receive_progress']);
      return;
    }
    for (let i = 0; i < inv.args[0]; i++) inv.yield([i, `chunk-${i}`], {}, { progress: true });
    inv.yield(['done']);
  });
  // whoami(): the caller's identity as INVOCATION.Details disclosed it.
  await callee.register(ctx.uri('whoami'), (inv) => {
    const d = inv.details;
    inv.yield([], {
      caller: d.caller === undefined ? null : d.caller,
      caller_authid: d.caller_authid === undefined ? null : d.caller_authid,
      caller_authrole: d.caller_authrole === undefined ? null : d.caller_authrole,
    });
  });
  // hang(): never answers unless interrupted.
  await callee.register(ctx.uri('hang'), () => {});
  // ping(): answers "pong".
  await callee.register(ctx.uri('ping'), (inv) => inv.yield(['pong']));
  return callee;
}

module.exports = {
  checkWelcome,
  STEP_MS, bounded, until, show, assertEqual, errorUri, describe, runSteps, RawCallee,
  rawCalleeWithProcedures,
};
