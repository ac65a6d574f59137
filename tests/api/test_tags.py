"""TagResource, UntagResource and ListTagsOfResource: round trips, limits and DynamoDB's errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import INVALID, REGION, Client, TableFactory, raises, unique_name

ACCOUNT = "000000000000"


def arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def tags(client: Client, name: str) -> list[dict[str, str]]:
    out = client.list_tags_of_resource(ResourceArn=arn(name))
    assert "NextToken" not in out  # at most 50 tags: one page
    listed: list[dict[str, str]] = out["Tags"]
    return listed


def as_dict(listed: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in listed}


def test_create_table_tags_are_listed_not_described(dynamodb: Client, table: TableFactory) -> None:
    name = table(Tags=[{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}])
    assert as_dict(tags(dynamodb, name)) == {"team": "storage", "env": ""}
    assert "Tags" not in dynamodb.describe_table(TableName=name)["Table"]


def test_new_table_has_no_tags(dynamodb: Client, table: TableFactory) -> None:
    assert tags(dynamodb, table()) == []


def test_tag_upserts_and_untag_removes(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.tag_resource(ResourceArn=arn(name), Tags=[{"Key": "k", "Value": "v1"}])
    dynamodb.tag_resource(
        ResourceArn=arn(name), Tags=[{"Key": "k", "Value": "v2"}, {"Key": "K", "Value": "x"}]
    )
    assert as_dict(tags(dynamodb, name)) == {"k": "v2", "K": "x"}  # keys are case-sensitive
    dynamodb.untag_resource(ResourceArn=arn(name), TagKeys=["k", "absent"])
    assert tags(dynamodb, name) == [{"Key": "K", "Value": "x"}]


def test_allowed_characters(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    chosen = [
        {"Key": "sp ace", "Value": "a b+c-d=e.f_g:h/i@j"},
        {"Key": "ключ", "Value": "café 表"},
        {"Key": "myaws:x", "Value": "aws:ok-in-values"},
    ]
    dynamodb.tag_resource(ResourceArn=arn(name), Tags=chosen)
    assert as_dict(tags(dynamodb, name)) == as_dict(chosen)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ({"Key": "bad#char", "Value": "v"}, "The Tag Key provided is invalid, Key: bad#char"),
        ({"Key": "k", "Value": "100%"}, "The Tag Value provided is invalid, Value: 100%"),
        ({"Key": "k", "Value": "a,b"}, "The Tag Value provided is invalid, Value: a,b"),
        ({"Key": "🔑", "Value": "v"}, "The Tag Key provided is invalid, Key: 🔑"),
        ({"Key": "aws:foo", "Value": "v"}, "Tag Key cannot be prefixed with aws:, Key: aws:foo"),
        ({"Key": "AWS:foo", "Value": "v"}, "Tag Key cannot be prefixed with aws:, Key: AWS:foo"),
    ],
)
def test_invalid_tags(
    dynamodb: Client, table: TableFactory, tag: dict[str, str], message: str
) -> None:
    name = table()
    with raises("ValidationException", message):
        dynamodb.tag_resource(ResourceArn=arn(name), Tags=[{"Key": "good", "Value": "1"}, tag])
    assert tags(dynamodb, name) == []  # all or nothing


def test_duplicate_keys(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises(
        "ValidationException", "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"
    ):
        dynamodb.tag_resource(
            ResourceArn=arn(name), Tags=[{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}]
        )


def test_empty_lists(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ValidationException", "Atleast one Tag needs to be provided as Input."):
        dynamodb.tag_resource(ResourceArn=arn(name), Tags=[])
    with raises("ValidationException", "Atleast one Tag Key needs to be provided as Input."):
        dynamodb.untag_resource(ResourceArn=arn(name), TagKeys=[])


def test_untag_checks_keys(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ValidationException", "Tag Key cannot be prefixed with aws:, Key: aws:foo"):
        dynamodb.untag_resource(ResourceArn=arn(name), TagKeys=["aws:foo"])
    with raises(
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    ):
        dynamodb.untag_resource(ResourceArn=arn(name), TagKeys=[f"k{n}" for n in range(51)])


def test_fifty_tags_at_most(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    fifty = [{"Key": f"k{n:02}", "Value": f"v{n}"} for n in range(50)]
    dynamodb.tag_resource(ResourceArn=arn(name), Tags=fifty)
    assert tags(dynamodb, name) == fifty
    too_many = "Number of Tags exceed the current limit for the provided ResourceArn"
    with raises("ValidationException", too_many):
        dynamodb.tag_resource(ResourceArn=arn(name), Tags=[{"Key": "k50", "Value": "x"}])
    with raises("ValidationException", too_many):
        dynamodb.tag_resource(
            ResourceArn=arn(name),
            Tags=[{"Key": "k01", "Value": "new"}, {"Key": "k50", "Value": "x"}],
        )
    dynamodb.tag_resource(ResourceArn=arn(name), Tags=[{"Key": "k01", "Value": "new"}])
    assert as_dict(tags(dynamodb, name))["k01"] == "new"


def test_fifty_one_tags_at_create(dynamodb: Client) -> None:
    with raises(
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(51)],
        )


def test_tag_set_size_limit(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    big = [{"Key": f"{n:02}" + "k" * 126, "Value": "v" * 256} for n in range(27)]
    size = sum(len(t["Key"]) + len(t["Value"]) for t in big)
    with raises(
        "ValidationException",
        f"Tag set size {size} bytes is above max size limit of 10240 bytes",
    ):
        dynamodb.tag_resource(ResourceArn=arn(name), Tags=big)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("my-table", INVALID + "ARNs must start with 'arn:': my-table"),
        (
            "arn:aws:s3:::bucket",
            INVALID + "Provided Arn is not a DynamoDB resource arn: arn:aws:s3:::bucket",
        ),
        (
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1/backup/01234567890123-abcdefgh",
            INVALID + "Provided Arn is not a DynamoDB resource arn: "
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1/backup/01234567890123-abcdefgh",
        ),
        (
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1/index/i1",
            INVALID + "Invalid resource arn provided, only table or stream is accepted. "
            f"Provided resource arn: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1/index/i1",
        ),
        (
            f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t1",
            "Invalid TableArn: Invalid ResourceArn provided as input "
            f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t1",
        ),
    ],
)
def test_bad_resource_arns(dynamodb: Client, resource: str, message: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_tags_of_resource", {}),
        ("tag_resource", {"Tags": [{"Key": "k", "Value": "v"}]}),
        ("untag_resource", {"TagKeys": ["k"]}),
    ]
    for method, params in calls:
        with raises("ValidationException", message):
            getattr(dynamodb, method)(ResourceArn=resource, **params)


def test_missing_table(dynamodb: Client) -> None:
    missing = arn(unique_name())
    message = f"Requested resource not found: ResourceArn: {missing} not found"
    with raises("ResourceNotFoundException", message):
        dynamodb.list_tags_of_resource(ResourceArn=missing)
    with raises("ResourceNotFoundException", message):
        dynamodb.tag_resource(ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}])
    with raises("ResourceNotFoundException", message):
        dynamodb.untag_resource(ResourceArn=missing, TagKeys=["k"])


def test_tag_validation_comes_before_the_table_lookup(dynamodb: Client) -> None:
    with raises("ValidationException", "Tag Key cannot be prefixed with aws:, Key: aws:x"):
        dynamodb.tag_resource(ResourceArn=arn(unique_name()), Tags=[{"Key": "aws:x", "Value": ""}])


def test_tags_survive_other_updates(dynamodb: Client, table: TableFactory) -> None:
    name = table(Tags=[{"Key": "a", "Value": "1"}])
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    assert tags(dynamodb, name) == [{"Key": "a", "Value": "1"}]


@pytest.mark.parametrize("token", ["not-a-token", "99", "-1"])
def test_unknown_next_token_lists_from_the_start(
    dynamodb: Client, table: TableFactory, token: str
) -> None:
    name = table(Tags=[{"Key": "a", "Value": "1"}])
    listed = dynamodb.list_tags_of_resource(ResourceArn=arn(name), NextToken=token)
    assert listed["Tags"] == [{"Key": "a", "Value": "1"}]
    assert "NextToken" not in listed
