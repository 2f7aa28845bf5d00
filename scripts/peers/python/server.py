#!/usr/bin/env python3
"""The seed app and the echo contract on python-socketio (AsyncServer) and
aiohttp: a third-party peer for siosim's conformance checks. The contract is
README.md, "The seed-app contract"; the echo rows are the official protocol
test server's.

    scripts/peers/python/.venv/bin/python scripts/peers/python/server.py \\
        [--port 3000] [--host 127.0.0.1] [--path /socket.io] \\
        [--ping-interval-ms 25000] [--ping-timeout-ms 20000] \\
        [--connect-timeout-ms 45000] [--max-payload-bytes 1000000]

Defaults are the reference server's (server/src/config.rs). Connects and
disconnects are logged to stderr with the socket id (and the reason).
"""

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import socketio
from aiohttp import WSMsgType, web

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
    config = parser.parse_args(argv)
    # The path lands in the page's HTML and script: only plain path characters.
    if not SAFE_PATH.match(config.path) or config.path.rstrip("/") == "":
        parser.error(f"--path must start with '/' and use only [A-Za-z0-9._~-/], got {config.path!r}")
    if not 0 <= config.port <= 65535:
        parser.error(f"--port out of range: {config.port}")
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


class ConnectTimeoutServer(socketio.AsyncServer):
    """python-socketio has no `connectTimeout`: the official server closes an
    Engine.IO session that joins no namespace in time, and so does this one.
    It hooks the two private Engine.IO handlers of the pinned version."""

    def __init__(self, connect_timeout_s, **kwargs):
        super().__init__(**kwargs)
        self._connect_timeout_s = connect_timeout_s
        self._joined = set()  # eio sids that have joined a namespace
        self._timers = {}  # eio sid -> task closing it if it joins none

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

    def __init__(self, sio):
        self.sio = sio
        self.count = 0
        # Rooms joined through `join`, kept apart from python-socketio's own
        # rooms (every socket is in a room named by its sid), so membership is
        # exactly the contract's. sid -> set of room names, in connect order.
        self.joined = {}
        self.things = {}  # name -> thing, in insertion order
        # Held across "change state, tell everyone", so every socket sees
        # the changes in the order they were made.
        self.push_lock = asyncio.Lock()

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
        async with self.push_lock:
            await self.sio.emit("get count", self.count, to=sid)
            await self.sio.enter_room(sid, GREETED)
        await self.sio.emit("auth", auth if auth is not None else {}, to=sid)

    async def connect_custom(self, sid, environ, auth=None):
        await self.sio.emit("auth", auth if auth is not None else {}, to=sid, namespace="/custom")

    async def disconnect(self, sid, reason=None):
        self.joined.pop(sid, None)
        log(f"disconnect sid={sid} reason={json.dumps(str(reason))}")

    # A handler's return value is the ack; it is dropped if none was asked for.

    async def increase_count(self, sid, *_ignored):
        async with self.push_lock:
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
        await self.sio.emit(event, text, skip_sid=None if include_sender else sid)
        return ok()

    async def join(self, sid, *args):
        try:
            room = room_name(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        self.joined[sid].add(room)
        return ok()

    async def leave(self, sid, *args):
        try:
            room = room_name(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        self.joined[sid].discard(room)
        return ok()

    async def room_message(self, sid, *args):
        try:
            room, msg = room_post(args[0] if args else None)
        except ValueError as why:
            return error(str(why))
        if room not in self.joined.get(sid, ()):
            return error(f"not a member of room {json.dumps(room)}")
        members = [member for member, rooms in self.joined.items() if room in rooms]
        for member in members:
            await self.sio.emit("room message", {"room": room, "msg": msg}, to=member)
        return ok()

    # Echo contract (the official protocol test server).

    async def message(self, sid, *args):
        # A tuple is spread into separate arguments; () sends none.
        await self.sio.emit("message-back", tuple(args), to=sid)

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
            await self.sio.emit("thing:create", thing)
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
            await self.sio.emit("thing:destroy", name)
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
    sio = ConnectTimeoutServer(
        connect_timeout_s=config.connect_timeout_ms / 1000,
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
    )
    seed = SeedApp(sio)
    seed.register()

    # aiohttp's own body limit must not undercut Engine.IO's.
    app = web.Application(client_max_size=max(config.max_payload_bytes, MAX_THING_BODY_BYTES) + 1)
    app["plain_ws"] = set()
    app.on_shutdown.append(close_plain_ws)
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


def main(argv):
    config = parse_config(argv)
    if not CLIENT_BUNDLE.is_file():
        log(f"warning: {CLIENT_BUNDLE} is missing; the page will have no client")
    app = build_app(config)
    log(f"python-socketio peer listening on http://{config.host}:{config.port} (path {config.path})")
    web.run_app(app, host=config.host, port=config.port, print=None, shutdown_timeout=2.0, access_log=None)


if __name__ == "__main__":
    main(sys.argv[1:])
