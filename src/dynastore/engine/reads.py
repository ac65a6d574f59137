"""Query and Scan over storage: key ranges, pages, the 1 MB limit, LastEvaluatedKey.

Design note
-----------
A read walks one storage space (the table's or an index's) between two encoded keys
(see keys.py): a Query is the range of one partition prefix, narrowed by the sort-key
condition, so its cost depends on the items it reads and not on the table's size; a
Scan is the whole space or one parallel-scan segment, which is a range of partition
hashes. An index entry's key is the index key followed by the table key, so the same
code reads tables and indexes, and an entry's key alone gives its LastEvaluatedKey.

A page stops after `Limit` items or once the items read reach 1 MB, both counted before
the filter, as DynamoDB counts them. The 1 MB counts the items' stored bytes (their
DynamoDB JSON): never less than DynamoDB's item size, and known without parsing the
item, so a page without filter or projection splices stored bytes into the answer
unparsed. A page resumes strictly after ExclusiveStartKey's encoded key, whatever was
written since: pages never skip or repeat an item that stays in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import keys
from dynastore.engine.catalog import IndexDef, KeyAttr, TableDef
from dynastore.engine.expr import KeyCondition
from dynastore.engine.values import Item, item_size
from dynastore.storage.base import Backend, ReadTx

MAX_PAGE_BYTES = 1024 * 1024

Filter = Callable[[Item], bool]
Projector = Callable[[Item], Item]


@dataclass(frozen=True, slots=True)
class Source:
    """What a read walks: a table, or one of its indexes."""

    table: TableDef
    index: IndexDef | None = None

    @property
    def space(self) -> int:
        return self.table.space if self.index is None else self.index.space

    @property
    def pk(self) -> KeyAttr:
        return self.table.pk if self.index is None else self.index.pk

    @property
    def sk(self) -> KeyAttr | None:
        return self.table.sk if self.index is None else self.index.sk

    @property
    def key_attrs(self) -> tuple[KeyAttr, ...]:
        """The queried key schema: partition key first."""
        return (self.pk,) if self.sk is None else (self.pk, self.sk)

    @property
    def start_key_attrs(self) -> tuple[KeyAttr, ...]:
        """The attributes of an ExclusiveStartKey / LastEvaluatedKey: table keys, then
        the index's own (each once)."""
        table = self.table
        out = [table.pk] if table.sk is None else [table.pk, table.sk]
        if self.index is not None:
            names = {a.name for a in out}
            out.extend(a for a in (self.index.pk, self.index.sk) if a and a.name not in names)
        return tuple(out)

    def projected(self) -> frozenset[str] | None:
        """Top-level attributes an index entry holds (None: every attribute)."""
        index = self.index
        if index is None or index.projection == "ALL":
            return None
        names = set(self.table.key_names) | {index.pk.name}
        if index.sk is not None:
            names.add(index.sk.name)
        names.update(index.non_key)
        return frozenset(names)

    def encode_start(self, start: Item) -> bytes:
        """The storage key of a (validated) ExclusiveStartKey."""
        table = self.table
        base = keys.encode_item_key(
            start[table.pk.name], start[table.sk.name] if table.sk is not None else None
        )
        index = self.index
        if index is None:
            return base
        head = keys.encode_item_key(
            start[index.pk.name], start[index.sk.name] if index.sk is not None else None
        )
        return head + base

    def decode(self, key: bytes) -> Item:
        """The LastEvaluatedKey of a storage key: the table key, plus the index key."""
        table = self.table
        index = self.index
        out: Item = {}
        offset = keys.HASH_SIZE
        if index is not None:
            out[index.pk.name], offset = keys.decode_key_value(key, offset, index.pk.type)
            if index.sk is not None:
                out[index.sk.name], offset = keys.decode_key_value(key, offset, index.sk.type)
            offset += keys.HASH_SIZE
        out[table.pk.name], offset = keys.decode_key_value(key, offset, table.pk.type)
        if table.sk is not None:
            out[table.sk.name], _ = keys.decode_key_value(key, offset, table.sk.type)
        return out


def query_range(source: Source, condition: KeyCondition) -> tuple[bytes, bytes | None]:
    """The ``[start, end)`` storage range of a planned key condition."""
    prefix = keys.partition_prefix(keys.encode_key_value(condition.partition_value))
    sort = condition.sort
    if sort is None:
        return keys.sort_key_range(prefix)
    upper = sort.values[1] if len(sort.values) > 1 else None
    return keys.sort_key_range(prefix, sort.op, sort.values[0], upper)


def scan_range(segment: int | None, total: int | None) -> tuple[bytes, bytes | None]:
    """The storage range of a whole Scan, or of one parallel-scan segment."""
    if segment is None or total is None:
        return b"", None
    return keys.segment_range(segment, total)


def resume(
    start: bytes, end: bytes | None, after: bytes, reverse: bool
) -> tuple[bytes, bytes | None]:
    """Narrow a range to the keys that follow `after` in the read's direction."""
    if reverse:
        return start, after if end is None or after < end else end
    successor = after + b"\x00"  # the smallest key greater than `after`
    return max(start, successor), end


def in_segment(key: bytes, segment: int, total: int) -> bool:
    """Whether a storage key belongs to one parallel-scan segment."""
    return keys.segment_of(key[: keys.HASH_SIZE], total) == segment


@dataclass(slots=True)
class Plan:
    """One page to read. `fetch` reads the table item behind an index entry (an LSI
    answering attributes it does not project); `measure` computes capacity sizes."""

    space: int
    start: bytes
    end: bytes | None
    reverse: bool = False
    limit: int | None = None
    filter: Filter | None = None
    project: Projector | None = None
    fetch: Callable[[ReadTx, Item], bytes | None] | None = None
    count_only: bool = False
    measure: bool = False


@dataclass(slots=True)
class Page:
    """What one page read: returned items as JSON bytes, counts, where it stopped, and the
    sizes of the entries read and of the table items fetched: DynamoDB's item sizes when
    the plan measures, else their stored bytes (an upper bound, known without parsing)."""

    items: list[bytes]
    count: int
    scanned: int
    last_key: bytes | None
    read_size: int = 0
    fetch_size: int = 0


def read_page(backend: Backend, plan: Plan) -> Page:
    """Read one page in one snapshot."""
    limit = plan.limit
    keep = not plan.count_only
    parse = plan.filter is not None or plan.project is not None
    parse = parse or plan.fetch is not None or plan.measure
    out: list[bytes] = []
    count = scanned = budget = read_size = fetch_size = 0
    last: bytes | None = None
    stopped = False
    with backend.read() as tx:
        rows = tx.range(plan.space, plan.start, plan.end, reverse=plan.reverse, limit=limit)
        for key, raw in rows:
            scanned += 1
            budget += len(raw)
            if not plan.measure:
                read_size += len(raw)
            if not parse:
                count += 1
                if keep:
                    out.append(raw)
            else:
                item: Item = orjson.loads(raw)
                if plan.measure:
                    read_size += item_size(item)
                if plan.fetch is not None:
                    full = plan.fetch(tx, item)
                    if full is not None:
                        raw = full
                        item = orjson.loads(full)
                        fetch_size += item_size(item) if plan.measure else len(full)
                if plan.filter is None or plan.filter(item):
                    count += 1
                    if keep:
                        out.append(
                            raw if plan.project is None else orjson.dumps(plan.project(item))
                        )
            if scanned == limit or budget >= MAX_PAGE_BYTES:
                last = key
                stopped = True
                break
    return Page(out, count, scanned, last if stopped else None, read_size, fetch_size)


def page_body(
    page: Page,
    last_evaluated: Item | None,
    capacity: dict[str, Any] | None,
    count_only: bool,
) -> bytes:
    """The Query/Scan answer as JSON bytes, with the items spliced in as stored."""
    parts = [b"{"]
    if not count_only:
        parts += [b'"Items":[', b",".join(page.items), b"],"]
    parts.append(b'"Count":%d,"ScannedCount":%d' % (page.count, page.scanned))
    if last_evaluated is not None:
        parts += [b',"LastEvaluatedKey":', orjson.dumps(last_evaluated)]
    if capacity is not None:
        parts += [b',"ConsumedCapacity":', orjson.dumps(capacity)]
    parts.append(b"}")
    return b"".join(parts)
