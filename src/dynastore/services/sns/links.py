"""The links in SNS messages: SubscribeURL, UnsubscribeURL and SigningCertURL, visited
without signing.

An http subscriber confirms by fetching the SubscribeURL of the SubscriptionConfirmation
(``GET /?Action=ConfirmSubscription&TopicArn=...&Token=...``), as SNS allows anyone
holding the token to do; UnsubscribeURL works the same way. These requests carry no
SigV4 signature, so they cannot reach SNS through the Query frontend (which routes by
the credential scope): `SnsLinks` is a frontend of their own, placed before it. The
account and region come from the ARN in the link. SigningCertURL
(``GET /SimpleNotificationService-<id>.pem``) answers the PEM certificate of the key
that signs messages (signing.py).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from dynastore.errors import AwsError, InternalServerError
from dynastore.server import xml
from dynastore.server.models import ErrorNames, fault, load_model
from dynastore.server.service import HttpRequest, RequestContext, Response, respond
from dynastore.services.sns.handlers import SnsApi, invalid
from dynastore.services.sns.signing import CERT_PREFIX

log = logging.getLogger("dynastore.sns")

_ACTIONS = ("ConfirmSubscription", "Unsubscribe")
_XML = b"text/xml"
_PEM = b"application/x-x509-ca-cert"


class SnsLinks:
    """Answers unsigned GETs of SubscribeURL and UnsubscribeURL."""

    def __init__(self, api: SnsApi) -> None:
        self._api = api
        self._model: Any = None

    def accepts(self, request: HttpRequest) -> bool:
        if request.method != "GET":
            return False
        if request.path.startswith(CERT_PREFIX) and request.path.endswith(".pem"):
            return True
        if "authorization" in request.headers:
            return False
        query = request.query
        if "X-Amz-Signature=" in query:
            return False
        return any(f"Action={action}" in query for action in _ACTIONS)

    def answer(self, request: HttpRequest, request_id: str) -> Response:
        if request.path.startswith(CERT_PREFIX):
            return self._certificate(request.path, request_id)
        if self._model is None:
            self._model = load_model("sns")[1]
        namespace = str(self._model.metadata.get("xmlNamespace", ""))
        try:
            params = dict(parse_qsl(request.query, keep_blank_values=True))
            action = params.get("Action", "")
            if action == "ConfirmSubscription":
                arn = params.get("TopicArn", "")
                ctx = _context(request_id, arn)
                request_data = {"TopicArn": arn, "Token": params.get("Token", "")}
                result = self._api.confirm_subscription(ctx, request_data)
            else:
                arn = params.get("SubscriptionArn", "")
                ctx = _context(request_id, arn)
                result = self._api.unsubscribe(ctx, {"SubscriptionArn": arn})
            body = xml.response(self._model.operation_model(action), result, request_id, namespace)
            return respond(200, body, request_id, _XML)
        except AwsError as error:
            return self._error(error, request_id, namespace)
        except Exception:
            log.exception("internal error, request id %s", request_id)
            return self._error(InternalServerError(), request_id, namespace)

    def _certificate(self, path: str, request_id: str) -> Response:
        try:
            pem = self._api.signer.certificate(path)
        except Exception:
            log.exception("internal error, request id %s", request_id)
            return respond(500, b"", request_id, _PEM)
        if pem is None:
            return respond(404, b"Not Found", request_id, b"text/plain")
        return respond(200, pem, request_id, _PEM)

    def _error(self, error: AwsError, request_id: str, namespace: str) -> Response:
        code, status = ErrorNames(self._model).query_code(error)
        body = xml.error(fault(error), code, error.message, request_id, namespace)
        return respond(status, body, request_id, _XML)


def _context(request_id: str, arn: str) -> RequestContext:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sns":
        raise invalid("TopicArn")
    return RequestContext(request_id, parts[4], parts[3], "anonymous")
