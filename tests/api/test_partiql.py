"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction against a live
server, with DynamoDB's answers and messages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    KEY_SCHEMA_MISMATCH,
    REQUEST_FAILED,
    RESOURCE_NOT_FOUND,
    Client,
    Item,
    TableFactory,
    attr,
    failure_item,
    index_spec,
    key,
    raises,
    read,
    seed,
    validation,
)

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
MANDATORY = "Where clause does not contain a mandatory equality on all key attributes"
PARAMETERS = "Number of parameters in request and statement don't match."
DUPLICATE_KEY = "Duplicate primary key exists in table"


def q(name: str) -> str:
    return f'"{name}"'


def run(client: Client, statement: str, *params: Item, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"Statement": statement, **extra}
    if params:
        request["Parameters"] = list(params)
    answer: dict[str, Any] = client.execute_statement(**request)
    return answer


def items(client: Client, statement: str, *params: Item, **extra: Any) -> list[Item]:
    found: list[Item] = run(client, statement, *params, **extra)["Items"]
    return found


def statements(name: str, *texts: str) -> list[dict[str, Any]]:
    """Statements on table `name`, written with {t} for its quoted name."""
    return [{"Statement": text.format(t=q(name))} for text in texts]


def cancelled(*codes: str) -> str:
    return (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        f"[{', '.join(codes)}]"
    )


@pytest.fixture
def music(dynamodb: Client, table: TableFactory) -> str:
    """A pk/sk table with a GSI on `g`, holding partitions a (3 items) and b (1 item)."""
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("byG", "g")],
    )
    for sk, n in (("1", "10"), ("2", "20"), ("3", "30")):
        seed(
            dynamodb,
            name,
            {**key("a", sk), "n": {"N": n}, "g": {"S": "even" if n != "30" else "odd"}},
        )
    seed(
        dynamodb,
        name,
        {
            **key("b", "1"),
            "n": {"N": "5"},
            "m": {"M": {"x": {"S": "deep"}}},
            "l": {"L": [{"S": "p"}, {"S": "q"}]},
        },
    )
    return name


# --- SELECT -------------------------------------------------------------------------------


def test_select_by_full_key(dynamodb: Client, music: str) -> None:
    found = items(dynamodb, f"SELECT * FROM {q(music)} WHERE pk = 'a' AND sk = '2'")
    assert found == [{**key("a", "2"), "n": {"N": "20"}, "g": {"S": "even"}}]
    assert items(dynamodb, f"SELECT * FROM {q(music)} WHERE pk = 'a' AND sk = '9'") == []


def test_select_a_partition_with_sort_conditions(dynamodb: Client, music: str) -> None:
    def sks(where: str, **extra: Any) -> list[str]:
        rows = items(dynamodb, f"SELECT sk FROM {q(music)} WHERE {where}", **extra)
        return [row["sk"]["S"] for row in rows]

    assert sks("pk = 'a'") == ["1", "2", "3"]
    assert sks("pk = 'a' AND sk > '1'") == ["2", "3"]
    assert sks("pk = 'a' AND sk BETWEEN '1' AND '2'") == ["1", "2"]
    assert sks("pk = 'a' AND begins_with(sk, '3')") == ["3"]
    assert sks("pk = 'a' AND n >= 20") == ["2", "3"]
    assert sks("pk = 'a' ORDER BY sk DESC") == ["3", "2", "1"]
    assert sks("pk IN ['b', 'a'] AND sk = '1'") == ["1", "1"]


def test_select_without_the_key_scans(dynamodb: Client, music: str) -> None:
    found = items(dynamodb, f"SELECT pk, sk FROM {q(music)} WHERE n < 15")
    assert sorted((row["pk"]["S"], row["sk"]["S"]) for row in found) == [("a", "1"), ("b", "1")]
    assert len(items(dynamodb, f"SELECT * FROM {q(music)}")) == 4


def test_projection_of_nested_paths(dynamodb: Client, music: str) -> None:
    found = items(dynamodb, f"SELECT m.x, l[1], nope FROM {q(music)} WHERE pk = 'b' AND sk = '1'")
    assert found == [{"x": {"S": "deep"}, "l[1]": {"S": "q"}}]


def test_conditions(dynamodb: Client, music: str) -> None:
    def count(where: str) -> int:
        return len(items(dynamodb, f"SELECT * FROM {q(music)} WHERE {where}"))

    assert count("m IS MISSING") == 3
    assert count("m IS NOT MISSING AND attribute_type(m, 'M')") == 1
    assert count("contains(l, 'q')") == 1
    assert count("n IN [10, 30] OR size(l) = 2") == 3
    assert count("NOT (n BETWEEN 10 AND 20)") == 2
    assert count("n <> 5 AND g = 'even'") == 2
    # a condition function compared with a boolean
    assert count("attribute_exists(m) = true") == 1
    assert count("true = attribute_exists(nope)") == 0
    assert count("attribute_exists(m) = false") == 3
    assert count("begins_with(l[0], 'p') <> false") == 1


def test_an_index_read(dynamodb: Client, music: str) -> None:
    found = items(dynamodb, f"SELECT sk FROM {q(music)}.\"byG\" WHERE g = 'even'")
    assert sorted(row["sk"]["S"] for row in found) == ["1", "2"]
    with validation("Strongly consistent read is not supported on Global Secondary Indexes"):
        run(dynamodb, f"SELECT * FROM {q(music)}.\"byG\" WHERE g = 'even'", ConsistentRead=True)


def test_parameters(dynamodb: Client, music: str) -> None:
    statement = f"SELECT n FROM {q(music)} WHERE pk = ? AND sk = ?"
    assert items(dynamodb, statement, {"S": "a"}, {"S": "3"}) == [{"n": {"N": "30"}}]
    extra = items(dynamodb, statement, {"S": "a"}, {"S": "3"}, {"S": "ignored"})
    assert extra == [{"n": {"N": "30"}}]
    with validation(PARAMETERS):
        run(dynamodb, statement, {"S": "a"})
    with validation(
        "One or more parameter values were invalid: "
        "Null attribute value types must have the value of true"
    ):
        run(dynamodb, statement, {"NULL": False}, {"S": "a"})


UNCONVERTIBLE = "The parameter cannot be converted to a numeric value"
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        # BigDecimal cannot hold an exponent (or a scale) beyond a 32-bit integer
        ({"N": "1e99999999999"}, f"{UNCONVERTIBLE}: 1e99999999999"),
        ({"N": "-1e2147483648"}, f"{UNCONVERTIBLE}: -1e2147483648"),
        ({"N": "1e-2147483648"}, f"{UNCONVERTIBLE}: 1e-2147483648"),
        ({"L": [{"N": "1"}, {"N": "1e99999999999"}]}, f"{UNCONVERTIBLE}: 1e99999999999"),
        ({"NS": ["1", "1e99999999999"]}, f"{UNCONVERTIBLE}: 1e99999999999"),
        # precision less scale wraps around in 32 bits
        ({"N": "1e2147483647"}, UNDERFLOW),
        ({"N": "abc"}, f"{UNCONVERTIBLE}: abc"),
    ],
)
def test_number_parameters(dynamodb: Client, music: str, parameter: Item, message: str) -> None:
    statement = f"UPDATE {q(music)} SET z = ? WHERE pk = 'a' AND sk = '1'"
    with validation(message):
        run(dynamodb, statement, parameter)
    with validation(message):  # no "Validation failed in TransactStatements[0]" prefix
        dynamodb.execute_transaction(
            TransactStatements=[{"Statement": statement, "Parameters": [parameter]}]
        )
    batch = dynamodb.batch_execute_statement(
        Statements=[{"Statement": statement, "Parameters": [parameter]}]
    )
    assert batch["Responses"] == [{"Error": {"Code": "ValidationError", "Message": message}}]


def test_limit_and_next_token(dynamodb: Client, music: str) -> None:
    seen: list[tuple[str, str]] = []
    request: dict[str, Any] = {"Statement": f"SELECT pk, sk FROM {q(music)}", "Limit": 1}
    pages = 0
    while True:
        answer = dynamodb.execute_statement(**request)
        pages += 1
        seen += [(row["pk"]["S"], row["sk"]["S"]) for row in answer["Items"]]
        if "NextToken" not in answer:
            break
        request["NextToken"] = answer["NextToken"]
    assert sorted(seen) == [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")]
    assert pages >= 4
    with validation("NextToken does not match request"):
        run(dynamodb, f"SELECT * FROM {q(music)} WHERE n > 1", NextToken=request["NextToken"])
    with validation("Invalid NextToken"):
        run(dynamodb, f"SELECT * FROM {q(music)}", NextToken="not a token")


@pytest.fixture
def indexed(dynamodb: Client, table: TableFactory) -> str:
    """A pk/sk table with a KEYS_ONLY GSI `keysG` on `g` and a KEYS_ONLY LSI `keysL` on
    `l`, holding three items of partition p that each carry a ~9 KB attribute `big`."""
    keys_only = {"ProjectionType": "KEYS_ONLY"}
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("g"), attr("l")],
        GlobalSecondaryIndexes=[index_spec("keysG", "g", **keys_only)],
        LocalSecondaryIndexes=[index_spec("keysL", "pk", "l", **keys_only)],
    )
    for sk in "123":
        seed(
            dynamodb,
            name,
            {**key("p", sk), "g": {"S": "x"}, "l": {"S": sk}, "big": {"S": "x" * 9000}},
        )
    return name


GSI_PROJECTION = INVALID + "Global secondary index keysG does not project [big, other]"
FILTER_ATTRIBUTES = INVALID + "Secondary index {} does not project one or more filter attributes"


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT big, pk, other, big.x FROM {t}.\"keysG\" WHERE g = 'x'", GSI_PROJECTION),
        ('SELECT big, other FROM {t}."keysG"', GSI_PROJECTION),
        (
            "SELECT pk FROM {t}.\"keysG\" WHERE g = 'x' AND NOT big = 'y'",
            FILTER_ATTRIBUTES.format("keysG") + ": [big]",
        ),
        (
            "SELECT pk FROM {t}.\"keysL\" WHERE pk IN ['p', 'q'] AND big IS MISSING",
            FILTER_ATTRIBUTES.format("keysL") + ": [big]",
        ),
    ],
)
def test_what_an_index_does_not_hold(
    dynamodb: Client, indexed: str, statement: str, message: str
) -> None:
    with validation(message):
        run(dynamodb, statement.format(t=q(indexed)))


def test_an_unkeyed_index_read_filters_the_index_entries(dynamodb: Client, indexed: str) -> None:
    # a scan of the index: attributes the index does not hold are missing, not an error
    for index in ("keysG", "keysL"):
        source = f'{q(indexed)}."{index}"'
        assert items(dynamodb, f"SELECT pk FROM {source} WHERE big IS NOT MISSING") == []
        assert len(items(dynamodb, f"SELECT pk FROM {source} WHERE big IS MISSING")) == 3
    # an LSI reads projected attributes it lacks from the table, but filters on its entries
    found = items(dynamodb, f'SELECT sk, big FROM {q(indexed)}."keysL" WHERE big IS MISSING')
    assert sorted(row["sk"]["S"] for row in found) == ["1", "2", "3"]
    assert all(len(row["big"]["S"]) == 9000 for row in found)


@pytest.mark.parametrize(("consistent", "table_units"), [(False, 4.5), (True, 9.0)])
def test_an_lsi_reads_each_table_item_at_its_own_size(
    dynamodb: Client, indexed: str, consistent: bool, table_units: float
) -> None:
    answer = run(
        dynamodb,
        f"SELECT big FROM {q(indexed)}.\"keysL\" WHERE pk = 'p' AND l <> 'none'",
        ReturnConsumedCapacity="INDEXES",
        ConsistentRead=consistent,
    )
    capacity = answer["ConsumedCapacity"]
    # three table reads of 3 blocks each, not one read of their summed size (3.5)
    assert capacity["Table"] == {"CapacityUnits": table_units}
    index_units = 1.0 if consistent else 0.5
    assert capacity["LocalSecondaryIndexes"] == {"keysL": {"CapacityUnits": index_units}}
    assert capacity["CapacityUnits"] == table_units + index_units
    star = run(
        dynamodb,
        f"SELECT * FROM {q(indexed)}.\"keysL\" WHERE pk = 'p'",
        ReturnConsumedCapacity="INDEXES",
    )
    assert star["ConsumedCapacity"]["Table"] == {"CapacityUnits": 0.0}  # no reach-back


def test_consumed_capacity(dynamodb: Client, music: str) -> None:
    answer = run(
        dynamodb,
        f"SELECT * FROM {q(music)} WHERE pk = 'a' AND sk = '1'",
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert answer["ConsumedCapacity"]["TableName"] == music
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 1.0
    written = run(
        dynamodb,
        f"UPDATE {q(music)} SET z = 1 WHERE pk = 'b' AND sk = '1'",
        ReturnConsumedCapacity="TOTAL",
    )
    assert written["ConsumedCapacity"]["CapacityUnits"] == 1.0


TYPE_MISMATCH = "Key attribute's data type should match its data type in table's schema: Key pk"
OPERAND_TYPE = (
    "Incorrect operand type for operator or function; operator or function: +, operand type: S"
)
ON_INDEX = "This operation is not supported on an index"
LEFT_OVER = "Unexpected token after expression"
BAD_DOT = "Invalid path dot component"  # `inner` is a keyword


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT * FROM {t} WHERE", NOT_WELL_FORMED + "Unexpected term"),
        (
            "SELECT * FROM {t} WHERE pk = 'a' AND",
            NOT_WELL_FORMED + "Missing right-hand side expression of infix operator",
        ),
        ("SLECT * FROM {t}", NOT_WELL_FORMED + "Expected data manipulation"),
        ("SELECT * FROM {t} x WHERE pk = 'a'", "Aliasing is not supported"),
        ("SELECT * FROM {t} WHERE pk = 1", TYPE_MISMATCH),
        ("SELECT a.z, b.z FROM {t}", "Duplicate identifiers in select clause: z"),
        (
            "EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND sk = '1')",
            "EXISTS can only be used in ExecuteTransaction write requests.",
        ),
        ("UPDATE {t} SET n = 1 WHERE pk = 'a'", MANDATORY),
        ("DELETE FROM {t} WHERE n = 1", MANDATORY),
        ("UPDATE {t}.\"byG\" SET n = 1 WHERE pk = 'a' AND sk = '1'", ON_INDEX),
        (
            "INSERT INTO {t}.\"byG\" VALUE {{'pk': 'a', 'sk': '1'}}",
            "FROM clause may only contain a single table name in data manipulation statements",
        ),
        ("SELECT * FROM {t}.\"nope\" WHERE g = 'x'", "The table does not have the specified index"),
        ('UPDATE "no-such-table-here"."byG" SET n = 1 WHERE pk = \'a\'', ON_INDEX),
        ("INSERT INTO {t} x VALUE {{'pk': 'a', 'sk': '1'}}", NOT_WELL_FORMED + LEFT_OVER),
        ("DELETE FROM {t} WHERE pk = 'a' AND sk = '1' ORDER BY pk", NOT_WELL_FORMED + LEFT_OVER),
        ("SELECT * FROM {t} WHERE pk = 'a' AND m.inner = 1", NOT_WELL_FORMED + BAD_DOT),
        ("UPDATE {t} SET m.inner = 1 WHERE pk = 'a'", NOT_WELL_FORMED + BAD_DOT),
        ("UPDATE {t} SET n = 'x' + 1 WHERE pk = 'a' AND sk = '1'", OPERAND_TYPE),
        (
            "INSERT INTO {t} VALUE {{'pk': 'a'}}",
            "One or more parameter values were invalid: Missing the key sk in the item",
        ),
    ],
)
def test_statement_errors(dynamodb: Client, music: str, statement: str, message: str) -> None:
    with validation(message):
        run(dynamodb, statement.format(t=q(music)))


def test_a_missing_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        run(dynamodb, "SELECT * FROM \"no-such-table-here\" WHERE pk = 'a'")


def at(statement: str, token: str, after: str = "") -> str:
    """`line:column:length` of `token` in a one-line statement (its first occurrence after
    `after`), as DynamoDB appends it to some messages."""
    start = statement.index(after) + len(after) if after else 0
    column = statement.index(token, start) + 1
    return f"1:{column}:{len(token)}"


@pytest.mark.parametrize(
    ("statement", "message", "token", "after"),
    [
        ("SELECT size(n) FROM {t} WHERE pk = 'a'", "Unexpected path component", "size", ""),
        ("SELECT * FROM {t} WHERE pk = 'a' AND EXISTS(n)", "Unrecognized function: exists",
         "EXISTS", ""),
        ("SELECT * FROM {t} WHERE pk = 'a' AND set_add(s, <<'x'>>) = s",
         "Unrecognized function: set_add", "set_add", ""),
        ("UPDATE {t} SET x = set_add(s, <<'x'>>) WHERE pk = 'a' AND sk = '1'",
         "The first argument to SET_ADD must equal the assignment value", "set_add", ""),
        ("UPDATE {t} SET s = set_add(s) WHERE pk = 'a' AND sk = '1'",
         "SET_ADD must have exactly two arguments", "set_add", ""),
        # sic: DynamoDB points at the first argument
        ("UPDATE {t} SET s = set_delete(s, 'x') WHERE pk = 'a' AND sk = '1'",
         "The second argument to SET_DELETE must be a value with type SET", "s", "set_delete("),
        ("INSERT INTO {t} VALUE {{'pk': 'a', 'sk': '9', 's': set_add(<<'a'>>, <<'b'>>)}}",
         "Unsupported data type: set_add under key root", "set_add", ""),
    ],
)  # fmt: skip
def test_messages_with_a_position(
    dynamodb: Client, music: str, statement: str, message: str, token: str, after: str
) -> None:
    text = statement.format(t=q(music))
    with validation(f"{message} at {at(text, token, after)}"):
        run(dynamodb, text)


# --- INSERT, UPDATE, DELETE ---------------------------------------------------------------


def test_insert(dynamodb: Client, music: str) -> None:
    run(
        dynamodb,
        f"INSERT INTO {q(music)} VALUE "
        "{'pk': ?, 'sk': 'n', 's': <<'x', 'y'>>, 'm': {'k': [1, null]}}",
        {"S": "c"},
    )
    stored = read(dynamodb, music, key("c", "n"))
    assert stored is not None
    assert sorted(stored["s"]["SS"]) == ["x", "y"]
    assert stored["m"] == {"M": {"k": {"L": [{"N": "1"}, {"NULL": True}]}}}
    with raises("DuplicateItemException", DUPLICATE_KEY):
        run(dynamodb, f"INSERT INTO {q(music)} VALUE {{'pk': 'c', 'sk': 'n'}}")


def test_update_set_remove_and_returning(dynamodb: Client, music: str) -> None:
    table = q(music)
    answer = items(
        dynamodb,
        f"UPDATE {table} SET n = n + 1, t = list_append(l, ['r']) REMOVE m "
        "WHERE pk = 'b' AND sk = '1' RETURNING MODIFIED NEW *",
    )
    assert answer == [{"n": {"N": "6"}, "t": {"L": [{"S": "p"}, {"S": "q"}, {"S": "r"}]}}]
    old = items(
        dynamodb, f"UPDATE {table} SET n = 7 WHERE pk = 'b' AND sk = '1' RETURNING ALL OLD *"
    )
    assert old[0]["n"] == {"N": "6"} and "m" not in old[0]
    assert (
        items(dynamodb, f"UPDATE {table} SET s = set_add(s, <<'a'>>) WHERE pk = 'b' AND sk = '1'")
        == []
    )
    assert (
        items(
            dynamodb,
            f"UPDATE {table} REMOVE zz WHERE pk = 'b' AND sk = '1' RETURNING MODIFIED OLD *",
        )
        == []
    )
    stored = read(dynamodb, music, key("b", "1"))
    assert stored is not None and stored["s"] == {"SS": ["a"]} and stored["n"] == {"N": "7"}


def test_update_conditions(dynamodb: Client, music: str) -> None:
    table = q(music)
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        run(dynamodb, f"UPDATE {table} SET n = 1 WHERE pk = 'zz' AND sk = '1'")
    assert read(dynamodb, music, key("zz", "1")) is None
    with raises("ConditionalCheckFailedException", REQUEST_FAILED) as info:
        run(
            dynamodb,
            f"UPDATE {table} SET n = 1 WHERE pk = 'a' AND sk = '1' AND n = 99",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    old = failure_item(info.value)
    assert old is not None and old["n"] == {"N": "10"}
    run(dynamodb, f"UPDATE {table} SET n = 11 WHERE pk = 'a' AND sk = '1' AND n = 10")
    assert read(dynamodb, music, key("a", "1"))["n"] == {"N": "11"}  # type: ignore[index]


def test_delete(dynamodb: Client, music: str) -> None:
    table = q(music)
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        run(dynamodb, f"DELETE FROM {table} WHERE pk = 'a' AND sk = '1' AND n = 0")
    assert (
        run(dynamodb, f"DELETE FROM {table} WHERE pk = 'none' AND sk = '1' AND n = 0")["Items"]
        == []
    )
    gone = items(dynamodb, f"DELETE FROM {table} WHERE pk = 'a' AND sk = '1' RETURNING ALL OLD *")
    assert gone[0]["n"] == {"N": "10"}
    assert read(dynamodb, music, key("a", "1")) is None
    with validation(
        "Invalid returning clause: RETURNING ALL NEW *. "
        "Only RETURNING ALL OLD * is allowed in DELETE statements."
    ):
        run(dynamodb, f"DELETE FROM {table} WHERE pk = 'a' AND sk = '2' RETURNING ALL NEW *")


def test_from_first_update(dynamodb: Client, music: str) -> None:
    table = q(music)
    answer = items(
        dynamodb,
        f"FROM {table} WHERE pk = ? AND sk = '1' SET z = ? REMOVE g RETURNING ALL NEW *",
        {"S": "a"},
        {"N": "7"},
    )
    assert answer == [{**key("a", "1"), "n": {"N": "10"}, "z": {"N": "7"}}]
    run(dynamodb, f"from {table} where pk = 'a' and sk = '2' set z = 8")
    assert read(dynamodb, music, key("a", "2"))["z"] == {"N": "8"}  # type: ignore[index]
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        run(dynamodb, f"FROM {table} WHERE pk = 'a' AND sk = '3' AND n = 0 SET z = 1")
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        run(dynamodb, f"FROM {table} WHERE pk = 'zz' AND sk = '3' SET z = 1")
    assert read(dynamodb, music, key("zz", "3")) is None


def test_writes_maintain_indexes(dynamodb: Client, music: str) -> None:
    run(dynamodb, f"UPDATE {q(music)} SET g = 'odd' WHERE pk = 'a' AND sk = '1'")
    found = items(dynamodb, f"SELECT sk FROM {q(music)}.\"byG\" WHERE g = 'odd'")
    assert sorted(row["sk"]["S"] for row in found) == ["1", "3"]


# --- BatchExecuteStatement ----------------------------------------------------------------


def test_batch_reads(dynamodb: Client, music: str) -> None:
    answer = dynamodb.batch_execute_statement(
        Statements=[
            *statements(music, "SELECT n FROM {t} WHERE pk = 'a' AND sk = '1'"),
            {
                "Statement": f"SELECT * FROM {q(music)} WHERE pk = ? AND sk = ?",
                "Parameters": [{"S": "x"}, {"S": "1"}],
            },
            *statements(music, "SELECT * FROM {t} WHERE pk = 'a'", "SELECT * FROM"),
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    responses = answer["Responses"]
    assert responses[0] == {"TableName": music, "Item": {"n": {"N": "10"}}}
    assert responses[1] == {"TableName": music}
    assert responses[2]["Error"] == {
        "Code": "ValidationError",
        "Message": "Select statements within BatchExecuteStatement must specify the primary key "
        "in the where clause.",
    }
    assert responses[3] == {
        "Error": {"Code": "ValidationError", "Message": NOT_WELL_FORMED + "Unexpected term"}
    }
    assert answer["ConsumedCapacity"][0]["CapacityUnits"] == 1.0


def test_batch_writes(dynamodb: Client, music: str) -> None:
    responses = dynamodb.batch_execute_statement(
        Statements=[
            *statements(
                music,
                "INSERT INTO {t} VALUE {{'pk': 'new', 'sk': '1'}}",
                "INSERT INTO {t} VALUE {{'pk': 'a', 'sk': '1'}}",
            ),
            {
                "Statement": f"UPDATE {q(music)} SET n = 0 WHERE pk = 'a' AND sk = '2' AND n = 1",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            *statements(
                music,
                "DELETE FROM {t} WHERE pk = 'a' AND sk = '3'",
                "UPDATE \"no-such-table-here\" SET n = 1 WHERE pk = 'a'",
            ),
        ]
    )["Responses"]
    assert responses[0] == {"TableName": music}
    assert responses[1] == {
        "TableName": music,
        "Error": {"Code": "DuplicateItem", "Message": DUPLICATE_KEY},
    }
    assert responses[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert responses[2]["Error"]["Item"]["n"] == {"N": "20"}
    assert responses[3] == {"TableName": music}
    assert responses[4]["Error"] == {"Code": "ResourceNotFound", "Message": RESOURCE_NOT_FOUND}
    assert read(dynamodb, music, key("new", "1")) == key("new", "1")
    assert read(dynamodb, music, key("a", "3")) is None


def test_batch_writes_answer_their_returning_clause(dynamodb: Client, music: str) -> None:
    responses = dynamodb.batch_execute_statement(
        Statements=statements(
            music,
            "UPDATE {t} SET n = 11 WHERE pk = 'a' AND sk = '1' RETURNING MODIFIED OLD *",
            "DELETE FROM {t} WHERE pk = 'a' AND sk = '2' RETURNING ALL OLD *",
            "UPDATE {t} SET z = 1 WHERE pk = 'a' AND sk = '3' RETURNING MODIFIED OLD *",
            "DELETE FROM {t} WHERE pk = 'a' AND sk = '3' RETURNING ALL NEW *",
        )
    )["Responses"]
    assert responses[0] == {"TableName": music, "Item": {"n": {"N": "10"}}}
    assert responses[1] == {
        "TableName": music,
        "Item": {**key("a", "2"), "n": {"N": "20"}, "g": {"S": "even"}},
    }
    assert responses[2] == {"TableName": music}  # nothing was there before
    assert responses[3]["Error"] == {
        "Code": "ValidationError",
        "Message": "Invalid returning clause: RETURNING ALL NEW *. "
        "Only RETURNING ALL OLD * is allowed in DELETE statements.",
    }


def test_a_batch_of_reads_and_writes(dynamodb: Client, music: str) -> None:
    with validation("Read and write requests together in the same batch is not supported."):
        dynamodb.batch_execute_statement(
            Statements=statements(
                music,
                "SELECT * FROM {t} WHERE pk = 'a' AND sk = '1'",
                "DELETE FROM {t} WHERE pk = 'a' AND sk = '1'",
            )
        )
    assert read(dynamodb, music, key("a", "1")) is not None


# --- ExecuteTransaction -------------------------------------------------------------------


def transaction(client: Client, name: str, *texts: str) -> dict[str, Any]:
    """ExecuteTransaction of `statements(name, *texts)`, with its total consumed capacity."""
    answer: dict[str, Any] = client.execute_transaction(
        TransactStatements=statements(name, *texts), ReturnConsumedCapacity="TOTAL"
    )
    return answer


def test_a_write_transaction(dynamodb: Client, music: str) -> None:
    answer = transaction(
        dynamodb,
        music,
        "EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND sk = '1' AND n = 10)",
        "INSERT INTO {t} VALUE {{'pk': 'tx', 'sk': '1'}}",
        "UPDATE {t} SET n = n + 1 WHERE pk = 'a' AND sk = '2'",
        "DELETE FROM {t} WHERE pk = 'a' AND sk = '3'",
    )
    assert answer["Responses"] == []
    # 2 per item for the table (4 items), and 1 each for the GSI entries UPDATE and DELETE wrote
    assert answer["ConsumedCapacity"][0]["CapacityUnits"] == 10.0
    assert read(dynamodb, music, key("tx", "1")) == key("tx", "1")
    assert read(dynamodb, music, key("a", "2"))["n"] == {"N": "21"}  # type: ignore[index]
    assert read(dynamodb, music, key("a", "3")) is None


def test_a_cancelled_write_transaction(dynamodb: Client, music: str) -> None:
    with raises(
        "TransactionCanceledException",
        cancelled("ConditionalCheckFailed", "None", "ValidationError", "ConditionalCheckFailed"),
    ) as info:
        dynamodb.execute_transaction(
            TransactStatements=statements(
                music,
                "EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND sk = '1' AND n = 0)",
                "UPDATE {t} SET n = 0 WHERE pk = 'a' AND sk = '2'",
                "INSERT INTO {t} VALUE {{'pk': 'a', 'sk': '3'}}",
                "UPDATE {t} SET n = 0 WHERE pk = 'nope' AND sk = '1'",
            )
        )
    reasons = info.value.response["CancellationReasons"]
    assert reasons[2] == {"Code": "ValidationError", "Message": DUPLICATE_KEY}
    assert read(dynamodb, music, key("a", "2"))["n"] == {"N": "20"}  # type: ignore[index]


def test_key_problems_cancel_a_transaction(dynamodb: Client, music: str) -> None:
    with raises(
        "TransactionCanceledException", cancelled("ValidationError", "ResourceNotFound", "None")
    ) as info:
        dynamodb.execute_transaction(
            TransactStatements=statements(
                music,
                "UPDATE {t} SET n = 0 WHERE pk = 'a'",
                "DELETE FROM \"no-such-table-here\" WHERE pk = 'a'",
                "UPDATE {t} SET n = 0 WHERE pk = 'a' AND sk = '1'",
            )
        )
    assert info.value.response["CancellationReasons"][0]["Message"] == KEY_SCHEMA_MISMATCH
    assert read(dynamodb, music, key("a", "1"))["n"] == {"N": "10"}  # type: ignore[index]


FAILED_IN = "Validation failed in TransactStatements"
UPDATE_ONE = "UPDATE {t} SET n = 1 WHERE pk = 'a' AND sk = '1'"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (
            ["SELECT * FROM {t} WHERE pk = 'a' AND sk = '1'", "DELETE FROM {t} WHERE pk = 'a'"],
            "ExecuteTransaction API does not support both read and write operations in the "
            "same request.",
        ),
        (
            [UPDATE_ONE + " RETURNING ALL NEW *"],
            f"{FAILED_IN}[0]: RETURNING clause is not supported in ExecuteTransaction.",
        ),
        (
            [UPDATE_ONE, "SELECT * FROM {t} WHERE"],
            f"{FAILED_IN}[1]: {NOT_WELL_FORMED}Unexpected term",
        ),
        (
            ["SELECT * FROM {t} WHERE pk = 'a'"],
            f"{FAILED_IN}[0]: Select statements within ExecuteTransaction must specify the "
            "primary key in the where clause.",
        ),
        (
            ["SELECT * FROM {t}.\"byG\" WHERE g = 'odd'"],
            f"{FAILED_IN}[0]: Reads on indices are not supported within transactions.",
        ),
        (
            [UPDATE_ONE, "DELETE FROM {t} WHERE sk = '1' AND pk = 'a'"],
            "Transaction request cannot include multiple operations on one item",
        ),
    ],
)
def test_transaction_errors(dynamodb: Client, music: str, texts: list[str], message: str) -> None:
    with validation(message):
        dynamodb.execute_transaction(TransactStatements=statements(music, *texts))
    assert read(dynamodb, music, key("a", "1"))["n"] == {"N": "10"}  # type: ignore[index]


def test_exists_needs_a_condition_beyond_the_key(dynamodb: Client, music: str) -> None:
    with validation(
        f"{FAILED_IN}[0]: EXISTS() must contain a single item read with additional condition"
    ):
        dynamodb.execute_transaction(
            TransactStatements=statements(
                music,
                "EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND sk = '1')",
                "UPDATE {t} SET n = 0 WHERE pk = 'a' AND sk = '2'",
            )
        )
    assert read(dynamodb, music, key("a", "2"))["n"] == {"N": "20"}  # type: ignore[index]


def test_a_read_transaction(dynamodb: Client, music: str) -> None:
    answer = transaction(
        dynamodb,
        music,
        "SELECT n FROM {t} WHERE pk = 'a' AND sk = '2'",
        "SELECT * FROM {t} WHERE pk = 'x' AND sk = '2'",
    )
    assert answer["Responses"] == [{"Item": {"n": {"N": "20"}}}, {}]
    assert answer["ConsumedCapacity"][0]["CapacityUnits"] == 4.0


def test_a_transaction_token(dynamodb: Client, music: str) -> None:
    request = {
        "TransactStatements": statements(
            music, "UPDATE {t} SET n = n + 1 WHERE pk = 'a' AND sk = '1'"
        ),
        "ClientRequestToken": str(uuid.uuid4()),
    }
    dynamodb.execute_transaction(**request)
    dynamodb.execute_transaction(**request)
    assert read(dynamodb, music, key("a", "1"))["n"] == {"N": "11"}  # type: ignore[index]
    request["TransactStatements"] = statements(
        music, "UPDATE {t} SET n = 0 WHERE pk = 'a' AND sk = '1'"
    )
    with raises("IdempotentParameterMismatchException"):
        dynamodb.execute_transaction(**request)
