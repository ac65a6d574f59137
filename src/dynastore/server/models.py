"""botocore's service models, and the error names they define.

Models are loaded once per process, when the services are built (`load_model`); the
codecs walk botocore's `Shape` objects (``type_name``, ``members``, ``member``, ``key``,
``value``, ``serialization``).

An error's *code* is what the Query protocol shows in ``<Code>`` and an SDK matches;
its *shape name* is what JSON and CBOR put in ``__type``. They differ for services born
on the Query protocol (CloudWatch's ``InvalidParameterValueException`` shape has the code
``InvalidParameterValue``). An `AwsError` subclass may be named after either;
`ErrorNames` finds the other one in the model.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from dynastore.errors import AwsError

# The Query protocol's names (and statuses) of Coral's own errors: validation failures
# are ValidationError on STS, IAM and CloudWatch, and authentication failures are 403s.
_QUERY_CODES: Mapping[str, tuple[str, int | None]] = {
    "ValidationException": ("ValidationError", None),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "ExpiredTokenException": ("ExpiredToken", 403),
}


def load_model(name: str) -> tuple[dict[str, Any], Any]:
    """(the raw service description, botocore's ServiceModel) of an installed model."""
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    description: dict[str, Any] = Loader().load_service_model(name, "service-2")
    return description, ServiceModel(description, service_name=name)


class ErrorNames:
    """Code <-> shape-name lookups of one service's modeled errors."""

    def __init__(self, model: Any) -> None:
        self._code_of: dict[str, str] = {}
        self._shape_of: dict[str, str] = {}
        self.query_compatible = False
        if model is None:
            return
        for shape in model.error_shapes:
            code = shape.metadata.get("error", {}).get("code", shape.name)
            self._code_of[shape.name] = code
            # A shape named like the code wins (CloudWatch has two ResourceNotFound shapes).
            if code not in self._shape_of or shape.name == code:
                self._shape_of[code] = shape.name
        self.query_compatible = "awsQueryCompatible" in model.metadata

    def query_code(self, error: AwsError) -> tuple[str, int]:
        """The Query protocol's ``<Code>`` and HTTP status of `error`."""
        name = error.type_name
        coral = _QUERY_CODES.get(name)
        if coral is not None:
            return coral[0], coral[1] or error.status
        return self._code_of.get(name, name), error.status

    def shape_name(self, error: AwsError) -> str:
        name = error.type_name
        return name if name in self._code_of else self._shape_of.get(name, name)


def fault(error: AwsError) -> str:
    """The Query protocol's ``<Type>``: who is to blame."""
    return "Sender" if error.status < 500 else "Receiver"


def epoch(value: Any) -> float:
    """Epoch seconds of a timestamp result (a number or a datetime)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return float(value.timestamp())
    return float(value)


def iso8601(value: Any) -> str:
    """A timestamp result as the Query protocol writes it: 2024-05-01T12:00:00.000Z."""
    moment = datetime.datetime.fromtimestamp(epoch(value), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 or epoch-number timestamp parameter, or None."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
