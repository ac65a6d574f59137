"""Token buckets, counters and Contributor Insights of engine/throttle.py, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.engine.capacity import (
    check_decrease,
    check_on_demand,
    check_table_maximum,
    decreases_today,
    stored_read_units,
)
from dynastore.engine.catalog import IndexDef, KeyAttr, TableDef
from dynastore.engine.insights import Insights, RuleCounter, Setting, rule_names
from dynastore.engine.throttle import (
    INDEX_EXCEEDED,
    ON_DEMAND_EXCEEDED,
    TABLE_EXCEEDED,
    Bucket,
    Throttle,
)
from dynastore.errors import (
    LimitExceededException,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ThrottlingException,
    ValidationException,
)
from tests.unit.clock import Clock

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t"
T0 = 1_800_000_000.0  # a Friday, 2027-01-15 08:00:00 UTC


def make_table(
    rcu: int = 5,
    wcu: int = 5,
    *,
    on_demand: dict[str, int] | None = None,
    gsi: tuple[int, int] | None = None,
    insights: dict[str, Any] | None = None,
    sort_key: bool = False,
) -> TableDef:
    desc: dict[str, Any] = {
        "TableName": "t",
        "TableArn": ARN,
        "TableStatus": "ACTIVE",
        "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
    }
    if on_demand is not None:
        desc["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
        desc["ProvisionedThroughput"] = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
        desc["OnDemandThroughput"] = on_demand
    indexes = []
    if gsi is not None:
        indexes.append(IndexDef("g", "GSI", 2, KeyAttr("gk", "S"), None, "ALL"))
        desc["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "g",
                "IndexArn": ARN + "/index/g",
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": gsi[0],
                    "WriteCapacityUnits": gsi[1],
                },
            }
        ]
    if insights is not None:
        desc["ContributorInsights"] = insights
    sk = KeyAttr("sk", "S") if sort_key else None
    return TableDef("000000000000", "us-east-1", "t", 1, KeyAttr("pk", "S"), sk, desc, indexes)


def make_throttle(clock: Clock, burst: float = 300.0, table_max: float = 40000) -> Throttle:
    return Throttle(clock, Insights(clock), burst, table_max_units=table_max)


def key(value: str) -> dict[str, Any]:
    return {"pk": {"S": value}}


# --- buckets ---------------------------------------------------------------------------


def test_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    bucket = Bucket(5.0, 10.0, 10.0, 0.0)
    assert bucket.take(10.0, 0.0)
    assert not bucket.take(1.0, 0.0)
    assert bucket.take(5.0, 1.0)  # one second: five units
    assert bucket.take(10.0, 100.0)  # never more than the capacity
    assert not bucket.take(1.0, 100.0)


def test_bucket_admits_an_oversized_request_only_when_full() -> None:
    bucket = Bucket(1.0, 3.0, 3.0, 0.0)
    assert bucket.take(400.0, 0.0)  # a 400 KB write on a 1 WCU table goes through once
    assert bucket.tokens == -397.0
    assert not bucket.take(1.0, 300.0)  # still in debt
    assert bucket.take(1.0, 398.0)


def test_provisioned_writes_throttle_after_the_burst_and_recover() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=2.0)  # 5 WCU -> 10 units of credit
    table = make_table(wcu=5)
    for _ in range(10):
        reserved = throttle.reserve_write(table, 1.0, key("a"))
        throttle.settle_write(table, reserved, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException) as caught:
        throttle.reserve_write(table, 1.0, key("a"))
    assert caught.value.message == TABLE_EXCEEDED
    assert caught.value.extras == {
        "ThrottlingReasons": [
            {"reason": "TableWriteProvisionedThroughputExceeded", "resource": ARN}
        ]
    }
    clock.now += 1.0  # five units back
    for _ in range(5):
        throttle.reserve_write(table, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)


def test_default_burst_is_300_seconds_of_capacity() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock)
    table = make_table(rcu=1, wcu=1)
    for _ in range(300):
        throttle.reserve_write(table, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)


def test_settle_charges_the_real_cost() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=2.0)
    table = make_table(wcu=5)
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 9.0)  # the old item was 9 KB
    throttle.reserve_write(table, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)


def test_reads_and_writes_have_separate_buckets() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(rcu=2, wcu=1)
    throttle.reserve_write(table, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)
    for _ in range(4):  # eventually consistent reads cost half a unit
        throttle.reserve_read(table, 0.5)
    with pytest.raises(ProvisionedThroughputExceededException) as caught:
        throttle.reserve_read(table, 0.5)
    assert caught.value.extras["ThrottlingReasons"][0]["reason"] == (
        "TableReadProvisionedThroughputExceeded"
    )


def test_lsi_units_count_against_the_table() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=4)
    table.indexes.append(IndexDef("l", "LSI", 3, KeyAttr("pk", "S"), KeyAttr("x", "S"), "ALL"))
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 1.0, {"l": 2.0})
    throttle.reserve_write(table, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)


def test_gsi_back_pressure_throttles_table_writes() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=100, gsi=(5, 2))
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 1.0, {"g": 2.0})  # the GSI's bucket is empty now
    with pytest.raises(ProvisionedThroughputExceededException) as caught:
        throttle.reserve_write(table, 1.0)
    assert caught.value.message == INDEX_EXCEEDED
    assert caught.value.extras["ThrottlingReasons"] == [
        {"reason": "IndexWriteProvisionedThroughputExceeded", "resource": ARN + "/index/g"}
    ]
    clock.now += 1.0
    throttle.reserve_write(table, 1.0)


def test_gsi_reads_use_the_gsi_bucket() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(rcu=100, gsi=(1, 5))
    throttle.reserve_read(table, 1.0, index="g")
    with pytest.raises(ProvisionedThroughputExceededException) as caught:
        throttle.reserve_read(table, 1.0, index="g")
    assert caught.value.extras["ThrottlingReasons"][0]["reason"] == (
        "IndexReadProvisionedThroughputExceeded"
    )
    throttle.reserve_read(table, 1.0)  # the table still has capacity


def test_on_demand_without_maximums_never_throttles() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(on_demand={})
    assert not throttle.enforces(table)
    for _ in range(10_000):
        assert throttle.reserve_write(table, 1.0) == 0.0


def test_on_demand_tables_stay_under_the_per_table_quota() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, table_max=10)
    table = make_table(on_demand={}, gsi=(0, 0))
    table.description["GlobalSecondaryIndexes"][0].pop("ProvisionedThroughput")
    assert not throttle.enforces(table)  # no estimates: units are charged when known
    assert throttle.reserve_read(table, 1.0) == 0.0
    throttle.settle_read(table, 0.0, 12.0)  # one large read spends the second's quota
    with pytest.raises(RequestLimitExceeded) as caught:
        throttle.reserve_read(table, 1.0)
    assert caught.value.body() == {
        "__type": "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
        "message": "Throughput exceeds the current throughput limit for your account. Please "
        "contact AWS Support at https://aws.amazon.com/support request a limit increase",
        "ThrottlingReasons": [{"reason": "TableReadAccountLimitExceeded", "resource": ARN}],
    }
    throttle.reserve_read(table, 1.0, index="g")  # the GSI has its own quota
    throttle.settle_write(table, 0.0, 1.0, {"g": 11.0})
    with pytest.raises(RequestLimitExceeded) as caught:
        throttle.reserve_write(table, 1.0)  # the GSI's quota holds the table's writes back
    assert caught.value.extras["ThrottlingReasons"][0]["reason"] == (
        "IndexWriteAccountLimitExceeded"
    )
    clock.now += 1.0
    throttle.reserve_read(table, 1.0)
    throttle.reserve_write(table, 1.0)
    minute = throttle.metrics("000000000000", "us-east-1", "t", start=0)[0][1]
    assert minute["ReadAccountLimitThrottleEvents"] == 1.0


def test_on_demand_maximum_is_a_per_second_rate() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock)
    table = make_table(on_demand={"MaxReadRequestUnits": 4, "MaxWriteRequestUnits": -1})
    for _ in range(4):
        throttle.reserve_read(table, 1.0)
    with pytest.raises(ThrottlingException) as caught:
        throttle.reserve_read(table, 1.0)
    assert caught.value.message == ON_DEMAND_EXCEEDED
    assert caught.value.extras == {
        "throttlingReasons": [{"reason": "TableReadMaxOnDemandThroughputExceeded", "resource": ARN}]
    }
    for _ in range(100):  # -1: no write maximum
        throttle.reserve_write(table, 1.0)
    clock.now += 1.0
    throttle.reserve_read(table, 1.0)


def test_forget_picks_up_new_limits_and_keeps_the_balance() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=2)
    throttle.reserve_write(table, 2.0)
    table.description["ProvisionedThroughput"]["WriteCapacityUnits"] = 10
    throttle.forget(table)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_write(table, 1.0)  # the spent credit stays spent
    clock.now += 1.0
    for _ in range(10):  # ... and refills at the new rate
        throttle.reserve_write(table, 1.0)


def test_a_new_description_object_is_noticed_without_forget() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=1)
    throttle.reserve_write(table, 1.0)
    table.description = make_table(on_demand={}).description  # as a catalog reload does
    for _ in range(5):
        throttle.reserve_write(table, 1.0)


def test_a_recreated_table_starts_with_full_buckets() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=1)
    table.description["TableId"] = "one"
    throttle.reserve_write(table, 1.0)
    again = make_table(wcu=1)
    again.description["TableId"] = "two"
    throttle.reserve_write(again, 1.0)


# --- counters --------------------------------------------------------------------------


def test_counters_per_minute_for_table_and_gsi() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(rcu=1, wcu=100, gsi=(5, 100))
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 2.0, {"g": 3.0})
    reserved = throttle.reserve_read(table, 1.0)
    throttle.settle_read(table, reserved, 1.0)
    with pytest.raises(ProvisionedThroughputExceededException):
        throttle.reserve_read(table, 1.0)
    clock.now += 60
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 1.0)
    minute = int(T0 // 60) * 60
    assert throttle.metrics("000000000000", "us-east-1", "t") == [
        (
            minute,
            {
                "ConsumedWriteCapacityUnits": 2.0,
                "ConsumedReadCapacityUnits": 1.0,
                "ReadThrottleEvents": 1.0,
                "ReadProvisionedThroughputThrottleEvents": 1.0,
                "ThrottledRequests": 1.0,
            },
        ),
        (minute + 60, {"ConsumedWriteCapacityUnits": 1.0}),
    ]
    assert throttle.metrics("000000000000", "us-east-1", "t", "g") == [
        (minute, {"ConsumedWriteCapacityUnits": 3.0})
    ]
    assert throttle.datapoints(
        "000000000000",
        "us-east-1",
        "t",
        None,
        "ConsumedWriteCapacityUnits",
        minute,
        minute + 300,
        300,
    ) == [(minute, 3.0)]


def test_batch_items_do_not_count_as_requests() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=1)
    throttle.try_reserve_write(table, 1.0)
    outcome = throttle.try_reserve_write(table, 1.0)
    assert isinstance(outcome, ProvisionedThroughputExceededException)
    throttle.throttled_request(table)
    [(_, sums)] = throttle.metrics("000000000000", "us-east-1", "t")
    assert sums == {"WriteThrottleEvents": 1.0, "WriteProvisionedThroughputThrottleEvents": 1.0,
                    "ThrottledRequests": 1.0}  # fmt: skip


# --- Contributor Insights ----------------------------------------------------------------


def enabled(rule_ms: int = 1, mode: str = "ACCESSED_AND_THROTTLED_KEYS", until: float = 0.0) -> Any:
    return Setting(True, mode, rule_ms, until, 0.0).to_json()


def test_rule_names() -> None:
    assert rule_names("Music", 1576629651520, True, "ACCESSED_AND_THROTTLED_KEYS") == [
        "DynamoDBContributorInsights-PKC-Music-1576629651520",
        "DynamoDBContributorInsights-SKC-Music-1576629651520",
        "DynamoDBContributorInsights-PKT-Music-1576629651520",
        "DynamoDBContributorInsights-SKT-Music-1576629651520",
    ]
    assert rule_names("Music", 7, False, "THROTTLED_KEYS") == [
        "DynamoDBContributorInsights-PKT-Music-7"
    ]


def test_insights_count_accessed_and_throttled_keys() -> None:
    clock = Clock(T0)
    insights = Insights(clock)
    throttle = Throttle(clock, insights, 1.0)
    table = make_table(wcu=3, sort_key=True, insights={"": enabled()})
    for pk, sk in (("a", "1"), ("a", "2"), ("a", "1"), ("b", "1")):
        item = {"pk": {"S": pk}, "sk": {"S": sk}}
        try:
            reserved = throttle.reserve_write(table, 1.0, item)
        except ProvisionedThroughputExceededException:
            continue
        throttle.settle_write(table, reserved, 1.0, None, None, item)
    names = {r.kind: r.name for r in insights.rules()}
    assert set(names) == {"PKC", "SKC", "PKT", "SKT"}
    pkc = insights.report(names["PKC"], T0 - 60, T0 + 60, 10)
    assert pkc is not None
    assert [(c.keys, c.value) for c in pkc.contributors] == [(("a",), 3.0)]
    skc = insights.report(names["SKC"], T0 - 60, T0 + 60, 10)
    assert skc is not None
    assert [(c.keys, c.value) for c in skc.contributors] == [(("a", "1"), 2.0), (("a", "2"), 1.0)]
    pkt = insights.report(names["PKT"], T0 - 60, T0 + 60, 10)
    assert pkt is not None
    assert [(c.keys, c.value) for c in pkt.contributors] == [(("b",), 1.0)]
    minute = int(T0 // 60) * 60
    assert pkc.contributors[0].datapoints == ((minute, 3.0),)
    assert pkc.aggregate_value == 3.0 and pkc.unique_contributors == 1


def test_insights_of_a_gsi_use_its_keys() -> None:
    clock = Clock(T0)
    insights = Insights(clock)
    throttle = Throttle(clock, insights, 1.0)
    table = make_table(on_demand={}, gsi=(0, 0), insights={"g": enabled()})
    table.description["GlobalSecondaryIndexes"][0].pop("ProvisionedThroughput")
    item = {"pk": {"S": "a"}, "gk": {"S": "hot"}}
    throttle.settle_write(
        table, throttle.reserve_write(table, 1.0, item), 1.0, {"g": 1.0}, None, item
    )
    [rule] = [r for r in insights.rules() if r.kind == "PKC"]
    assert rule.index == "g"
    report = insights.report(rule.name, T0 - 60, T0 + 60)
    assert report is not None and report.contributors[0].keys == ("hot",)


def test_insights_count_nothing_while_enabling_or_disabled() -> None:
    clock = Clock(T0)
    insights = Insights(clock)
    throttle = Throttle(clock, insights, 1.0)
    table = make_table(on_demand={}, insights={"": enabled(until=T0 + 10)})
    throttle.settle_read(table, 0.0, 1.0, key("a"))
    clock.now += 10
    throttle.settle_read(table, 0.0, 1.0, key("b"))
    [pkc] = [r for r in insights.rules() if r.kind == "PKC"]
    report = insights.report(pkc.name, T0 - 60, T0 + 60)
    assert report is not None and [c.keys for c in report.contributors] == [("b",)]
    table.description["ContributorInsights"] = {"": Setting(False, "x", 1, 0, 0).to_json()}
    throttle.forget(table)
    throttle.settle_read(table, 0.0, 1.0, key("c"))
    assert insights.rules() == []


def test_rule_counter_is_bounded() -> None:
    counter = RuleCounter("r", "PKC", retention_minutes=2, keys_per_minute=3)
    for n in range(100):
        counter.add(0, ("hot",))
        counter.add(0, (f"cold{n}",))
    report = counter.report(0, 60, 1)
    assert [(c.keys, c.value) for c in report.contributors] == [(("hot",), 100.0)]
    assert report.aggregate_value == 200.0
    assert len(counter._minutes[0]) < 6
    counter.add(5, ("later",))
    assert 0 not in counter._minutes  # past the retention


# --- capacity settings -------------------------------------------------------------------


def test_table_maximum() -> None:
    check_table_maximum({"ReadCapacityUnits": 40000, "WriteCapacityUnits": 1}, "us-east-1")
    with pytest.raises(LimitExceededException) as caught:
        check_table_maximum({"ReadCapacityUnits": 1, "WriteCapacityUnits": 45000}, "eu-west-1")
    assert caught.value.message == (
        "The requested WriteCapacityUnits, 45000, is above the per table maximum for the "
        "account in eu-west-1. Per table maximum: 40000."
    )


def test_four_decreases_a_day_then_one_an_hour() -> None:
    throughput: dict[str, Any] = {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10}
    now = 1791501648.0  # Thursday, October 8, 2026 11:20:48 PM UTC
    for n in range(4):
        assert check_decrease(throughput, {"ReadCapacityUnits": 9 - n}, now)
        throughput["NumberOfDecreasesToday"] = decreases_today(throughput, now) + 1
        throughput["LastDecreaseDateTime"] = now
        throughput["ReadCapacityUnits"] = 9 - n
    assert not check_decrease(throughput, {"ReadCapacityUnits": 20}, now)  # an increase
    with pytest.raises(LimitExceededException) as caught:
        check_decrease(throughput, {"ReadCapacityUnits": 1}, now + 5)
    assert caught.value.message == (
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given "
        "UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can "
        "be performed at most once every 3600 seconds. Number of decreases today: 4. Last "
        "decrease at Thursday, October 8, 2026 at 11:20:48 PM Coordinated Universal Time. Next "
        "decrease can be made at Friday, October 9, 2026 at 12:00:00 AM Coordinated Universal "
        "Time."
    )
    assert decreases_today(throughput, now + 3600) == 0  # a new UTC day
    assert check_decrease(throughput, {"ReadCapacityUnits": 1}, now + 3600)


def test_on_demand_maximums() -> None:
    check_on_demand({"MaxReadRequestUnits": 1, "MaxWriteRequestUnits": 40000}, "us-east-1")
    check_on_demand({"MaxReadRequestUnits": -1}, "us-east-1", clearing=True)
    with pytest.raises(ValidationException) as invalid:
        check_on_demand({"MaxReadRequestUnits": -1}, "us-east-1")
    assert invalid.value.message == (
        "One or more parameter values were invalid: Requested MaxReadRequestUnits for "
        "OnDemandThroughput for table is outside of valid range"
    )
    with pytest.raises(LimitExceededException) as limit:
        check_on_demand({"MaxWriteRequestUnits": 40001}, "us-east-1", "g")
    assert limit.value.message == (
        "Subscriber limit exceeded: Requested MaxWriteRequestUnits for OnDemandThroughput for "
        "index : g exceeds TableMaxWriteCapacityUnits of the account in region us-east-1"
    )


def test_stored_read_units() -> None:
    assert stored_read_units(None, True) == 1.0
    assert stored_read_units(b"{}" * 2048, False) == 0.5
    big = b'{"pk":{"S":"' + b"x" * 9000 + b'"}}'
    assert stored_read_units(big, True) == 3.0
