"""Application Auto Scaling on the server's port (JSON 1.1,
``X-Amz-Target: AnyScaleFrontendService.<Op>``), for DynamoDB tables and GSIs.

handlers.py has the operations, store.py the records; workers/autoscaling.py evaluates
target tracking policies and changes the provisioned throughput through UpdateTable.
"""

from __future__ import annotations

from dynastore.engine.engine import Engine
from dynastore.server.service import Service
from dynastore.services.autoscaling.handlers import AutoscalingApi
from dynastore.services.base import model_service

__all__ = ["AutoscalingApi", "autoscaling_service"]


def autoscaling_service(engine: Engine) -> Service:
    """The Application Auto Scaling service over `engine`'s tables."""
    api = AutoscalingApi(engine)
    operations = {
        "RegisterScalableTarget": api.register_scalable_target,
        "DeregisterScalableTarget": api.deregister_scalable_target,
        "DescribeScalableTargets": api.describe_scalable_targets,
        "PutScalingPolicy": api.put_scaling_policy,
        "DescribeScalingPolicies": api.describe_scaling_policies,
        "DeleteScalingPolicy": api.delete_scaling_policy,
        "DescribeScalingActivities": api.describe_scaling_activities,
        "TagResource": api.tagging.tag_resource,
        "UntagResource": api.tagging.untag_resource,
        "ListTagsForResource": api.tagging.list_tags,
    }
    return model_service("application-autoscaling", operations)
