"""ExpressionCache: parsed ASTs keyed by (kind, text), LRU, errors cached too."""

from __future__ import annotations

import threading

import pytest

from dynastore.engine.expr import (
    Compare,
    ExpressionCache,
    Projection,
    UpdateExpr,
    parse_condition,
)
from dynastore.errors import ValidationException


def test_hit_returns_the_same_tree() -> None:
    cache = ExpressionCache()
    first = cache.get_or_parse_condition("a = :v")
    second = cache.get_or_parse_condition("a = :v")
    assert first is second
    assert first == parse_condition("a = :v")
    assert (cache.hits, cache.misses) == (1, 1)


def test_kinds_are_cached_separately() -> None:
    cache = ExpressionCache()
    cache.get_or_parse_condition("a = :v", "FilterExpression")
    cache.get_or_parse_condition("a = :v", "KeyConditionExpression")
    assert len(cache) == 2
    with pytest.raises(ValidationException, match="Invalid KeyConditionExpression: Syntax"):
        cache.get_or_parse_condition("a", "KeyConditionExpression")
    with pytest.raises(ValidationException, match="Invalid FilterExpression: Syntax"):
        cache.get_or_parse_condition("a", "FilterExpression")


def test_typed_getters() -> None:
    cache = ExpressionCache()
    assert isinstance(cache.get_or_parse_update("SET a = :v"), UpdateExpr)
    assert isinstance(cache.get_or_parse_projection("a, b"), Projection)
    assert isinstance(cache.get_or_parse("ConditionExpression", "a = :v"), Compare)


def test_least_recently_used_is_evicted() -> None:
    cache = ExpressionCache(max_entries=2)
    a = cache.get_or_parse_projection("a")
    cache.get_or_parse_projection("b")
    assert cache.get_or_parse_projection("a") is a  # a is now the most recent
    cache.get_or_parse_projection("c")  # evicts b
    assert len(cache) == 2
    misses = cache.misses
    assert cache.get_or_parse_projection("a") is a
    cache.get_or_parse_projection("b")
    assert cache.misses == misses + 1


def test_errors_are_cached_and_raised_fresh() -> None:
    cache = ExpressionCache()
    messages = []
    for _ in range(2):
        with pytest.raises(ValidationException) as caught:
            cache.get_or_parse_update("SET")
        messages.append(caught.value)
    assert messages[0] is not messages[1]
    assert (
        messages[0].message
        == messages[1].message
        == ('Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"')
    )
    assert (cache.hits, cache.misses) == (1, 1)


def test_clear_and_bad_size() -> None:
    cache = ExpressionCache()
    cache.get_or_parse_projection("a")
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        ExpressionCache(0)


def test_shared_between_threads() -> None:
    cache = ExpressionCache(max_entries=8)
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(200):
                cache.get_or_parse_condition(f"a{(i + offset) % 16} = :v")
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(cache) <= 8
