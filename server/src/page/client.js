// siosim-client.js — a minimal Socket.IO v5 client for the demo page.
//
// Served by the server itself so the page works with no network beyond it.
// It speaks Engine.IO v4 over WebSocket only (no long-polling, no binary
// attachments, default namespace only), which every Socket.IO v4 server
// accepts. Usage:
//
//   import { connect } from '/siosim-client.js';
//   const socket = connect({ path: '/socket.io' });
//   socket.on('connect', () => ...);
//   socket.on('get count', (n) => ...);
//   socket.emit('chat message', 'hi', (ack) => ...);  // last function = ack

// Engine.IO packet types (one character, then the payload).
const EIO_OPEN = '0';
const EIO_CLOSE = '1';
const EIO_PING = '2';
const EIO_PONG = '3';
const EIO_MESSAGE = '4';

// Socket.IO packet types (inside an Engine.IO message).
const SIO_CONNECT = '0';
const SIO_DISCONNECT = '1';
const SIO_EVENT = '2';
const SIO_ACK = '3';
const SIO_CONNECT_ERROR = '4';

// Events the client itself raises; a server event may not use these names.
const RESERVED = new Set(['connect', 'disconnect', 'connect_error']);

const MAX_RECONNECT_DELAY_MS = 5000;

class Socket {
  constructor(url) {
    this.url = url;
    this.id = null;
    this.connected = false;
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAckId = 0;
    this.ws = null;
    this.heartbeat = null;
    this.reconnectAttempts = 0;
    // Set when the user or the server ended the session on purpose: then
    // the client stays disconnected instead of reconnecting.
    this.closedOnPurpose = false;
    this.open();
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  // emit(event, ...args[, ackCallback]): the callback, if any, receives the
  // server's ack arguments.
  emit(event, ...args) {
    if (RESERVED.has(event)) throw new Error(`"${event}" is a reserved event name`);
    let ackId = '';
    if (typeof args[args.length - 1] === 'function') {
      const id = this.nextAckId++;
      this.acks.set(id, args.pop());
      ackId = String(id);
    }
    // Like the official client, events emitted while disconnected are lost
    // (no buffering), which keeps the page honest about connectivity.
    if (!this.connected) return this;
    this.send(EIO_MESSAGE + SIO_EVENT + ackId + JSON.stringify([event, ...args]));
    return this;
  }

  disconnect() {
    this.closedOnPurpose = true;
    if (this.connected) this.send(EIO_MESSAGE + SIO_DISCONNECT);
    this.teardown('io client disconnect');
    return this;
  }

  // --- internals ---

  open() {
    if (this.closedOnPurpose) return; // a reconnect timer outlived disconnect()
    this.ws = new WebSocket(this.url);
    this.ws.onmessage = (msg) => {
      // Binary frames only carry attachments, which this client does not use.
      if (typeof msg.data === 'string') this.onEngineIoPacket(msg.data);
    };
    this.ws.onclose = () => this.teardown('transport close');
    this.ws.onerror = () => {}; // onclose follows and does the work.
  }

  send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  onEngineIoPacket(data) {
    const type = data[0];
    const payload = data.slice(1);
    switch (type) {
      case EIO_OPEN: {
        const handshake = JSON.parse(payload);
        this.pingDeadlineMs = handshake.pingInterval + handshake.pingTimeout;
        this.armHeartbeat();
        this.send(EIO_MESSAGE + SIO_CONNECT); // join the default namespace
        break;
      }
      case EIO_PING:
        this.armHeartbeat();
        this.send(EIO_PONG);
        break;
      case EIO_CLOSE:
        this.teardown('transport close');
        break;
      case EIO_MESSAGE:
        this.onSocketIoPacket(payload);
        break;
      default:
        break;
    }
  }

  onSocketIoPacket(data) {
    const type = data[0];
    let rest = data.slice(1);
    // Packets for other namespaces start with "/ns,"; this client uses "/" only.
    if (rest.startsWith('/')) return;
    switch (type) {
      case SIO_CONNECT: {
        this.id = rest ? JSON.parse(rest).sid : null;
        this.connected = true;
        this.reconnectAttempts = 0;
        this.fire('connect');
        break;
      }
      case SIO_DISCONNECT:
        this.closedOnPurpose = true;
        this.teardown('io server disconnect');
        break;
      case SIO_EVENT: {
        const digits = rest.match(/^\d*/)[0];
        const [event, ...args] = JSON.parse(rest.slice(digits.length));
        if (digits) {
          args.push((...reply) => this.send(EIO_MESSAGE + SIO_ACK + digits + JSON.stringify(reply)));
        }
        this.fire(event, ...args);
        break;
      }
      case SIO_ACK: {
        const digits = rest.match(/^\d*/)[0];
        const callback = this.acks.get(Number(digits));
        this.acks.delete(Number(digits));
        if (callback) callback(...JSON.parse(rest.slice(digits.length)));
        break;
      }
      case SIO_CONNECT_ERROR:
        this.fire('connect_error', rest ? JSON.parse(rest) : null);
        break;
      default:
        break;
    }
  }

  // A server that stops pinging is gone even if the TCP connection looks open.
  armHeartbeat() {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => this.ws && this.ws.close(), this.pingDeadlineMs);
  }

  teardown(reason) {
    clearTimeout(this.heartbeat);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.onmessage = null;
      this.ws.close();
      this.ws = null;
    }
    // Unanswered acks will never be answered by this connection.
    this.acks.clear();
    const wasConnected = this.connected;
    this.connected = false;
    this.id = null;
    if (wasConnected) this.fire('disconnect', reason);
    if (!this.closedOnPurpose) {
      const delay = Math.min(MAX_RECONNECT_DELAY_MS, 250 * 2 ** this.reconnectAttempts++);
      setTimeout(() => this.open(), delay);
    }
  }

  fire(event, ...args) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(...args);
      } catch (err) {
        console.error(`siosim-client: handler for "${event}" failed`, err);
      }
    }
  }
}

// Connects to the Socket.IO server that served this page, at `path`.
export function connect({ path = '/socket.io' } = {}) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const base = path.endsWith('/') ? path : `${path}/`;
  return new Socket(`${scheme}://${location.host}${base}?EIO=4&transport=websocket`);
}
