"""SNS's storage: topics, subscriptions and confirmation tokens.

Layout of SNS_SPACE (stored on disk — do not reorder or change). ``s(x)`` is the
prefix-free string encoding of engine/keys.py.

- ``T s(account) s(region) s(name)``: a topic, ``{"TopicArn", "Attributes", "Tags"}``
  (Attributes: only those set by the user; the computed ones are added when read).
- ``S s(topic ARN) s(id)``: a subscription, ``{"SubscriptionArn", "Protocol",
  "Endpoint", "Owner", "Confirmed", "Token", "Attributes"}``; its ARN is the topic ARN,
  a colon and ``id``, so a subscription ARN finds its topic.
- ``K s(token)``: a pending confirmation token -> the subscription ARN.
- ``U s(token)``: an unsubscribed http/https subscription, kept so that the SubscribeURL
  of its UnsubscribeConfirmation (carrying ``token``) can restore it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.engine.keys import encode_key_value, prefix_end
from dynastore.storage.base import ReadTx, WriteTx

SNS_SPACE = spaces.SNS


def _s(text: str) -> bytes:
    return encode_key_value({"S": text})


def parse_topic_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, region, name) of a topic ARN, or None."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[5]:
        return None
    return parts[4], parts[3], parts[5]


def topic_key(account: str, region: str, name: str) -> bytes:
    return b"T" + _s(account) + _s(region) + _s(name)


def get_topic(tx: ReadTx, arn: str) -> dict[str, Any] | None:
    parsed = parse_topic_arn(arn)
    if parsed is None:
        return None
    raw = tx.get(SNS_SPACE, topic_key(*parsed))
    return orjson.loads(raw) if raw is not None else None


def put_topic(tx: WriteTx, topic: Mapping[str, Any]) -> None:
    parsed = parse_topic_arn(str(topic["TopicArn"]))
    assert parsed is not None
    tx.put(SNS_SPACE, topic_key(*parsed), orjson.dumps(topic))


def delete_topic(tx: WriteTx, arn: str) -> None:
    parsed = parse_topic_arn(arn)
    if parsed is None:
        return
    for sub in list(subscriptions(tx, arn)):
        delete_subscription(tx, sub)
    tx.delete(SNS_SPACE, topic_key(*parsed))


def topics(
    tx: ReadTx, account: str, region: str, after: bytes | None = None
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    prefix = b"T" + _s(account) + _s(region)
    start = prefix if after is None or after < prefix else after + b"\x00"
    for key, value in tx.range(SNS_SPACE, start, prefix_end(prefix)):
        yield key, orjson.loads(value)


def _sub_key(arn: str) -> bytes:
    topic, _, sub_id = arn.rpartition(":")
    return b"S" + _s(topic) + _s(sub_id)


def get_subscription(tx: ReadTx, arn: str) -> dict[str, Any] | None:
    raw = tx.get(SNS_SPACE, _sub_key(arn))
    return orjson.loads(raw) if raw is not None else None


def put_subscription(tx: WriteTx, sub: Mapping[str, Any]) -> None:
    tx.put(SNS_SPACE, _sub_key(str(sub["SubscriptionArn"])), orjson.dumps(sub))
    token = sub.get("Token")
    if token and not sub.get("Confirmed"):
        tx.put(SNS_SPACE, b"K" + _s(str(token)), str(sub["SubscriptionArn"]).encode())


def delete_subscription(tx: WriteTx, sub: Mapping[str, Any]) -> None:
    tx.delete(SNS_SPACE, _sub_key(str(sub["SubscriptionArn"])))
    if sub.get("Token"):
        tx.delete(SNS_SPACE, b"K" + _s(str(sub["Token"])))


def subscription_of_token(tx: ReadTx, token: str) -> str | None:
    raw = tx.get(SNS_SPACE, b"K" + _s(token))
    return raw.decode() if raw is not None else None


def subscriptions(tx: ReadTx, topic_arn: str) -> Iterator[dict[str, Any]]:
    prefix = b"S" + _s(topic_arn)
    for _, value in tx.range(SNS_SPACE, prefix, prefix_end(prefix)):
        yield orjson.loads(value)


def all_subscriptions(
    tx: ReadTx, account: str, region: str, after: bytes | None = None
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(key, subscription) of every subscription to the account's topics in the region."""
    prefix = b"S" + _s(f"arn:aws:sns:{region}:{account}:")[:-2]
    start = prefix if after is None or after < prefix else after + b"\x00"
    for key, value in tx.range(SNS_SPACE, start, prefix_end(prefix)):
        yield key, orjson.loads(value)


def put_unsubscribed(tx: WriteTx, sub: Mapping[str, Any]) -> None:
    """Keep a deleted subscription under its UnsubscribeConfirmation token."""
    tx.put(SNS_SPACE, b"U" + _s(str(sub["Token"])), orjson.dumps(sub))


def restore_unsubscribed(tx: WriteTx, token: str) -> dict[str, Any] | None:
    """Put back the subscription unsubscribed with `token` (confirmed); None if none."""
    key = b"U" + _s(token)
    raw = tx.get(SNS_SPACE, key)
    if raw is None:
        return None
    sub: dict[str, Any] = orjson.loads(raw)
    sub["Confirmed"] = True
    tx.delete(SNS_SPACE, key)
    tx.put(SNS_SPACE, _sub_key(str(sub["SubscriptionArn"])), orjson.dumps(sub))
    tx.put(SNS_SPACE, b"K" + _s(token), str(sub["SubscriptionArn"]).encode())
    return sub
