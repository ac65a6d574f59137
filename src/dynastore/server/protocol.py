"""AWS JSON 1.0 protocol: target routing, body decoding, error rendering.

`Dispatcher.handle` takes a parsed HTTP request and returns (status, headers, body). It
applies DynamoDB's order of checks: content type, JSON, target, authentication, request
validation, then the operation itself. Every error becomes one AWS-shaped JSON answer here.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.errors import (
    AwsError,
    InternalServerError,
    SerializationException,
    UnknownOperationException,
)

log = logging.getLogger("dynastore.server")

JSON_10 = b"application/x-amz-json-1.0"
JSON_TYPES = (b"application/x-amz-json-1.0", b"application/json", b"application/x-amz-json-1.1")
Headers = list[tuple[bytes, bytes]]
Response = tuple[int, Headers, bytes]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is calling and where: passed to every operation."""

    request_id: str
    account: str
    region: str
    access_key: str


Handler = Callable[[RequestContext, dict[str, Any]], "dict[str, Any] | bytes"]


@dataclass(frozen=True)
class Service:
    """One JSON-protocol service: its target prefix, operations and request validator."""

    target_prefix: str
    operations: Mapping[str, Handler]
    validate: Callable[[str, dict[str, Any]], None]


class Authenticator:
    """Protocol-neutral interface of server.sigv4 used here (see SigV4Verifier)."""

    def authenticate(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def new_request_id() -> str:
    """A 52-character request id of upper-case letters and digits, like DynamoDB's."""
    return os.urandom(26).hex().upper()


def _response(status: int, body: bytes, request_id: str, content_type: bytes = JSON_10) -> Response:
    return (
        status,
        [
            (b"content-type", content_type),
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amz-crc32", str(zlib.crc32(body)).encode()),
        ],
        body,
    )


def error_response(error: AwsError, request_id: str) -> Response:
    """Render an AwsError in the JSON protocol's shape."""
    return _response(error.status, orjson.dumps(error.body()), request_id)


class Dispatcher:
    """Routes AWS JSON requests to services' operations; one per server process."""

    def __init__(self, services: list[Service], authenticator: Any, default_region: str) -> None:
        self._services = {s.target_prefix: s for s in services}
        self._auth = authenticator
        self._health = f"healthy: dynamodb.{default_region}.amazonaws.com ".encode()

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        """Answer one HTTP request; never raises."""
        request_id = new_request_id()
        try:
            return self._handle(method, path, query, headers, body, request_id)
        except AwsError as error:
            return error_response(error, request_id)
        except Exception:
            log.exception("internal error, request id %s", request_id)
            return error_response(InternalServerError(), request_id)

    def _handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> Response:
        if method == "GET" and path == "/":
            return _response(200, self._health, request_id, b"text/plain")
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().encode()
        if method != "POST" or (body and content_type not in JSON_TYPES):
            return _response(404, b"<UnknownOperationException/>\n", request_id, b"text/xml")
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            raise SerializationException(None) from None
        service, handler, operation = self._route(headers.get("x-amz-target", ""))
        caller = self._auth.authenticate(method, path, query, headers, body)
        if not isinstance(data, dict):
            raise SerializationException(None)
        service.validate(operation, data)
        ctx = RequestContext(request_id, caller.account_id, caller.region, caller.access_key)
        result = handler(ctx, data)
        payload = result if isinstance(result, bytes) else orjson.dumps(result)
        return _response(200, payload, request_id)

    def _route(self, target: str) -> tuple[Service, Handler, str]:
        prefix, _, operation = target.partition(".")
        service = self._services.get(prefix)
        handler = service.operations.get(operation) if service else None
        if service is None or handler is None:
            raise UnknownOperationException(None)
        return service, handler, operation
