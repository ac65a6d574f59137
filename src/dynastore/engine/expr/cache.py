"""An LRU cache of parsed expressions, keyed by (kind, text).

Parsing depends on the text alone (placeholders are resolved per request), so a hot
request pays no parsing. Texts that fail to parse are cached too, as their message:
a client retrying a bad request costs a dictionary lookup. The engine holds one
instance; it is safe to share between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dynastore.engine.expr.nodes import (
    Condition,
    ConditionKind,
    Expression,
    ExpressionKind,
    Projection,
    UpdateExpr,
)
from dynastore.engine.expr.parser import parse
from dynastore.errors import ValidationException

DEFAULT_SIZE = 1024
# Texts longer than this are parsed every time rather than pinned in memory.
_MAX_CACHED_TEXT = 4096


class ExpressionCache:
    """Parsed ASTs (or their parse errors) for the most recently used texts."""

    def __init__(self, max_entries: int = DEFAULT_SIZE) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Expression | str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get_or_parse(self, kind: ExpressionKind, text: str) -> Expression:
        """The AST for `text`, parsing it on a miss; raises the parse error, cached or not."""
        key = (kind, text)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if entry is None:
            with self._lock:
                self.misses += 1
            try:
                entry = parse(kind, text)
            except ValidationException as error:
                entry = error.message or ""
            if len(text) <= _MAX_CACHED_TEXT:
                with self._lock:
                    self._entries[key] = entry
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
        if isinstance(entry, str):
            raise ValidationException(entry)
        return entry

    def get_or_parse_condition(
        self, text: str, kind: ConditionKind = "ConditionExpression"
    ) -> Condition:
        node = self.get_or_parse(kind, text)
        assert not isinstance(node, UpdateExpr | Projection)
        return node

    def get_or_parse_update(self, text: str) -> UpdateExpr:
        node = self.get_or_parse("UpdateExpression", text)
        assert isinstance(node, UpdateExpr)
        return node

    def get_or_parse_projection(self, text: str) -> Projection:
        node = self.get_or_parse("ProjectionExpression", text)
        assert isinstance(node, Projection)
        return node
