#!/usr/bin/env python3
"""The seed app and the echo contract on python-socketio (AsyncServer) and
aiohttp: a third-party peer for siosim's conformance checks. The contract is
README.md, "The seed-app contract"; the echo rows are the official protocol
test server's.

    scripts/peers/python/.venv/bin/python scripts/peers/python/server.py \\
        [--port 3000] [--host 127.0.0.1] [--path /socket.io] \\
        [--ping-interval-ms 25000] [--ping-timeout-ms 20000] \\
        [--connect-timeout-ms 45000] [--max-payload-bytes 1000000] \\
        [--redis redis://127.0.0.1:6379]

Defaults are the reference server's (server/src/config.rs). Connects and
disconnects are logged to stderr with the socket id (and the reason).

With --redis the server is one node of a cluster (scripts/with-cluster):
socketio.AsyncRedisManager relays its emits to every node's sockets, and
the count is the Redis key `siosim-count` (INCR, GET), shared by every node.
Counts and chat go through the manager to the sockets already greeted (the
room GREETED: a socket's greeting awaits Redis and must still be its first
event), room messages to the room `siosim-room:<name>`. Each node pushes the
value its own INCR got: two nodes' counts may reach a socket out of order,
and one greeted with a count may be pushed it again. The things REST
collection stays per node: each node has its own, and pushes `thing:create`
/ `thing:destroy` to its own sockets only. Without --redis nothing of this
applies: the server is exactly the single-process one.

`kick` (a socket id) has the socket of that id disconnected from `/`
(sio.disconnect: a DISCONNECT packet, the Engine.IO connection stays open;
in cluster mode the manager asks the other nodes when the socket is not
this node's) and acks {ok:true}. `room poll` ({room, question}) asks each
member of the room for an ack (5 s at most) and acks the sender {answers},
the answers that came. python-socketio has no broadcast with acks across
nodes, so in cluster mode only this node's members are asked: the members
on other nodes are missed (a known divergence from the contract).
"""

import argparse
import asyncio
import inspect
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import socketio
from socketio import packet
from aiohttp import WSMsgType, web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

HERE = Path(__file__).resolve().parent
# Every server serves the same page: the reference server's, with its own
# small Socket.IO client, so the page is live whichever server runs.
PAGE_DIR = HERE.parent.parent.parent / "server" / "src" / "page"
PAGE_TEMPLATE = PAGE_DIR / "index.html"
CLIENT_BUNDLE = PAGE_DIR / "client.js"
CLIENT_SCRIPT_PATH = "/siosim-client.js"

MAX_ROOM_NAME_CHARS = 64
MAX_THING_NAME_CHARS = 200
MAX_THING_BODY_BYTES = 16 * 1024
MAX_PLAIN_WS_MESSAGE_BYTES = 64 * 1024
GREETING = "Hello! I am a server."
# The sockets that had their `get count` greeting: count pushes go to them.
# Longer than a room name may be, so no client can join it.
GREETED = "siosim: the greeted sockets (no client can join a room with a name this long)"
ECHO_PREFIX = "You said: "
# Cluster mode (--redis) only: the count's key, the prefix of the rooms
# joined through `join` (no sid has a ':', so none is a socket's own room,
# and none is GREETED), and how long a node waits to hear the cluster.
COUNT_KEY = "siosim-count"
ROOM_PREFIX = "siosim-room:"
JOIN_DEADLINE_S = 15
# How long a new socket's greeting waits for Redis before the socket is
# disconnected (its events wait meanwhile), and how often it asks again.
GREETING_DEADLINE_S = 10
GREETING_RETRY_S = 0.2
# How long a `room poll` waits for the members' answers.
ROOM_POLL_TIMEOUT_S = 5
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._~\-/]*$")


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- configuration -----------------------------------------------------------


def parse_config(argv):
    parser = argparse.ArgumentParser(description="siosim Python peer (python-socketio + aiohttp)")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--path", default="/socket.io")
    parser.add_argument("--ping-interval-ms", type=int, default=25_000)
    parser.add_argument("--ping-timeout-ms", type=int, default=20_000)
    parser.add_argument("--connect-timeout-ms", type=int, default=45_000)
    parser.add_argument("--max-payload-bytes", type=int, default=1_000_000)
    parser.add_argument("--redis", default=None, help="a node of the cluster on this Redis URL")
    config = parser.parse_args(argv)
    # The path lands in the page's HTML and script: only plain path characters.
    if not SAFE_PATH.match(config.path) or config.path.rstrip("/") == "":
        parser.error(f"--path must start with '/' and use only [A-Za-z0-9._~-/], got {config.path!r}")
    if not 0 <= config.port <= 65535:
        parser.error(f"--port out of range: {config.port}")
    if config.redis is not None and not re.match(r"^rediss?://.", config.redis):
        parser.error(f"--redis must be a redis:// or rediss:// URL, got {config.redis!r}")
    for name in ("ping_interval_ms", "ping_timeout_ms", "connect_timeout_ms", "max_payload_bytes"):
        if getattr(config, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    return config


# --- validation (the same rules and messages as the reference server) -------


def ok():
    return {"ok": True}


def error(why):
    return {"error": why}


def room_name(name):
    """The room name, or raises ValueError with the reason."""
    if not isinstance(name, str):
        raise ValueError("expected a room name (string)")
    if not name:
        raise ValueError("room name must not be empty")
    if len(name) > MAX_ROOM_NAME_CHARS:
        raise ValueError(f"room name must be at most {MAX_ROOM_NAME_CHARS} characters")
    return name


def room_post(post):
    """(room, msg), or raises ValueError with the reason."""
    if not isinstance(post, dict):
        raise ValueError("expected {room, msg}")
    if not isinstance(post.get("room"), str):
        raise ValueError("room must be a string")
    room = room_name(post["room"])
    if not isinstance(post.get("msg"), str):
        raise ValueError("msg must be a string")
    return room, post["msg"]


def room_poll(poll):
    """(room, question), or raises ValueError with the reason."""
    if not isinstance(poll, dict):
        raise ValueError("expected {room, question}")
    if not isinstance(poll.get("room"), str):
        raise ValueError("room must be a string")
    room = room_name(poll["room"])
    if "question" not in poll:
        raise ValueError("question is missing")
    return room, poll["question"]


def parse_thing(body):
    """The thing {name, info}, or raises ValueError with the reason."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object {name, info?}")
    if "name" not in body:
        raise ValueError("name is required")
    name = body["name"]
    if not isinstance(name, str):
        raise ValueError("name must be a string")
    if not name:
        raise ValueError("name must not be empty")
    if len(name) > MAX_THING_NAME_CHARS:
        raise ValueError(f"name must be at most {MAX_THING_NAME_CHARS} characters")
    info = body.get("info")
    if info is not None and not isinstance(info, str):
        raise ValueError("info must be a string")
    return {"name": name, "info": info}


# --- Socket.IO ---------------------------------------------------------------


class PeerServer(socketio.AsyncServer):
    """python-socketio has no `connectTimeout`: the official server closes an
    Engine.IO session that joins no namespace in time, and so does this one.
    It hooks the two private Engine.IO handlers of the pinned version.

    With async_handlers=False (one client's events in order) a handler runs
    in the client's receive loop, and its return value is the ack: one that
    waited for acks would wait for its own client's too, which that loop
    reads only once the handler returns (and sio.call() refuses to run).
    So the handler of an event in `deferred_ack_events` (`room poll`) still
    runs in the loop, in order, but may return an awaitable: its result is
    then the ack, sent from a task of its own once ready. This hooks the
    private `_handle_event_internal` of the pinned version."""

    def __init__(self, connect_timeout_s, deferred_ack_events=(), **kwargs):
        super().__init__(**kwargs)
        self._connect_timeout_s = connect_timeout_s
        self._joined = set()  # eio sids that have joined a namespace
        self._timers = {}  # eio sid -> task closing it if it joins none
        self._deferred_ack_events = frozenset(deferred_ack_events)
        self._tasks = set()  # held until done

    async def _handle_event_internal(self, server, sid, eio_sid, data, namespace, id):
        if data[0] not in self._deferred_ack_events:
            return await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        ack = await server._trigger_event(data[0], namespace, sid, *data[1:])
        if inspect.isawaitable(ack):
            self.spawn(self._ack_when_ready, eio_sid, namespace, id, ack)
        else:
            await self._ack_when_ready(eio_sid, namespace, id, ack)
        return None

    async def _ack_when_ready(self, eio_sid, namespace, id, ack):
        value = (await ack) if inspect.isawaitable(ack) else ack
        if id is not None:  # no ack asked for: nothing
            await self._send_packet(eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=[value]))

    def spawn(self, target, *args):
        """start_background_task, holding the task until it is done."""
        task = self.start_background_task(target, *args)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_eio_connect(self, eio_sid, environ):
        await super()._handle_eio_connect(eio_sid, environ)
        self._timers[eio_sid] = asyncio.create_task(self._close_if_idle(eio_sid))

    async def _handle_connect(self, eio_sid, namespace, data):
        self._joined.add(eio_sid)
        timer = self._timers.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        await super()._handle_connect(eio_sid, namespace, data)

    async def _handle_eio_disconnect(self, eio_sid, reason):
        self._joined.discard(eio_sid)
        timer = self._timers.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _close_if_idle(self, eio_sid):
        await asyncio.sleep(self._connect_timeout_s)
        self._timers.pop(eio_sid, None)
        if eio_sid not in self._joined:
            await self.eio.disconnect(eio_sid)


class SeedApp:
    """The counter, chat, rooms and things of one server instance."""

    def __init__(self, sio, store=None):
        self.sio = sio
        self.count = 0
        # Cluster mode: the Redis client that keeps the count (else None),
        # and the emit arguments that keep an emit on this node: to one of
        # its sockets, or a push of its own things.
        self.store = store
        self.here = {"ignore_queue": True} if store is not None else {}
        self.pushes = {"room": GREETED, "ignore_queue": True} if store is not None else {}
        # Rooms joined through `join`, kept apart from python-socketio's own
        # rooms (every socket is in a room named by its sid), so membership is
        # exactly the contract's. sid -> set of room names, in connect order.
        self.joined = {}
        self.things = {}  # name -> thing, in insertion order
        # Held across "change state, tell everyone", so every socket sees
        # the changes in the order they were made.
        self.push_lock = asyncio.Lock()
        # Held across a room message's fan-out (an await per member) and by
        # join and leave: a socket whose leave was acked gets no message of
        # that room after the ack (a leave acked mid-fan-out and then the
        # message was found by `siosim explore --url`, 1 run in 8 of seed 13).
        self.rooms_lock = asyncio.Lock()

    def register(self):
        sio = self.sio
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("increase count", self.increase_count)
        sio.on("chat message", self.chat_message)
        sio.on("chat broadcast", self.chat_broadcast)
        sio.on("join", self.join)
        sio.on("leave", self.leave)
        sio.on("room message", self.room_message)
        sio.on("kick", self.kick)
        sio.on("room poll", self.room_poll)
        sio.on("message", self.message)
        sio.on("message-with-ack", self.message_with_ack)
        sio.on("connect", self.connect_custom, namespace="/custom")

    async def connect(self, sid, environ, auth=None):
        log(f"connect sid={sid}")
        self.joined[sid] = set()
        # The contract: `get count` is the first event a socket sees, then
        # `auth` (`{}` when the client sent none, as socket.io's handshake.auth).
        # With always_connect, python-socketio registers the socket before
        # this handler runs: a count pushed to everyone in between would
        # precede the greeting (found by `siosim explore --url`). Counts go
        # to the greeted room, which the socket enters with its greeting.
        if self.store is not None:
            if not await self.greet_from_store(sid):
                return
        else:
            async with self.push_lock:
                await self.sio.emit("get count", self.count, to=sid)
                await self.sio.enter_room(sid, GREETED)
        await self.sio.emit("auth", auth if auth is not None else {}, to=sid, **self.here)

    async def greet_from_store(self, sid):
        """Cluster mode: the greeting, with the count read from Redis; whether
        it was sent. While Redis is out of reach the greeting waits
        (GREETING_DEADLINE_S at most, then the socket is disconnected:
        `io server disconnect`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GREETING_DEADLINE_S
        while self.sio.manager.is_connected(sid, "/"):
            async with self.push_lock:
                try:
                    count = int(await asyncio.wait_for(self.store.get(COUNT_KEY), deadline - loop.time()) or 0)
                except (RedisError, OSError, asyncio.TimeoutError) as why:
                    failure = why
                else:
                    if not self.sio.manager.is_connected(sid, "/"):
                        return False
                    await self.sio.emit("get count", count, to=sid, **self.here)
                    await self.sio.enter_room(sid, GREETED)
                    return True
            if loop.time() >= deadline:
                log(f"sid={sid}: the count is out of reach ({failure!r}); disconnecting")
                await self.sio.disconnect(sid)
                return False
            await asyncio.sleep(GREETING_RETRY_S)
        return False

    async def connect_custom(self, sid, environ, auth=None):
        await self.sio.emit("auth", auth if auth is not None else {}, to=sid, namespace="/custom", **self.here)

    async def disconnect(self, sid, reason=None):
        self.joined.pop(sid, None)
        log(f"disconnect sid={sid} reason={json.dumps(str(reason))}")

    # A handler's return value is the ack; it is dropped if none was asked for.

    async def increase_count(self, sid, *_ignored):
        async with self.push_lock:
            if self.store is not None:
                try:
                    count = await self.store.incr(COUNT_KEY)
                except (RedisError, OSError) as why:
                    return error(f"the count is out of reach: {why}")
                await self.sio.emit("get count", count, room=GREETED)
                return count
            self.count += 1
            await self.sio.emit("get count", self.count, room=GREETED)
            return self.count

    async def chat_message(self, sid, *args):
        return await self._chat(sid, "chat message", args, include_sender=True)

    async def chat_broadcast(self, sid, *args):
        return await self._chat(sid, "chat broadcast", args, include_sender=False)

    async def _chat(self, sid, event, args, include_sender):
        text = args[0] if args else None
        if not isinstance(text, str):
            return error(f"{event} takes one string argument")
        skip_sid = None if include_sender else sid
        if self.store is not None:
            await self.sio.emit(event, text, room=GREETED, skip_sid=skip_sid)
        else:
            await self.sio.emit(event, text, skip_sid=skip_sid)
        return ok()

    async def join(self, sid, *args):
        try:
            room = room_name(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        async with self.rooms_lock:
            self.joined[sid].add(room)
            if self.store is not None:
                await self.sio.enter_room(sid, ROOM_PREFIX + room)
        return ok()

    async def leave(self, sid, *args):
        try:
            room = room_name(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        async with self.rooms_lock:
            self.joined[sid].discard(room)
            if self.store is not None:
                await self.sio.leave_room(sid, ROOM_PREFIX + room)
        return ok()

    async def room_message(self, sid, *args):
        try:
            room, msg = room_post(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        if room not in self.joined.get(sid, ()):
            return error(f"not a member of room {json.dumps(room)}")
        if self.store is not None:
            # The room's members on every node, through the manager.
            await self.sio.emit("room message", {"room": room, "msg": msg}, room=ROOM_PREFIX + room)
            return ok()
        async with self.rooms_lock:
            members = [member for member, rooms in self.joined.items() if room in rooms]
            for member in members:
                await self.sio.emit("room message", {"room": room, "msg": msg}, to=member)
        return ok()

    async def kick(self, sid, *args):
        target = args[0] if args else None
        if not isinstance(target, str):
            return error("expected a socket id (string)")
        if target == sid:
            # The ack (the return value) must reach the socket before its
            # DISCONNECT, or its client drops it: the task runs once this
            # handler has returned and the ack is queued.
            self.sio.spawn(self.sio.disconnect, sid)
        else:
            # Any string: a sid no node has disconnects nobody.
            await self.sio.disconnect(target)
        return ok()

    async def room_poll(self, sid, *args):
        """Puts the question now, in order with the sender's other events, and
        returns the wait for the answers (PeerServer's deferred_ack_events),
        so that the sender's own answer can be read meanwhile."""
        try:
            room, question = room_poll(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        if room not in self.joined.get(sid, ()):
            return error(f"not a member of room {json.dumps(room)}")
        if self.store is not None:
            # This node's members only: python-socketio's pub/sub manager
            # has no broadcast with acks across nodes (a room emit's callback
            # is called once, with the first answer), so in a cluster the
            # members on other nodes are missed, a known divergence that
            # siosim's cluster profile reports.
            members = [member for member, _eio_sid in self.sio.manager.get_participants("/", ROOM_PREFIX + room)]
        else:
            members = [member for member, rooms in self.joined.items() if room in rooms]
        asked = [await self._ask(member, question) for member in members]
        return self._answers(asked)

    async def _ask(self, sid, question):
        """Emits `room poll` to one socket of this node; a future of the first
        argument of its ack (None for none). sio.call()'s own way, which it
        refuses to take with async_handlers=False."""
        answered = asyncio.get_running_loop().create_future()

        def on_ack(*args):
            if not answered.done():
                answered.set_result(args[0] if args else None)

        # A tuple, so that a null question is sent as one argument (None
        # alone would be sent as no argument at all).
        await self.sio.emit("room poll", (question,), to=sid, callback=on_ack, **self.here)
        return answered

    @staticmethod
    async def _answers(asked):
        """{answers}: every answer that came within ROOM_POLL_TIMEOUT_S."""
        results = await asyncio.gather(
            *(asyncio.wait_for(answer, ROOM_POLL_TIMEOUT_S) for answer in asked), return_exceptions=True
        )
        # A member that did not answer in time (TimeoutError) is left out.
        return {"answers": [answer for answer in results if not isinstance(answer, BaseException)]}

    # Echo contract (the official protocol test server).

    async def message(self, sid, *args):
        # A tuple is spread into separate arguments; () sends none.
        await self.sio.emit("message-back", tuple(args), to=sid, **self.here)

    async def message_with_ack(self, sid, *args):
        return tuple(args)

    # Things, over HTTP.

    async def list_things(self, request):
        return web.json_response(list(self.things.values()))

    async def create_thing(self, request):
        if request.content_type != "application/json" and not (
            request.content_type.startswith("application/") and request.content_type.endswith("+json")
        ):
            return web.json_response(error("Expected request with `Content-Type: application/json`"), status=400)
        if request.content_length is not None and request.content_length > MAX_THING_BODY_BYTES:
            return web.json_response(error(f"body larger than {MAX_THING_BODY_BYTES} bytes"), status=413)
        body = await read_at_most(request, MAX_THING_BODY_BYTES)
        if body is None:
            return web.json_response(error(f"body larger than {MAX_THING_BODY_BYTES} bytes"), status=413)
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as why:
            return web.json_response(error(f"Failed to parse the request body as JSON: {why}"), status=400)
        try:
            thing = parse_thing(parsed)
        except ValueError as why:
            return web.json_response(error(str(why)), status=400)
        async with self.push_lock:
            if thing["name"] in self.things:
                return web.json_response(error(f"thing {json.dumps(thing['name'])} already exists"), status=409)
            self.things[thing["name"]] = thing
            await self.sio.emit("thing:create", thing, **self.pushes)
        return web.json_response(thing, status=201)

    async def destroy_thing(self, request):
        # The raw path, decoded once: aiohttp's own match_info would not keep
        # an encoded '/' inside the name.
        raw = request.raw_path.split("?", 1)[0][len("/api/things/"):]
        if not raw or "/" in raw:
            raise web.HTTPNotFound()
        try:
            name = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return web.json_response(error("name is not valid percent-encoded UTF-8"), status=400)
        async with self.push_lock:
            if self.things.pop(name, None) is None:
                return web.json_response(error(f"no thing named {json.dumps(name)}"), status=404)
            await self.sio.emit("thing:destroy", name, **self.pushes)
        return web.Response(status=204)


async def read_at_most(request, limit):
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


# --- /ws: plain WebSocket ----------------------------------------------------


async def plain_ws(request):
    # aiohttp refuses a message whose size reaches max_msg_size; the contract
    # refuses only those over 64 KiB.
    ws = web.WebSocketResponse(max_msg_size=MAX_PLAIN_WS_MESSAGE_BYTES + 1)
    await ws.prepare(request)
    request.app["plain_ws"].add(ws)
    try:
        await ws.send_str(GREETING)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(ECHO_PREFIX + msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
    finally:
        request.app["plain_ws"].discard(ws)
    return ws


async def close_plain_ws(app):
    for ws in list(app["plain_ws"]):
        await ws.close()


# --- main ------------------------------------------------------------------


def build_app(config):
    cluster = {}
    store = None
    if config.redis is not None:
        # The manager's connections are named, so that the node can see in
        # Redis when its subscription is in place.
        client_name = f"siosim-python-peer-{os.getpid()}"
        cluster["client_manager"] = socketio.AsyncRedisManager(
            config.redis, redis_options={"client_name": client_name}
        )
        store = aioredis.Redis.from_url(config.redis, socket_timeout=5, socket_connect_timeout=5)
    sio = PeerServer(
        connect_timeout_s=config.connect_timeout_ms / 1000,
        deferred_ack_events=("room poll",),
        async_mode="aiohttp",
        ping_interval=config.ping_interval_ms / 1000,
        ping_timeout=config.ping_timeout_ms / 1000,
        max_http_buffer_size=config.max_payload_bytes,
        # One client's events are handled in the order sent, as the contract asks.
        async_handlers=False,
        # Sends CONNECT before the connect handler runs, so `get count` and
        # `auth` follow it instead of preceding it.
        always_connect=True,
        cors_allowed_origins=[],
        **cluster,
    )
    seed = SeedApp(sio, store)
    seed.register()

    # aiohttp's own body limit must not undercut Engine.IO's.
    app = web.Application(client_max_size=max(config.max_payload_bytes, MAX_THING_BODY_BYTES) + 1)
    app["plain_ws"] = set()
    app.on_shutdown.append(close_plain_ws)
    if store is not None:
        app.on_startup.append(lambda _app: join_cluster(sio, store, client_name))
        app.on_cleanup.append(lambda _app: store.aclose())
    sio.attach(app, socketio_path=config.path)

    page = (
        PAGE_TEMPLATE.read_text(encoding="utf-8").replace("{{SOCKETIO_PATH}}", config.path)
    )

    async def index(_request):
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def client_script(_request):
        if not CLIENT_BUNDLE.is_file():
            raise web.HTTPNotFound(text=f"{CLIENT_BUNDLE} is missing")
        return web.Response(
            body=CLIENT_BUNDLE.read_bytes(), content_type="text/javascript", charset="utf-8"
        )

    app.router.add_get("/", index)
    app.router.add_get(CLIENT_SCRIPT_PATH, client_script)
    app.router.add_get("/api/things", seed.list_things)
    app.router.add_post("/api/things", seed.create_thing)
    app.router.add_delete("/api/things/{name:.+}", seed.destroy_thing)
    app.router.add_get("/ws", plain_ws)
    return app


async def join_cluster(sio, store, client_name):
    """Starts the manager's listener now (python-socketio would on the first
    connection) and waits until Redis shows its subscription: the node then
    hears every node's emits from its first socket on. aiohttp listens only
    once this returns."""
    sio.manager_initialized = True
    sio.manager.initialize()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + JOIN_DEADLINE_S
    last_error = None
    while loop.time() < deadline:
        try:
            clients = await store.client_list(_type="pubsub")
            if any(c.get("name") == client_name and int(c.get("sub", 0)) > 0 for c in clients):
                return
        except (RedisError, OSError) as why:
            last_error = why
        await asyncio.sleep(0.05)
    raise RuntimeError(f"not subscribed to Redis within {JOIN_DEADLINE_S} s (last error: {last_error})")


def main(argv):
    config = parse_config(argv)
    if not CLIENT_BUNDLE.is_file():
        log(f"warning: {CLIENT_BUNDLE} is missing; the page will have no client")
    app = build_app(config)
    if config.redis is not None:
        log(f"cluster node on {config.redis}")
    log(f"python-socketio peer listening on http://{config.host}:{config.port} (path {config.path})")
    web.run_app(app, host=config.host, port=config.port, print=None, shutdown_timeout=2.0, access_log=None)


if __name__ == "__main__":
    main(sys.argv[1:])
