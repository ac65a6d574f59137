"""The Application Auto Scaling operations, for DynamoDB tables and global secondary
indexes (the only scalable resources this server has).

Targets are identified by (ServiceNamespace, ResourceId, ScalableDimension): a table is
``table/<name>`` with ``dynamodb:table:{Read,Write}CapacityUnits``, an index
``table/<name>/index/<index>`` with ``dynamodb:index:...``. Policies are target
tracking on DynamoDB{Read,Write}CapacityUtilization; the autoscaling worker
(workers/autoscaling.py) evaluates them and changes the provisioned throughput. Error
types and texts are Application Auto Scaling's (ValidationException "DynamoDB table does
not exist: table/x", ObjectNotFoundException "No scalable target registered for service
namespace: ...").
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.errors import (
    InvalidNextTokenException,
    ObjectNotFoundException,
    ResourceNotFoundException,
    TooManyTagsException,
    ValidationException,
)
from dynastore.server.service import RequestContext
from dynastore.services import paging
from dynastore.services.autoscaling import store
from dynastore.services.autoscaling.store import Record, TargetKey
from dynastore.services.tagging import Tagging

Request = dict[str, Any]
Result = dict[str, Any]

MAX_RESULTS = 50
MAX_TAGS = 50
TARGET_MIN = 20.0  # DynamoDB target utilization bounds, percent
TARGET_MAX = 90.0
UNSUPPORTED = "Unsupported service namespace, resource type or scalable dimension"
# dimension -> (resource kind, metric the dimension is scaled on)
DIMENSIONS = {
    "dynamodb:table:ReadCapacityUnits": ("table", "DynamoDBReadCapacityUtilization"),
    "dynamodb:table:WriteCapacityUnits": ("table", "DynamoDBWriteCapacityUtilization"),
    "dynamodb:index:ReadCapacityUnits": ("index", "DynamoDBReadCapacityUtilization"),
    "dynamodb:index:WriteCapacityUnits": ("index", "DynamoDBWriteCapacityUtilization"),
}
_SUSPENDED = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)
_ALARMS = ("AlarmHigh", "AlarmLow", "ProvisionedCapacityHigh", "ProvisionedCapacityLow")


def parse_resource(namespace: str, resource_id: str, dimension: str) -> tuple[str, str | None]:
    """(table, index or None) of a DynamoDB target; ValidationException otherwise."""
    if namespace != "dynamodb":
        raise ValidationException(
            f"Service namespace {namespace} is not supported by this server: only DynamoDB "
            "tables and global secondary indexes (namespace dynamodb) can be scaled"
        )
    kind = DIMENSIONS.get(dimension, ("", ""))[0]
    parts = resource_id.split("/")
    if kind == "table" and len(parts) == 2 and parts[0] == "table" and parts[1]:
        return parts[1], None
    if (
        kind == "index"
        and len(parts) == 4
        and parts[0] == "table"
        and parts[2] == "index"
        and parts[1]
        and parts[3]
    ):
        return parts[1], parts[3]
    raise ValidationException(UNSUPPORTED)


def service_role(account: str) -> str:
    """The service-linked role Application Auto Scaling uses for DynamoDB."""
    return (
        f"arn:aws:iam::{account}:role/aws-service-role/dynamodb.application-autoscaling."
        "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )


def target_view(record: Record) -> Record:
    """A stored target as DescribeScalableTargets shows it."""
    return {k: v for k, v in record.items() if k not in ("Tags", "state")}


def _not_registered(key: TargetKey) -> ObjectNotFoundException:
    return ObjectNotFoundException(
        f"No scalable target registered for service namespace: {key.namespace}, resource ID: "
        f"{key.resource_id}, scalable dimension: {key.dimension}"
    )


def _page(
    items: list[Record], req: Request, position: Callable[[Record], list[str]]
) -> tuple[list[Record], str | None]:
    """One page of `items` (in key order) after the request's NextToken."""
    limit = req.get("MaxResults")
    if limit is not None and not 1 <= int(limit) <= MAX_RESULTS:
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_RESULTS}"
            if int(limit) > MAX_RESULTS
            else f"1 validation error detected: Value '{limit}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    size = int(limit or MAX_RESULTS)
    token = req.get("NextToken")
    if token:
        try:
            after = paging.position(token)
        except ValueError:
            after = None
        if not isinstance(after, list) or not all(isinstance(x, str) for x in after):
            raise InvalidNextTokenException("Invalid token")
        positions = [position(item) for item in items]
        if after not in positions:
            items = [i for i, p in zip(items, positions, strict=True) if p > after]
        else:
            items = items[positions.index(after) + 1 :]
    page = items[:size]
    return page, paging.token(position(page[-1])) if len(items) > size else None


def _check_tags(tags: dict[str, str], arn: str) -> None:
    if len(tags) > MAX_TAGS:
        raise TooManyTagsException(
            f"The number of tags exceeds the limit of {MAX_TAGS}.", ResourceName=arn
        )
    for name in tags:
        if name.startswith("aws:"):
            raise ValidationException("Tag keys beginning with 'aws:' are reserved")


class AutoscalingApi:
    """Every supported Application Auto Scaling operation."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._backend = engine.backend
        self.tagging = Tagging(
            engine.backend,
            store.target_by_arn,
            store.put_record,
            lambda arn: ResourceNotFoundException(
                f"No scalable target found for ARN: {arn}", ResourceName=arn
            ),
            arn="ResourceARN",
            check=_check_tags,
        )

    def _key(self, ctx: RequestContext, req: Request) -> TargetKey:
        return TargetKey(
            ctx.account,
            ctx.region,
            req["ServiceNamespace"],
            req["ResourceId"],
            req["ScalableDimension"],
        )

    # --- targets ----------------------------------------------------------------------

    def _check_exists(
        self, ctx: RequestContext, resource_id: str, table: str, index: str | None
    ) -> None:
        found = self._engine.catalog.get(ctx.account, ctx.region, table)
        if found is None or found.status == "DELETING":
            raise ValidationException(f"DynamoDB table does not exist: table/{table}")
        if index is not None:
            gsi = found.index(index)
            if gsi is None or gsi.kind != "GSI":
                raise ValidationException(f"DynamoDB index does not exist: {resource_id}")

    def register_scalable_target(self, ctx: RequestContext, req: Request) -> Result:
        key = self._key(ctx, req)
        table, index = parse_resource(key.namespace, key.resource_id, key.dimension)
        self._check_exists(ctx, key.resource_id, table, index)
        now = self._engine.clock()
        with self._backend.write() as tx:
            record = store.get_target(tx, key)
            if record is None:
                if req.get("MinCapacity") is None or req.get("MaxCapacity") is None:
                    raise ValidationException(
                        "MinCapacity and MaxCapacity are required to register a new scalable target"
                    )
                arn = (
                    f"arn:aws:application-autoscaling:{ctx.region}:{ctx.account}:"
                    f"scalable-target/{uuid.uuid4().hex}{os.urandom(2).hex()}"
                )
                tags = dict(req.get("Tags") or {})
                _check_tags(tags, arn)
                record = {
                    "ServiceNamespace": key.namespace,
                    "ResourceId": key.resource_id,
                    "ScalableDimension": key.dimension,
                    "MinCapacity": 0,
                    "MaxCapacity": 0,
                    "RoleARN": service_role(ctx.account),
                    "CreationTime": round(now, 3),
                    "SuspendedState": dict.fromkeys(_SUSPENDED, False),
                    "ScalableTargetARN": arn,
                    "Tags": tags,
                    "state": {"out": 0.0, "in": 0.0},
                }
            for name in ("MinCapacity", "MaxCapacity"):
                if req.get(name) is not None:
                    if int(req[name]) < 0:
                        raise ValidationException(f"{name} must not be negative")
                    record[name] = int(req[name])
            if record["MinCapacity"] > record["MaxCapacity"]:
                raise ValidationException(
                    "Minimum capacity cannot be greater than maximum capacity"
                )
            if req.get("RoleARN"):
                record["RoleARN"] = req["RoleARN"]
            for name, value in (req.get("SuspendedState") or {}).items():
                if name in _SUSPENDED and value is not None:
                    record["SuspendedState"][name] = bool(value)
            store.put_target(tx, key, record)
        return {"ScalableTargetARN": record["ScalableTargetARN"]}

    def deregister_scalable_target(self, ctx: RequestContext, req: Request) -> Result:
        key = self._key(ctx, req)
        parse_resource(key.namespace, key.resource_id, key.dimension)
        with self._backend.write() as tx:
            record = store.get_target(tx, key)
            if record is None:
                raise ObjectNotFoundException(
                    f"No scalable target found for service namespace: {key.namespace}, "
                    f"resource ID: {key.resource_id}, scalable dimension: {key.dimension}"
                )
            store.delete_target(tx, key, record)
        return {}

    def describe_scalable_targets(self, ctx: RequestContext, req: Request) -> Result:
        namespace = req["ServiceNamespace"]
        wanted = set(req.get("ResourceIds") or [])
        dimension = req.get("ScalableDimension")
        with self._backend.read() as tx:
            found = [
                r
                for r in store.targets(tx, ctx.account, ctx.region, namespace)
                if (not wanted or r["ResourceId"] in wanted)
                and (dimension is None or r["ScalableDimension"] == dimension)
            ]
        page, token = _page(found, req, lambda r: [r["ResourceId"], r["ScalableDimension"]])
        return paging.listed("ScalableTargets", [target_view(r) for r in page], token)

    # --- policies ---------------------------------------------------------------------

    def put_scaling_policy(self, ctx: RequestContext, req: Request) -> Result:
        key = self._key(ctx, req)
        parse_resource(key.namespace, key.resource_id, key.dimension)
        policy_type = req.get("PolicyType") or "StepScaling"
        if policy_type != "TargetTrackingScaling":
            raise ValidationException(
                f"Unsupported policy type {policy_type} for service namespace dynamodb: this "
                "server scales DynamoDB with TargetTrackingScaling policies only"
            )
        config = req.get("TargetTrackingScalingPolicyConfiguration")
        if config is None:
            raise ValidationException(
                "TargetTrackingScalingPolicyConfiguration is required for a policy of type "
                "TargetTrackingScaling"
            )
        config = _check_tracking(config, key.dimension)
        now = self._engine.clock()
        with self._backend.write() as tx:
            if store.get_target(tx, key) is None:
                raise _not_registered(key)
            old = store.get_policy(tx, key, req["PolicyName"])
            policy_id = old["PolicyARN"].split(":")[6] if old else str(uuid.uuid4())
            arn = (
                f"arn:aws:autoscaling:{ctx.region}:{ctx.account}:scalingPolicy:{policy_id}:"
                f"resource/{key.namespace}/{key.resource_id}:policyName/{req['PolicyName']}"
            )
            alarms = old["Alarms"] if old else _alarms(ctx, key.resource_id)
            record: Record = {
                "PolicyARN": arn,
                "PolicyName": req["PolicyName"],
                "ServiceNamespace": key.namespace,
                "ResourceId": key.resource_id,
                "ScalableDimension": key.dimension,
                "PolicyType": policy_type,
                "TargetTrackingScalingPolicyConfiguration": config,
                "Alarms": alarms,
                "CreationTime": old["CreationTime"] if old else round(now, 3),
            }
            store.put_policy(tx, key, record)
        return {"PolicyARN": arn, "Alarms": alarms}

    def describe_scaling_policies(self, ctx: RequestContext, req: Request) -> Result:
        names = set(req.get("PolicyNames") or [])
        resource = req.get("ResourceId")
        dimension = req.get("ScalableDimension")
        with self._backend.read() as tx:
            found = [
                p
                for p in store.policies(tx, ctx.account, ctx.region, req["ServiceNamespace"])
                if (not names or p["PolicyName"] in names)
                and (resource is None or p["ResourceId"] == resource)
                and (dimension is None or p["ScalableDimension"] == dimension)
            ]
        page, token = _page(
            found, req, lambda p: [p["ResourceId"], p["ScalableDimension"], p["PolicyName"]]
        )
        return paging.listed("ScalingPolicies", page, token)

    def delete_scaling_policy(self, ctx: RequestContext, req: Request) -> Result:
        key = self._key(ctx, req)
        parse_resource(key.namespace, key.resource_id, key.dimension)
        name = req["PolicyName"]
        with self._backend.write() as tx:
            if store.get_policy(tx, key, name) is None:
                raise ObjectNotFoundException(
                    f"No scaling policy found for service namespace: {key.namespace}, resource "
                    f"ID: {key.resource_id}, scalable dimension: {key.dimension}, policy name: "
                    f"{name}"
                )
            store.delete_policy(tx, key, name)
        return {}

    # --- activities -------------------------------------------------------------------

    def describe_scaling_activities(self, ctx: RequestContext, req: Request) -> Result:
        namespace = req["ServiceNamespace"]
        resource = req.get("ResourceId")
        dimension = req.get("ScalableDimension")
        with self._backend.read() as tx:
            found = [
                a
                for a in store.activities(tx, ctx.account, ctx.region, namespace)
                if (resource is None or a["ResourceId"] == resource)
                and (dimension is None or a["ScalableDimension"] == dimension)
            ]
        if not req.get("IncludeNotScaledActivities"):
            found = [a for a in found if not a.get("NotScaledReasons")]
        page, token = _page(found, req, lambda a: [str(a["ActivityId"])])
        return paging.listed("ScalingActivities", page, token)


def _check_tracking(config: dict[str, Any], dimension: str) -> dict[str, Any]:
    """A TargetTrackingScalingPolicyConfiguration this server can act on, as stored."""
    if config.get("CustomizedMetricSpecification"):
        raise ValidationException(
            "CustomizedMetricSpecification is not supported by this server: use a "
            "PredefinedMetricSpecification (DynamoDBReadCapacityUtilization or "
            "DynamoDBWriteCapacityUtilization)"
        )
    predefined = config.get("PredefinedMetricSpecification")
    if not predefined:
        raise ValidationException(
            "Either PredefinedMetricSpecification or CustomizedMetricSpecification must be "
            "specified"
        )
    metric = predefined.get("PredefinedMetricType")
    wanted = DIMENSIONS[dimension][1]
    if metric != wanted:
        raise ValidationException(
            f"Predefined metric type {metric} is not valid for scalable dimension {dimension}; "
            f"use {wanted}"
        )
    if predefined.get("ResourceLabel"):
        raise ValidationException(
            f"ResourceLabel is not supported for predefined metric type {metric}"
        )
    target = float(config["TargetValue"])
    if not TARGET_MIN <= target <= TARGET_MAX:
        raise ValidationException(
            f"Target value {target} is out of range: DynamoDB target utilization must be "
            f"between {TARGET_MIN} and {TARGET_MAX}"
        )
    stored: dict[str, Any] = {
        "TargetValue": config["TargetValue"],
        "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
    }
    for name in ("ScaleOutCooldown", "ScaleInCooldown"):
        if config.get(name) is not None:
            if int(config[name]) < 0:
                raise ValidationException(f"{name} must not be negative")
            stored[name] = int(config[name])
    if config.get("DisableScaleIn") is not None:
        stored["DisableScaleIn"] = bool(config["DisableScaleIn"])
    return stored


def _alarms(ctx: RequestContext, resource_id: str) -> list[dict[str, str]]:
    """The CloudWatch alarm names a DynamoDB target tracking policy reports."""
    out: list[dict[str, str]] = []
    for kind in _ALARMS:
        name = f"TargetTracking-{resource_id}-{kind}-{uuid.uuid4()}"
        out.append(
            {
                "AlarmName": name,
                "AlarmARN": f"arn:aws:cloudwatch:{ctx.region}:{ctx.account}:alarm:{name}",
            }
        )
    return out


def policies_for(records: Iterable[Record]) -> list[Record]:
    """Policies the worker evaluates (target tracking on a predefined metric)."""
    return [r for r in records if r.get("PolicyType") == "TargetTrackingScaling"]
