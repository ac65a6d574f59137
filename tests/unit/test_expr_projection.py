"""Projection: nested paths keep their structure, list picks are compacted in order."""

from __future__ import annotations

from typing import Any

from dynastore.engine.expr import (
    Path,
    Resolver,
    attributes_to_projection,
    parse_projection,
    project,
)

ITEM: dict[str, Any] = {
    "pk": {"S": "k"},
    "a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}, "d": {"M": {"e": {"S": "deep"}}}}},
    "l": {"L": [{"S": "0"}, {"S": "1"}, {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}, {"S": "3"}]},
    "s": {"S": "scalar"},
}


def proj(text: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    paths = Resolver(names).projection(parse_projection(text))
    return project(ITEM, paths)


def test_top_level() -> None:
    assert proj("pk, s") == {"pk": {"S": "k"}, "s": {"S": "scalar"}}
    assert proj("#p", {"#p": "pk"}) == {"pk": {"S": "k"}}


def test_nested_maps_keep_structure() -> None:
    assert proj("a.b") == {"a": {"M": {"b": {"N": "1"}}}}
    assert proj("a.b, a.d.e") == {"a": {"M": {"b": {"N": "1"}, "d": {"M": {"e": {"S": "deep"}}}}}}


def test_list_elements_compacted_in_index_order() -> None:
    assert proj("l[3], l[1]") == {"l": {"L": [{"S": "1"}, {"S": "3"}]}}
    assert proj("l[2].y, l[0]") == {"l": {"L": [{"S": "0"}, {"M": {"y": {"N": "2"}}}]}}


def test_missing_paths_are_left_out() -> None:
    assert proj("absent, a.zz, l[9], s.x, l[0].x") == {}
    assert proj("s[0]") == {}
    assert proj("a.zz, a.c") == {"a": {"M": {"c": {"N": "2"}}}}


def test_project_accepts_paths_and_shares_values() -> None:
    out = project(ITEM, [Path(("a",))])
    assert out["a"] is ITEM["a"]
    assert project({}, [Path(("a",))]) == {}


def test_attributes_to_get() -> None:
    projection = attributes_to_projection(["pk", "a.b"])  # a legacy name may contain dots
    assert project({"a.b": {"N": "1"}, "pk": {"S": "k"}, "x": {"N": "2"}}, projection) == {
        "pk": {"S": "k"},
        "a.b": {"N": "1"},
    }
