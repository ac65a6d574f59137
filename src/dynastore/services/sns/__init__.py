"""SNS on the Query protocol: topics, subscriptions with real http/https delivery, Publish.

Deliveries run on a background thread (delivery.py) with SNS's retry policy; a ``file``
protocol (``file:///path/to/messages.jsonl``) appends each message as one JSON line for
local use. CloudWatch alarm actions publish through `SnsApi.publish_internal`.
"""

from __future__ import annotations

from dynastore.server.service import Handler, Service
from dynastore.services.base import model_service
from dynastore.services.sns.handlers import SnsApi


def sns_service(api: SnsApi) -> Service:
    """The SNS service over `api`."""
    operations: dict[str, Handler] = {
        "CreateTopic": api.create_topic,
        "DeleteTopic": api.delete_topic,
        "ListTopics": api.list_topics,
        "GetTopicAttributes": api.get_topic_attributes,
        "SetTopicAttributes": api.set_topic_attributes,
        "Subscribe": api.subscribe,
        "ConfirmSubscription": api.confirm_subscription,
        "Unsubscribe": api.unsubscribe,
        "ListSubscriptions": api.list_subscriptions,
        "ListSubscriptionsByTopic": api.list_subscriptions_by_topic,
        "GetSubscriptionAttributes": api.get_subscription_attributes,
        "SetSubscriptionAttributes": api.set_subscription_attributes,
        "Publish": api.publish,
        "TagResource": api.tag_resource,
        "UntagResource": api.tags.untag_resource,
        "ListTagsForResource": api.tags.list_tags_for_resource,
    }
    return model_service("sns", operations)
