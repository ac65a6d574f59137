"""Drive a Dispatcher exactly as botocore would: its serializers, signer and parsers.

`call` serializes an operation's parameters with botocore's serializer for a protocol,
signs the request (SigV4, as boto3 does), hands it to ``Dispatcher.handle`` and parses
the answer with botocore's parser for that protocol, so a test sees what boto3 sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from dynastore.server.protocol import Dispatcher, RequestContext, Service
from dynastore.server.sigv4 import SigV4Verifier

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    parsed: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.parsed.get("Error", {}).get("Code", ""))

    @property
    def message(self) -> str:
        return str(self.parsed.get("Error", {}).get("Message", ""))


def model(name: str) -> Any:
    return ServiceModel(Loader().load_service_model(name, "service-2"), service_name=name)


def dispatcher(services: list[Service]) -> Dispatcher:
    verifier = SigV4Verifier(
        mode="accept", credentials=None, default_account=ACCOUNT, default_region=REGION
    )
    return Dispatcher(services, verifier, REGION)


def signed(
    service_model: Any, operation: str, params: dict[str, Any], protocol: str
) -> tuple[str, str, str, dict[str, str], bytes]:
    """(method, path, query, headers, body) of a botocore-signed request."""
    op = service_model.operation_model(operation)
    request = create_serializer(protocol, include_validation=False).serialize_to_request(params, op)
    prepare_request_dict(request, endpoint_url="http://localhost:8000")
    aws_request = create_request_object(request)
    signing = service_model.metadata.get("signingName") or service_model.endpoint_prefix
    SigV4Auth(Credentials("AKIDTEST", "secret"), signing, REGION).add_auth(aws_request)
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return prepared.method, url.path, url.query, headers, body


def call(
    target: Dispatcher,
    service_model: Any,
    operation: str,
    params: dict[str, Any],
    protocol: str,
) -> Answer:
    method, path, query, headers, body = signed(service_model, operation, params, protocol)
    status, raw_headers, payload = target.handle(method, path, query, headers, body)
    out_headers = {k.decode(): v.decode() for k, v in raw_headers}
    response = {"status_code": status, "headers": out_headers, "body": payload}
    shape = service_model.operation_model(operation).output_shape
    parsed = create_parser(protocol).parse(response, shape)
    return Answer(status, out_headers, payload, parsed)


def recorder() -> tuple[list[tuple[RequestContext, dict[str, Any]]], Any]:
    """A handler that records its calls; set ``handler.result`` to what it returns."""
    calls: list[tuple[RequestContext, dict[str, Any]]] = []

    def handler(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        calls.append((ctx, request))
        if isinstance(handler.error, Exception):  # type: ignore[attr-defined]
            raise handler.error  # type: ignore[attr-defined]
        result: dict[str, Any] = handler.result  # type: ignore[attr-defined]
        return result

    handler.result = {}  # type: ignore[attr-defined]
    handler.error = None  # type: ignore[attr-defined]
    return calls, handler
