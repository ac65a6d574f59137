"""The SNS operations: topics, subscriptions, Publish, tags.

Subscriptions to http/https endpoints start pending: a SubscriptionConfirmation message
carrying a token goes to the endpoint, and ConfirmSubscription with that token confirms
them (its SubscribeURL points at this server's Query endpoint). ``file`` endpoints are
confirmed at once; so are the protocols this server cannot deliver to (sqs, lambda, ...),
which keeps infrastructure code that creates them working. Publish reads the topic's
confirmed subscriptions in one snapshot and hands one job per matching subscription to
the delivery thread (delivery.py): nothing is sent on the request path. Unsubscribing an
http/https endpoint sends it an UnsubscribeConfirmation whose SubscribeURL restores the
subscription. Every message is signed with the store's RSA key (signing.py).
"""

from __future__ import annotations

import base64
import datetime
import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sized
from typing import Any
from urllib.parse import quote

import orjson

from dynastore.errors import (
    InvalidParameter,
    InvalidParameterValueException,
    NotFound,
    ResourceNotFound,
    TagLimitExceeded,
)
from dynastore.server.service import Request, RequestContext, Result
from dynastore.services import paging
from dynastore.services.sns import filters, store
from dynastore.services.sns.delivery import Delivery, Job, RetryPolicy, http_headers, message_json
from dynastore.services.sns.signing import SIGNATURE_VERSIONS, Signer
from dynastore.services.tagging import TagList, tag_map
from dynastore.storage.base import Backend, ReadTx, WriteTx

PAGE = 100
MAX_MESSAGE = 262144
MAX_TAGS = 50
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")
_ATTRIBUTE_NAME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
)
PROTOCOLS = frozenset(
    {
        "http",
        "https",
        "email",
        "email-json",
        "sms",
        "sqs",
        "application",
        "lambda",
        "firehose",
        "file",
    }
)
_CONFIRMED_AT_ONCE = frozenset({"file", "sqs", "lambda", "application", "firehose", "sms"})
TOPIC_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "SignatureVersion",
        "TracingConfig",
        "KmsMasterKeyId",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "DataProtectionPolicy",
        "FifoThroughputScope",
        *(
            f"{p}{k}"
            for p in ("HTTP", "Application", "Firehose", "Lambda", "SQS")
            for k in (
                "SuccessFeedbackRoleArn",
                "SuccessFeedbackSampleRate",
                "FailureFeedbackRoleArn",
            )
        ),
    }
)
_CREATE_ONLY = frozenset({"FifoTopic"})
SUBSCRIPTION_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
# what GetSubscriptionAttributes shows for attributes never set
_SUBSCRIPTION_DEFAULTS = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}
_JSON_ATTRIBUTES = frozenset({"Policy", "DeliveryPolicy", "RedrivePolicy", "DataProtectionPolicy"})
DEFAULT_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,'
    '"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,'
    '"backoffFunction":"linear"},"disableSubscriptionOverrides":false,'
    '"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}'
)


def invalid(what: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter: {what}")


def topic_not_found() -> NotFound:
    return NotFound("Topic does not exist")


def arn_parts(arn: str, member: str) -> list[str]:
    """The colon-separated parts of an ARN member; SNS's error when it has fewer than 6."""
    parts = arn.split(":")
    if len(parts) < 6:
        raise invalid(f"{member} Reason: An ARN must have at least 6 elements, not {len(parts)}")
    return parts


def subscription_arn(arn: str) -> str:
    """A SubscriptionArn member: an ARN of 7 parts (a topic's ARN and an id)."""
    if len(arn_parts(arn, "SubscriptionArn")) == 6:
        raise invalid("SubscriptionId")
    return arn


def _timestamp(moment: float) -> str:
    at = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def default_policy(arn: str, account: str) -> str:
    actions = [
        "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes",
        "SNS:AddPermission",
        "SNS:RemovePermission",
        "SNS:DeleteTopic",
        "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic",
        "SNS:Publish",
    ]
    policy = {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": actions,
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }
    return orjson.dumps(policy).decode()


class SnsApi:
    """The SNS operations over one store; `base_url` is this server as endpoints reach it,
    `signer` signs the messages sent to endpoints (signing.py); `tags` answers
    UntagResource and ListTagsForResource, and TagResource after its own checks."""

    def __init__(
        self,
        backend: Backend,
        clock: Callable[[], float],
        delivery: Delivery,
        base_url: str,
        signer: Signer,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self.delivery = delivery
        self._base = base_url.rstrip("/")
        self.signer = signer
        self.tags = TagList(backend, self._tagged, _save_topic, _check_tag_count)

    # --- topics --------------------------------------------------------------------------

    def create_topic(self, ctx: RequestContext, req: Request) -> Result:
        name = req["Name"]
        attributes = dict(req.get("Attributes") or {})
        fifo = str(attributes.get("FifoTopic", "false")).lower() == "true"
        if fifo and not _FIFO_NAME.match(name):
            raise invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase "
                "and lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
                "between 1 and 256 characters long."
            )
        if not fifo and not _NAME.match(name):
            raise invalid("Topic Name")
        for key, value in attributes.items():
            if key not in TOPIC_ATTRIBUTES and key not in _CREATE_ONLY:
                raise invalid("AttributeName")
            _check_attribute(key, str(value))
        if fifo:
            attributes["FifoTopic"] = "true"
        else:
            attributes.pop("FifoTopic", None)
        tags = list(req.get("Tags") or [])
        _check_tags(tags)
        arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:{name}"
        with self._backend.write() as tx:
            old = store.get_topic(tx, arn)
            if old is not None:
                shown = _shown_attributes(old, [])
                if any(shown.get(k) != v for k, v in attributes.items()):
                    raise invalid(
                        "Attributes Reason: Topic already exists with different attributes"
                    )
                held = tag_map(old.get("Tags", []))
                if any(held.get(k) != v for k, v in tag_map(tags).items()):
                    raise invalid("Tags Reason: Topic already exists with different tags")
                return {"TopicArn": arn}
            topic = {"TopicArn": arn, "Attributes": attributes, "Tags": tags}
            store.put_topic(tx, topic)
        return {"TopicArn": arn}

    def delete_topic(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        with self._backend.write() as tx:
            store.delete_topic(tx, arn)
        return {}

    def list_topics(self, ctx: RequestContext, req: Request) -> Result:
        after = _token(req.get("NextToken"), b"T")
        found: list[dict[str, Any]] = []
        last = b""
        more = False
        with self._backend.read() as tx:
            for key, topic in store.topics(tx, ctx.account, ctx.region, after):
                if len(found) == PAGE:
                    more = True
                    break
                found.append({"TopicArn": topic["TopicArn"]})
                last = key
        out: Result = {"Topics": found}
        if more:
            out["NextToken"] = base64.urlsafe_b64encode(last).decode()
        return out

    def get_topic_attributes(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        with self._backend.read() as tx:
            topic = self._topic(tx, arn)
            subs = list(store.subscriptions(tx, arn))
        return {"Attributes": _shown_attributes(topic, subs)}

    def set_topic_attributes(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        name = req["AttributeName"]
        value = str(req.get("AttributeValue") or "")
        if name not in TOPIC_ATTRIBUTES:
            raise invalid("AttributeName")
        if value:
            _check_attribute(name, value)
        with self._backend.write() as tx:
            topic = self._topic(tx, arn)
            if (
                name == "ContentBasedDeduplication"
                and topic["Attributes"].get("FifoTopic") != "true"
            ):
                raise invalid(
                    "ContentBasedDeduplication Reason: Content-based deduplication can only "
                    "be set for FIFO topics"
                )
            if value:
                topic["Attributes"][name] = value
            else:
                topic["Attributes"].pop(name, None)
            store.put_topic(tx, topic)
        return {}

    # --- subscriptions ------------------------------------------------------------------

    def subscribe(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        protocol = req["Protocol"]
        endpoint = req.get("Endpoint") or ""
        _check_endpoint(protocol, endpoint)
        attributes = {k: str(v) for k, v in (req.get("Attributes") or {}).items()}
        for key, value in attributes.items():
            if key not in SUBSCRIPTION_ATTRIBUTES:
                raise invalid("AttributeName")
            attributes[key] = _check_subscription_attribute(key, value, protocol, "Attributes")
        with self._backend.write() as tx:
            topic = self._topic(tx, arn)
            fifo_queue = protocol == "sqs" and endpoint.endswith(".fifo")
            if fifo_queue and topic["Attributes"].get("FifoTopic") != "true":
                raise invalid(
                    "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed "
                    "to standard SNS topics"
                )
            for sub in store.subscriptions(tx, arn):
                if sub["Protocol"] == protocol and sub["Endpoint"] == endpoint:
                    # the same attributes as the subscription shows, set or default
                    shown = {**_SUBSCRIPTION_DEFAULTS, **sub.get("Attributes", {})}
                    if any(shown.get(k, "") != v for k, v in attributes.items()):
                        raise invalid(
                            "Attributes Reason: Subscription already exists with different "
                            "attributes"
                        )
                    confirmed = bool(sub.get("Confirmed"))
                    if confirmed or req.get("ReturnSubscriptionArn"):
                        return {"SubscriptionArn": sub["SubscriptionArn"]}
                    return {"SubscriptionArn": "pending confirmation"}
            confirmed = protocol in _CONFIRMED_AT_ONCE
            sub = {
                "SubscriptionArn": f"{arn}:{uuid.uuid4()}",
                "TopicArn": arn,
                "Protocol": protocol,
                "Endpoint": endpoint,
                "Owner": ctx.account,
                "Confirmed": confirmed,
                "Token": None if confirmed else secrets.token_hex(64),
                "Attributes": attributes,
            }
            store.put_subscription(tx, sub)
        if not confirmed and protocol in ("http", "https"):
            self._send_confirmation(topic, sub)
        if confirmed or req.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": sub["SubscriptionArn"]}
        return {"SubscriptionArn": "pending confirmation"}

    def confirm_subscription(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        with self._backend.write() as tx:
            self._topic(tx, arn)
            sub_arn = store.subscription_of_token(tx, req["Token"])
            if sub_arn is None:
                restored = store.restore_unsubscribed(tx, req["Token"])
                if restored is not None and restored["TopicArn"] == arn:
                    return {"SubscriptionArn": restored["SubscriptionArn"]}
                raise invalid("Token")  # (and a restore for another topic rolls back)
            if not sub_arn.startswith(arn + ":"):
                raise invalid("Token")
            sub = store.get_subscription(tx, sub_arn)
            if sub is None:
                raise invalid("Token")
            if not sub.get("Confirmed"):
                sub["Confirmed"] = True
                store.put_subscription(tx, sub)
        return {"SubscriptionArn": sub_arn}

    def unsubscribe(self, ctx: RequestContext, req: Request) -> Result:
        arn = subscription_arn(req["SubscriptionArn"])
        topic_arn = arn.rpartition(":")[0]
        if store.parse_topic_arn(topic_arn) is None:
            raise invalid("SubscriptionArn")
        with self._backend.write() as tx:
            sub = store.get_subscription(tx, arn)
            if sub is None:
                return {}  # as SNS: unsubscribing twice is no error
            store.delete_subscription(tx, sub)
            topic = store.get_topic(tx, topic_arn)
            notify = (
                topic is not None and sub.get("Confirmed") and sub["Protocol"] in ("http", "https")
            )
            if notify:
                sub = {**sub, "Token": secrets.token_hex(64)}
                store.put_unsubscribed(tx, sub)
        if notify and topic is not None:
            self._send_unsubscribe_confirmation(topic, sub)
        return {}

    def list_subscriptions(self, ctx: RequestContext, req: Request) -> Result:
        after = _token(req.get("NextToken"), b"S")
        with self._backend.read() as tx:
            rows = store.all_subscriptions(tx, ctx.account, ctx.region, after)
            return _subscription_page(rows)

    def list_subscriptions_by_topic(self, ctx: RequestContext, req: Request) -> Result:
        arn = self._topic_arn(ctx, req["TopicArn"])
        after = _token(req.get("NextToken"), b"S")
        with self._backend.read() as tx:
            self._topic(tx, arn)
            rows = (
                (key, sub)
                for key, sub in store.all_subscriptions(tx, ctx.account, ctx.region, after)
                if sub["TopicArn"] == arn
            )
            return _subscription_page(rows)

    def get_subscription_attributes(self, ctx: RequestContext, req: Request) -> Result:
        arn = subscription_arn(req["SubscriptionArn"])
        with self._backend.read() as tx:
            sub = store.get_subscription(tx, arn)
            topic = store.get_topic(tx, sub["TopicArn"]) if sub is not None else None
        if sub is None or topic is None:
            raise NotFound("Subscription does not exist")
        confirmed = bool(sub.get("Confirmed"))
        attributes = {
            "Owner": sub["Owner"],
            "RawMessageDelivery": "false",
            "TopicArn": sub["TopicArn"],
            "Endpoint": sub["Endpoint"],
            "Protocol": sub["Protocol"],
            "PendingConfirmation": "false" if confirmed else "true",
            "ConfirmationWasAuthenticated": "true" if confirmed else "false",
            "SubscriptionArn": arn,
            "SubscriptionPrincipal": f"arn:aws:iam::{sub['Owner']}:user/{ctx.access_key}",
            "EffectiveDeliveryPolicy": topic["Attributes"].get(
                "DeliveryPolicy", DEFAULT_DELIVERY_POLICY
            ),
        }
        attributes.update(sub.get("Attributes", {}))
        if attributes.get("FilterPolicy"):
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        return {"Attributes": attributes}

    def set_subscription_attributes(self, ctx: RequestContext, req: Request) -> Result:
        arn = req["SubscriptionArn"]
        arn_parts(arn, "SubscriptionArn")
        name = req["AttributeName"]
        value = str(req.get("AttributeValue") or "")
        if name not in SUBSCRIPTION_ATTRIBUTES:
            raise invalid("AttributeName")
        with self._backend.write() as tx:
            sub = store.get_subscription(tx, arn)
            if sub is None:
                raise NotFound("Subscription does not exist")
            if value or name == "RawMessageDelivery":  # (which is never empty)
                value = _check_subscription_attribute(name, value, sub["Protocol"])
                sub.setdefault("Attributes", {})[name] = value
            else:
                sub.get("Attributes", {}).pop(name, None)
            store.put_subscription(tx, sub)
        return {}

    # --- Publish -------------------------------------------------------------------------

    def publish(self, ctx: RequestContext, req: Request) -> Result:
        arn = req.get("TopicArn") or req.get("TargetArn")
        if not arn:
            if req.get("PhoneNumber"):
                return {"MessageId": str(uuid.uuid4())}  # SMS is not delivered here
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        arn = self._topic_arn(ctx, arn)
        message = req.get("Message")
        if not message:
            raise invalid("Empty message")
        attributes = dict(req.get("MessageAttributes") or {})
        if _publish_size(message, attributes) > MAX_MESSAGE:
            raise invalid("Message too long")
        subject = req.get("Subject")
        # UTF-8 text without line breaks or control characters
        if subject is not None and (
            not subject
            or len(subject) > 100
            or any(unicodedata.category(c) == "Cc" for c in subject)
        ):
            raise invalid("Subject")
        structured = req.get("MessageStructure")
        per_protocol: dict[str, Any] | None = None
        if structured is not None:
            if structured != "json":
                raise invalid("MessageStructure")
            try:
                per_protocol = orjson.loads(message)
            except orjson.JSONDecodeError:
                per_protocol = None
            if not isinstance(per_protocol, dict):
                raise invalid("Message Structure - JSON message body failed to parse")
            # only string values count: a protocol's non-string value falls back to default
            per_protocol = {k: v for k, v in per_protocol.items() if isinstance(v, str)}
            if "default" not in per_protocol:
                raise invalid("Message Structure - No default entry in JSON message body")
        _check_message_attributes(attributes)
        with self._backend.read() as tx:
            topic = self._topic(tx, arn)
            subs = [s for s in store.subscriptions(tx, arn) if s.get("Confirmed")]
        out: Result = {}
        if topic["Attributes"].get("FifoTopic") == "true":
            out["SequenceNumber"] = self._check_fifo(topic, req)
        elif req.get("MessageDeduplicationId"):
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        message_id = self._fan_out(topic, subs, message, subject, attributes, per_protocol)
        out["MessageId"] = message_id
        return out

    def publish_internal(
        self, account: str, region: str, topic_arn: str, subject: str, message: str
    ) -> str:
        """Publish on behalf of another service (alarm actions); the message id."""
        with self._backend.read() as tx:
            topic = store.get_topic(tx, topic_arn)
            if topic is None:
                raise topic_not_found()
            subs = [s for s in store.subscriptions(tx, topic_arn) if s.get("Confirmed")]
        return self._fan_out(topic, subs, message, subject, {}, None)

    def _check_fifo(self, topic: Mapping[str, Any], req: Request) -> str:
        if not req.get("MessageGroupId"):
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        if (
            not req.get("MessageDeduplicationId")
            and topic["Attributes"].get("ContentBasedDeduplication") != "true"
        ):
            raise invalid(
                "The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return str(int(self._clock() * 1_000_000)).rjust(20, "0")

    def _fan_out(
        self,
        topic: Mapping[str, Any],
        subs: list[dict[str, Any]],
        message: str,
        subject: str | None,
        attributes: Mapping[str, Any],
        per_protocol: Mapping[str, Any] | None,
    ) -> str:
        message_id = str(uuid.uuid4())
        stamp = _timestamp(self._clock())
        topic_arn = str(topic["TopicArn"])
        values = filters.attribute_values(attributes)
        shown_attributes = {
            name: {
                "Type": attr.get("DataType"),
                "Value": attr.get("StringValue", attr.get("BinaryValue")),
            }
            for name, attr in attributes.items()
        }
        for sub in subs:
            sub_attributes = sub.get("Attributes", {})
            if not _wanted(sub_attributes, values, message):
                continue
            protocol = sub["Protocol"]
            text = message
            if per_protocol is not None:
                text = str(per_protocol.get(protocol, per_protocol["default"]))
            if sub_attributes.get("RawMessageDelivery") == "true":
                body = text.encode()
            else:
                fields = {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": text,
                    "Timestamp": stamp,
                    "SignatureVersion": None,
                    "Signature": None,
                    "SigningCertURL": None,
                    "UnsubscribeURL": self._url(
                        "Unsubscribe", SubscriptionArn=sub["SubscriptionArn"]
                    ),
                    "MessageAttributes": shown_attributes or None,
                }
                body = self._signed(topic, fields)
            headers = http_headers("Notification", message_id, topic_arn, sub["SubscriptionArn"])
            policy = RetryPolicy.of(
                sub_attributes.get("DeliveryPolicy"), topic["Attributes"].get("DeliveryPolicy")
            )
            self.delivery.submit(Job(protocol, sub["Endpoint"], body, headers, policy))
        return message_id

    def _send_confirmation(self, topic: Mapping[str, Any], sub: Mapping[str, Any]) -> None:
        topic_arn = str(topic["TopicArn"])
        message = (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
        self._send_token_message("SubscriptionConfirmation", topic, sub, message, None)

    def _send_unsubscribe_confirmation(
        self, topic: Mapping[str, Any], sub: Mapping[str, Any]
    ) -> None:
        message = (
            f"You have chosen to deactivate subscription {sub['SubscriptionArn']}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL "
            "included in this message."
        )
        self._send_token_message(
            "UnsubscribeConfirmation", topic, sub, message, str(sub["SubscriptionArn"])
        )

    def _send_token_message(
        self,
        kind: str,
        topic: Mapping[str, Any],
        sub: Mapping[str, Any],
        message: str,
        sub_arn: str | None,
    ) -> None:
        """A SubscriptionConfirmation or UnsubscribeConfirmation: the sub's token and a
        SubscribeURL that (re)confirms the subscription with it."""
        message_id = str(uuid.uuid4())
        topic_arn = str(topic["TopicArn"])
        token = str(sub["Token"])
        fields = {
            "Type": kind,
            "MessageId": message_id,
            "Token": token,
            "TopicArn": topic_arn,
            "Message": message,
            "SubscribeURL": self._url("ConfirmSubscription", TopicArn=topic_arn, Token=token),
            "Timestamp": _timestamp(self._clock()),
            "SignatureVersion": None,
            "Signature": None,
            "SigningCertURL": None,
        }
        body = self._signed(topic, fields)
        headers = http_headers(kind, message_id, topic_arn, sub_arn)
        policy = RetryPolicy.of(topic["Attributes"].get("DeliveryPolicy"))
        self.delivery.submit(Job(str(sub["Protocol"]), str(sub["Endpoint"]), body, headers, policy))

    def _signed(self, topic: Mapping[str, Any], fields: dict[str, Any]) -> bytes:
        """The message JSON of `fields`, signed per the topic's SignatureVersion."""
        version = str(topic["Attributes"].get("SignatureVersion") or "1")
        fields["SignatureVersion"] = version
        fields["SigningCertURL"] = self._base + self.signer.cert_path()
        fields["Signature"] = self.signer.sign(fields, version)
        return message_json(fields)

    def _url(self, action: str, **params: str) -> str:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return f"{self._base}/?Action={action}&{query}"

    # --- tags ----------------------------------------------------------------------------

    def tag_resource(self, ctx: RequestContext, req: Request) -> Result:
        _check_tags(list(req["Tags"]))
        return self.tags.tag_resource(ctx, req)

    def _tagged(self, tx: ReadTx, ctx: RequestContext, arn: str) -> dict[str, Any]:
        topic = store.get_topic(tx, arn) if store.parse_topic_arn(arn) else None
        if topic is None:
            raise ResourceNotFound("Resource does not exist")
        return topic

    # --- helpers -------------------------------------------------------------------------

    def _topic_arn(self, ctx: RequestContext, arn: str) -> str:
        """A TopicArn member, of a topic in the request's region."""
        arn_parts(arn, "TopicArn")
        parsed = store.parse_topic_arn(arn)
        if parsed is None or parsed[1] != ctx.region:
            raise invalid("TopicArn")
        return arn

    def _topic(self, tx: ReadTx, arn: str) -> dict[str, Any]:
        topic = store.get_topic(tx, arn)
        if topic is None:
            raise topic_not_found()
        return topic


def _shown_attributes(topic: Mapping[str, Any], subs: list[dict[str, Any]]) -> dict[str, str]:
    """A topic's attributes as GetTopicAttributes shows them (`subs`: its subscriptions)."""
    arn = str(topic["TopicArn"])
    account = arn.split(":")[4]
    confirmed = sum(1 for s in subs if s.get("Confirmed"))
    attributes = {
        "Policy": default_policy(arn, account),
        "Owner": account,
        "SubscriptionsPending": str(len(subs) - confirmed),
        "TopicArn": arn,
        "EffectiveDeliveryPolicy": DEFAULT_DELIVERY_POLICY,
        "SubscriptionsConfirmed": str(confirmed),
        "DisplayName": "",
        "SubscriptionsDeleted": "0",
    }
    if topic["Attributes"].get("FifoTopic") == "true":
        attributes["ContentBasedDeduplication"] = "false"
    attributes.update(topic["Attributes"])
    if "DeliveryPolicy" in topic["Attributes"]:
        attributes["EffectiveDeliveryPolicy"] = topic["Attributes"]["DeliveryPolicy"]
    return attributes


def _publish_size(message: str, attributes: Mapping[str, Any]) -> int:
    """What counts towards Publish's 256 KiB: the message and every attribute's name,
    type and value."""
    size = len(message.encode())
    for name, attr in attributes.items():
        size += len(name.encode())
        for value in attr.values():
            size += len(value) if isinstance(value, bytes) else len(str(value).encode())
    return size


def _subscription_page(rows: Any) -> Result:
    found: list[dict[str, Any]] = []
    last = b""
    more = False
    for key, sub in rows:
        if len(found) == PAGE:
            more = True
            break
        found.append(
            {
                "SubscriptionArn": sub["SubscriptionArn"]
                if sub.get("Confirmed")
                else "PendingConfirmation",
                "Owner": sub["Owner"],
                "Protocol": sub["Protocol"],
                "Endpoint": sub["Endpoint"],
                "TopicArn": sub["TopicArn"],
            }
        )
        last = key
    out: Result = {"Subscriptions": found}
    if more:
        out["NextToken"] = base64.urlsafe_b64encode(last).decode()
    return out


def _wanted(sub_attributes: Mapping[str, Any], values: Mapping[str, Any], message: str) -> bool:
    text = sub_attributes.get("FilterPolicy")
    if not text:
        return True
    policy = filters.parse_policy(str(text))
    if policy is None:
        return True
    if sub_attributes.get("FilterPolicyScope") == "MessageBody":
        try:
            body = orjson.loads(message)
        except orjson.JSONDecodeError:
            return False
        return isinstance(body, dict) and filters.matches(policy, body)
    return filters.matches(policy, values)


def _token(text: Any, tag: bytes) -> bytes | None:
    return paging.tagged(text, tag, invalid("NextToken"))


def _save_topic(tx: WriteTx, ctx: RequestContext, topic: dict[str, Any]) -> None:
    store.put_topic(tx, topic)


def _check_tag_count(tags: Sized) -> None:
    if len(tags) > MAX_TAGS:
        raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")


def _check_tags(tags: list[dict[str, Any]]) -> None:
    _check_tag_count(tags)
    for tag in tags:
        if str(tag["Key"]).lower().startswith("aws:"):
            raise invalid("Tag keys must not start with 'aws:'")


def _check_attribute(name: str, value: str) -> None:
    if name in _JSON_ATTRIBUTES:
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid(f"{name}: failed to parse JSON.")
    elif name in ("FifoTopic", "ContentBasedDeduplication") and value.lower() not in (
        "true",
        "false",
    ):
        raise invalid(name)
    elif name == "SignatureVersion" and value not in SIGNATURE_VERSIONS:
        raise invalid("SignatureVersion")


def _check_subscription_attribute(
    name: str, value: str, protocol: str, member: str | None = None
) -> str:
    """A subscription attribute's value as stored (RawMessageDelivery in lower case);
    `member` is "Attributes" for Subscribe's, whose errors name it."""
    reason = f"{member} Reason: " if member else ""
    if name == "FilterPolicy" and value and filters.parse_policy(value) is None:
        raise invalid("FilterPolicy: failed to parse JSON.")
    if name == "FilterPolicyScope" and value not in ("MessageAttributes", "MessageBody"):
        raise invalid(
            f"{reason}FilterPolicyScope: Invalid value [{value}]. Please use either "
            "MessageBody or MessageAttributes"
        )
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise invalid(
                f"{reason}RawMessageDelivery: Invalid value [{value}]. Must be true or false."
            )
        value = value.lower()
        if value == "true" and protocol not in ("http", "https", "sqs", "firehose", "file"):
            raise invalid(
                "Attributes Reason: RawMessageDelivery: Invalid value [true]. Must be false."
            )
    if name in ("DeliveryPolicy", "RedrivePolicy"):
        _check_attribute(name, value)
    return value


def _check_endpoint(protocol: str, endpoint: str) -> None:
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if protocol in ("http", "https"):
        if not endpoint:
            raise invalid("Endpoint")
        if not endpoint.lower().startswith(f"{protocol}://"):
            raise invalid("Endpoint must match the specified protocol")
    elif protocol == "file":
        if not endpoint.startswith("file://"):
            raise invalid("Endpoint must match the specified protocol")
    elif protocol in ("email", "email-json"):
        if "@" not in endpoint:
            raise invalid("Email address")
    elif not endpoint:
        raise invalid("Endpoint")
    elif protocol == "sqs" and (not endpoint.startswith("arn:") or endpoint.count(":") < 5):
        raise invalid("SQS endpoint ARN")


def _check_message_attributes(attributes: Mapping[str, Any]) -> None:
    if len(attributes) > 10:
        raise invalid(
            f"MessageAttributes Reason: Number of message attributes [{len(attributes)}] "
            "exceeds the allowed maximum [10]."
        )
    for name, attr in attributes.items():
        _check_attribute_name(name)
        kind = str(attr.get("DataType") or "")
        base = kind.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise InvalidParameterValueException(
                f"The message attribute '{name}' has an invalid message attribute type, the "
                "set of supported type prefixes is Binary, Number, and String."
            )
        value = attr.get("BinaryValue") if base == "Binary" else attr.get("StringValue")
        if value in (None, "", b""):
            raise InvalidParameterValueException(
                f"The message attribute '{name}' must contain non-empty message attribute "
                f"value for message attribute type '{kind}'."
            )
        if base == "Number":
            try:
                float(attr["StringValue"])
            except ValueError:
                raise invalid(
                    f"Could not cast message attribute '{name}' value to number."
                ) from None


def _check_attribute_name(name: str) -> None:
    """SNS's rules for a message attribute's name (ParameterValueInvalid)."""
    if len(name.encode()) > 256:
        raise InvalidParameterValueException(
            "Length of message attribute name must be less than 256 bytes."
        )
    if _ATTRIBUTE_NAME.match(name):
        return
    if name.startswith("."):
        raise InvalidParameterValueException(
            "Invalid message attribute name starting with character '.' was found."
        )
    if name.endswith("."):
        raise InvalidParameterValueException(
            "Invalid message attribute name ending with character '.' was found."
        )
    for at, char in enumerate(name):
        if char not in _ATTRIBUTE_NAME_CHARS:
            raise InvalidParameterValueException(
                f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message "
                "attribute name. Can only include alphanumeric characters, hyphens, "
                "underscores, or dots."
            )
        if char == "." and name[at - 1] == ".":
            raise InvalidParameterValueException(
                "Message attribute name can not have successive '.' character."
            )
