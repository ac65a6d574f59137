"""REST-JSON (AWS Backup): operations routed by HTTP method and URI template.

Each operation of a service speaking ``rest-json`` has ``http.method`` and
``http.requestUri`` in botocore's model, e.g. ``PUT /backup-vaults/{backupVaultName}``.
The routing table compiles every template to a pattern (``{label}`` one path segment,
``{label+}`` the rest of the path; a literal ``?a=b`` in the template must be present in
the query), matched against the raw path; more literal characters win a tie.

Input members come from their ``location``: ``uri`` (percent-decoded path labels),
``querystring``, ``header``, else the JSON body (or the ``payload`` member). Query-string
timestamps are ISO 8601, body timestamps epoch seconds, all handed on as epoch seconds.
Output members with ``location: header`` become response headers, the rest the JSON
body. Errors are ``{"message": ...}`` with ``x-amzn-errortype: <Code>`` and the status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from dynastore.errors import AwsError, SerializationException
from dynastore.server.models import ErrorNames, epoch, iso8601, parse_timestamp
from dynastore.server.service import (
    REST_JSON,
    Handler,
    HttpRequest,
    RequestContext,
    Response,
    Service,
    internal_error,
    respond,
)

CONTENT_TYPE = b"application/json"
_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's method and URI template, compiled."""

    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    literal_query: tuple[tuple[str, str], ...]
    weight: int
    service: Service
    operation: str
    handler: Handler


def compile_template(template: str) -> tuple[re.Pattern[str], tuple[str, ...], int]:
    """(pattern, label names, literal length) of a ``requestUri`` path template."""
    labels: list[str] = []
    out: list[str] = []
    position = 0
    literal = 0
    for match in _LABEL.finditer(template):
        text = template[position : match.start()]
        out.append(re.escape(text))
        literal += len(text)
        labels.append(match.group(1))
        out.append("(.+)" if match.group(2) else "([^/]+)")
        position = match.end()
    tail = template[position:]
    literal += len(tail)
    out.append(re.escape(tail.rstrip("/")) + "/?" if tail.endswith("/") else re.escape(tail))
    return re.compile("".join(out)), tuple(labels), literal


def routing_table(services: list[Service]) -> list[Route]:
    """Every REST-JSON operation of `services`, most specific template first."""
    routes: list[Route] = []
    for service in services:
        if REST_JSON not in service.protocols:
            continue
        for name, handler in service.operations.items():
            http = service.model.operation_model(name).http
            path, _, query = str(http.get("requestUri", "/")).partition("?")
            pattern, labels, weight = compile_template(path)
            literal = tuple((key, value) for key, value in parse_qsl(query, keep_blank_values=True))
            routes.append(
                Route(
                    str(http.get("method", "POST")),
                    pattern,
                    labels,
                    literal,
                    weight + len(literal),
                    service,
                    name,
                    handler,
                )
            )
    routes.sort(key=lambda route: -route.weight)
    return routes


def _scalar(shape: Any, text: str) -> Any:
    kind = shape.type_name
    if kind == "boolean":
        return text.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise SerializationException(f"Invalid integer value '{text}'") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise SerializationException(f"Invalid number value '{text}'") from None
    if kind == "timestamp":
        return parse_timestamp(text)
    return text


def _header_value(value: Any, shape: Any) -> str:
    if shape.type_name == "timestamp":
        return iso8601(value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


class RestJsonFrontend:
    """Answers REST-JSON requests by matching the routing table."""

    def __init__(self, services: list[Service], authenticator: Any) -> None:
        self._routes = routing_table(services)
        self._errors = {id(r.service): ErrorNames(r.service.model) for r in self._routes}
        self._auth = authenticator

    def _match(self, request: HttpRequest) -> tuple[Route, tuple[str, ...]] | None:
        if not self._routes:
            return None
        query: Mapping[str, str] | None = None
        for route in self._routes:
            if route.method != request.method:
                continue
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if route.literal_query:
                query = query or dict(parse_qsl(request.query, keep_blank_values=True))
                if any(query.get(k) != v for k, v in route.literal_query):
                    continue
            return route, match.groups()
        return None

    def accepts(self, request: HttpRequest) -> bool:
        return "x-amz-target" not in request.headers and self._match(request) is not None

    def answer(self, request: HttpRequest, request_id: str) -> Response:
        found = self._match(request)
        assert found is not None
        route, values = found
        service = route.service
        try:
            caller = self._auth.authenticate(
                request.method, request.path, request.query, request.headers, request.body
            )
            operation = service.model.operation_model(route.operation)
            data = self._decode(operation.input_shape, route, values, request)
            service.validate(route.operation, data)
            ctx = RequestContext(request_id, caller.account_id, caller.region, caller.access_key)
            result = route.handler(ctx, data)
            if not isinstance(result, dict):
                raise TypeError(f"{route.operation}: a REST handler must return a dict")
            return self._encode(operation, result, request_id)
        except AwsError as error:
            return self.render(error, request_id, service)
        except Exception:
            return self.render(internal_error(request_id), request_id, service)

    @staticmethod
    def _decode(
        shape: Any, route: Route, values: tuple[str, ...], request: HttpRequest
    ) -> dict[str, Any]:
        if shape is None:
            return {}
        labels = {name: unquote(value) for name, value in zip(route.labels, values, strict=True)}
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        payload_member = shape.serialization.get("payload")
        try:
            body = orjson.loads(request.content) if request.content else {}
        except orjson.JSONDecodeError:
            raise SerializationException(None) from None
        data: dict[str, Any] = {}
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            wire = member_shape.serialization.get("name", member)
            if location == "uri":
                if wire in labels:
                    data[member] = _scalar(member_shape, labels[wire])
            elif location == "querystring":
                if wire in query:
                    texts = query[wire]
                    data[member] = (
                        [_scalar(member_shape.member, t) for t in texts]
                        if member_shape.type_name == "list"
                        else _scalar(member_shape, texts[0])
                    )
            elif location == "header":
                text = request.headers.get(str(wire).lower())
                if text is not None:
                    data[member] = _scalar(member_shape, text)
            elif member == payload_member:
                data[member] = body
            elif isinstance(body, dict) and member in body:
                data[member] = body[member]
        return data

    @staticmethod
    def _encode(operation: Any, result: dict[str, Any], request_id: str) -> Response:
        shape = operation.output_shape
        extra: list[tuple[bytes, bytes]] = []
        body: dict[str, Any] = {}
        status = int(operation.http.get("responseCode", 200))
        if shape is not None:
            for member, member_shape in shape.members.items():
                value = result.get(member)
                if value is None:
                    continue
                location = member_shape.serialization.get("location")
                if location == "header":
                    name = str(member_shape.serialization.get("name", member))
                    extra.append((name.encode(), _header_value(value, member_shape).encode()))
                elif location == "statusCode":
                    status = int(value)
                elif member_shape.type_name == "timestamp":
                    body[member] = epoch(value)
                else:
                    body[member] = value
        return respond(status, orjson.dumps(body), request_id, CONTENT_TYPE, extra)

    def render(self, error: AwsError, request_id: str, service: Service) -> Response:
        code = self._errors[id(service)].shape_name(error)
        body = {"message": error.message or "", **error.extras}
        return respond(
            error.status,
            orjson.dumps(body),
            request_id,
            CONTENT_TYPE,
            [(b"x-amzn-errortype", code.encode())],
        )
