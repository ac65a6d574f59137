"""Smithy RPC v2 CBOR: ``POST /service/<Service>/operation/<Op>`` (CloudWatch in botocore).

Requests carry ``smithy-protocol: rpc-v2-cbor`` and a CBOR map body (empty for no
input); ``<Service>`` is the service's `Service.target_prefix` (botocore's
``targetPrefix``, e.g. ``GraniteServiceVersion20100801``). Bodies are converted to and
from the JSON form (see `server.service`) by walking botocore's shapes: CBOR byte
strings are blobs, and timestamps travel as tag 1 (epoch seconds) — botocore accepts no
other tag, so nothing else may be tagged in an answer.

Answers carry ``smithy-protocol: rpc-v2-cbor`` and ``application/cbor``. An error is a
map with ``__type`` (the error's shape name) and ``message``, with the error's HTTP
status; an unknown service or operation is a 404 ``UnknownOperationException``. For a
service that was born on the Query protocol (``awsQueryCompatible``, e.g. CloudWatch)
the ``x-amzn-query-error: <Code>;<Sender|Receiver>`` header gives SDKs the Query code.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

import cbor2

from dynastore.errors import (
    AwsError,
    SerializationException,
    UnknownOperationException,
)
from dynastore.server.models import ErrorNames, epoch, fault
from dynastore.server.service import (
    CBOR,
    HttpRequest,
    RequestContext,
    Response,
    Service,
    internal_error,
    respond,
)

CONTENT_TYPE = b"application/cbor"
_PROTOCOL_HEADER = (b"smithy-protocol", b"rpc-v2-cbor")


def to_json_form(shape: Any, value: Any) -> Any:
    """A decoded CBOR value as the handlers see it (blobs base64, timestamps epoch)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise SerializationException(f"Expected a map for {shape.name}")
        members = shape.members
        return {
            name: to_json_form(members[name], item)
            for name, item in value.items()
            if name in members and item is not None
        }
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationException(f"Expected a list for {shape.name}")
        return [to_json_form(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationException(f"Expected a map for {shape.name}")
        return {key: to_json_form(shape.value, item) for key, item in value.items()}
    if kind == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if kind == "timestamp" and isinstance(value, datetime.datetime):
        return epoch(value)
    return value


def from_json_form(shape: Any, value: Any) -> Any:
    """A handler's result value as CBOR wants it (blobs bytes, timestamps tag 1)."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {
            name: from_json_form(members[name], item)
            for name, item in value.items()
            if item is not None and name in members
        }
    if kind == "list":
        return [from_json_form(shape.member, item) for item in value]
    if kind == "map":
        return {key: from_json_form(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind == "timestamp":
        return cbor2.CBORTag(1, epoch(value))
    if kind in ("float", "double") and isinstance(value, int):
        return float(value)
    return value


def parse_path(path: str) -> tuple[str, str] | None:
    """(service name, operation) of ``/service/<S>/operation/<Op>``, or None."""
    parts = path.split("/")
    if len(parts) != 5 or parts[0] or parts[1] != "service" or parts[3] != "operation":
        return None
    return parts[2], parts[4]


class CborFrontend:
    """Answers Smithy RPC v2 CBOR requests for the services that speak it."""

    def __init__(self, services: list[Service], authenticator: Any) -> None:
        self._services = {s.target_prefix: s for s in services if CBOR in s.protocols}
        self._errors = {name: ErrorNames(s.model) for name, s in self._services.items()}
        self._auth = authenticator

    def accepts(self, request: HttpRequest) -> bool:
        return request.path.startswith("/service/") and (
            request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor"
        )

    def answer(self, request: HttpRequest, request_id: str) -> Response:
        service: Service | None = None
        try:
            route = parse_path(request.path)
            service = self._services.get(route[0]) if route else None
            handler = service.operations.get(route[1]) if service and route else None
            if request.method != "POST" or service is None or handler is None or not route:
                raise _UnknownOperation()
            operation_name = route[1]
            caller = self._auth.authenticate(
                request.method, request.path, request.query, request.headers, request.body
            )
            operation = service.model.operation_model(operation_name)
            try:
                raw = cbor2.loads(request.content) if request.content else {}
            except (cbor2.CBORDecodeError, ValueError, TypeError):
                raise SerializationException("Malformed CBOR request body") from None
            data: dict[str, Any] = {}
            if operation.input_shape is not None:
                data = to_json_form(operation.input_shape, raw)
            service.validate(operation_name, data)
            ctx = RequestContext(request_id, caller.account_id, caller.region, caller.access_key)
            result = handler(ctx, data)
            if not isinstance(result, dict):
                raise TypeError(f"{operation_name}: a CBOR handler must return a dict")
            out = {}
            if operation.output_shape is not None:
                out = from_json_form(operation.output_shape, result)
            return respond(200, cbor2.dumps(out), request_id, CONTENT_TYPE, [_PROTOCOL_HEADER])
        except AwsError as error:
            return self.render(error, request_id, service)
        except Exception:
            return self.render(internal_error(request_id), request_id, service)

    def render(self, error: AwsError, request_id: str, service: Service | None) -> Response:
        """An error as a CBOR map with ``__type``."""
        names = self._errors.get(service.target_prefix) if service else None
        body: dict[str, Any] = dict(error.extras)
        body["__type"] = names.shape_name(error) if names else error.type_name
        if error.message is not None:
            body["message"] = error.message
        extra = [_PROTOCOL_HEADER]
        if names is not None and names.query_compatible:
            code, _ = names.query_code(error)
            extra.append((b"x-amzn-query-error", f"{code};{fault(error)}".encode()))
        return respond(error.status, cbor2.dumps(body), request_id, CONTENT_TYPE, extra)


class _UnknownOperation(UnknownOperationException):
    """The RPC v2 CBOR answer to an unknown service or operation: a 404."""

    status = 404

    @property
    def type_name(self) -> str:
        return "UnknownOperationException"
