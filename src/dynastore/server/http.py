"""The HTTP layer: a bare ASGI application served by uvicorn (httptools + uvloop).

No framework sits between the socket and the dispatcher: the hot path reads the body,
calls `Dispatcher.handle` synchronously (storage calls are short and the process has one
writer), and sends the answer. Bodies over the configured limit are refused early.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from dynastore.errors import InternalServerError, RequestEntityTooLarge
from dynastore.server.protocol import Dispatcher, error_response, new_request_id

log = logging.getLogger("dynastore.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


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
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self._commit = commit
        self._flushed: asyncio.Future[None] | None = None

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
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            # SigV4 joins repeated headers with commas.
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            await self._send(send, *error_response(RequestEntityTooLarge(), new_request_id()))
            return
        message = await receive()
        body: bytes = message.get("body", b"")
        if message.get("more_body"):
            chunks = [body]
            size = len(body)
            while message.get("more_body"):
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self._max_body:
                    await self._send(
                        send, *error_response(RequestEntityTooLarge(), new_request_id())
                    )
                    return
                chunks.append(chunk)
            body = b"".join(chunks)
        status, out_headers, payload = self._dispatcher.handle(
            scope["method"],
            _raw_path(scope),
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body,
        )
        if self._commit is not None and self._commit.pending():
            try:
                await self._group_flushed()
            except Exception:
                log.exception("group commit failed")
                status, out_headers, payload = error_response(
                    InternalServerError(), new_request_id()
                )
        await self._send(send, status, out_headers, payload)

    def _group_flushed(self) -> asyncio.Future[None]:
        """A future done when the current commit group is committed.

        The flush runs after the request tasks already scheduled in this event-loop
        turn, so the writes of concurrent requests share one commit.
        """
        if self._flushed is None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._flushed = future
            asyncio.get_running_loop().call_soon(self._flush, future)
        return self._flushed

    def _flush(self, future: asyncio.Future[None]) -> None:
        self._flushed = None
        assert self._commit is not None
        try:
            self._commit.flush()
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(None)

    @staticmethod
    async def _send(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _raw_path(scope: Scope) -> str:
    """The path as sent (still percent-encoded), which SigV4 signs."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else str(scope["path"])
