"""Project an item onto resolved document paths, the way DynamoDB returns it.

Nested paths keep their structure (`a.b` gives ``{"a": {"M": {"b": ...}}}``); list
elements picked by index are returned compacted, in index order (`l[3], l[1]` gives
a two-element list). Paths that don't exist in the item are left out, and so is a map
or list none of whose selected members exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dynastore.engine.expr.nodes import Path, PathElement, Projection
from dynastore.engine.values import AttrValue, Item, value_type

# A tree of selected paths: None marks a path's end (take the whole value).
_Tree = dict[PathElement, "_Tree | None"]


def _tree(paths: Iterable[Path]) -> _Tree:
    root: _Tree = {}
    for path in paths:
        node = root
        elements = path.elements
        for depth, element in enumerate(elements):
            if depth == len(elements) - 1:
                node[element] = None
                break
            child = node.get(element, {})
            if child is None:  # a shorter path already takes the whole value
                break
            node[element] = child
            node = child
    return root


def _select(value: AttrValue, tree: _Tree) -> AttrValue | None:
    tag = value_type(value)
    if tag == "M":
        members: Mapping[str, AttrValue] = value["M"]
        out: dict[str, AttrValue] = {}
        for key, sub in tree.items():
            if isinstance(key, str) and key in members:
                picked = members[key] if sub is None else _select(members[key], sub)
                if picked is not None:
                    out[key] = picked
        return {"M": out} if out else None
    if tag == "L":
        items: list[AttrValue] = value["L"]
        chosen: list[AttrValue] = []
        for index in sorted(k for k in tree if isinstance(k, int)):
            if index < len(items):
                sub = tree[index]
                picked = items[index] if sub is None else _select(items[index], sub)
                if picked is not None:
                    chosen.append(picked)
        return {"L": chosen} if chosen else None
    return None


def project(item: Mapping[str, AttrValue], paths: Projection | Iterable[Path]) -> Item:
    """The part of `item` that the resolved `paths` select (values are shared, not copied)."""
    selected = paths.paths if isinstance(paths, Projection) else paths
    out: Item = {}
    for key, sub in _tree(selected).items():
        if not isinstance(key, str) or key not in item:
            continue
        picked = item[key] if sub is None else _select(item[key], sub)
        if picked is not None:
            out[key] = picked
    return out
