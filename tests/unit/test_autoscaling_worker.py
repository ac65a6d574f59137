"""The autoscaling worker in a shared store: consumption read from the CloudWatch datapoints
every process flushes, with a controllable clock (no server, no waiting)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.engine import metrics
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.throttle import CONSUMED_WRITE
from dynastore.ops import create_table
from dynastore.services.autoscaling.handlers import AutoscalingApi
from dynastore.services.cloudwatch import store
from dynastore.services.cloudwatch.store import Sample, Stat
from dynastore.storage.sqlite import SqliteBackend
from dynastore.workers.autoscaling import MAX_GAP, AutoscalingSettings, AutoscalingWorker
from tests.unit.clock import Clock
from tests.unit.test_metrics import ACCOUNT, CTX, NOW, REGION

TARGET = {
    "ServiceNamespace": "dynamodb",
    "ResourceId": "table/tbl",
    "ScalableDimension": "dynamodb:table:WriteCapacityUnits",
}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Iterator[Engine]:
    backend = SqliteBackend(str(tmp_path / "store.db"), checkpoint_interval=None)
    eng = Engine(backend, EngineSettings(shared_store=True), clock=clock)
    create_table.handle(
        eng,
        CTX,
        {
            "TableName": "tbl",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        },
    )
    api = AutoscalingApi(eng)
    api.register_scalable_target(CTX, {**TARGET, "MinCapacity": 5, "MaxCapacity": 100})
    metric = {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}
    config = {"TargetValue": 50.0, "PredefinedMetricSpecification": metric}
    policy = {"PolicyName": "writes", "PolicyType": "TargetTrackingScaling"}
    api.put_scaling_policy(
        CTX, {**TARGET, **policy, "TargetTrackingScalingPolicyConfiguration": config}
    )
    yield eng
    eng.close()


def _flush(engine: Engine, units: float, at: float) -> None:
    """What some process's metrics worker writes: `units` consumed in the minute of `at`."""
    minute = int(at // 60) * 60
    dims = metrics.table_dims("tbl")
    sample = Sample(
        metrics.NAMESPACE, CONSUMED_WRITE, dims, minute, "Count", Stat(1, units, units, units, None)
    )
    with engine.backend.write() as tx:
        store.put_samples(tx, ACCOUNT, REGION, [sample])


def _write_units(engine: Engine) -> int:
    engine.catalog.refresh()
    table = engine.catalog.get(ACCOUNT, REGION, "tbl")
    assert table is not None
    return int(table.description["ProvisionedThroughput"]["WriteCapacityUnits"])


def test_scales_out_on_every_process_datapoints(engine: Engine, clock: Clock) -> None:
    worker = AutoscalingWorker(engine, AutoscalingSettings(interval=1.0))
    _flush(engine, 30.0, NOW - 30)  # before the first evaluation: not this period's
    worker.run_once()  # the baseline
    clock.now += 1
    _flush(engine, 2.0, NOW)
    _flush(engine, 2.0, NOW - 30)  # a late flush into the previous minute counts too
    worker.run_once()  # 4 units/s: 80 % of 5
    assert _write_units(engine) == 5
    clock.now += 1
    _flush(engine, 10.0, clock.now)
    worker.run_once()  # the second period above the target: 10 * 100 / 50 units
    assert _write_units(engine) == 20


def test_a_pause_only_takes_a_new_baseline(engine: Engine, clock: Clock) -> None:
    worker = AutoscalingWorker(engine, AutoscalingSettings(interval=1.0))
    worker.run_once()
    clock.now += MAX_GAP + 1  # the lease was with another process meanwhile
    _flush(engine, 10_000.0, clock.now)
    worker.run_once()  # not judged: that consumption may be older than the period
    clock.now += 1
    _flush(engine, 10.0, clock.now)
    worker.run_once()  # one period above the target
    clock.now += 1
    worker.run_once()  # idle: no scale-out
    assert _write_units(engine) == 5
