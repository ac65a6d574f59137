"""Scan, including parallel scans (Segment / TotalSegments).

A segment is a contiguous range of partition hashes (keys.segment_range), so segments
are disjoint, cover the table together, and a key's segment depends only on its
partition key and TotalSegments. Pages resume after ExclusiveStartKey's encoded key.
"""

from __future__ import annotations

from dynastore.engine import attrs
from dynastore.engine.engine import Engine
from dynastore.engine.reads import Source, in_segment, resume, scan_range
from dynastore.engine.values import Item
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import prepare_search
from dynastore.ops.items import item_table
from dynastore.ops.query import (
    START_INVALID,
    build_plan,
    check_all_attributes,
    check_conditional_operator,
    check_key_paths,
    check_select,
    check_start_table_key,
    check_start_values,
    expression_paths,
    run,
    source_of,
    start_piece,
)
from dynastore.server.protocol import RequestContext


def _check_segments(req: Request) -> None:
    segment, total = req.get("Segment"), req.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is not None:
        if segment is None:
            raise ValidationException(
                "The Segment parameter is required but was not present in the request when "
                "parameter TotalSegments is present"
            )
        if segment >= total:
            raise ValidationException(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
            )


def _check_start(source: Source, req: Request, start: Item) -> None:
    """ExclusiveStartKey against the scanned schema, in DynamoDB's order."""
    if len(start) != len(source.start_key_attrs):
        if source.index is not None:
            raise ValidationException(START_INVALID)
        raise ValidationException(f"{START_INVALID}: {attrs.KEY_SCHEMA_MISMATCH}")
    if source.index is not None:
        for position, attr in enumerate(source.key_attrs):
            start_piece(start, attr, position == 0)
    check_all_attributes(source, req)
    check_start_table_key(source.table, start)


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    check_select(req, "")
    start: Item | None = req.get("ExclusiveStartKey")

    def checks() -> None:
        check_conditional_operator(req, "ScanFilter")
        check_start_values(start)
        _check_segments(req)

    prepared = prepare_search(engine, req, "Scan", checks)
    table = item_table(engine, ctx, req)
    source = source_of(table, req)
    segment, total = req.get("Segment"), req.get("TotalSegments")
    low, high = scan_range(segment, total)
    if start is not None:
        _check_start(source, req, start)
        after = source.encode_start(start)
        if segment is not None and total is not None and not in_segment(after, segment, total):
            raise ValidationException(
                f"{START_INVALID}: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with "
                f"correct Segment. TotalSegments: {total} Segment: {segment}"
            )
        low, high = resume(low, high, after, reverse=False)
    else:
        check_all_attributes(source, req)
    projection_paths, filter_paths = expression_paths(prepared)
    check_key_paths(table, projection_paths)
    check_key_paths(table, filter_paths)
    plan = build_plan(source, req, prepared, low, high)
    return run(engine, req, source, plan)
