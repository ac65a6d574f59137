"""SNS with boto3 (Query protocol): topics, subscriptions, real HTTP delivery, errors.

HTTP subscribers are small servers on 127.0.0.1 started by the tests; the ``file``
protocol (a Dynastore extension) writes messages to a local file.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.api.helpers import (
    REGION,
    Client,
    HttpEndpoint,
    aws_client,
    confirm_subscription,
    fails,
    unique_name,
)

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def sns(endpoint: str) -> Client:
    return aws_client(endpoint, "sns")


@pytest.fixture
def topic(sns: Client) -> Iterator[Callable[..., str]]:
    """Create a uniquely named topic (keyword arguments go to CreateTopic); deleted after."""
    arns: list[str] = []

    def make(**params: Any) -> str:
        arn: str = sns.create_topic(Name=params.pop("Name", unique_name()), **params)["TopicArn"]
        arns.append(arn)
        return arn

    yield make
    for arn in arns:
        sns.delete_topic(TopicArn=arn)


class Endpoint(HttpEndpoint):
    """An HTTP subscriber: records requests; fails the first `failures` deliveries."""

    def __init__(self, failures: int = 0, confirm: bool = False) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        self.confirm = confirm
        super().__init__("/sns")

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        self.requests.append((headers, body))
        kind = headers["x-amz-sns-message-type"]
        if self.confirm and kind == "SubscriptionConfirmation":
            confirm_subscription(json.loads(body))
        if kind == "Notification" and self.failures:
            self.failures -= 1
            return 500
        return 200

    def wait(self, count: int, timeout: float = 15.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= count, self.requests
        return self.requests


@pytest.fixture
def http_endpoint() -> Iterator[Callable[..., Endpoint]]:
    made: list[Endpoint] = []

    def make(**options: Any) -> Endpoint:
        endpoint = Endpoint(**options)
        made.append(endpoint)
        return endpoint

    yield make
    for endpoint in made:
        endpoint.close()


def _subscribed(sns: Client, arn: str, endpoint: Endpoint, **params: Any) -> str:
    """Subscribe `endpoint` and confirm with the token it received; the subscription ARN."""
    assert (
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url, **params)[
            "SubscriptionArn"
        ]
        == "pending confirmation"
    )
    _, body = endpoint.wait(1)[0]
    token = json.loads(body)["Token"]
    sub: str = sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"]
    endpoint.requests.clear()
    return sub


# --- topics -------------------------------------------------------------------------------


def test_topic_lifecycle(sns: Client, topic: Callable[..., str]) -> None:
    name = unique_name()
    arn = topic(Name=name, Attributes={"DisplayName": "Alerts"}, Tags=[{"Key": "a", "Value": "1"}])
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn  # idempotent
    assert {"TopicArn": arn} in sns.list_topics()["Topics"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Alerts"
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == ACCOUNT
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]) == ("0", "0")
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    assert "http" in json.loads(attributes["EffectiveDeliveryPolicy"])
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Pager")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Pager"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting a missing topic is not an error
    assert {"TopicArn": arn} not in sns.list_topics()["Topics"]


def test_topic_errors(sns: Client, topic: Callable[..., str]) -> None:
    fails(
        lambda: sns.create_topic(Name="bad name!"),
        "InvalidParameter",
        "Invalid parameter: Topic Name",
    )
    name = unique_name()
    topic(Name=name, Attributes={"DisplayName": "one"})
    fails(
        lambda: sns.create_topic(Name=name, Attributes={"DisplayName": "two"}),
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    )
    fails(
        lambda: sns.create_topic(Name=unique_name(), Attributes={"Colour": "red"}),
        "InvalidParameter",
        "Invalid parameter: AttributeName",
    )
    fails(
        lambda: sns.create_topic(Name=unique_name(), Attributes={"FifoTopic": "true"}),
        "InvalidParameter",
    )
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique_name()}"
    fails(
        lambda: sns.get_topic_attributes(TopicArn=missing), "NotFound", "Topic does not exist", 404
    )
    fails(lambda: sns.publish(TopicArn=missing, Message="m"), "NotFound", status=404)
    fails(
        lambda: sns.get_topic_attributes(TopicArn="nope"),
        "InvalidParameter",
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
    )
    fails(
        lambda: sns.delete_topic(TopicArn="Invalid:Topic:Arn"),
        "InvalidParameter",
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 3",
    )
    elsewhere = f"arn:aws:sns:eu-west-1:{ACCOUNT}:{name}"  # not this client's region
    fails(
        lambda: sns.get_topic_attributes(TopicArn=elsewhere),
        "InvalidParameter",
        "Invalid parameter: TopicArn",
    )
    fails(
        lambda: sns.list_tags_for_resource(ResourceArn=missing),
        "ResourceNotFound",
        "Resource does not exist",
        404,
    )


# --- subscriptions and delivery -----------------------------------------------------------


def test_http_subscription_confirmation_and_notification(
    sns: Client, topic: Callable[..., str], http_endpoint: Callable[..., Endpoint]
) -> None:
    arn = topic()
    endpoint = http_endpoint()
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url)
    [(headers, body)] = endpoint.wait(1)
    confirmation = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-topic-arn"] == arn
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == arn
    assert confirmation["Message"].startswith(f"You have chosen to subscribe to the topic {arn}.")
    assert headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    [pending] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert pending["SubscriptionArn"] == "PendingConfirmation"
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["SubscriptionsPending"] == "1"

    # The SubscribeURL confirms without credentials, as SNS's does.
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as answer:
        assert b"<ConfirmSubscriptionResult><SubscriptionArn>" in answer.read()
    [sub] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(f"{arn}:")
    assert (sub["Protocol"], sub["Endpoint"], sub["Owner"]) == ("http", endpoint.url, ACCOUNT)
    assert sub in sns.list_subscriptions()["Subscriptions"]
    endpoint.requests.clear()

    message_id = sns.publish(
        TopicArn=arn,
        Subject="Greetings",
        Message="hello world",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )["MessageId"]
    [(headers, body)] = endpoint.wait(1)
    notification = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == message_id
    assert (notification["Subject"], notification["Message"]) == ("Greetings", "hello world")
    assert notification["MessageAttributes"] == {"kind": {"Type": "String", "Value": "greeting"}}
    assert notification["SignatureVersion"] == "1"
    assert notification["Timestamp"].endswith("Z")

    # The UnsubscribeURL too.
    with urllib.request.urlopen(notification["UnsubscribeURL"], timeout=10) as answer:
        answer.read()
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def _verify(message: dict[str, Any]) -> None:
    """Check a message's signature as the AWS SDKs' message validators do: fetch the
    certificate at SigningCertURL, build SNS's string to sign for the message type, and
    verify Signature with the certificate's public key (SHA1withRSA for version 1,
    SHA256withRSA for 2). Raises InvalidSignature when it does not match."""
    with urllib.request.urlopen(message["SigningCertURL"], timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/x-x509-ca-cert"
        certificate = x509.load_pem_x509_certificate(answer.read())
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{message[name]}\n" for name in names if name in message)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), algorithm)


@pytest.mark.parametrize("version", ["1", "2"])
def test_messages_are_signed(
    sns: Client, topic: Callable[..., str], http_endpoint: Callable[..., Endpoint], version: str
) -> None:
    arn = topic(Attributes={"SignatureVersion": "2"}) if version == "2" else topic()
    endpoint = http_endpoint()
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url)
    [(_, body)] = endpoint.wait(1)
    confirmation = json.loads(body)
    assert confirmation["SignatureVersion"] == version
    assert confirmation["SigningCertURL"].endswith(".pem")
    assert "/SimpleNotificationService-" in confirmation["SigningCertURL"]
    _verify(confirmation)
    sub = sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])["SubscriptionArn"]

    sns.publish(TopicArn=arn, Subject="With a subject", Message="first")
    sns.publish(TopicArn=arn, Message="second")
    notifications = [json.loads(body) for _, body in endpoint.wait(3)[1:]]
    assert [n["Message"] for n in notifications] == ["first", "second"]
    assert "Subject" not in notifications[1]
    for notification in notifications:
        assert notification["SignatureVersion"] == version
        assert notification["SigningCertURL"] == confirmation["SigningCertURL"]
        _verify(notification)

    # Any change to a signed field, or to the version, breaks the signature.
    for field, value in [
        ("Message", "third"),
        ("Subject", "Another subject"),
        ("Timestamp", "2020-01-01T00:00:00.000Z"),
        ("TopicArn", arn + "x"),
        ("SignatureVersion", "2" if version == "1" else "1"),
    ]:
        with pytest.raises(InvalidSignature):
            _verify({**notifications[0], field: value})
    with pytest.raises(InvalidSignature):
        _verify({**confirmation, "Token": confirmation["Token"][::-1]})

    # Unsubscribing sends a signed UnsubscribeConfirmation; its SubscribeURL restores.
    sns.unsubscribe(SubscriptionArn=sub)
    headers, body = endpoint.wait(4)[3]
    goodbye = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert goodbye["Type"] == "UnsubscribeConfirmation"
    assert goodbye["Message"].startswith(f"You have chosen to deactivate subscription {sub}.")
    _verify(goodbye)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    with urllib.request.urlopen(goodbye["SubscribeURL"], timeout=10) as answer:
        assert sub.encode() in answer.read()
    [restored] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert restored["SubscriptionArn"] == sub


def test_signing_certificate(sns: Client, topic: Callable[..., str], endpoint: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{endpoint}/SimpleNotificationService-0000.pem", timeout=10)
    assert missing.value.code == 404
    arn = topic()
    fails(
        lambda: sns.set_topic_attributes(
            TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="3"
        ),
        "InvalidParameter",
        "Invalid parameter: SignatureVersion",
    )
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SignatureVersion"] == "2"


def test_failed_deliveries_are_retried(
    sns: Client, topic: Callable[..., str], http_endpoint: Callable[..., Endpoint]
) -> None:
    policy = {
        "http": {
            "defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3}
        }
    }
    arn = topic(Attributes={"DeliveryPolicy": json.dumps(policy)})
    endpoint = http_endpoint(failures=2)
    _subscribed(sns, arn, endpoint)
    sns.publish(TopicArn=arn, Message="eventually")
    requests = endpoint.wait(3, timeout=20)
    bodies = [json.loads(body)["Message"] for _, body in requests]
    assert bodies == ["eventually"] * 3  # two failures, then delivered


def test_raw_delivery_filters_and_structured_messages(
    sns: Client, topic: Callable[..., str], http_endpoint: Callable[..., Endpoint]
) -> None:
    arn = topic()
    raw = http_endpoint()
    sub = _subscribed(sns, arn, raw, Attributes={"RawMessageDelivery": "true"})
    assert (
        sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"]
        == "true"
    )
    filtered = http_endpoint()
    policy = json.dumps({"color": ["red"], "size": [{"numeric": [">=", 10]}]})
    _subscribed(sns, arn, filtered, Attributes={"FilterPolicy": policy})

    def attributes(color: str, size: int) -> dict[str, Any]:
        return {
            "color": {"DataType": "String", "StringValue": color},
            "size": {"DataType": "Number", "StringValue": str(size)},
        }

    sns.publish(TopicArn=arn, Message="blue", MessageAttributes=attributes("blue", 20))
    sns.publish(TopicArn=arn, Message="red", MessageAttributes=attributes("red", 20))
    message = json.dumps({"default": "plain", "http": "for http"})
    sns.publish(TopicArn=arn, Message=message, MessageStructure="json")
    assert [body for _, body in raw.wait(3)] == [b"blue", b"red", b"for http"]
    [(_, body)] = filtered.wait(1)
    assert json.loads(body)["Message"] == "red"
    time.sleep(0.3)
    assert len(filtered.requests) == 1


def test_file_subscription(sns: Client, topic: Callable[..., str], tmp_path: Path) -> None:
    arn = topic()
    log = tmp_path / "messages.jsonl"
    sub = sns.subscribe(TopicArn=arn, Protocol="file", Endpoint=f"file://{log}")
    assert sub["SubscriptionArn"].startswith(f"{arn}:")  # confirmed at once
    sns.publish(TopicArn=arn, Message="one")
    sns.publish(TopicArn=arn, Message="two")
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and len(log.read_text().splitlines() if log.exists() else []) < 2
    ):
        time.sleep(0.05)
    assert [json.loads(line)["Message"] for line in log.read_text().splitlines()] == ["one", "two"]
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])  # as SNS: no error the second time
    fails(
        lambda: sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"]),
        "NotFound",
        "Subscription does not exist",
        404,
    )


def test_subscription_and_publish_errors(sns: Client, topic: Callable[..., str]) -> None:
    arn = topic()
    fails(
        lambda: sns.subscribe(TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x"),
        "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon",
    )
    fails(
        lambda: sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="http://127.0.0.1/"),
        "InvalidParameter",
        "Invalid parameter: Endpoint must match the specified protocol",
    )
    fails(
        lambda: sns.confirm_subscription(TopicArn=arn, Token="not-a-token"),
        "InvalidParameter",
        "Invalid parameter: Token",
    )
    fails(
        lambda: sns.publish(TopicArn=arn, Message=""),
        "InvalidParameter",
        "Invalid parameter: Empty message",
    )
    fails(
        lambda: sns.publish(TopicArn=arn, Message="m", Subject="s" * 101),
        "InvalidParameter",
        "Invalid parameter: Subject",
    )
    fails(
        lambda: sns.publish(TopicArn=arn, Message="x" * 262145),
        "InvalidParameter",
        "Invalid parameter: Message too long",
    )
    fails(
        lambda: sns.publish(TopicArn=arn, Message='{"http": "x"}', MessageStructure="json"),
        "InvalidParameter",
        "Invalid parameter: Message Structure - No default entry in JSON message body",
    )
    fails(
        lambda: sns.publish(
            TopicArn=arn,
            Message="m",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "ten"}},
        ),
        "InvalidParameter",
    )


def test_fifo_topics(sns: Client, topic: Callable[..., str]) -> None:
    arn = topic(Name=f"{unique_name()}.fifo", Attributes={"FifoTopic": "true"})
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    fails(
        lambda: sns.publish(TopicArn=arn, Message="m"),
        "InvalidParameter",
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
    )
    fails(lambda: sns.publish(TopicArn=arn, Message="m", MessageGroupId="g"), "InvalidParameter")
    answer = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d")
    assert answer["SequenceNumber"].isdigit()


def test_create_topic_is_idempotent(sns: Client, topic: Callable[..., str]) -> None:
    name = unique_name()
    arn = topic(Name=name)
    # the same attributes as the topic shows, set or default, answer the same topic
    assert sns.create_topic(Name=name, Attributes={"DisplayName": ""})["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Ops")
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Ops"})["TopicArn"] == arn
    fails(
        lambda: sns.create_topic(Name=name, Attributes={"DisplayName": "Dev"}),
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    )
    fifo = topic(Name=f"{unique_name()}.fifo", Attributes={"FifoTopic": "true"})
    shown = sns.get_topic_attributes(TopicArn=fifo)["Attributes"]
    assert (shown["FifoTopic"], shown["ContentBasedDeduplication"]) == ("true", "false")
    again = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
    assert sns.create_topic(Name=fifo.rpartition(":")[2], Attributes=again)["TopicArn"] == fifo


def test_subscription_arn_errors(sns: Client, topic: Callable[..., str]) -> None:
    arn = topic()
    for call in (sns.unsubscribe, sns.get_subscription_attributes):
        fails(
            lambda call=call: call(SubscriptionArn="pending confirmation"),
            "InvalidParameter",
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, "
            "not 1",
        )
        fails(
            lambda call=call: call(SubscriptionArn=arn),  # a topic's ARN: no subscription id
            "InvalidParameter",
            "Invalid parameter: SubscriptionId",
        )
    sns.unsubscribe(SubscriptionArn=f"{arn}:00000000-0000-0000-0000-000000000000")
    fails(
        lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="my-queue"),
        "InvalidParameter",
        "Invalid parameter: SQS endpoint ARN",
    )
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name()}.fifo"
    fails(
        lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue),
        "InvalidParameter",
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics",
    )


def test_publish_checks(sns: Client, topic: Callable[..., str]) -> None:
    arn = topic()
    assert sns.publish(TopicArn=arn, Message="m", Subject="Température élevée")["MessageId"]
    fails(lambda: sns.publish(TopicArn=arn, Message="m", Subject="a\nb"), "InvalidParameter")
    fails(
        lambda: sns.publish(TopicArn=arn, Message="m", MessageDeduplicationId="d"),
        "InvalidParameter",
        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
        "MessageDeduplicationId parameter that is not valid for this topic type",
    )
    # the message attributes' names, types and values count towards the 256 KiB
    big = {"name": {"DataType": "String", "StringValue": "v" * 10}}
    fails(
        lambda: sns.publish(TopicArn=arn, Message="x" * (262144 - 10), MessageAttributes=big),
        "InvalidParameter",
        "Invalid parameter: Message too long",
    )

    def attribute(name: str, value: dict[str, Any]) -> Callable[[], Any]:
        return lambda: sns.publish(TopicArn=arn, Message="m", MessageAttributes={name: value})

    text = {"DataType": "String", "StringValue": "v"}
    fails(
        attribute("a b", text),
        "ParameterValueInvalid",
        "Invalid non-alphanumeric character '#x20' was found in the message attribute name. "
        "Can only include alphanumeric characters, hyphens, underscores, or dots.",
    )
    fails(
        attribute(".a", text),
        "ParameterValueInvalid",
        "Invalid message attribute name starting with character '.' was found.",
    )
    fails(
        attribute("a..b", text),
        "ParameterValueInvalid",
        "Message attribute name can not have successive '.' character.",
    )
    fails(
        attribute("a", {"DataType": "Text", "StringValue": "v"}),
        "ParameterValueInvalid",
        "The message attribute 'a' has an invalid message attribute type, the set of supported "
        "type prefixes is Binary, Number, and String.",
    )
    fails(
        attribute("a", {"DataType": "String", "StringValue": ""}),
        "ParameterValueInvalid",
        "The message attribute 'a' must contain non-empty message attribute value for message "
        "attribute type 'String'.",
    )
    assert sns.publish(TopicArn=arn, Message="m", MessageAttributes={"a.b-c_d": text})


def test_create_topic_with_some_of_its_tags(sns: Client, topic: Callable[..., str]) -> None:
    name = unique_name()
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    arn = topic(Name=name, Tags=tags)
    for again in (tags, tags[:1], []):  # the topic's tags or some of them: the same topic
        assert sns.create_topic(Name=name, Tags=again)["TopicArn"] == arn
    fails(
        lambda: sns.create_topic(Name=name, Tags=[{"Key": "c", "Value": "3"}]),
        "InvalidParameter",
        "Invalid parameter: Tags Reason: Topic already exists with different tags",
    )


def test_subscription_attributes(sns: Client, topic: Callable[..., str], tmp_path: Path) -> None:
    arn = topic()
    endpoint = f"file://{tmp_path / 'log.jsonl'}"

    def subscribe(**attributes: str) -> str:
        answer = sns.subscribe(
            TopicArn=arn, Protocol="file", Endpoint=endpoint, Attributes=attributes
        )
        return str(answer["SubscriptionArn"])

    sub = subscribe(RawMessageDelivery="TrUe")  # stored in lower case
    shown = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert shown["RawMessageDelivery"] == "true"
    # the same attributes as the subscription shows, set or default: the same subscription
    assert subscribe(RawMessageDelivery="true", FilterPolicyScope="MessageAttributes") == sub
    assert subscribe() == sub
    fails(
        lambda: subscribe(RawMessageDelivery="false", FilterPolicyScope="MessageBody"),
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Subscription already exists with different "
        "attributes",
    )
    fails(
        lambda: sns.subscribe(
            TopicArn=arn, Protocol="file", Endpoint=endpoint + "2",
            Attributes={"RawMessageDelivery": "wrongvalue"},
        ),
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. "
        "Must be true or false.",
    )  # fmt: skip

    def set_attribute(name: str, value: str) -> Callable[[], Any]:
        return lambda: sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName=name, AttributeValue=value
        )

    fails(
        set_attribute("RawMessageDelivery", ""),
        "InvalidParameter",
        "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false.",
    )
    fails(
        set_attribute("FilterPolicy", "{invalidjson}"),
        "InvalidParameter",
        "Invalid parameter: FilterPolicy: failed to parse JSON.",
    )
    fails(
        set_attribute("FilterPolicyScope", "Body"),
        "InvalidParameter",
        "Invalid parameter: FilterPolicyScope: Invalid value [Body]. Please use either "
        "MessageBody or MessageAttributes",
    )
    set_attribute("FilterPolicy", json.dumps({"color": ["red"]}))()
    shown = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert shown["FilterPolicyScope"] == "MessageAttributes"  # the default, with a policy
    # a plain email subscription may say it is not raw
    email = sns.subscribe(
        TopicArn=arn,
        Protocol="email",
        Endpoint="someone@example.com",
        Attributes={"RawMessageDelivery": "false"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    assert email.startswith(f"{arn}:")


def test_structured_message_needs_a_string_default(sns: Client, topic: Callable[..., str]) -> None:
    arn = topic()
    fails(
        lambda: sns.publish(
            TopicArn=arn, Message=json.dumps({"default": {"object": "x"}}), MessageStructure="json"
        ),
        "InvalidParameter",
        "Invalid parameter: Message Structure - No default entry in JSON message body",
    )
    structured = json.dumps({"default": "text", "http": {"not": "a string"}})
    assert sns.publish(TopicArn=arn, Message=structured, MessageStructure="json")["MessageId"]
