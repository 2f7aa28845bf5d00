#!/usr/bin/env node
// sio-driver.mjs — drives the official socket.io-client from line-based JSON.
//
// Tests need a Socket.IO client that nobody in this project wrote, so that a
// shared misunderstanding cannot hide in both ends. This process holds any
// number of named clients and is steered through stdin, one JSON command a
// line; it reports every observation on stdout, one JSON object a line.
//
// Commands:
//   {"op":"connect","client":"a","url":"http://127.0.0.1:3000","path":"/socket.io","transports":["websocket"]}
//       "auth" (optional) is sent as the CONNECT payload; a namespace other
//       than "/" goes at the end of "url" ("http://127.0.0.1:3000/custom").
//   {"op":"emit","client":"a","event":"chat message","args":["hi"],"ack":true,"tag":"t1"}
//       "ack": true asks the server for an ack; "tag" (optional) is echoed in
//       the ack observation; "ack_timeout_ms" (optional) reports a missing ack.
//   {"op":"disconnect","client":"a"}
//   {"op":"exit"}                      (end of stdin does the same)
//
// Observations:
//   {"client":"a","type":"connect","id":"<sid>","transport":"websocket"}
//   {"client":"a","type":"connect_error","message":"..."}
//   {"client":"a","type":"event","event":"get count","args":[3]}
//   {"client":"a","type":"ack","event":"chat message","tag":"t1","args":[{"ok":true}]}
//   {"client":"a","type":"ack_timeout","event":"...","tag":"t1"}
//   {"client":"a","type":"disconnect","reason":"io client disconnect"}
//   {"type":"error","message":"..."}    (a command this driver could not run)
//
// Binary data, in event and ack arguments both ways, is written as
// {"$binary":"<base64>"} (at any depth), since JSON has no bytes.

import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const clients = new Map();

const BINARY_KEY = '$binary';

/** Command JSON to socket.io-client arguments: {"$binary": b64} to a Buffer. */
function fromJson(value) {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === BINARY_KEY) return Buffer.from(value[BINARY_KEY], 'base64');
    return Object.fromEntries(keys.map((key) => [key, fromJson(value[key])]));
  }
  return value;
}

/** Received arguments to observation JSON: any binary to {"$binary": b64}. */
function toJson(value) {
  if (Buffer.isBuffer(value)) return { [BINARY_KEY]: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { [BINARY_KEY]: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value)) {
    return { [BINARY_KEY]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((key) => [key, toJson(value[key])]));
  }
  return value;
}

function report(observation) {
  process.stdout.write(`${JSON.stringify(observation)}\n`);
}

function connect(cmd) {
  const { client: name, url, path = '/socket.io', transports = ['websocket'] } = cmd;
  if (clients.has(name)) throw new Error(`client ${name} already exists`);
  const socket = io(url, {
    path,
    transports,
    // Each named client is its own connection, and a test decides itself
    // when to reconnect: hidden retries would blur what the server did.
    forceNew: true,
    reconnection: false,
    timeout: cmd.timeout_ms ?? 10000,
    ...(cmd.auth === undefined ? {} : { auth: cmd.auth }),
  });
  clients.set(name, socket);
  socket.on('connect', () => {
    report({ client: name, type: 'connect', id: socket.id, transport: socket.io.engine.transport.name });
  });
  socket.on('connect_error', (err) => {
    report({ client: name, type: 'connect_error', message: String(err && err.message) });
  });
  socket.on('disconnect', (reason) => {
    report({ client: name, type: 'disconnect', reason });
  });
  socket.onAny((event, ...args) => {
    report({ client: name, type: 'event', event, args: toJson(args) });
  });
}

function emit(cmd) {
  const { client: name, event, ack = false, tag = null } = cmd;
  const args = fromJson(cmd.args ?? []);
  const socket = clients.get(name);
  if (!socket) throw new Error(`no client ${name}`);
  if (!ack) {
    socket.emit(event, ...args);
    return;
  }
  if (cmd.ack_timeout_ms != null) {
    socket.timeout(cmd.ack_timeout_ms).emit(event, ...args, (err, ...reply) => {
      if (err) report({ client: name, type: 'ack_timeout', event, tag });
      else report({ client: name, type: 'ack', event, tag, args: toJson(reply) });
    });
  } else {
    socket.emit(event, ...args, (...reply) => {
      report({ client: name, type: 'ack', event, tag, args: toJson(reply) });
    });
  }
}

function disconnect(cmd) {
  const socket = clients.get(cmd.client);
  if (!socket) throw new Error(`no client ${cmd.client}`);
  socket.disconnect();
}

function shutdown() {
  for (const socket of clients.values()) socket.disconnect();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  try {
    const cmd = JSON.parse(line);
    switch (cmd.op) {
      case 'connect': connect(cmd); break;
      case 'emit': emit(cmd); break;
      case 'disconnect': disconnect(cmd); break;
      case 'exit': shutdown(); break;
      default: throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
    }
  } catch (err) {
    report({ type: 'error', message: `${err && err.message} (command: ${line})` });
  }
});
lines.on('close', shutdown);
