#!/usr/bin/env node
// scripts/peers/cluster-smoke.mjs — a quick check that a two-node cluster
// (scripts/with-cluster) relays the seed app's events between its nodes,
// with the official socket.io-client over WebSocket:
//
//   scripts/with-cluster node 3520 -- node scripts/peers/cluster-smoke.mjs
//
// Reads CLUSTER_URLS (two URLs, space-separated) and PEER_PATH (default
// /socket.io). Client A and C are on the first node, B on the second:
//   (a) A's `chat message` reaches B and A;
//   (b) A's `chat broadcast` reaches B, not A;
//   (c) B and C join room `r`, A joins nothing: B's `room message` reaches
//       C and B, not A;
//   (d) A's `increase count` is acked with n and B is pushed n; B's is acked
//       n + 1 and A is pushed n + 1.
// Every wait is bounded (5 s). Prints one line per check and closes with
// "N passed, N failed"; exits 1 on a failure.

import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
const { io } = require('socket.io-client');

const URLS = (process.env.CLUSTER_URLS ?? '').split(/\s+/).filter(Boolean);
const PATH = process.env.PEER_PATH ?? '/socket.io';
const DEADLINE_MS = 5000;

let passed = 0;
let failed = 0;

function check(name, actual, expected) {
  if (isDeepStrictEqual(actual, expected)) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}\n     expected ${JSON.stringify(expected)}\n     actual   ${JSON.stringify(actual)}`);
  }
}

function withDeadline(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A client of `url`, connected and greeted, that records every event it receives. */
async function client(name, url) {
  const socket = io(url, { path: PATH, transports: ['websocket'], forceNew: true, reconnection: false });
  const events = [];
  const waiters = new Set();
  socket.onAny((event, ...args) => {
    events.push([event, args]);
    for (const waiter of [...waiters]) waiter();
  });
  const taken = new Set();
  /** Waits for the first event matching `event` (and `args`, if given) not yet taken. */
  socket.next = (event, args) => {
    let look;
    return withDeadline(
      new Promise((resolve) => {
        look = () => {
          const index = events.findIndex(
            ([e, a], i) => !taken.has(i) && e === event && (args === undefined || isDeepStrictEqual(a, args)),
          );
          if (index < 0) return;
          taken.add(index);
          waiters.delete(look);
          resolve(events[index][1]);
        };
        waiters.add(look);
        look();
      }),
      `${name} (${url}) receives ${event}${args === undefined ? '' : ` ${JSON.stringify(args)}`}`,
    ).finally(() => waiters.delete(look));
  };
  socket.ack = (event, ...args) => withDeadline(socket.emitWithAck(event, ...args), `${name} (${url}) ack of ${event}`);
  socket.events = events;
  socket.received = (event) => events.filter(([e]) => e === event).map(([, args]) => args);
  await withDeadline(
    new Promise((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    }),
    `${name} connects to ${url}`,
  );
  // The greeting: `get count`, then `auth`, before anything else.
  await socket.next('auth');
  check(`${name}: greeted with get count, then auth`, [events[0]?.[0], events[1]?.[0]], ['get count', 'auth']);
  return socket;
}

async function smoke() {
  if (URLS.length !== 2) throw new Error(`CLUSTER_URLS must name two nodes, got ${JSON.stringify(process.env.CLUSTER_URLS)}`);
  const [node1, node2] = URLS;
  const a = await client('A', node1);
  const b = await client('B', node2);

  // (a) chat message: every socket on every node, the sender included.
  check('(a) A chat message acked', await a.ack('chat message', 'hello'), { ok: true });
  check('(a) A chat message reaches B (other node)', await b.next('chat message', ['hello']), ['hello']);
  check('(a) A chat message reaches A', await a.next('chat message', ['hello']), ['hello']);

  // (b) chat broadcast: every socket but the sender. A's own copy, had it
  // been sent, would have come before A's next echo (same node, one
  // connection).
  check('(b) A chat broadcast acked', await a.ack('chat broadcast', 'psst'), { ok: true });
  check('(b) A chat broadcast reaches B (other node)', await b.next('chat broadcast', ['psst']), ['psst']);
  await a.ack('chat message', 'barrier-b');
  await a.next('chat message', ['barrier-b']);
  check('(b) A chat broadcast skips A', a.received('chat broadcast'), []);

  // (c) room message: the room's members on every node only.
  check('(c) B joins r', await b.ack('join', 'r'), { ok: true });
  const c = await client('C', node1);
  check('(c) C joins r', await c.ack('join', 'r'), { ok: true });
  check('(c) B room message acked', await b.ack('room message', { room: 'r', msg: 'm' }), { ok: true });
  check('(c) B room message reaches C (other node)', await c.next('room message'), [{ room: 'r', msg: 'm' }]);
  check('(c) B room message reaches B', await b.next('room message'), [{ room: 'r', msg: 'm' }]);
  // B's next relay leaves node 2 after the room message did: once it
  // reaches A, so would have the room message.
  await b.ack('chat message', 'barrier-c');
  await a.next('chat message', ['barrier-c']);
  check('(c) B room message skips A (not a member)', a.received('room message'), []);

  // (d) the count is the cluster's.
  const n = await a.ack('increase count');
  check('(d) A increase count acked with an integer', Number.isInteger(n), true);
  check('(d) B (other node) is pushed A\'s count', await b.next('get count', [n]), [n]);
  check('(d) B increase count acked with the next count', await b.ack('increase count'), n + 1);
  check('(d) A (other node) is pushed B\'s count', await a.next('get count', [n + 1]), [n + 1]);

  for (const socket of [a, b, c]) socket.disconnect();
}

try {
  await smoke();
} catch (err) {
  failed += 1;
  console.log(`FAIL ${err.message}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
