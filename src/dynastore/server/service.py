"""What a service is to the server: a name, its protocols, operations and validator.

Every AWS API served on the port registers as one `Service`. Handlers are protocol
neutral: they take ``(RequestContext, request dict)`` and return a result dict (or
pre-encoded JSON bytes, JSON protocol only), whatever protocol the request came in. The
dicts are in the *JSON form* of the botocore model, which the codecs convert to and from:

- structures are dicts keyed by member name, lists are lists, maps are dicts;
- strings are ``str``, integers ``int``, floats ``float``, booleans ``bool``;
- timestamps are epoch seconds (``int``/``float``); a result may also hold a
  timezone-aware ``datetime``;
- blobs are base64 text (``str``); a result may also hold raw ``bytes``.

Build a service from botocore's model with `dynastore.services.base.model_service`
(protocols, target prefix, JSON version and signing name come from the model), or
directly with ``Service(target_prefix, operations, validate)`` for a JSON-only service.
Raise `dynastore.errors.AwsError` subclasses from handlers; each protocol renders them.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dynastore.errors import InternalServerError

log = logging.getLogger("dynastore.server")

# Protocol names as botocore's service models spell them.
JSON = "json"
QUERY = "query"
CBOR = "smithy-rpc-v2-cbor"
REST_JSON = "rest-json"

Headers = list[tuple[bytes, bytes]]
Response = tuple[int, Headers, bytes]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is calling and where: passed to every operation."""

    request_id: str
    account: str
    region: str
    access_key: str


Request = dict[str, Any]
"""A request in the JSON form."""
Result = dict[str, Any]
"""A handler's result in the JSON form."""
Handler = Callable[[RequestContext, Request], "Result | bytes"]
Validate = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Service:
    """One AWS API on the port.

    ``target_prefix``: the JSON protocol's ``X-Amz-Target`` prefix, and the Smithy service
    name of RPC v2 CBOR paths (botocore's ``targetPrefix``); "" for neither.
    ``validate(operation, request)`` raises the AWS validation error of a bad request.
    ``model`` is botocore's ``ServiceModel``; every protocol but JSON needs it (shapes
    drive the Query, CBOR and REST codecs). ``signing_name`` is the SigV4 credential
    scope's service, which routes Query requests (sts, sns, monitoring, iam).
    """

    target_prefix: str
    operations: Mapping[str, Handler]
    validate: Validate
    model: Any = None
    protocols: frozenset[str] = frozenset({JSON})
    signing_name: str = ""
    json_version: str = "1.0"

    @property
    def json_content_type(self) -> bytes:
        return f"application/x-amz-json-{self.json_version}".encode()


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request as it came off the wire (raw path and query, lower-case headers).

    `body` is the bytes as sent (what SigV4 signed); `content` is what they encode: the
    same bytes, or the body decompressed when the client sent ``Content-Encoding: gzip``
    (AWS SDKs compress large CloudWatch requests).
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    content: bytes


def new_request_id() -> str:
    """A 52-character request id of upper-case letters and digits, like DynamoDB's."""
    return os.urandom(26).hex().upper()


def internal_error(request_id: str) -> InternalServerError:
    """The error to answer for an unexpected exception, logged with the request id (call
    it while handling the exception)."""
    log.exception("internal error, request id %s", request_id)
    return InternalServerError()


def respond(
    status: int,
    body: bytes,
    request_id: str,
    content_type: bytes,
    extra: Headers | None = None,
) -> Response:
    """A response with the headers every protocol sends (request id, CRC32)."""
    headers = [
        (b"content-type", content_type),
        (b"x-amzn-requestid", request_id.encode()),
        (b"x-amz-crc32", str(zlib.crc32(body)).encode()),
    ]
    if extra:
        headers.extend(extra)
    return status, headers, body
