"""The AWS Query protocol: ``Action=Op&Version=...`` forms in, XML out (STS, SNS, IAM, ...).

A request is a POST of ``application/x-www-form-urlencoded`` parameters, or a GET with
them in the query string. The service is the one whose signing name is the SigV4
credential scope's service (`Service.signing_name`), so authentication comes first.

Parameters are the input shape flattened: ``Name=v``; nested structures
``Outer.Inner=v``; lists ``Name.member.N`` (N from 1; ``Name=`` is the empty list;
``flattened`` lists ``Name.N``); maps ``Name.entry.N.key`` / ``Name.entry.N.value``.
They are decoded into the JSON form (see `server.service`): booleans from
``true``/``false``, numbers, ISO-8601 timestamps to epoch seconds, blobs kept as base64.
The flat names are first folded into a tree, so decoding is linear in the form's size.
Unknown parameters are ignored.

Errors are ``<ErrorResponse>`` XML (server/xml.py) with the error's HTTP status; an
unknown ``Action`` is ``InvalidAction``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from dynastore.errors import (
    AwsError,
    InvalidAction,
    MissingAction,
    ValidationException,
)
from dynastore.server import xml
from dynastore.server.models import ErrorNames, fault, parse_timestamp
from dynastore.server.service import (
    QUERY,
    HttpRequest,
    RequestContext,
    Response,
    Service,
    internal_error,
    respond,
)

FORM = "application/x-www-form-urlencoded"
XML = b"text/xml"
_VALUE = "\x00"  # the key of a node's own value in the parameter tree

Tree = dict[str, Any]


def parameter_tree(pairs: list[tuple[str, str]]) -> Tree:
    """Fold ``A.member.1.B=v`` pairs into nested dicts: {"A": {"member": {"1": {"B": ...}}}}."""
    root: Tree = {}
    for name, value in pairs:
        node = root
        for part in name.split("."):
            node = node.setdefault(part, {})
        node[_VALUE] = value
    return root


def _numbered(node: Tree) -> list[Tree]:
    """The children ``1``, ``2``, ... of a list or map node, in order."""
    found = sorted((int(key), child) for key, child in node.items() if key.isdigit())
    return [child for _, child in found]


def _invalid(path: str, text: str, kind: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{text}' at '{path}' failed to satisfy "
        f"constraint: Member must be {kind}"
    )


def _scalar(shape: Any, text: str, path: str) -> Any:
    kind = shape.type_name
    if kind in ("string", "blob"):
        return text
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise _invalid(path, text, "a boolean")
        return lowered == "true"
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise _invalid(path, text, "an integer") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise _invalid(path, text, "a number") from None
    if kind == "timestamp":
        moment = parse_timestamp(text)
        if moment is None:
            raise _invalid(path, text, "a timestamp")
        return moment
    return text


def decode(shape: Any, node: Tree, path: str = "") -> Any:
    """The JSON-form value of `node` (a parameter-tree node) for a botocore shape."""
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for member, member_shape in shape.members.items():
            wire = _wire_name(member, member_shape)
            child = node.get(wire)
            if child is not None:
                out[member] = decode(member_shape, child, f"{path}.{wire}" if path else wire)
        return out
    if kind == "list":
        member = shape.member
        items = (
            node
            if shape.serialization.get("flattened")
            else node.get(member.serialization.get("name", "member"), {})
        )
        return [decode(member, child, f"{path}.{i}") for i, child in enumerate(_numbered(items), 1)]
    if kind == "map":
        entries = node if shape.serialization.get("flattened") else node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result: dict[str, Any] = {}
        for child in _numbered(entries):
            key = child.get(key_name, {}).get(_VALUE)
            if key is not None and value_name in child:
                result[key] = decode(shape.value, child[value_name], f"{path}.{key}")
        return result
    text = node.get(_VALUE)
    return None if text is None else _scalar(shape, text, path)


def _wire_name(member: str, shape: Any) -> str:
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        name = shape.member.serialization.get("name")
        if name:
            return str(name)
    return str(shape.serialization.get("name", member))


def _prune(value: Any) -> Any:
    """Drop members whose parameter was present without a value (``Name.Sub`` only)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not None]
    return value


class QueryFrontend:
    """Answers Query-protocol requests for the services that speak it."""

    def __init__(self, services: list[Service], authenticator: Any) -> None:
        self._by_scope = {s.signing_name: s for s in services if QUERY in s.protocols}
        self._errors = {s.signing_name: ErrorNames(s.model) for s in self._by_scope.values()}
        self._auth = authenticator

    def accepts(self, request: HttpRequest) -> bool:
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            return content_type.split(";", 1)[0].strip().lower() == FORM
        return request.method == "GET" and "Action=" in request.query

    def answer(self, request: HttpRequest, request_id: str) -> Response:
        service: Service | None = None
        try:
            text = request.content.decode() if request.method == "POST" else request.query
            pairs = parse_qsl(text, keep_blank_values=True)
            caller = self._auth.authenticate(
                request.method, request.path, request.query, request.headers, request.body
            )
            service = self._by_scope.get(caller.service)
            if service is None:
                return respond(404, b"<UnknownOperationException/>\n", request_id, XML)
            return self._call(service, pairs, caller, request_id)
        except AwsError as error:
            return self.render(error, request_id, service)
        except UnicodeDecodeError:
            return self.render(ValidationException("Invalid UTF-8 in request"), request_id, service)
        except Exception:
            return self.render(internal_error(request_id), request_id, service)

    def _call(
        self, service: Service, pairs: list[tuple[str, str]], caller: Any, request_id: str
    ) -> Response:
        params = dict(pairs)
        action = params.get("Action")
        if not action:
            raise MissingAction()
        handler = service.operations.get(action)
        if handler is None or action not in service.model.operation_names:
            version = params.get("Version") or service.model.api_version
            raise InvalidAction(f"Could not find operation {action} for version {version}")
        operation = service.model.operation_model(action)
        shape = operation.input_shape
        data: dict[str, Any] = {}
        if shape is not None:
            data = _prune(decode(shape, parameter_tree(pairs)))
        service.validate(action, data)
        ctx = RequestContext(request_id, caller.account_id, caller.region, caller.access_key)
        result = handler(ctx, data)
        if not isinstance(result, dict):
            raise TypeError(f"{action}: a Query handler must return a dict")
        namespace = service.model.metadata.get("xmlNamespace", "")
        return respond(200, xml.response(operation, result, request_id, namespace), request_id, XML)

    def render(self, error: AwsError, request_id: str, service: Service | None) -> Response:
        """An error as ``<ErrorResponse>`` XML."""
        if service is None:
            names, namespace = ErrorNames(None), ""
        else:
            names = self._errors[service.signing_name]
            namespace = service.model.metadata.get("xmlNamespace", "")
        code, status = names.query_code(error)
        body = xml.error(fault(error), code, error.message, request_id, namespace)
        return respond(status, body, request_id, XML)
