"""XML answers of the Query protocol, written from botocore's output shapes.

A success is ``<OpResponse xmlns=ns><OpResult>members</OpResult><ResponseMetadata>
<RequestId>id</RequestId></ResponseMetadata></OpResponse>`` (no result element for an
operation without output). Members are elements named by the member's ``locationName``
or name; a list wraps its elements in ``<member>`` (``flattened``: the elements repeat
the list's own name); a map is ``<entry><key/><value/></entry>`` per pair. Timestamps are
ISO 8601 with milliseconds, blobs base64, booleans ``true``/``false``. ``None`` members are
left out.
"""

from __future__ import annotations

import base64
from typing import Any
from xml.sax.saxutils import escape

from dynastore.server.models import iso8601

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: Any) -> str:
    return escape(value if isinstance(value, str) else str(value))


def _scalar(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso8601(value)
    if kind == "blob":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
    return _text(value)


def _name(shape: Any, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _write(out: list[str], shape: Any, name: str, value: Any) -> None:
    """One member `name` holding `value`."""
    kind = shape.type_name
    if kind == "list":
        member = shape.member
        if shape.serialization.get("flattened"):
            element = _name(member, name)
            for item in value:
                _write(out, member, element, item)
            return
        element = _name(member, "member")
        out.append(f"<{name}>")
        for item in value:
            _write(out, member, element, item)
        out.append(f"</{name}>")
        return
    if kind == "map":
        key_name, value_name = _name(shape.key, "key"), _name(shape.value, "value")
        flat = bool(shape.serialization.get("flattened"))
        if not flat:
            out.append(f"<{name}>")
        for key, item in value.items():
            out.append(f"<{name}>" if flat else "<entry>")
            _write(out, shape.key, key_name, key)
            _write(out, shape.value, value_name, item)
            out.append(f"</{name}>" if flat else "</entry>")
        if not flat:
            out.append(f"</{name}>")
        return
    if kind == "structure":
        out.append(f"<{name}>")
        _members(out, shape, value)
        out.append(f"</{name}>")
        return
    out.append(f"<{name}>{_scalar(shape, value)}</{name}>")


def _members(out: list[str], shape: Any, value: dict[str, Any]) -> None:
    for member, member_shape in shape.members.items():
        item = value.get(member)
        if item is not None:
            _write(out, member_shape, _member_name(member, member_shape), item)


def _member_name(member: str, shape: Any) -> str:
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        return _name(shape.member, _name(shape, member))
    return _name(shape, member)


def response(operation: Any, result: dict[str, Any], request_id: str, namespace: str) -> bytes:
    """The XML answer of a successful `operation` (a botocore OperationModel)."""
    name = operation.name
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    out = [_DECLARATION, f"<{name}Response{xmlns}>"]
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        out.append(f"<{wrapper}>")
        _members(out, shape, result)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    out.append(f"</{name}Response>")
    return "".join(out).encode()


def error(fault: str, code: str, message: str | None, request_id: str, namespace: str) -> bytes:
    """The Query protocol's ``<ErrorResponse>``."""
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    text = f"<Message>{_text(message)}</Message>" if message is not None else ""
    return (
        f"{_DECLARATION}<ErrorResponse{xmlns}><Error><Type>{fault}</Type>"
        f"<Code>{_text(code)}</Code>{text}</Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
