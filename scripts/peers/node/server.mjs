#!/usr/bin/env node
// scripts/peers/node/server.mjs — the seed app and the echo contract on the
// official Node `socket.io` v4 server: a third-party peer for siosim's
// conformance checks. The contract is README.md, "The seed-app contract";
// the echo rows are the official protocol test server's.
//
//   node scripts/peers/node/server.mjs [--port 3000] [--host 127.0.0.1] [--path /socket.io]
//       [--ping-interval-ms 25000] [--ping-timeout-ms 20000]
//       [--connect-timeout-ms 45000] [--max-payload-bytes 1000000]
//       [--redis redis://127.0.0.1:6379]
//
// Defaults are the reference server's (server/src/config.rs). Connects and
// disconnects are logged to stderr with the socket id (and the reason).
//
// With --redis the server is one node of a cluster (scripts/with-cluster):
// its sockets reach every node's through @socket.io/redis-adapter, and the
// count is the Redis key `siosim-count` (INCR, GET), shared by every node.
// Counts and chat are relayed through the adapter to the sockets already
// greeted (the room GREETED: a socket's greeting awaits Redis and must still
// be its first event), room messages to the adapter's room
// `siosim-room:<name>`. A socket's events are handled one after another
// (its handlers await Redis). Each node pushes the value its own INCR got:
// two nodes' counts may reach a socket out of order, and one greeted with
// a count may be pushed it again. The things REST collection stays per
// node: each node has its own, and pushes `thing:create` / `thing:destroy`
// to its own sockets only. Without --redis nothing of this applies: the
// server is exactly the single-process one.
//
// `kick` (a socket id) acks {ok:true}, then has the socket of that id, on
// whichever node, disconnected from `/` (io.in(id).disconnectSockets(false):
// a DISCONNECT packet, the Engine.IO connection stays open); `room poll`
// ({room, question}) asks each member of the room for an ack (5 s at most)
// and acks the sender {answers}, the answers that came: in single mode by
// asking this server's members one by one, in cluster mode with one
// broadcast with acks through the adapter, which gathers every node's.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Server } from 'socket.io';
import { WebSocketServer } from 'ws';

const HERE = dirname(fileURLToPath(import.meta.url));
const MAX_ROOM_NAME_CHARS = 64;
const MAX_THING_NAME_CHARS = 200;
const MAX_THING_BODY_BYTES = 16 * 1024;
const MAX_PLAIN_WS_MESSAGE_BYTES = 64 * 1024;
const PLAIN_WS_PATH = '/ws';
const GREETING = 'Hello! I am a server.';
const ECHO_PREFIX = 'You said: ';
// Cluster mode (--redis) only.
const COUNT_KEY = 'siosim-count';
// The greeted sockets, and the prefix of the rooms joined through `join`:
// no socket id (socket.io's own rooms) has a ':' or a space, so neither can
// be a socket's own room, and no room joined through `join` is GREETED.
const GREETED = 'siosim: the greeted sockets';
const ROOM_PREFIX = 'siosim-room:';
const REDIS_CONNECT_DEADLINE_MS = 15000;
// How long a new socket's greeting waits for Redis before the socket is
// disconnected (its events wait meanwhile), and how often it asks again.
const GREETING_DEADLINE_MS = 10000;
const GREETING_RETRY_MS = 200;
// How long a `room poll` waits for the members' answers.
const ROOM_POLL_TIMEOUT_MS = 5000;

// --- configuration -----------------------------------------------------------

function parseConfig(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string', default: '/socket.io' },
      'ping-interval-ms': { type: 'string', default: '25000' },
      'ping-timeout-ms': { type: 'string', default: '20000' },
      'connect-timeout-ms': { type: 'string', default: '45000' },
      'max-payload-bytes': { type: 'string', default: '1000000' },
      redis: { type: 'string' },
    },
  });
  const number = (flag) => {
    const raw = values[flag];
    if (!/^\d+$/.test(raw)) throw new Error(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  // The path lands in the page's HTML and script: only plain path characters.
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(values.path)) {
    throw new Error(`--path must start with '/' and use only [A-Za-z0-9._~-/], got ${JSON.stringify(values.path)}`);
  }
  const port = number('port');
  if (port > 65535) throw new Error(`--port out of range: ${port}`);
  if (values.redis !== undefined && !/^rediss?:\/\/./.test(values.redis)) {
    throw new Error(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(values.redis)}`);
  }
  return {
    port,
    host: values.host,
    path: values.path,
    pingInterval: number('ping-interval-ms'),
    pingTimeout: number('ping-timeout-ms'),
    connectTimeout: number('connect-timeout-ms'),
    maxPayload: number('max-payload-bytes'),
    redis: values.redis ?? null,
  };
}

// --- validation (the same rules and messages as the reference server) -------

/** Length in Unicode scalar values, as Rust's `chars().count()`. */
const charCount = (text) => [...text].length;

const ok = () => ({ ok: true });
const error = (why) => ({ error: why });

function roomName(name) {
  if (typeof name !== 'string') return { why: 'expected a room name (string)' };
  if (name.length === 0) return { why: 'room name must not be empty' };
  if (charCount(name) > MAX_ROOM_NAME_CHARS) return { why: `room name must be at most ${MAX_ROOM_NAME_CHARS} characters` };
  return { room: name };
}

function roomPost(post) {
  if (post === null || typeof post !== 'object' || Array.isArray(post) || Buffer.isBuffer(post)) {
    return { why: 'expected {room, msg}' };
  }
  if (typeof post.room !== 'string') return { why: 'room must be a string' };
  const { room, why } = roomName(post.room);
  if (why) return { why };
  if (typeof post.msg !== 'string') return { why: 'msg must be a string' };
  return { room, msg: post.msg };
}

function roomPoll(poll) {
  if (poll === null || typeof poll !== 'object' || Array.isArray(poll) || Buffer.isBuffer(poll)) {
    return { why: 'expected {room, question}' };
  }
  if (typeof poll.room !== 'string') return { why: 'room must be a string' };
  const { room, why } = roomName(poll.room);
  if (why) return { why };
  if (!Object.hasOwn(poll, 'question')) return { why: 'question is missing' };
  return { room, question: poll.question };
}

function parseThing(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { why: 'body must be a JSON object {name, info?}' };
  }
  const { name, info } = body;
  if (name === undefined) return { why: 'name is required' };
  if (typeof name !== 'string') return { why: 'name must be a string' };
  if (name.length === 0) return { why: 'name must not be empty' };
  if (charCount(name) > MAX_THING_NAME_CHARS) return { why: `name must be at most ${MAX_THING_NAME_CHARS} characters` };
  if (info !== undefined && info !== null && typeof info !== 'string') return { why: 'info must be a string' };
  return { thing: { name, info: info ?? null } };
}

// --- Socket.IO: seed app + echo contract --------------------------------------

/** Splits a handler's arguments into the event's own and the ack callback. */
function splitAck(args) {
  const ack = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
  return { args, ack };
}

/** `cluster`: null, or cluster mode's adapter and Redis clients (`joinCluster`). */
function attachSocketIo(httpServer, config, cluster) {
  const io = new Server(httpServer, {
    path: config.path,
    pingInterval: config.pingInterval,
    pingTimeout: config.pingTimeout,
    connectTimeout: config.connectTimeout,
    maxHttpBufferSize: config.maxPayload,
    // /ws upgrades are ours; socket.io must not time them out.
    destroyUpgrade: false,
    ...(cluster ? { adapter: cluster.adapter } : {}),
  });
  const root = io.of('/');
  let count = 0;
  // Cluster mode: the count is Redis's, and this node's count operations (a
  // greeting's GET, an INCR and its push) run one at a time, as the python
  // peer's push_lock: a socket greeted with n is pushed every count this
  // node gets after n.
  const store = cluster?.pubClient;
  let countTurn = Promise.resolve();
  const inCountTurn = (operation) => {
    const result = countTurn.then(operation);
    countTurn = result.catch(() => {});
    return result;
  };
  // Rooms joined through `join`, kept apart from socket.io's own rooms (every
  // socket is in a room named by its id), so membership is exactly the
  // contract's.
  const joined = new Map(); // socket id -> Set of room names

  const inRoom = (room) => [...root.sockets.values()].filter((s) => joined.get(s.id)?.has(room));

  root.on('connection', (socket) => {
    console.error(`connect sid=${socket.id}`);
    joined.set(socket.id, new Set());
    // Cluster mode: handlers await Redis, so each waits for the socket's
    // previous one (the greeting first): one client's events are handled
    // in the order it sent them.
    let previous = Promise.resolve();
    const on = cluster
      ? (event, handler) => {
          socket.on(event, (...raw) => {
            previous = previous
              .then(() => handler(...raw))
              .catch((err) => console.error(`sid=${socket.id} ${event}: ${err?.stack ?? err}`));
          });
        }
      : (event, handler) => socket.on(event, handler);

    // The contract: `get count` is the first event a socket sees, then `auth`.
    if (cluster) {
      previous = greet(socket).catch((err) => console.error(`sid=${socket.id} greeting: ${err?.stack ?? err}`));
    } else {
      socket.emit('get count', count);
      socket.emit('auth', socket.handshake.auth);
    }

    if (cluster) {
      on('increase count', async (...raw) => {
        const { ack } = splitAck(raw);
        let value;
        try {
          value = await inCountTurn(async () => {
            const next = await store.incr(COUNT_KEY);
            root.to(GREETED).emit('get count', next);
            return next;
          });
        } catch (err) {
          ack(error(`the count is out of reach: ${err.message}`));
          return;
        }
        ack(value);
      });
    } else {
      on('increase count', (...raw) => {
        const { ack } = splitAck(raw);
        count += 1;
        root.emit('get count', count);
        ack(count);
      });
    }

    const chat = (event, includeSender) => (...raw) => {
      const { args, ack } = splitAck(raw);
      const [text] = args;
      if (typeof text !== 'string') {
        ack(error(`${event} takes one string argument`));
        return;
      }
      if (cluster) {
        if (includeSender) root.to(GREETED).emit(event, text);
        else socket.broadcast.to(GREETED).emit(event, text);
      } else if (includeSender) root.emit(event, text);
      else socket.broadcast.emit(event, text);
      ack(ok());
    };
    on('chat message', chat('chat message', true));
    on('chat broadcast', chat('chat broadcast', false));

    // `joined` answers whether the sender is a member (the sender is this
    // node's); in cluster mode the adapter's room ROOM_PREFIX + name carries
    // the messages to the members on every node.
    on('join', (...raw) => {
      const { args, ack } = splitAck(raw);
      const { room, why } = roomName(args[0]);
      if (why) return ack(error(why));
      // A join queued behind a disconnect would outlive the socket.
      if (cluster && !socket.connected) return undefined;
      joined.get(socket.id).add(room);
      if (cluster) socket.join(ROOM_PREFIX + room);
      return ack(ok());
    });
    on('leave', (...raw) => {
      const { args, ack } = splitAck(raw);
      const { room, why } = roomName(args[0]);
      if (why) return ack(error(why));
      if (cluster && !socket.connected) return undefined;
      joined.get(socket.id).delete(room);
      if (cluster) socket.leave(ROOM_PREFIX + room);
      return ack(ok());
    });
    on('room message', (...raw) => {
      const { args, ack } = splitAck(raw);
      const { room, msg, why } = roomPost(args[0]);
      if (why) return ack(error(why));
      if (!joined.get(socket.id)?.has(room)) return ack(error(`not a member of room ${JSON.stringify(room)}`));
      if (cluster) root.to(ROOM_PREFIX + room).emit('room message', { room, msg });
      else for (const member of inRoom(room)) member.emit('room message', { room, msg });
      return ack(ok());
    });

    // The ack first, so that a socket kicking itself still gets it. Only a
    // string that can be a socket id names a room here: the cluster's own
    // rooms (GREETED, ROOM_PREFIX + name) have a ':', and kick nobody.
    on('kick', (...raw) => {
      const { args, ack } = splitAck(raw);
      const [id] = args;
      if (typeof id !== 'string') return ack(error('expected a socket id (string)'));
      ack(ok());
      if (!/[: ]/.test(id)) io.in(id).disconnectSockets(false);
      return undefined;
    });
    // The handler returns once the question is out: the answers are waited
    // for apart, so the sender's later events (and in cluster mode the
    // chain of its handlers) do not wait for them.
    on('room poll', (...raw) => {
      const { args, ack } = splitAck(raw);
      const { room, question, why } = roomPoll(args[0]);
      if (why) return ack(error(why));
      if (!joined.get(socket.id)?.has(room)) return ack(error(`not a member of room ${JSON.stringify(room)}`));
      const answer = (value) => (value === undefined ? null : value);
      if (cluster) {
        // On a timeout `responses` holds the answers that came in time.
        root
          .to(ROOM_PREFIX + room)
          .timeout(ROOM_POLL_TIMEOUT_MS)
          .emit('room poll', question, (_err, responses) => ack({ answers: (responses ?? []).map(answer) }));
      } else {
        const asked = inRoom(room).map((member) => member.timeout(ROOM_POLL_TIMEOUT_MS).emitWithAck('room poll', question));
        Promise.allSettled(asked).then((settled) =>
          ack({ answers: settled.filter((s) => s.status === 'fulfilled').map((s) => answer(s.value)) }),
        );
      }
      return undefined;
    });

    // Echo contract (the official protocol test server). An ack asked of
    // `message` is not forwarded: the echo carries the arguments only.
    on('message', (...raw) => {
      const { args } = splitAck(raw);
      socket.emit('message-back', ...args);
    });
    on('message-with-ack', (...raw) => {
      const { args, ack } = splitAck(raw);
      ack(...args);
    });

    socket.on('disconnect', (reason) => {
      joined.delete(socket.id);
      console.error(`disconnect sid=${socket.id} reason=${JSON.stringify(reason)}`);
    });
  });

  /**
   * Cluster mode: greets `socket` with the cluster's count, then lets counts,
   * chat and thing pushes reach it (GREETED). While Redis is out of reach
   * the greeting waits (GREETING_DEADLINE_MS at most, then the socket is
   * disconnected: `io server disconnect`).
   */
  async function greet(socket) {
    const deadline = Date.now() + GREETING_DEADLINE_MS;
    while (socket.connected) {
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), Math.max(0, deadline - Date.now()));
      });
      late.catch(() => {}); // the turn may not have started when it fires
      try {
        await inCountTurn(async () => {
          const value = Number((await Promise.race([store.get(COUNT_KEY), late])) ?? 0);
          if (!socket.connected) return;
          socket.emit('get count', value);
          socket.join(GREETED);
          socket.emit('auth', socket.handshake.auth);
        });
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          console.error(`sid=${socket.id}: the count is out of reach (${err.message}); disconnecting`);
          socket.disconnect();
          return;
        }
      } finally {
        clearTimeout(timer);
      }
      await new Promise((resolve) => setTimeout(resolve, GREETING_RETRY_MS));
    }
  }

  io.of('/custom').on('connection', (socket) => {
    socket.emit('auth', socket.handshake.auth);
  });
  return io;
}

/**
 * Cluster mode: connects the adapter's two Redis clients (the publishing
 * one also keeps the count) and logs when a connection to Redis is lost or
 * back, once each. Fails if Redis does not answer in time.
 */
async function joinCluster(url) {
  // Loaded here: a single server needs neither.
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { createClient } = await import('redis');
  const pubClient = createClient({ url });
  const subClient = pubClient.duplicate();
  for (const [name, client] of [['pub', pubClient], ['sub', subClient]]) {
    let lost = false;
    client.on('error', (err) => {
      if (!lost) console.error(`redis ${name} client: ${err.message}; reconnecting`);
      lost = true;
    });
    client.on('ready', () => {
      if (lost) console.error(`redis ${name} client: reconnected`);
      lost = false;
    });
  }
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from Redis at ${url} within ${REDIS_CONNECT_DEADLINE_MS} ms`)),
      REDIS_CONNECT_DEADLINE_MS,
    );
  });
  try {
    await Promise.race([Promise.all([pubClient.connect(), subClient.connect()]), deadline]);
  } finally {
    clearTimeout(timer);
  }
  return {
    adapter: createAdapter(pubClient, subClient),
    pubClient,
    subClient,
    /**
     * Resolves once the adapters' subscriptions are in place: Redis handles
     * one connection's commands in order, so once this SUBSCRIBE is
     * confirmed, so are theirs, and this node hears every node's relays.
     */
    joined: () => subClient.subscribe('siosim-cluster-joined', () => {}),
  };
}

// --- HTTP: page, things REST ---------------------------------------------------

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** axum's `Json` accepts `application/json` and any `application/*+json`. */
function isJsonContentType(header) {
  if (!header) return false;
  const essence = header.split(';')[0].trim().toLowerCase();
  const [type, subtype = ''] = essence.split('/');
  return type === 'application' && (subtype === 'json' || subtype.endsWith('+json'));
}

/** Reads at most `limit` bytes; resolves null when the body is larger. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      resolve(null);
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function thingsApi(io, clustered) {
  const things = new Map(); // name -> thing, in insertion order
  const root = io.of('/');
  // Cluster mode: the collection is this node's, so are its pushes.
  const push = clustered
    ? (event, data) => root.local.to(GREETED).emit(event, data)
    : (event, data) => root.emit(event, data);

  async function create(req, res) {
    if (!isJsonContentType(req.headers['content-type'])) {
      return sendJson(res, 400, error('Expected request with `Content-Type: application/json`'));
    }
    const body = await readBody(req, MAX_THING_BODY_BYTES);
    if (body === null) {
      res.setHeader('Connection', 'close');
      return sendJson(res, 413, error(`body larger than ${MAX_THING_BODY_BYTES} bytes`));
    }
    let parsed;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch (err) {
      return sendJson(res, 400, error(`Failed to parse the request body as JSON: ${err.message}`));
    }
    const { thing, why } = parseThing(parsed);
    if (why) return sendJson(res, 400, error(why));
    if (things.has(thing.name)) return sendJson(res, 409, error(`thing ${JSON.stringify(thing.name)} already exists`));
    things.set(thing.name, thing);
    push('thing:create', thing);
    return sendJson(res, 201, thing);
  }

  function destroy(res, encodedName) {
    let name;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      return sendJson(res, 400, error('name is not valid percent-encoded UTF-8'));
    }
    if (!things.delete(name)) return sendJson(res, 404, error(`no thing named ${JSON.stringify(name)}`));
    push('thing:destroy', name);
    res.writeHead(204);
    return res.end();
  }

  return { list: () => [...things.values()], create, destroy };
}

function requestHandler(getIo, page, clientScript, clustered) {
  let api = null;
  return (req, res) => {
    const pathname = new URL(req.url, 'http://peer').pathname;
    const methodNotAllowed = () => {
      res.writeHead(405);
      res.end();
    };
    if (pathname === '/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed();
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(page);
    }
    if (pathname === '/siosim-client.js') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed();
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      return res.end(clientScript);
    }
    api ??= thingsApi(getIo(), clustered);
    if (pathname === '/api/things') {
      if (req.method === 'GET') return sendJson(res, 200, api.list());
      if (req.method === 'POST') {
        return api.create(req, res).catch((err) => {
          if (!res.headersSent) sendJson(res, 400, error(String(err.message)));
        });
      }
      return methodNotAllowed();
    }
    const thingPath = /^\/api\/things\/([^/]+)$/.exec(req.url.split('?')[0]);
    if (thingPath) {
      if (req.method !== 'DELETE') return methodNotAllowed();
      return api.destroy(res, thingPath[1]);
    }
    res.writeHead(404);
    return res.end();
  };
}

// --- /ws: plain WebSocket -------------------------------------------------------

function attachPlainWs(httpServer) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PLAIN_WS_MESSAGE_BYTES });
  wss.on('connection', (ws) => {
    ws.send(GREETING);
    ws.on('message', (data, isBinary) => {
      if (isBinary) ws.send(data, { binary: true });
      else ws.send(`${ECHO_PREFIX}${data.toString('utf8')}`);
    });
    ws.on('error', () => {});
  });
  httpServer.on('upgrade', (req, socket, head) => {
    if (new URL(req.url, 'http://peer').pathname === PLAIN_WS_PATH) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    }
    // Anything else is socket.io's (its own upgrade listener) or nobody's.
  });
  return wss;
}

// --- main ---------------------------------------------------------------------------

async function main() {
  let config;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (err) {
    console.error(`server.mjs: ${err.message}`);
    process.exit(2);
  }
  let cluster = null;
  if (config.redis) {
    try {
      cluster = await joinCluster(config.redis);
    } catch (err) {
      console.error(`server.mjs: ${err.message}`);
      process.exit(1);
    }
    console.error(`cluster node on ${config.redis}`);
  }
  // Every server serves the same page: the reference server's, with its own
  // small Socket.IO client, so the page is live whichever server runs.
  const pageDir = join(HERE, '..', '..', '..', 'server', 'src', 'page');
  const clientScript = readFileSync(join(pageDir, 'client.js'));
  const page = readFileSync(join(pageDir, 'index.html'), 'utf8')
    .replaceAll('{{SOCKETIO_PATH}}', config.path);

  // socket.io's engine takes over the 'request' listeners present when it
  // attaches and forwards them what is not its own: ours must come first.
  let io = null;
  const httpServer = createServer(requestHandler(() => io, page, clientScript, cluster !== null));
  io = attachSocketIo(httpServer, config, cluster);
  const wss = attachPlainWs(httpServer);
  // Unclaimed upgrades (neither the Socket.IO path nor /ws) are closed.
  httpServer.on('upgrade', (req, socket) => {
    const pathname = new URL(req.url, 'http://peer').pathname;
    if (pathname !== PLAIN_WS_PATH && !pathname.startsWith(`${config.path}/`) && pathname !== config.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }
  });

  // A node answers only once it hears the cluster.
  if (cluster) await cluster.joined();
  httpServer.listen(config.port, config.host, () => {
    console.error(`node socket.io peer listening on http://${config.host}:${config.port} (path ${config.path})`);
  });

  const shutdown = (signal) => {
    console.error(`${signal}: shutting down`);
    for (const ws of wss.clients) ws.close();
    io.close(() => process.exit(0));
    // A client that never lets go must not keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
