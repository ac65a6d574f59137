"""CreateTable: response shape, every parameter, and DynamoDB's validation messages."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.conftest import own_server
from tests.api.helpers import (
    INVALID,
    NAME_PATTERN,
    NO_THROUGHPUT_ON_DEMAND,
    UUID_RE,
    Client,
    TableFactory,
    attr,
    aws_client,
    index_spec,
    one_error,
    raises,
    schema,
    table_not_found,
    unique_name,
    validation,
    wait_active,
)

HASH_PK = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEF_PK = [{"AttributeName": "pk", "AttributeType": "S"}]
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
ON_DEMAND_WARM = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}


def params(name: str, **overrides: Any) -> dict[str, Any]:
    """A valid on-demand hash-key CreateTable request, with overrides."""
    out: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": DEF_PK,
        "KeySchema": HASH_PK,
        "BillingMode": "PAY_PER_REQUEST",
    }
    out.update(overrides)
    return out


def assert_not_created(client: Client, name: str) -> None:
    with raises("ResourceNotFoundException", table_not_found(name)):
        client.describe_table(TableName=name)


# --- success paths ---------------------------------------------------------------------


def test_on_demand_hash_table_response_shape(
    dynamodb: Client, cleanup: Callable[[str], str]
) -> None:
    name = cleanup(unique_name())
    before = datetime.datetime.now(datetime.UTC)
    desc = dynamodb.create_table(**params(name))["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "CREATING"
    assert desc["AttributeDefinitions"] == DEF_PK
    assert desc["KeySchema"] == HASH_PK
    assert desc["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["TableSizeBytes"] == 0
    assert desc["ItemCount"] == 0
    assert re.fullmatch(rf"arn:aws:dynamodb:us-east-1:\d{{12}}:table/{name}", desc["TableArn"])
    assert UUID_RE.match(desc["TableId"])
    created = desc["CreationDateTime"]
    assert abs((created - before).total_seconds()) < 300


def test_provisioned_hash_range_table(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(unique_name())
    defs = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    desc = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=defs,
        KeySchema=schema,
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
    )["TableDescription"]
    assert desc["KeySchema"] == schema
    assert desc["AttributeDefinitions"] == defs
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert desc["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 0
    assert desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"


def test_explicit_provisioned_billing_mode(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    """PROVISIONED is the default: a table created so has no BillingModeSummary either."""
    name = cleanup(unique_name())
    desc = dynamodb.create_table(
        **params(name, BillingMode="PROVISIONED", ProvisionedThroughput=THROUGHPUT)
    )["TableDescription"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert "BillingModeSummary" not in desc
    wait_active(dynamodb, name)
    assert "BillingModeSummary" not in dynamodb.describe_table(TableName=name)["Table"]


def test_answer_lacks_what_describe_adds(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    """CreateTable's answer has no WarmThroughput and BillingModeSummary without its time;
    DescribeTable has both."""
    name = cleanup(unique_name())
    gsi = {**index_spec("by-g", "g"), "WarmThroughput": {"ReadUnitsPerSecond": 13000}}
    desc = dynamodb.create_table(
        **params(name, AttributeDefinitions=[*DEF_PK, attr("g")], GlobalSecondaryIndexes=[gsi])
    )["TableDescription"]
    assert desc["BillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}
    assert "WarmThroughput" not in desc
    assert "WarmThroughput" not in desc["GlobalSecondaryIndexes"][0]
    wait_active(dynamodb, name)
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert isinstance(
        described["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"], datetime.datetime
    )
    assert described["WarmThroughput"] == {**ON_DEMAND_WARM, "Status": "ACTIVE"}
    assert described["GlobalSecondaryIndexes"][0]["WarmThroughput"] == {
        "ReadUnitsPerSecond": 13000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }


@pytest.mark.parametrize("attr_type", ["S", "N", "B"])
def test_every_key_type_is_accepted(
    dynamodb: Client, cleanup: Callable[[str], str], attr_type: str
) -> None:
    name = cleanup(unique_name())
    defs = [{"AttributeName": "k", "AttributeType": attr_type}]
    desc = dynamodb.create_table(
        **params(
            name, AttributeDefinitions=defs, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}]
        )
    )["TableDescription"]
    assert desc["AttributeDefinitions"] == defs


def test_table_becomes_active(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(unique_name())
    dynamodb.create_table(**params(name))
    wait_active(dynamodb, name)
    assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_deletion_protection_is_reported(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(unique_name())
    desc = dynamodb.create_table(**params(name, DeletionProtectionEnabled=True))
    assert desc["TableDescription"]["DeletionProtectionEnabled"] is True


def test_deletion_protection_defaults_to_false(
    dynamodb: Client, cleanup: Callable[[str], str]
) -> None:
    name = cleanup(unique_name())
    desc = dynamodb.create_table(**params(name))["TableDescription"]
    assert desc["DeletionProtectionEnabled"] is False


def test_table_class_is_reported(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(unique_name())
    desc = dynamodb.create_table(**params(name, TableClass="STANDARD_INFREQUENT_ACCESS"))
    summary = desc["TableDescription"]["TableClassSummary"]
    assert summary["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def test_tags_are_accepted(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(unique_name())
    desc = dynamodb.create_table(**params(name, Tags=[{"Key": "team", "Value": "storage"}]))
    assert desc["TableDescription"]["TableName"] == name


def test_name_with_every_allowed_character(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    name = cleanup(f"A_z.0-9_{uuid.uuid4().hex[:8]}")
    assert dynamodb.create_table(**params(name))["TableDescription"]["TableName"] == name


@pytest.mark.parametrize("length", [3, 255])
def test_name_length_bounds_are_accepted(
    dynamodb: Client, cleanup: Callable[[str], str], length: int
) -> None:
    name = cleanup((uuid.uuid4().hex * 8)[:length])
    assert dynamodb.create_table(**params(name))["TableDescription"]["TableName"] == name


def test_names_are_case_sensitive(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    lower = cleanup(unique_name("case"))
    upper = cleanup(lower.upper())
    dynamodb.create_table(**params(lower))
    dynamodb.create_table(**params(upper))
    wait_active(dynamodb, lower)
    wait_active(dynamodb, upper)
    assert dynamodb.describe_table(TableName=upper)["Table"]["TableName"] == upper


def test_each_table_gets_its_own_id(dynamodb: Client, table: TableFactory) -> None:
    first, second = table(), table()
    id1 = dynamodb.describe_table(TableName=first)["Table"]["TableId"]
    id2 = dynamodb.describe_table(TableName=second)["Table"]["TableId"]
    assert id1 != id2


# --- errors ----------------------------------------------------------------------------


def test_existing_table_is_in_use(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    before = dynamodb.describe_table(TableName=name)["Table"]
    with raises("ResourceInUseException", f"Table already exists: {name}"):
        dynamodb.create_table(
            **params(
                name,
                AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "N"}],
                KeySchema=[{"AttributeName": "other", "KeyType": "HASH"}],
            )
        )
    after = dynamodb.describe_table(TableName=name)["Table"]
    assert after["TableId"] == before["TableId"]
    assert after["KeySchema"] == before["KeySchema"]


def test_missing_table_name(unchecked: Client) -> None:
    request = params("x")
    del request["TableName"]
    with validation("The parameter 'TableName' is required but was not present in the request"):
        unchecked.create_table(**request)


def test_name_too_short(dynamodb: Client) -> None:
    message = one_error("ab", "tableName", "Member must have length greater than or equal to 3")
    with validation(message):
        dynamodb.create_table(**params("ab"))


def test_name_too_long(dynamodb: Client) -> None:
    name = "a" * 256
    message = one_error(name, "tableName", "Member must have length less than or equal to 255")
    with validation(message):
        dynamodb.create_table(**params(name))


@pytest.mark.parametrize("name", ["bad name", "bad!name", "tab/le", "tâble"])
def test_name_with_invalid_characters(dynamodb: Client, name: str) -> None:
    message = one_error(name, "tableName", NAME_PATTERN)
    with validation(message):
        dynamodb.create_table(**params(name))


@pytest.mark.parametrize(
    ("member", "allowed", "override"),
    [
        (
            "keySchema.1.member.keyType",
            "[HASH, RANGE]",
            {"KeySchema": [{"AttributeName": "pk", "KeyType": "INVALID"}]},
        ),
        (
            "attributeDefinitions.1.member.attributeType",
            "[B, N, S]",
            {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "INVALID"}]},
        ),
    ],
    ids=["key-type", "attribute-type"],
)
def test_invalid_enum_value(
    unchecked: Client, member: str, allowed: str, override: dict[str, Any]
) -> None:
    name = unique_name()
    message = one_error("INVALID", member, f"Member must satisfy enum value set: {allowed}")
    with validation(message):
        unchecked.create_table(**params(name, **override))
    assert_not_created(unchecked, name)


def test_invalid_billing_mode(unchecked: Client) -> None:
    message = one_error(
        "INVALID_MODE",
        "billingMode",
        "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
    )
    with validation(message):
        unchecked.create_table(**params(unique_name(), BillingMode="INVALID_MODE"))


def test_empty_key_schema(unchecked: Client) -> None:
    message = one_error("[]", "keySchema", "Member must have length greater than or equal to 1")
    with validation(message):
        unchecked.create_table(**params(unique_name(), KeySchema=[]))


def test_three_key_elements(unchecked: Client) -> None:
    defs = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "xk")]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
        {"AttributeName": "xk", "KeyType": "RANGE"},
    ]
    with raises("ValidationException") as info:
        unchecked.create_table(**params(unique_name(), AttributeDefinitions=defs, KeySchema=schema))
    # The echoed value is a Java object dump; only the envelope and constraint are contract.
    text = info.value.response["Error"]["Message"]
    assert text.startswith("1 validation error detected: Value '")
    assert text.endswith(
        "at 'keySchema' failed to satisfy constraint: "
        "Member must have length less than or equal to 2"
    )


def test_on_demand_with_throughput(dynamodb: Client) -> None:
    name = unique_name()
    with validation(NO_THROUGHPUT_ON_DEMAND):
        dynamodb.create_table(**params(name, ProvisionedThroughput=THROUGHPUT))
    assert_not_created(dynamodb, name)


@pytest.mark.parametrize("billing", [{"BillingMode": "PROVISIONED"}, {}])
def test_provisioned_without_throughput(dynamodb: Client, billing: dict[str, str]) -> None:
    request = params(unique_name())
    del request["BillingMode"]
    request.update(billing)
    with validation(
        INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
        "BillingMode is PROVISIONED"
    ):
        dynamodb.create_table(**request)


def test_zero_read_capacity(unchecked: Client) -> None:
    message = one_error(
        "0",
        "provisionedThroughput.readCapacityUnits",
        "Member must have value greater than or equal to 1",
    )
    throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 5}
    with validation(message):
        unchecked.create_table(
            **params(unique_name(), BillingMode="PROVISIONED", ProvisionedThroughput=throughput)
        )


def test_throughput_out_of_bounds(dynamodb: Client) -> None:
    throughput = {"ReadCapacityUnits": 1000000000001, "WriteCapacityUnits": 5}
    with validation("Given value 1000000000001 for ReadCapacityUnits is out of bounds"):
        dynamodb.create_table(
            **params(unique_name(), BillingMode="PROVISIONED", ProvisionedThroughput=throughput)
        )


def test_key_without_definition(dynamodb: Client) -> None:
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    with validation("Invalid KeySchema: Some index key attribute have no definition"):
        dynamodb.create_table(**params(unique_name(), KeySchema=schema))


def test_key_defined_under_another_name(dynamodb: Client) -> None:
    defs = [{"AttributeName": "other", "AttributeType": "S"}]
    with validation(
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [pk], AttributeDefinitions: [other]"
    ):
        dynamodb.create_table(**params(unique_name(), AttributeDefinitions=defs))


def test_unused_attribute_definition(dynamodb: Client) -> None:
    name = unique_name()
    defs = [*DEF_PK, {"AttributeName": "extra", "AttributeType": "N"}]
    with validation(
        INVALID + "Number of attributes in KeySchema does not exactly match number of "
        "attributes defined in AttributeDefinitions"
    ):
        dynamodb.create_table(**params(name, AttributeDefinitions=defs))
    assert_not_created(dynamodb, name)


def test_hash_and_range_with_same_name(dynamodb: Client) -> None:
    defs = [*DEF_PK, {"AttributeName": "x", "AttributeType": "S"}]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "pk", "KeyType": "RANGE"},
    ]
    with validation(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    ):
        dynamodb.create_table(**params(unique_name(), AttributeDefinitions=defs, KeySchema=schema))


def test_first_key_element_must_be_hash(dynamodb: Client) -> None:
    with validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"):
        dynamodb.create_table(
            **params(unique_name(), KeySchema=[{"AttributeName": "pk", "KeyType": "RANGE"}])
        )


def test_second_key_element_must_be_range(dynamodb: Client) -> None:
    defs = [*DEF_PK, {"AttributeName": "sk", "AttributeType": "S"}]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "HASH"},
    ]
    with validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"):
        dynamodb.create_table(**params(unique_name(), AttributeDefinitions=defs, KeySchema=schema))


def test_invalid_table_class(unchecked: Client) -> None:
    name = unique_name()
    with validation(
        "Invalid table-class parameter provided. Please try again with a valid table-class "
        "value: [STANDARD, STANDARD_INFREQUENT_ACCESS]."
    ):
        unchecked.create_table(**params(name, TableClass="GLACIER"))
    assert_not_created(unchecked, name)


def test_duplicate_attribute_definition(dynamodb: Client) -> None:
    """Also with another type: one definition per attribute."""
    name = unique_name()
    with validation("Attribute Name is duplicated: pk"):
        dynamodb.create_table(**params(name, AttributeDefinitions=[*DEF_PK, attr("pk", "N")]))
    assert_not_created(dynamodb, name)


def test_unused_definition_with_indexes(dynamodb: Client) -> None:
    """Definitions as given, keys used in DynamoDB's (hash set) order; checked before the
    indexes' own rules (the KEYS_ONLY projection with NonKeyAttributes here)."""
    defs = [attr(n) for n in ("sk", "a", "b", "pk", "c")]
    gsi = index_spec("by-a", "a", "sk", ProjectionType="KEYS_ONLY", NonKeyAttributes=["x"])
    with validation(
        INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: "
        "[sk, a, b, pk, c], keys used: [a, sk, pk]"
    ):
        dynamodb.create_table(
            **params(unique_name(), AttributeDefinitions=defs, GlobalSecondaryIndexes=[gsi])
        )


@pytest.mark.parametrize(
    ("projection", "message"),
    [
        (
            {"ProjectionType": "INCLUDE"},
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ),
        (
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y", "x"]},
            "Duplicate element in NonKeyAttributes: x",
        ),
    ],
    ids=["include-without-attributes", "duplicate-attribute"],
)
def test_projection_errors(dynamodb: Client, projection: dict[str, Any], message: str) -> None:
    gsi = {**index_spec("by-g", "g"), "Projection": projection}
    with validation(INVALID + message):
        dynamodb.create_table(
            **params(
                unique_name(),
                AttributeDefinitions=[*DEF_PK, attr("g")],
                GlobalSecondaryIndexes=[gsi],
            )
        )


def test_lists_are_described_by_name(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    """AttributeDefinitions and NonKeyAttributes come back sorted; indexes as given."""
    name = cleanup(unique_name())
    gsis = [
        index_spec("g-z", "z", ProjectionType="INCLUDE", NonKeyAttributes=["zz", "aa", "mm"]),
        index_spec("g-a", "a"),
    ]
    defs = [attr("z"), attr("a"), attr("pk")]
    desc = dynamodb.create_table(
        **params(name, AttributeDefinitions=defs, GlobalSecondaryIndexes=gsis)
    )["TableDescription"]
    wait_active(dynamodb, name)
    for answer in (desc, dynamodb.describe_table(TableName=name)["Table"]):
        assert answer["AttributeDefinitions"] == [attr("a"), attr("pk"), attr("z")]
        assert [g["IndexName"] for g in answer["GlobalSecondaryIndexes"]] == ["g-z", "g-a"]
        projection = answer["GlobalSecondaryIndexes"][0]["Projection"]
        assert projection["NonKeyAttributes"] == ["aa", "mm", "zz"]


def test_warm_throughput_of_new_tables(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    """On demand 12000/4000 unless more is asked; provisioned, its capacity units, for the
    table and each GSI."""
    provisioned = cleanup(unique_name())
    gsi = {**index_spec("by-g", "g"), "ProvisionedThroughput": {
        "ReadCapacityUnits": 7, "WriteCapacityUnits": 6}}  # fmt: skip
    dynamodb.create_table(
        **params(
            provisioned,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
            AttributeDefinitions=[*DEF_PK, attr("g")],
            GlobalSecondaryIndexes=[gsi],
        )
    )
    asked = cleanup(unique_name())
    answer = dynamodb.create_table(**params(asked, WarmThroughput={"ReadUnitsPerSecond": 12001}))
    assert answer["TableDescription"]["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12001,
        "WriteUnitsPerSecond": 4000,
        "Status": "UPDATING",
    }
    wait_active(dynamodb, provisioned)
    wait_active(dynamodb, asked)
    desc = dynamodb.describe_table(TableName=provisioned)["Table"]
    assert desc["WarmThroughput"] == {
        "ReadUnitsPerSecond": 3,
        "WriteUnitsPerSecond": 2,
        "Status": "ACTIVE",
    }
    assert desc["GlobalSecondaryIndexes"][0]["WarmThroughput"] == {
        "ReadUnitsPerSecond": 7,
        "WriteUnitsPerSecond": 6,
        "Status": "ACTIVE",
    }
    assert dynamodb.describe_table(TableName=asked)["Table"]["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12001,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }


ON_DEMAND_INITIAL = (
    "initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/"
    "developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial"
)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 1, "WriteUnitsPerSecond": 1}},
            "Requested ReadUnitsPerSecond for WarmThroughput for table is lower than "
            + ON_DEMAND_INITIAL,
        ),
        (
            {
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
                "WarmThroughput": {"ReadUnitsPerSecond": 10, "WriteUnitsPerSecond": 5},
            },
            "Requested WriteUnitsPerSecond for WarmThroughput for table is lower than "
            "WriteCapacityUnits of ProvisionedThroughput",
        ),
        (
            {
                "AttributeDefinitions": [*DEF_PK, attr("g")],
                "GlobalSecondaryIndexes": [
                    {**index_spec("g-a", "g"), "WarmThroughput": {"WriteUnitsPerSecond": 3999}}
                ],
            },
            "Requested WriteUnitsPerSecond for WarmThroughput for index g-a is lower than "
            + ON_DEMAND_INITIAL,
        ),
    ],
    ids=["on-demand", "provisioned", "index"],
)
def test_warm_throughput_below_the_minimum(
    dynamodb: Client, overrides: dict[str, Any], message: str
) -> None:
    name = unique_name()
    with validation(INVALID + message):
        dynamodb.create_table(**params(name, **overrides))
    assert_not_created(dynamodb, name)


def test_index_on_demand_maximums_on_provisioned_table(dynamodb: Client) -> None:
    gsi = {
        **index_spec("g-a", "g"),
        "ProvisionedThroughput": THROUGHPUT,
        "OnDemandThroughput": {"MaxReadRequestUnits": 10},
    }
    with validation(
        INVALID + "MaxReadRequestUnits for OnDemandThroughput for index: g-a cannot be "
        "specified when table BillingMode is PROVISIONED."
    ):
        dynamodb.create_table(
            **params(
                unique_name(),
                BillingMode="PROVISIONED",
                ProvisionedThroughput=THROUGHPUT,
                AttributeDefinitions=[*DEF_PK, attr("g")],
                GlobalSecondaryIndexes=[gsi],
            )
        )


# --- a server whose tables stay CREATING for a few seconds --------------------------------


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with own_server(tmp_path_factory.mktemp("creating"), "--table-status-delay", "3") as url:
        yield aws_client(url)


def test_existing_table_being_created(slow: Client) -> None:
    name = unique_name()
    request = params(name, KeySchema=schema("pk"))
    slow.create_table(**request)
    with raises(
        "ResourceInUseException",
        f"Attempt to change a resource which is still in use: Table is being created: {name}",
    ):
        slow.create_table(**request)
    wait_active(slow, name)
    with raises("ResourceInUseException", f"Table already exists: {name}"):
        slow.create_table(**request)
