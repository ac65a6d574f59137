"""PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics.

Datapoints are kept as statistic sets per bucket (store.py): one second for
high-resolution data (StorageResolution 1), one minute otherwise. A query sums buckets
into periods starting at its StartTime rounded down to the minute (to the second for
periods under a minute), as CloudWatch does for data younger than 15 days.

GetMetricData pages: MaxDatapoints (default 100,800) counts the datapoints of all the
results in one answer, in query order and ScanBy order within each; a result cut short
has StatusCode PartialData, and NextToken resumes at the next datapoint (results already
complete are not repeated). ListMetrics pages by 500 metrics.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.errors import (
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    ValidationException,
)
from dynastore.server.service import Request, RequestContext, Result
from dynastore.services import paging
from dynastore.services.cloudwatch import expressions, stats, store
from dynastore.services.cloudwatch.store import Dims, Sample, Stat
from dynastore.storage.base import Backend, ReadTx

MAX_DATAPOINTS = 1440  # GetMetricStatistics
DEFAULT_MAX_DATAPOINTS = 100800  # GetMetricData's page when MaxDatapoints is not given
LIST_PAGE = 500
PAST_LIMIT = 14 * 86400  # PutMetricData accepts timestamps up to two weeks old
FUTURE_LIMIT = 2 * 3600  # ... and two hours ahead
HIGH_RES_PERIODS = (1, 5, 10, 20, 30)
RECENT = 3 * 3600  # ListMetrics RecentlyActive=PT3H


def check_period(period: int, name: str = "Period") -> None:
    if period in HIGH_RES_PERIODS or (period >= 60 and period % 60 == 0):
        return
    raise InvalidParameterValue(f"The parameter {name} must be a multiple of 60.")


def origin_of(start: float, period: int) -> int:
    """Where a query's periods start: StartTime rounded down to the minute (or second)."""
    step = 60 if period % 60 == 0 else 1
    return int(start // step) * step


@dataclass(frozen=True, slots=True)
class MetricRef:
    namespace: str
    name: str
    dims: Dims


def read_periods(
    tx: ReadTx,
    account: str,
    region: str,
    metric: MetricRef,
    start: float,
    end: float,
    period: int,
    unit: str | None,
    origin: int | None = None,
) -> dict[tuple[int, str], Stat]:
    """Statistic sets per (period start, unit) of one metric over [start, end)."""
    first = origin if origin is not None else origin_of(start, period)
    buckets = store.read_buckets(
        tx, account, region, metric.namespace, metric.name, metric.dims, first, math.ceil(end)
    )
    return stats.aggregate(buckets, first, period, unit)


def _unit(value: Any) -> str | None:
    return str(value) if value else None


class MetricsApi:
    """The metric operations over one store."""

    def __init__(self, backend: Backend, clock: Callable[[], float]) -> None:
        self._backend = backend
        self._clock = clock

    # --- PutMetricData -----------------------------------------------------------------

    def put_metric_data(self, ctx: RequestContext, req: Request) -> Result:
        namespace = req["Namespace"]
        if namespace.startswith("AWS/"):
            raise InvalidParameterValue(
                f"The value {namespace} for parameter Namespace is invalid."
            )
        data = req.get("MetricData") or []
        if not data and not req.get("EntityMetricData"):
            raise MissingParameter("The parameter MetricData is required.")
        if len(data) > 1000:
            raise InvalidParameterValue(
                "The collection MetricData must not have a size greater than 1000."
            )
        now = self._clock()
        samples = [self._sample(namespace, i, d, now) for i, d in enumerate(data, 1)]
        for entry in req.get("EntityMetricData") or []:
            for i, d in enumerate(entry.get("MetricData") or [], 1):
                samples.append(self._sample(namespace, i, d, now))
        with self._backend.write() as tx:
            store.put_samples(tx, ctx.account, ctx.region, samples)
        return {}

    def _sample(self, namespace: str, index: int, datum: dict[str, Any], now: float) -> Sample:
        where = f"MetricData.member.{index}"
        value = datum.get("Value")
        values = datum.get("Values")
        counts = datum.get("Counts")
        statistic = datum.get("StatisticValues")
        if value is not None and values:
            raise InvalidParameterCombination(
                f"The parameters {where}.Value and {where}.Values are mutually exclusive "
                "and you have specified both."
            )
        if value is not None and statistic is not None:
            raise InvalidParameterCombination(
                f"The parameters {where}.Value and {where}.StatisticValues are mutually "
                "exclusive and you have specified both."
            )
        if values and statistic is not None:
            raise InvalidParameterCombination(
                f"The parameters {where}.Values and {where}.StatisticValues are mutually "
                "exclusive and you have specified both."
            )
        if counts and not values:
            raise InvalidParameterCombination(
                f"The parameter {where}.Counts requires {where}.Values."
            )
        if values and len(values) > 150:
            raise InvalidParameterValue(
                f"The collection {where}.Values must not have a size greater than 150."
            )
        if counts and len(counts) != len(values or ()):
            raise InvalidParameterValue(
                f"The parameters {where}.Values and {where}.Counts must be of the same size."
            )
        given = datum.get("Timestamp")
        stamp = float(given) if given is not None else now
        if stamp < now - PAST_LIMIT or stamp > now + FUTURE_LIMIT:
            raise InvalidParameterValue(
                f"The parameter {where}.Timestamp must specify a time no more than two weeks "
                "in the past and no more than two hours in the future."
            )
        resolution = int(datum.get("StorageResolution") or 60)
        if resolution not in (1, 60):
            raise InvalidParameterValue(
                f"The value {resolution} for parameter {where}.StorageResolution is invalid."
            )
        stat = self._stat(where, value, values, counts, statistic)
        bucket = int(stamp) if resolution == 1 else int(stamp // 60) * 60
        return Sample(
            namespace,
            datum["MetricName"],
            store.canonical_dims(datum.get("Dimensions")),
            bucket,
            str(datum.get("Unit") or "None"),
            stat,
        )

    @staticmethod
    def _stat(
        where: str,
        value: Any,
        values: list[Any] | None,
        counts: list[Any] | None,
        statistic: dict[str, Any] | None,
    ) -> Stat:
        def finite(number: Any, name: str) -> float:
            out = float(number)
            if not math.isfinite(out) or abs(out) > 2**360:
                raise InvalidParameterValue(f"The value {number} for parameter {name} is invalid.")
            return out

        if statistic is not None:
            parts = [
                finite(statistic[k], f"{where}.StatisticValues.{k}")
                for k in ("SampleCount", "Sum", "Minimum", "Maximum")
            ]
            if parts[0] <= 0:
                raise InvalidParameterValue(
                    f"The value {statistic['SampleCount']} for parameter "
                    f"{where}.StatisticValues.SampleCount is invalid."
                )
            return Stat(parts[0], parts[1], parts[2], parts[3], None)
        if values:
            numbers = [finite(v, f"{where}.Values") for v in values]
            weights = [finite(c, f"{where}.Counts") for c in counts] if counts else None
            return Stat.of_values(numbers, weights or [1.0] * len(numbers))
        if value is None:
            raise MissingParameter(f"The parameter {where}.Value is required.")
        number = finite(value, f"{where}.Value")
        return Stat.of_values([number], [1.0])

    # --- GetMetricStatistics ------------------------------------------------------------

    def get_metric_statistics(self, ctx: RequestContext, req: Request) -> Result:
        start, end = float(req["StartTime"]), float(req["EndTime"])
        period = int(req["Period"])
        names = list(req.get("Statistics") or [])
        extended = list(req.get("ExtendedStatistics") or [])
        if not names and not extended:
            raise InvalidParameterCombination(
                "Must specify either Statistics or ExtendedStatistics"
            )
        for name in extended:
            if stats.PERCENTILE.match(name) is None:
                raise InvalidParameterValue(
                    f"The value {name} for parameter ExtendedStatistics is not supported."
                )
        check_times(start, end, InvalidParameterValue)
        check_period(period)
        wanted = math.ceil((end - origin_of(start, period)) / period)
        if wanted > MAX_DATAPOINTS:
            raise InvalidParameterCombination(
                f"You have requested up to {wanted} datapoints, which exceeds the limit of "
                f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing "
                "Period, or decreasing the time range."
            )
        metric = MetricRef(
            req["Namespace"], req["MetricName"], store.canonical_dims(req.get("Dimensions"))
        )
        with self._backend.read() as tx:
            periods = read_periods(
                tx, ctx.account, ctx.region, metric, start, end, period, _unit(req.get("Unit"))
            )
        points = []
        for (slot, unit), stat in sorted(periods.items()):
            point: dict[str, Any] = {"Timestamp": slot, "Unit": unit}
            for name in names:
                point[name] = stats.value(stat, name)
            found = {n: stats.value(stat, n) for n in extended}
            if extended:
                point["ExtendedStatistics"] = {k: v for k, v in found.items() if v is not None}
            points.append(point)
        return {"Label": metric.name, "Datapoints": points}

    # --- GetMetricData -------------------------------------------------------------------

    def get_metric_data(self, ctx: RequestContext, req: Request) -> Result:
        start, end = float(req["StartTime"]), float(req["EndTime"])
        check_times(start, end, ValidationException, "\n")
        queries = list(req["MetricDataQueries"])
        descending = (req.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        budget = int(req.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS)
        if budget < 1:
            raise InvalidParameterValue(
                f"The value {budget} for parameter MaxDatapoints is invalid."
            )
        fingerprint = _fingerprint(req)
        first, skip = _data_token(req.get("NextToken"), fingerprint, len(queries))
        with self._backend.read() as tx:
            results = evaluate_queries(tx, ctx.account, ctx.region, queries, start, end)
        out: list[dict[str, Any]] = []
        resume: tuple[int, int] | None = None
        for index in range(first, len(results)):
            result = results[index]
            points = sorted(result.series.items(), reverse=descending)
            offset = skip if index == first else 0
            page = points[offset : offset + budget]
            budget -= len(page)
            complete = offset + len(page) >= len(points)
            out.append(
                {
                    "Id": result.id,
                    "Label": result.label,
                    "Timestamps": [t for t, _ in page],
                    "Values": [v for _, v in page],
                    "StatusCode": "Complete" if complete else "PartialData",
                    "Messages": [],
                }
            )
            if not complete:
                resume = (index, offset + len(page))
                break
            if budget == 0 and index + 1 < len(results):
                resume = (index + 1, 0)
                break
        answer: Result = {"MetricDataResults": out, "Messages": []}
        if resume is not None:
            token = orjson.dumps([resume[0], resume[1], fingerprint])
            answer["NextToken"] = base64.urlsafe_b64encode(b"G" + token).decode()
        return answer

    # --- ListMetrics ---------------------------------------------------------------------

    def list_metrics(self, ctx: RequestContext, req: Request) -> Result:
        after = _token(req.get("NextToken"))
        filters = [(f["Name"], f.get("Value")) for f in req.get("Dimensions") or []]
        recent = req.get("RecentlyActive")
        if recent is not None and recent != "PT3H":
            raise InvalidParameterValue(
                f"The value {recent} for parameter RecentlyActive is not supported."
            )
        since = self._clock() - RECENT if recent else None
        metrics: list[dict[str, Any]] = []
        last: bytes | None = None
        more = False
        with self._backend.read() as tx:
            entries = store.metric_entries(
                tx, ctx.account, ctx.region, req.get("Namespace"), req.get("MetricName"), after
            )
            for key, entry in entries:
                if since is not None and entry["t"] < since:
                    continue
                dims = {name: value for name, value in entry["d"]}
                if any(n not in dims or (v is not None and dims[n] != v) for n, v in filters):
                    continue
                if len(metrics) == LIST_PAGE:
                    more = True
                    break
                metrics.append(
                    {
                        "Namespace": entry["n"],
                        "MetricName": entry["m"],
                        "Dimensions": [{"Name": n, "Value": v} for n, v in entry["d"]],
                    }
                )
                last = key
        out: Result = {"Metrics": metrics}
        if more and last is not None:
            out["NextToken"] = base64.urlsafe_b64encode(last).decode()
        return out


def _token(text: Any) -> bytes | None:
    return paging.tagged(
        text, b"M", InvalidParameterValue("Request parameter NextToken is invalid")
    )


def _fingerprint(req: Request) -> str:
    """What a GetMetricData NextToken belongs to: the queries, times and order."""
    asked = [req["MetricDataQueries"], req["StartTime"], req["EndTime"], req.get("ScanBy")]
    return hashlib.blake2b(orjson.dumps(asked, default=str), digest_size=8).hexdigest()


def _data_token(text: Any, fingerprint: str, count: int) -> tuple[int, int]:
    """(query index, datapoints of it already returned) where a GetMetricData page starts."""
    if not text:
        return 0, 0
    try:
        raw = base64.urlsafe_b64decode(str(text).encode())
        index, offset, owner = orjson.loads(raw[1:]) if raw.startswith(b"G") else (-1, -1, "")
    except (binascii.Error, ValueError, TypeError):
        index, offset, owner = -1, -1, ""
    if owner != fingerprint or not isinstance(index, int) or not isinstance(offset, int):
        raise InvalidNextToken("The service returned an invalid token.")
    if not 0 <= index < count or offset < 0:
        raise InvalidNextToken("The service returned an invalid token.")
    return index, offset


def check_times(start: float, end: float, error: type[Exception], tail: str = "") -> None:
    if start == end:
        raise error(f"The parameter StartTime must not equal parameter EndTime.{tail}")
    if start > end:
        raise error(f"The parameter StartTime must be less than the parameter EndTime.{tail}")


# --- metric data queries (GetMetricData and alarms on metric math) ------------------------


@dataclass(slots=True)
class QueryResult:
    id: str
    label: str
    series: dict[int, float]


def _query_error(message: str) -> ValidationException:
    return ValidationException(message)


def check_queries(queries: list[dict[str, Any]], where: str = "MetricDataQueries") -> None:
    """The structural rules of a MetricDataQueries list."""
    seen: set[str] = set()
    for i, query in enumerate(queries, 1):
        qid = query["Id"]
        member = f"{where}.member.{i}"
        if not qid[:1].islower() or not all(c.isalnum() or c == "_" for c in qid):
            raise _query_error(
                f"The value {qid} for parameter {member}.Id is invalid. It must start with a "
                "lowercase letter and contain only letters, numbers and underscores."
            )
        if qid in seen:
            raise _query_error(f"The value {qid} for parameter {member}.Id is not unique.")
        seen.add(qid)
        stat = query.get("MetricStat")
        expression = query.get("Expression")
        if stat is None and expression is None:
            raise _query_error(f"The parameter {member}.MetricStat is required.\n")
        if stat is not None and expression is not None:
            raise _query_error(
                f"The parameters {member}.MetricStat and {member}.Expression are mutually "
                "exclusive and you have specified both."
            )
        if stat is not None:
            metric = stat["Metric"]
            if not metric.get("MetricName") or not metric.get("Namespace"):
                raise _query_error(f"The parameter {member}.MetricStat.Metric is invalid.\n")
            check_period(int(stat["Period"]), f"{member}.MetricStat.Period")
            if not stats.is_statistic(str(stat["Stat"])):
                raise _query_error(
                    f"The value {stat['Stat']} for parameter {member}.MetricStat.Stat is invalid."
                )
        else:
            try:
                expressions.parse(str(expression))
            except expressions.ExpressionError as error:
                raise expressions.validation(qid, error) from None


def evaluate_queries(
    tx: ReadTx,
    account: str,
    region: str,
    queries: list[dict[str, Any]],
    start: float,
    end: float,
    origin: int | None = None,
    returned_only: bool = True,
) -> list[QueryResult]:
    """Every query's series; those with ReturnData (default true) unless told otherwise."""
    check_queries(queries)
    by_id = {q["Id"]: q for q in queries}
    metric_ids = [q["Id"] for q in queries if q.get("MetricStat") is not None]
    periods = [int(by_id[i]["MetricStat"]["Period"]) for i in metric_ids]
    labels = _default_labels(queries)
    done: dict[str, dict[int, float]] = {}
    active: set[str] = set()
    base_period = min(periods) if periods else 60
    first = origin if origin is not None else origin_of(start, base_period)
    slots = list(range(first, math.ceil(end), base_period))

    def series(qid: str) -> dict[int, float]:
        if qid in done:
            return done[qid]
        query = by_id.get(qid)
        if query is None:
            raise expressions.ExpressionError(f"Unrecognized identifier {qid}")
        if qid in active:
            raise expressions.ExpressionError(f"Circular dependency on {qid}")
        active.add(qid)
        stat = query.get("MetricStat")
        if stat is not None:
            done[qid] = _stat_series(tx, account, region, stat, start, end, origin)
        else:
            node = expressions.parse(str(query["Expression"]))
            value = expressions.Evaluator(series, metric_ids, slots).evaluate(node)
            if isinstance(value, list):
                merged: dict[int, float] = {}
                for part in value:
                    merged.update(part)
                done[qid] = merged
            elif isinstance(value, dict):
                done[qid] = value
            else:
                done[qid] = {slot: value for slot in slots}
        active.discard(qid)
        return done[qid]

    out = []
    for query in queries:
        if returned_only and query.get("ReturnData") is False:
            continue
        qid = query["Id"]
        try:
            found = series(qid)
        except expressions.ExpressionError as error:
            raise expressions.validation(qid, error) from None
        out.append(QueryResult(qid, query.get("Label") or labels[qid], found))
    return out


def _stat_series(
    tx: ReadTx,
    account: str,
    region: str,
    stat: dict[str, Any],
    start: float,
    end: float,
    origin: int | None,
) -> dict[int, float]:
    metric = stat["Metric"]
    ref = MetricRef(
        metric["Namespace"], metric["MetricName"], store.canonical_dims(metric.get("Dimensions"))
    )
    period = int(stat["Period"])
    periods = read_periods(
        tx, account, region, ref, start, end, period, _unit(stat.get("Unit")), origin
    )
    out: dict[int, float] = {}
    merged: dict[int, Stat] = {}
    for (slot, _unit_name), found in periods.items():
        if slot in merged:
            merged[slot].merge(found)
        else:
            merged[slot] = found
    for slot, found in merged.items():
        number = stats.value(found, str(stat["Stat"]))
        if number is not None:
            out[slot] = number
    return out


def _default_labels(queries: list[dict[str, Any]]) -> dict[str, str]:
    """The metric name, plus the stat and period when the queries differ in them."""
    metric_queries = [q for q in queries if q.get("MetricStat") is not None]
    vary_stat = len({str(q["MetricStat"]["Stat"]) for q in metric_queries}) > 1
    vary_period = len({int(q["MetricStat"]["Period"]) for q in metric_queries}) > 1
    labels = {}
    for query in queries:
        stat = query.get("MetricStat")
        if stat is None:
            labels[query["Id"]] = query["Id"]
            continue
        label = str(stat["Metric"]["MetricName"])
        if vary_stat:
            label += f" {stat['Stat']}"
        if vary_period:
            label += f" {stat['Period']}"
        labels[query["Id"]] = label
    return labels
