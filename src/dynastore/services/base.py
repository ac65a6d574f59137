"""How a companion service registers: `model_service` builds its `Service`.

A service package (services/sts, services/kms, services/cloudwatch, ...) writes its
handlers as ``handler(ctx: RequestContext, request: dict) -> dict`` and calls::

    model_service("sts", {"GetCallerIdentity": get_caller_identity})

which loads botocore's model of the service once (at server start, in each process) and
returns a `Service` that speaks every protocol the model lists (``protocols=`` narrows
them), routes by the model's target prefix and signing name, and validates requests with
the shared validator compiled from the same model (Coral's messages). ``check`` adds
service-specific validation run after it. Requests and results are in the JSON form
described in server/service.py, whatever the protocol; errors are `AwsError` subclasses
(errors.py), named after the error's code or its model shape name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dynastore.ops.validate import RequestValidator
from dynastore.server.models import load_model
from dynastore.server.service import Handler, Service


def model_service(
    name: str,
    operations: Mapping[str, Handler],
    *,
    protocols: Iterable[str] | None = None,
    check: Callable[[str, dict[str, Any]], None] | None = None,
) -> Service:
    """The `Service` of botocore's model `name` (e.g. "sts", "kms", "cloudwatch").

    Every operation name must exist in the model; ``protocols`` (botocore's names:
    "json", "query", "smithy-rpc-v2-cbor", "rest-json") defaults to the model's list.
    """
    description, model = load_model(name)
    unknown = set(operations) - set(model.operation_names)
    if unknown:
        raise ValueError(f"{name}: operations not in the model: {sorted(unknown)}")
    metadata = model.metadata
    spoken = frozenset(protocols or metadata.get("protocols") or [metadata["protocol"]])
    validator = RequestValidator(description)

    def validate(operation: str, request: dict[str, Any]) -> None:
        validator.validate(operation, request)
        if check is not None:
            check(operation, request)

    return Service(
        target_prefix=str(metadata.get("targetPrefix", "")),
        operations=dict(operations),
        validate=validate,
        model=model,
        protocols=spoken,
        signing_name=str(metadata.get("signingName") or metadata["endpointPrefix"]),
        json_version=str(metadata.get("jsonVersion", "1.0")),
    )
