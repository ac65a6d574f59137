"""The HTTP layer: a bare ASGI application served by uvicorn (httptools + uvloop).

No framework sits between the socket and the dispatcher: the hot path reads the body,
calls `Dispatcher.handle` synchronously (storage calls are short and the process has one
writer), and sends the answer.

Limits against hostile or broken clients (tests/reliability/test_http_limits.py):
- a request head (request line and headers) over `MAX_HEAD_BYTES`, or not complete
  `HEAD_TIMEOUT` seconds after its first byte (or after the connection opened), closes
  the connection (431 / 408); uvicorn's httptools protocol has neither limit, so
  `GuardedHttpToolsProtocol` adds them (cli.py passes it to uvicorn);
- a body over the configured limit is refused with 413, from Content-Length when
  declared, and the connection is closed; a body that stalls for `BODY_IDLE_TIMEOUT`
  seconds is answered 408 RequestTimeoutException and closed (the protocol's timer);
- a body cut off by a disconnect is never dispatched: part of a request is not a request;
- large bodies (over `SMALL_BODY`) are buffered and processed within a per-process
  budget of `BUFFERED_BODIES` maximal bodies; further ones wait, unread, so memory stays
  bounded however many clients upload at once (their sockets push back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from dynastore.errors import (
    AwsError,
    InternalServerError,
    RequestEntityTooLarge,
    RequestTimeoutException,
)
from dynastore.server.protocol import Dispatcher, Response, error_response, new_request_id

log = logging.getLogger("dynastore.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = dict[str, str]

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT = 20.0
BODY_IDLE_TIMEOUT = 20.0
SMALL_BODY = 64 * 1024  # at most what uvicorn buffers per connection before pushing back
BUFFERED_BODIES = 4


class _BodyTooLarge(Exception):
    pass


class CommitGroup(Protocol):
    """What the server needs of a storage backend that groups commits."""

    def pending(self) -> bool: ...

    def flush(self) -> None: ...


class AsgiApp:
    """ASGI callable wrapping a Dispatcher; lifespan hooks start and stop the workers."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        max_body: int,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
        commit: CommitGroup | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._max_body = max_body
        # Bodies up to this size may take the protocol's direct path.
        self.direct_body_limit = min(SMALL_BODY, max_body)
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self._commit = commit
        # Called with True (committed) or False once the current commit group is flushed.
        self._waiting: list[Callable[[bool], None]] = []
        # Bytes of large bodies being received, and the requests waiting for room.
        self._buffered = 0
        self._max_buffered = BUFFERED_BODIES * max_body
        self._room: list[asyncio.Future[None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._on_startup:
                    self._on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._on_shutdown:
                    self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = header_map(scope["headers"])
        declared = headers.get("content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
        if length is not None and length > self._max_body:
            await self._refuse(send, RequestEntityTooLarge())
            return
        if length is None and "chunked" in headers.get("transfer-encoding", "").lower():
            length = self._max_body  # unannounced: budget for the worst
        reserved = length if length is not None and length > SMALL_BODY else 0
        if not reserved:
            await self._answer(scope, receive, send, headers)
            return
        # Held until answered: the body and what it parses into are alive until then.
        await self._reserve(reserved)
        try:
            await self._answer(scope, receive, send, headers)
        finally:
            self._release(reserved)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """Read the body, dispatch it, wait for its commit, answer."""
        try:
            body = await self._read_body(receive)
        except _BodyTooLarge:
            await self._refuse(send, RequestEntityTooLarge())
            return
        if body is None:
            return  # the client went away mid-request: nothing to answer, nothing done
        status, out_headers, payload = self.dispatch(
            scope["method"],
            _raw_path(scope),
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body,
        )
        if self.commit_pending():
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self.after_commit(lambda ok: None if future.done() else future.set_result(ok))
            if not await future:
                status, out_headers, payload = error_response(
                    InternalServerError(), new_request_id()
                )
        await self._send(send, status, out_headers, payload)

    def dispatch(
        self, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Response:
        """Answer one whole request (its writes may still wait for the group commit)."""
        return self._dispatcher.handle(method, path, query, headers, body)

    def commit_pending(self) -> bool:
        """True when writes wait for the group commit: answers must wait for it too."""
        return self._commit is not None and self._commit.pending()

    def after_commit(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(committed)` once the current commit group is flushed.

        The flush runs after the requests already read in this event-loop turn, so the
        writes of concurrent requests share one commit.
        """
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        self._waiting.append(callback)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body; None if the client disconnected before sending all of it."""
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return None
        body: bytes = message.get("body", b"")
        if not message.get("more_body"):
            return body
        chunks = [body]
        size = len(body)
        while message.get("more_body"):
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _reserve(self, size: int) -> None:
        """Wait until `size` more bytes of body may be buffered (one alone always may)."""
        while self._buffered and self._buffered + size > self._max_buffered:
            room: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._room.append(room)
            await room
        self._buffered += size

    def _release(self, size: int) -> None:
        self._buffered -= size
        waiting, self._room = self._room, []
        for room in waiting:  # each re-checks; the ones that do not fit wait again
            if not room.done():
                room.set_result(None)

    async def _refuse(self, send: Send, error: AwsError) -> None:
        """Answer an error and close: the rest of the request is not worth reading."""
        status, headers, payload = error_response(error, new_request_id())
        headers.append((b"connection", b"close"))
        await self._send(send, status, headers, payload)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        assert self._commit is not None
        try:
            self._commit.flush()
            committed = True
        except Exception:
            log.exception("group commit failed")
            committed = False
        for callback in waiting:
            callback(committed)

    @staticmethod
    async def _send(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def header_map(raw: list[tuple[bytes, bytes]]) -> Headers:
    """Headers by lower-case name; repeated ones joined with commas, as SigV4 signs them."""
    headers: Headers = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _raw_path(scope: Scope) -> str:
    """The path as sent (still percent-encoded), which SigV4 signs."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else str(scope["path"])


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus the limits it lacks, and a direct path.

    Limits: llhttp accepts heads of any size, and uvicorn times out only idle keep-alive
    connections, so one endless header could grow the server without bound and half a
    request could hold a connection forever. Here a head's bytes are counted as they
    arrive (before the parser buffers them), a head must be complete `HEAD_TIMEOUT`
    seconds after its first byte (or after the connection opened), and a body may not
    stall for `BODY_IDLE_TIMEOUT` seconds. The common request, whole in one read, pays
    a few attribute checks and no timer.

    Direct path: an API call is a small body answered by a synchronous dispatch, so the
    ASGI cycle (a task, an event, message dicts and two socket writes per request) is
    mostly overhead. A request with a declared body of at most `SMALL_BODY` bytes, on a
    connection with no ASGI request in flight, is collected here, dispatched in
    `on_message_complete` and answered with one write, after its commit group is flushed
    when it wrote. Everything else (large or chunked bodies, 100-continue, pipelining
    behind an ASGI request) takes uvicorn's ASGI path. Answers stay in request order:
    direct answers wait for the flush in the order they were read, and an ASGI request
    read later cannot answer before that flush, which was scheduled first.
    """

    _in_head = True
    _head_bytes = 0  # bytes received since the head began
    _head_too_large = False
    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _direct: AsgiApp | None = None  # the application, when it takes direct requests
    _direct_body: list[bytes] | None = None  # a direct request's body, while it arrives
    _waiting = 0  # direct answers of this connection waiting for their commit group
    _closing = False  # close once the waiting answers are written (server shutdown)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if isinstance(self.app, AsgiApp):
            self._direct = self.app
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timers()
        self._direct_body = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)
        super().data_received(data)
        if self._in_head:
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head(431)
        elif self._direct_body is not None or (self.cycle is not None and self.cycle.more_body):
            # A body under way: (re)start its idle clock.
            if self._body_timer is not None:
                self._body_timer.cancel()
            self._body_timer = self.loop.call_later(BODY_IDLE_TIMEOUT, self._body_timed_out)

    def on_headers_complete(self) -> None:
        # A head that arrived whole in one read was not counted above.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:
            self._head_too_large = True
            raise ValueError("request head too large")  # uvicorn: send_400_response
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._takes_direct():
            self._direct_body = []
        else:
            super().on_headers_complete()

    def _takes_direct(self) -> bool:
        """Whether the request whose head just ended goes the direct path."""
        if self._direct is None or self.expect_100_continue or self.parser.should_upgrade():
            return False
        if self.pipeline or (self.cycle is not None and not self.cycle.response_complete):
            return False  # behind an ASGI request: uvicorn keeps the order
        if self.parser.get_method() == b"HEAD":
            return False
        for name, value in self.headers:
            if name == b"content-length":
                return value.isdigit() and int(value) <= self._direct.direct_body_limit
            if name == b"transfer-encoding":
                return False
        return True  # no body

    def on_body(self, body: bytes) -> None:
        if self._direct_body is not None:
            self._direct_body.append(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        chunks = self._direct_body
        if chunks is None:
            super().on_message_complete()
        else:
            self._direct_body = None
            self._answer_direct(b"".join(chunks))
        self._in_head = True  # whatever comes next is the next request's head
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _answer_direct(self, body: bytes) -> None:
        app = self._direct
        assert app is not None
        headers = header_map(self.headers)
        url = httptools.parse_url(self.url)
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        response = app.dispatch(
            self.parser.get_method().decode("latin-1"),
            url.path.decode("latin-1"),
            (url.query or b"").decode("latin-1"),
            headers,
            body,
        )
        if not app.commit_pending():
            self._write(response, keep_alive)
            return
        self._waiting += 1

        def committed(ok: bool) -> None:
            self._waiting -= 1
            if ok:
                self._write(response, keep_alive)
            else:
                self._write(error_response(InternalServerError(), new_request_id()), keep_alive)

        app.after_commit(committed)

    def _write(self, response: Response, keep_alive: bool) -> None:
        """Send one direct answer in one write, then keep the connection or close it."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        status, headers, body = response
        head = [STATUS_LINE[status]]
        for name, value in (*self.server_state.default_headers, *headers):
            head += (name, b": ", value, b"\r\n")
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head += (b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body)
        self.transport.write(b"".join(head))
        if not keep_alive or (self._closing and not self._waiting):
            self.transport.close()
            return
        if self.flow.write_paused:
            self.flow.pause_reading()  # a client that does not read its answers waits
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def resume_writing(self) -> None:
        super().resume_writing()
        self.flow.resume_reading()

    def shutdown(self) -> None:
        if self._waiting or self._direct_body is not None:
            self._closing = True  # close after the answer under way
        else:
            super().shutdown()

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse_head(431)
        else:
            super().send_400_response(msg)

    def _stop_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._waiting or (self.cycle is not None and not self.cycle.response_complete):
            # Still answering the previous request (a pipelined head waits for it).
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)
        elif self._head_bytes:
            self._refuse_head(408)
        else:
            self.transport.close()  # never sent a byte: close quietly, as keep-alive does

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        direct = self._direct_body is not None
        if not direct and (self.cycle is None or not self.cycle.more_body):
            return
        if self.flow.read_paused:  # the application is not reading: not the client's fault
            self._body_timer = self.loop.call_later(BODY_IDLE_TIMEOUT, self._body_timed_out)
            return
        self.logger.warning("Request body timed out")
        if direct or not self.cycle.response_started:
            message = f"No request data received for {BODY_IDLE_TIMEOUT:.0f} seconds."
            status, headers, payload = error_response(
                RequestTimeoutException(message), new_request_id()
            )
            headers += [
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ]
            self.transport.write(
                STATUS_LINE[status]
                + b"".join(name + b": " + value + b"\r\n" for name, value in headers)
                + b"\r\n"
                + payload
            )
        # The application sees a disconnect and dispatches nothing.
        self._direct_body = None
        self.transport.close()

    def _refuse_head(self, status: int) -> None:
        if self.transport.is_closing():
            return
        self.logger.warning("Request head refused: %d", status)
        self.transport.write(
            STATUS_LINE[status] + b"content-length: 0\r\nconnection: close\r\n\r\n"
        )
        self.transport.close()
