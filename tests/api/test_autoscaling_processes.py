"""Auto scaling measures the traffic of every process sharing the store.

Two servers on one PostgreSQL database; the first holds the autoscaling lease, and all
the writes go to the second. The holder sees them only through the CloudWatch datapoints
the second flushes (every 0.25 s here), and scales the table out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import _stop
from tests.api.helpers import aws_client, create_table, unique_name, wait_for
from tests.api.test_autoscaling import WRITE, _capacity, _register, _track_writes, write_for
from tests.api.test_multiprocess import Served, serve
from tests.postgres_cluster import PostgresCluster

FLAGS = (
    "--log-level", "info", "--lease-seconds", "2",
    "--autoscaling-interval", "0.5", "--metrics-interval", "0.25",
)  # fmt: skip
HELD = "lease autoscaling: held by this process"


def _logged(server: Served) -> str:
    return server.log.read_text(errors="replace")


@pytest.fixture
def holder_and_other(postgres_cluster: PostgresCluster, tmp_path: Path) -> Iterator[list[Served]]:
    """[the autoscaling lease holder, another server] on one database."""
    database = postgres_cluster.create_database("autoscaling_processes")
    servers: list[Served] = []
    try:
        servers.append(serve(database, tmp_path / "data", tmp_path / "holder.stderr", *FLAGS))
        wait_for(lambda: HELD in _logged(servers[0]), timeout=60)
        servers.append(serve(database, tmp_path / "data", tmp_path / "other.stderr", *FLAGS))
        yield servers
    finally:
        for server in servers:
            _stop(server)


def test_scales_on_traffic_to_another_process(holder_and_other: list[Served]) -> None:
    holder, other = holder_and_other
    ddb = aws_client(other.url)
    scaling = aws_client(holder.url, "application-autoscaling")
    name = create_table(
        ddb,
        unique_name("scale"),
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 3},
    )
    _register(scaling, name, WRITE, MinCapacity=3, MaxCapacity=40)
    _track_writes(scaling, name)
    write_for(ddb, name, 3.0)  # through the other process: far above 50 % of 3
    wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] > 3)
    activities = scaling.describe_scaling_activities(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}"
    )["ScalingActivities"]
    assert "triggered policy writes" in activities[0]["Cause"]
    # The lease stayed with the first server: the second never evaluated a target.
    assert HELD not in _logged(other)
