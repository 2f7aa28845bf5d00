#!/usr/bin/env node
// scripts/peers/smoke.mjs — a quick check of a live server against the
// seed-app and echo contracts (README.md), with the official socket.io-client.
// It is a smoke test for the peers, not the conformance suite:
//
//   scripts/with-peer node 3411 -- node scripts/peers/smoke.mjs
//
// Reads PEER_URL (default http://127.0.0.1:3000) and PEER_PATH (default
// /socket.io). Expects a freshly started server: no things yet. Prints one
// line per check and closes with "N passed, N failed"; exits 1 on a failure.
// Clients answer a `room poll` by acking with their own socket id (one
// client that stays silent makes a poll wait its 5 s).

import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
const { io } = require('socket.io-client');
const { WebSocket } = require('ws');

const URL_BASE = process.env.PEER_URL ?? 'http://127.0.0.1:3000';
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

function isErrorAck(ack) {
  return ack !== null && typeof ack === 'object' && typeof ack.error === 'string' && ack.error.length > 0;
}

function withDeadline(promise, what, deadlineMs = DEADLINE_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${deadlineMs} ms: ${what}`)), deadlineMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A connected client that records every event it receives, in order (without
 * the ack callback of one that asks for an ack). It answers `room poll` as
 * `answer` says: 'id' (acks with its socket id), 'nothing' (acks with no
 * argument) or 'silent' (never acks).
 */
async function client(name, { namespace = '/', transport = 'websocket', auth, answer = 'id' } = {}) {
  const socket = io(`${URL_BASE}${namespace === '/' ? '' : namespace}`, {
    path: PATH,
    transports: [transport],
    forceNew: true,
    reconnection: false,
    ...(auth === undefined ? {} : { auth }),
  });
  const events = [];
  const waiters = [];
  socket.onAny((event, ...args) => {
    events.push([event, args.filter((arg) => typeof arg !== 'function')]);
    for (const waiter of [...waiters]) waiter();
  });
  socket.on('room poll', (...args) => {
    const reply = args.pop();
    if (typeof reply !== 'function' || answer === 'silent') return;
    if (answer === 'nothing') reply();
    else reply(socket.id);
  });
  await withDeadline(
    new Promise((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    }),
    `${name} connects`,
  );
  /** Waits for the first event matching `event` (and `args`, if given) not yet taken. */
  const taken = new Set();
  socket.next = (event, args) =>
    withDeadline(
      new Promise((resolve) => {
        const look = () => {
          const index = events.findIndex(
            ([e, a], i) => !taken.has(i) && e === event && (args === undefined || isDeepStrictEqual(a, args)),
          );
          if (index < 0) return false;
          taken.add(index);
          waiters.splice(waiters.indexOf(look), 1);
          resolve(events[index][1]);
          return true;
        };
        waiters.push(look);
        look();
      }),
      `${name} receives ${event} ${args === undefined ? '' : JSON.stringify(args)}`,
    );
  socket.events = events;
  // Not `ack`: the client's own `ack(id)` answers the server's requests.
  socket.ask = (event, ...args) => withDeadline(socket.emitWithAck(event, ...args), `${name} ack of ${event}`);
  socket.received = (event) => events.filter(([e]) => e === event).map(([, args]) => args);
  return socket;
}

async function http(method, path, { body, contentType } = {}) {
  const headers = contentType ? { 'Content-Type': contentType } : {};
  const response = await withDeadline(fetch(`${URL_BASE}${path}`, { method, headers, body }), `${method} ${path}`);
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON; `json` stays null
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json };
}

async function seedApp() {
  const a = await client('a', { transport: 'websocket' });
  const b = await client('b', { transport: 'polling', auth: { token: 't' } });
  await a.next('auth');
  await b.next('auth');
  const start = a.events[0][1][0];
  check('a: get count then auth', a.events.slice(0, 2), [['get count', [start]], ['auth', [{}]]]);
  check('b: get count then auth with its token', b.events.slice(0, 2), [['get count', [start]], ['auth', [{ token: 't' }]]]);

  check('increase count acks the new value', await a.ask('increase count'), start + 1);
  await a.next('get count', [start + 1]);
  await b.next('get count', [start + 1]);
  check('both saw the new count', true, true);

  check('chat message ack', await a.ask('chat message', 'hi'), { ok: true });
  check('chat message reaches the sender', await a.next('chat message'), ['hi']);
  check('chat message reaches the other', await b.next('chat message'), ['hi']);
  for (const bad of [42, null, { t: 1 }]) {
    check(`chat message ${JSON.stringify(bad)} refused`, isErrorAck(await a.ask('chat message', bad)), true);
  }
  check('chat message without argument refused', isErrorAck(await a.ask('chat message')), true);
  check('chat broadcast ack', await a.ask('chat broadcast', 'psst'), { ok: true });
  check('chat broadcast reaches the other', await b.next('chat broadcast'), ['psst']);
  await b.ask('chat message', 'barrier');
  await a.next('chat message', ['barrier']);
  check('chat broadcast skips the sender', a.events.filter(([e]) => e === 'chat broadcast'), []);
  check('refused chat relayed nothing', b.events.filter(([e]) => e === 'chat message').map(([, x]) => x), [['hi'], ['barrier']]);

  check('join ok', await a.ask('join', 'r'), { ok: true });
  check('join again ok', await a.ask('join', 'r'), { ok: true });
  check('join "" refused', isErrorAck(await a.ask('join', '')), true);
  check('join 64 chars ok', await a.ask('join', 'é'.repeat(64)), { ok: true });
  check('join 65 chars refused', isErrorAck(await a.ask('join', 'x'.repeat(65))), true);
  check('join 7 refused', isErrorAck(await a.ask('join', 7)), true);
  check('room message by a member', await a.ask('room message', { room: 'r', msg: 'm1' }), { ok: true });
  check('room message reaches the member sender', await a.next('room message'), [{ room: 'r', msg: 'm1' }]);
  check('room message by a non-member refused', isErrorAck(await b.ask('room message', { room: 'r', msg: 'x' })), true);
  check('room message to own id refused', isErrorAck(await b.ask('room message', { room: b.id, msg: 'x' })), true);
  check('room message with number msg refused', isErrorAck(await a.ask('room message', { room: 'r', msg: 1 })), true);
  check('room message not an object refused', isErrorAck(await a.ask('room message', ['r', 'm'])), true);
  check('b joins', await b.ask('join', 'r'), { ok: true });
  await a.ask('room message', { room: 'r', msg: 'm2' });
  check('room message reaches both members', [await a.next('room message'), await b.next('room message')], [
    [{ room: 'r', msg: 'm2' }],
    [{ room: 'r', msg: 'm2' }],
  ]);
  check('b leaves', await b.ask('leave', 'r'), { ok: true });
  check('leave when not a member ok', await b.ask('leave', 'r'), { ok: true });
  check('leave "" refused', isErrorAck(await b.ask('leave', '')), true);
  await a.ask('room message', { room: 'r', msg: 'm3' });
  await a.next('room message', [{ room: 'r', msg: 'm3' }]);
  await a.ask('chat message', 'barrier2');
  await b.next('chat message', ['barrier2']);
  check('a left member gets nothing', b.events.filter(([e]) => e === 'room message').length, 1);

  // Ordering: one client's events in the order sent; counts only increase.
  for (let i = 0; i < 30; i += 1) a.emit('chat message', `m${i}`);
  await b.next('chat message', ['m29']);
  const relayed = b.events.filter(([e, [t]]) => e === 'chat message' && /^m\d+$/.test(t)).map(([, [t]]) => t);
  check('chat relayed in the order sent', relayed, Array.from({ length: 30 }, (_, i) => `m${i}`));
  // Two WebSocket clients (a polling client would batch more packets in one
  // POST than python-engineio accepts, which is a transport finding, not this
  // check's subject).
  const c1 = await client('c1');
  const c2 = await client('c2');
  await Promise.all([...Array(20)].flatMap(() => [c1.ask('increase count'), c2.ask('increase count')]));
  await c1.ask('chat message', 'barrier3');
  await c2.next('chat message', ['barrier3']);
  for (const [name, socket] of [['c1', c1], ['c2', c2]]) {
    const counts = socket.events.filter(([e]) => e === 'get count').map(([, [n]]) => n);
    check(`${name} saw 1 + 40 counts, each one more than the last`, [
      counts.length,
      counts.every((n, i) => i === 0 || n === counts[i - 1] + 1),
    ], [41, true]);
  }
  c1.disconnect();
  c2.disconnect();

  // Things: REST with pushes.
  check('GET /api/things empty', (await http('GET', '/api/things')).json, []);
  const created = await http('POST', '/api/things', { body: JSON.stringify({ name: 'x y/é', info: 'i', extra: 1 }), contentType: 'application/json' });
  check('POST 201 with the thing', [created.status, created.json], [201, { name: 'x y/é', info: 'i' }]);
  check('thing:create to a', await a.next('thing:create'), [{ name: 'x y/é', info: 'i' }]);
  check('thing:create to b', await b.next('thing:create'), [{ name: 'x y/é', info: 'i' }]);
  const second = await http('POST', '/api/things', { body: '{"name":"n2"}', contentType: 'application/json; charset=utf-8' });
  check('POST without info: null', [second.status, second.json], [201, { name: 'n2', info: null }]);
  const refusals = [
    ['duplicate', JSON.stringify({ name: 'n2' }), 'application/json', 409],
    ['bad JSON', '{"name":', 'application/json', 400],
    ['no content type', '{"name":"q"}', undefined, 400],
    ['text/plain', '{"name":"q"}', 'text/plain', 400],
    ['array body', '["q"]', 'application/json', 400],
    ['empty name', '{"name":""}', 'application/json', 400],
    ['number name', '{"name":3}', 'application/json', 400],
    ['missing name', '{"info":"q"}', 'application/json', 400],
    ['name 201 chars', JSON.stringify({ name: 'x'.repeat(201) }), 'application/json', 400],
    ['info number', '{"name":"q","info":3}', 'application/json', 400],
    ['body over 16 KiB', JSON.stringify({ name: 'big', info: 'x'.repeat(17000) }), 'application/json', 413],
  ];
  for (const [what, body, contentType, status] of refusals) {
    const response = await http('POST', '/api/things', { body, contentType });
    check(`POST ${what}: ${status} with error body`, [response.status, typeof response.json?.error], [status, 'string']);
  }
  const name200 = await http('POST', '/api/things', { body: JSON.stringify({ name: 'é'.repeat(200) }), contentType: 'application/json' });
  check('POST name of 200 characters', name200.status, 201);
  const list = await http('GET', '/api/things');
  check('GET lists in insertion order', [list.status, list.json.map((t) => t.name)], [200, ['x y/é', 'n2', 'é'.repeat(200)]]);
  const removed = await http('DELETE', `/api/things/${encodeURIComponent('x y/é')}`);
  check('DELETE 204 empty', [removed.status, removed.text], [204, '']);
  check('thing:destroy to b', await b.next('thing:destroy'), ['x y/é']);
  const missing = await http('DELETE', '/api/things/nope');
  check('DELETE missing 404 with error body', [missing.status, typeof missing.json?.error], [404, 'string']);
  await a.next('thing:create', [{ name: 'n2', info: null }]);
  await a.next('thing:create', [{ name: 'é'.repeat(200), info: null }]);
  await a.next('thing:destroy', ['x y/é']);
  check('refused requests pushed nothing', a.events.filter(([e]) => e.startsWith('thing:')).length, 4);

  // Echo contract.
  const bytes = Buffer.from([0, 1, 2, 255]);
  a.emit('message', 1, 'two', { n: [bytes] }, bytes);
  const back = await a.next('message-back');
  check('message-back with the same arguments, binary included', [
    back[0], back[1], Buffer.from(back[2].n[0]).equals(bytes), Buffer.from(back[3]).equals(bytes),
  ], [1, 'two', true, true]);
  check('message-with-ack acks its arguments', await withDeadline(a.emitWithAck('message-with-ack', 'x', 2), 'ack'), 'x');
  const acked = await withDeadline(
    new Promise((resolve) => a.emit('message-with-ack', 'x', { y: [1] }, (...args) => resolve(args))),
    'message-with-ack',
  );
  check('message-with-ack acks all its arguments', acked, ['x', { y: [1] }]);
  const custom = await client('custom', { namespace: '/custom', auth: { k: 'v' } });
  check('/custom sends auth', await custom.next('auth'), [{ k: 'v' }]);
  custom.disconnect();

  const disconnected = new Promise((resolve) => b.on('disconnect', resolve));
  a.disconnect();
  b.disconnect();
  check('client disconnect', await withDeadline(disconnected, 'b disconnects'), 'io client disconnect');
}

/** `kick` and `room poll`, with clients of their own. */
async function kickAndPoll() {
  const [p, q, r] = [await client('p'), await client('q'), await client('r')];
  const sorted = (ack) => (Array.isArray(ack?.answers) ? { answers: [...ack.answers].sort() } : ack);

  // room poll: p and q are members of `poll`, r is not.
  check('p joins poll', await p.ask('join', 'poll'), { ok: true });
  check('q joins poll', await q.ask('join', 'poll'), { ok: true });
  const question = { q: 'lunch?', options: ['a', 1, null] };
  check('room poll acks every member\'s answer (its id)', sorted(await p.ask('room poll', { room: 'poll', question })), {
    answers: [p.id, q.id].sort(),
  });
  check('room poll reaches the sender with the question', await p.next('room poll'), [question]);
  check('room poll reaches the other member', await q.next('room poll'), [question]);
  check('room poll with a null question', sorted(await q.ask('room poll', { room: 'poll', question: null })), {
    answers: [p.id, q.id].sort(),
  });
  check('a null question arrives as one null argument', [await p.next('room poll'), await q.next('room poll')], [[null], [null]]);
  for (const [what, bad] of [
    ['by a non-member', { room: 'poll', question: 1 }],
    ['to an empty room name', { room: '', question: 1 }],
    ['to a 65-character room name', { room: 'x'.repeat(65), question: 1 }],
    ['to a number room', { room: 7, question: 1 }],
    ['without a question', { room: 'poll' }],
    ['not an object', ['poll', 1]],
  ]) {
    const sender = what === 'by a non-member' ? r : p;
    check(`room poll ${what} refused`, isErrorAck(await sender.ask('room poll', bad)), true);
  }
  check('room poll without argument refused', isErrorAck(await p.ask('room poll')), true);
  await p.ask('chat message', 'barrier-poll');
  await q.next('chat message', ['barrier-poll']);
  await r.next('chat message', ['barrier-poll']);
  check('refused polls asked nobody', [p, q, r].map((s) => s.received('room poll').length), [2, 2, 0]);

  // A member acking with no argument answers null; a silent one is left
  // out once the 5 s are up, and the answers that came are acked.
  const mute = await client('mute', { answer: 'nothing' });
  const silent = await client('silent', { answer: 'silent' });
  await mute.ask('join', 'poll');
  await silent.ask('join', 'poll');
  const started = Date.now();
  const partial = await withDeadline(p.emitWithAck('room poll', { room: 'poll', question: 'late?' }), 'p ack of room poll with a silent member', 8000);
  const waited = Date.now() - started;
  check('a silent member: the others\' answers, null for one acked empty', sorted(partial), {
    answers: [p.id, q.id, null].sort(),
  });
  check(`a silent member: acked after the 5 s (${waited} ms)`, waited >= 4500 && waited < 7500, true);
  check('the silent member was asked', await silent.next('room poll'), ['late?']);
  mute.disconnect();
  silent.disconnect();

  // kick: r is disconnected from `/` by the server.
  const kicked = new Promise((resolve) => r.on('disconnect', resolve));
  check('kick acked', await p.ask('kick', r.id), { ok: true });
  check('the kicked socket: io server disconnect', await withDeadline(kicked, 'r is kicked'), 'io server disconnect');
  check('kick of an id nobody has acked', await p.ask('kick', 'no-such-socket-id'), { ok: true });
  for (const bad of [42, null, [q.id], { id: q.id }]) {
    check(`kick ${JSON.stringify(bad)} refused`, isErrorAck(await p.ask('kick', bad)), true);
  }
  check('kick without argument refused', isErrorAck(await p.ask('kick')), true);
  check('kick by a room name acked', await p.ask('kick', 'poll'), { ok: true });
  check('refused kicks and a room name kicked nobody', [p.connected, q.connected, await q.ask('chat message', 'still here')], [
    true,
    true,
    { ok: true },
  ]);
  const selfKicked = new Promise((resolve) => q.on('disconnect', resolve));
  check('kick of oneself acked', await q.ask('kick', q.id), { ok: true });
  check('then it is disconnected: io server disconnect', await withDeadline(selfKicked, 'q kicks itself'), 'io server disconnect');
  p.disconnect();
}

async function pageAndPlainWs() {
  const page = await http('GET', '/');
  check('GET / is HTML', [page.status, page.type.startsWith('text/html')], [200, true]);
  const script = await http('GET', '/siosim-client.js');
  check('GET /siosim-client.js is JavaScript', [script.status, script.type.startsWith('text/javascript')], [200, true]);
  const unknown = await http('GET', '/no-such-route');
  check('unknown route 404', unknown.status, 404);

  const ws = new WebSocket(`${URL_BASE.replace(/^http/, 'ws')}/ws`);
  const received = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    received.push(isBinary ? Buffer.from(data) : data.toString());
    while (waiters.length > 0) waiters.shift()();
  });
  const nth = (n) =>
    withDeadline(
      new Promise((resolve) => {
        const look = () => (received.length > n ? resolve(received[n]) : waiters.push(look));
        look();
      }),
      `/ws message ${n}`,
    );
  check('/ws greets', await nth(0), 'Hello! I am a server.');
  ws.send('hi');
  check('/ws echoes text', await nth(1), 'You said: hi');
  ws.send(Buffer.from([1, 2, 3]), { binary: true });
  check('/ws echoes binary', (await nth(2)).equals(Buffer.from([1, 2, 3])), true);
  ws.close();
}

try {
  await seedApp();
  await kickAndPoll();
  await pageAndPlainWs();
} catch (err) {
  failed += 1;
  console.log(`FAIL ${err.message}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
