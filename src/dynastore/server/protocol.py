"""Routing by protocol, and the AWS JSON 1.0/1.1 protocol.

`Dispatcher.handle` takes a parsed HTTP request and returns (status, headers, body). It
asks each protocol front end in turn whether the request is its own:

1. Smithy RPC v2 CBOR (server/cbor.py): ``/service/...`` with ``smithy-protocol``;
2. Query (server/query.py): form posts, or a GET with ``Action=``;
3. REST-JSON (server/rest.py): a method and path in a service's routing table;
4. AWS JSON (here): everything else, routed by the ``X-Amz-Target`` prefix.

A front end never raises: it renders every error in its protocol's shape. The JSON
front end applies DynamoDB's order of checks: content type, JSON, target,
authentication, request validation, then the operation itself.

Services register as `Service` objects (server/service.py, re-exported here).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from dynastore.errors import (
    AwsError,
    RequestEntityTooLarge,
    SerializationException,
    UnknownOperationException,
)
from dynastore.server.cbor import CborFrontend
from dynastore.server.models import ErrorNames, fault
from dynastore.server.query import QueryFrontend
from dynastore.server.rest import RestJsonFrontend
from dynastore.server.service import (
    JSON,
    Handler,
    Headers,
    HttpRequest,
    RequestContext,
    Response,
    Service,
    internal_error,
    new_request_id,
    respond,
)

__all__ = [
    "JSON_10",
    "Dispatcher",
    "Frontend",
    "Handler",
    "Headers",
    "HttpRequest",
    "RequestContext",
    "Response",
    "Service",
    "error_response",
    "new_request_id",
]

JSON_10 = b"application/x-amz-json-1.0"
JSON_TYPES = (b"application/x-amz-json-1.0", b"application/json", b"application/x-amz-json-1.1")


class Authenticator:
    """Protocol-neutral interface of server.sigv4 used here (see SigV4Verifier)."""

    def authenticate(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class Frontend(Protocol):
    """One wire protocol: claims its requests and answers them, errors included."""

    def accepts(self, request: HttpRequest) -> bool: ...

    def answer(self, request: HttpRequest, request_id: str) -> Response: ...


def _response(status: int, body: bytes, request_id: str, content_type: bytes = JSON_10) -> Response:
    return respond(status, body, request_id, content_type)


def error_response(error: AwsError, request_id: str) -> Response:
    """Render an AwsError in the JSON protocol's shape."""
    return _response(error.status, orjson.dumps(error.body()), request_id)


class JsonFrontend:
    """AWS JSON 1.0 / 1.1: ``X-Amz-Target: <prefix>.<Operation>`` and a JSON body."""

    def __init__(self, services: list[Service], authenticator: Any) -> None:
        self._services = {s.target_prefix: s for s in services if JSON in s.protocols}
        self._errors = {
            s.target_prefix: ErrorNames(s.model)
            for s in self._services.values()
            if s.model is not None and "awsQueryCompatible" in s.model.metadata
        }
        self._auth = authenticator

    def accepts(self, request: HttpRequest) -> bool:
        return True

    def answer(self, request: HttpRequest, request_id: str) -> Response:
        service: Service | None = None
        try:
            content_type = request.headers.get("content-type", "").split(";", 1)[0]
            content_type = content_type.strip()
            if request.method != "POST" or (
                request.content and content_type.encode() not in JSON_TYPES
            ):
                return _response(404, b"<UnknownOperationException/>\n", request_id, b"text/xml")
            try:
                data = orjson.loads(request.content) if request.content else None
            except orjson.JSONDecodeError:
                raise SerializationException(None) from None
            service, handler, operation = self._route(request.headers.get("x-amz-target", ""))
            caller = self._auth.authenticate(
                request.method, request.path, request.query, request.headers, request.body
            )
            if not isinstance(data, dict):
                raise SerializationException(None)
            service.validate(operation, data)
            ctx = RequestContext(request_id, caller.account_id, caller.region, caller.access_key)
            result = handler(ctx, data)
            payload = result if isinstance(result, bytes) else orjson.dumps(result)
            return _response(200, payload, request_id, service.json_content_type)
        except AwsError as error:
            return self.render(error, request_id, service)
        except Exception:
            return self.render(internal_error(request_id), request_id, service)

    def render(self, error: AwsError, request_id: str, service: Service | None) -> Response:
        if service is None:
            return error_response(error, request_id)
        names = self._errors.get(service.target_prefix)
        if names is None:
            return _response(
                error.status, orjson.dumps(error.body()), request_id, service.json_content_type
            )
        # A service born on the Query protocol: the shape name, and the code in a header.
        body = error.body()
        body["__type"] = names.shape_name(error)
        code, _ = names.query_code(error)
        return respond(
            error.status,
            orjson.dumps(body),
            request_id,
            service.json_content_type,
            [(b"x-amzn-query-error", f"{code};{fault(error)}".encode())],
        )

    def _route(self, target: str) -> tuple[Service, Handler, str]:
        prefix, _, operation = target.partition(".")
        service = self._services.get(prefix)
        handler = service.operations.get(operation) if service else None
        if service is None or handler is None:
            raise UnknownOperationException(None)
        return service, handler, operation


def decode_content(encoding: str, body: bytes, limit: int) -> bytes:
    """The body under its Content-Encoding: gzip is undone (up to `limit` bytes)."""
    codings = [c.strip().lower() for c in encoding.split(",")]
    if "gzip" not in codings:
        return body  # identity, or aws-chunked (its framing is SigV4's concern)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        content = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise SerializationException("Invalid gzip content") from None
    if len(content) > limit:
        raise RequestEntityTooLarge()
    return content


class Dispatcher:
    """Routes requests to services' operations by protocol; one per server process."""

    def __init__(
        self,
        services: list[Service],
        authenticator: Any,
        default_region: str,
        frontends: list[Frontend] | None = None,
        max_content: int = 16 * 1024 * 1024 + 64 * 1024,
    ) -> None:
        self._max = max_content  # bytes a compressed body may expand to
        self._json = JsonFrontend(services, authenticator)
        # `frontends` come first: unsigned links such as SNS's SubscribeURL.
        self._frontends: list[Frontend] = [
            *(frontends or []),
            CborFrontend(services, authenticator),
            QueryFrontend(services, authenticator),
            RestJsonFrontend(services, authenticator),
            self._json,
        ]
        self._health = f"healthy: dynamodb.{default_region}.amazonaws.com ".encode()

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        """Answer one HTTP request; never raises."""
        request_id = new_request_id()
        try:
            if method == "GET" and path == "/" and "Action=" not in query:
                return _response(200, self._health, request_id, b"text/plain")
            encoding = headers.get("content-encoding")
            content = body if encoding is None else decode_content(encoding, body, self._max)
            request = HttpRequest(method, path, query, headers, body, content)
            # The AWS JSON protocol's marks (no other front end's request carries them):
            # the common request skips the others' checks.
            if (
                method == "POST"
                and "x-amz-target" in headers
                and headers.get("content-type", "").startswith("application/x-amz-json-")
            ):
                return self._json.answer(request, request_id)
            for frontend in self._frontends:
                if frontend.accepts(request):
                    return frontend.answer(request, request_id)
            raise UnknownOperationException(None)  # pragma: no cover - JSON accepts all
        except AwsError as error:
            return error_response(error, request_id)
        except Exception:
            return error_response(internal_error(request_id), request_id)
