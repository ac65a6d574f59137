"""The shared request validator: DynamoDB's two passes over a decoded JSON body.

Built once at start-up from botocore's service model plus the deviations table in
`shapes.py`: every shape compiles to a node (memoised per shape, so AttributeValue's
recursion is one node). DynamoDB validates in two passes, and so does this:

1. the type pass (SerializationException, the first error in document order): is each
   known member's JSON value of its shape's type? Unknown members are ignored, as
   DynamoDB ignores them. Values are converted *in place* where DynamoDB's parser
   converts them: "true"/"yes"/"1" to True for a Boolean, 1.9 to 1 for an Integer.
2. the constraint pass (ValidationException): required members, lengths, ranges,
   patterns and enums, in DynamoDB's member order; at most 10 errors are collected and
   reported as "N validation error(s) detected: e1; e2; ..." (Coral stops at 10 and
   counts 10). Lists and maps are dense: a null element or map value is "Member must
   not be null" at its path ('attributeDefinitions.1.member'), like a missing required
   member, except where the service reports such nulls itself (a null AttributeValue is
   DynamoDB's "Supplied AttributeValue is empty": `Deviations.nullable_elements`) or
   the model marks the collection sparse.

The hot path is a valid request, so the type pass also notes whether any constraint
failed; only then does the ordered constraint pass walk again, through the subtrees
that hold a constraint, to collect the errors. A valid request is walked once.

Paths print as Coral prints them: lowerCamel member names, 'keySchema.1.member.keyType'
for list elements, 'item.a.member' for map values; values in Java toString form
('[a, b]', '{k=v}', 'KeySchemaElement(attributeName=pk, keyType=HASH)').
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

import orjson

from dynastore.engine.attrs import (
    STRUCTURE_NOT_EXPECTED,
    base64_error,
    binary_length,
    conversion_error,
    parse_boolean,
)
from dynastore.errors import SerializationException, ValidationException
from dynastore.ops import shapes
from dynastore.ops.shapes import (
    CLASSIC,
    ECHO_JSON,
    ECHO_NONE,
    KIND_ENUM,
    KIND_KEYS,
    KIND_LENGTH,
    KIND_MEMBERS,
    KIND_NULL,
    KIND_PATTERN,
    KIND_RANGE,
    KIND_VALUES,
    TABLE_NAME_MAX,
    TABLE_NAME_MIN,
    TABLE_NAME_PATTERN,
    Deviations,
    java_double,
    java_hash,
    java_length,
    java_package,
    lower_first,
    max_length_text,
    min_length_text,
    pattern_text,
    table_name_failures,
)

MAX_ERRORS = 10

_NOT_NULL = "Member must not be null"
_CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
_NONE_TYPE = type(None)  # the "fast type" of a node every present value must visit
_NO_LIMIT = 1 << 62

# A path is None (the body) or (parent path, segment, is element): segments are member
# names as sent, list positions ("1") and map keys; an element prints as "<seg>.member".
_Path = tuple[Any, str, bool] | None
# (path, offending value, node, constraint kind, constraint text)
_Error = tuple[_Path, Any, "_Node", str, str]


class _Full(Exception):
    """Ten errors collected: Coral stops looking."""


def _add(errors: list[_Error], error: _Error) -> None:
    errors.append(error)
    if len(errors) >= MAX_ERRORS:
        raise _Full


# --- nodes -----------------------------------------------------------------------------
#
# `convert(value, dirty)` is the type pass; it also notes (in `dirty`) that some
# constraint failed, so a valid request is walked once. Only then does the ordered
# pass (`check`, `own`, `inner`) walk again to collect errors in DynamoDB's order.


class _Node:
    """One shape, compiled: its type check, its constraints and its echo."""

    __slots__ = ("bracket", "element", "fast", "has_inner", "has_own", "shape")
    plain_type: ClassVar[type] = _NONE_TYPE  # JSON type that needs no conversion
    java_class: ClassVar[str] = "java.lang.Object"

    def __init__(self, shape: str, element: bool) -> None:
        self.shape = shape
        self.element = element  # a list element or map value (not a structure member)
        self.has_own = False  # constraints on the value itself
        self.has_inner = False  # constraints somewhere inside it
        self.bracket: tuple[str, ...] = ()  # own constraints, as listed in "[...]"
        # A value of this type needs no work at all (set once constraints are known).
        self.fast: type = _NONE_TYPE

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        return value

    def own(self, value: Any) -> list[tuple[str, str]] | None:
        return None

    def inner(self, value: Any, path: _Path, errors: list[_Error]) -> None:
        return None

    def check(self, value: Any, path: _Path, errors: list[_Error]) -> None:
        if self.has_own:
            failed = self.own(value)
            if failed:
                for kind, text in failed:
                    _add(errors, (path, value, self, kind, text))
        if self.has_inner:
            self.inner(value, path, errors)

    def echo(self, value: Any) -> str:
        return str(value)

    def java_type(self) -> str:
        """The Java type Coral names in "Unrecognized collection type" messages."""
        return self.java_class


class _String(_Node):
    __slots__ = ("enum", "enum_text", "max", "min", "pattern", "pattern_text", "table_name")
    plain_type = str
    java_class = "java.lang.String"

    def __init__(self, shape: str, element: bool) -> None:
        super().__init__(shape, element)
        self.pattern: re.Pattern[str] | None = None
        self.pattern_text = ""
        self.min: int | None = None
        self.max: int | None = None
        self.enum: frozenset[str] | None = None
        self.enum_text = ""
        self.table_name = False  # a table name, or a table ARN

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is str:
            if self.has_own and self.own(value):
                dirty.append(True)
            return value
        raise SerializationException(conversion_error("String", "java.lang.String", value))

    def own(self, value: Any) -> list[tuple[str, str]] | None:
        failed: list[tuple[str, str]] | None = None
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            failed = [(KIND_PATTERN, pattern_text(self.pattern_text))]
        if self.min is not None or self.max is not None:
            length = java_length(value)
            if self.min is not None and length < self.min:
                failed = (failed or []) + [(KIND_LENGTH, min_length_text(self.min))]
            if self.max is not None and length > self.max:
                failed = (failed or []) + [(KIND_LENGTH, max_length_text(self.max))]
        if self.enum is not None and value not in self.enum:
            failed = (failed or []) + [(KIND_ENUM, self.enum_text)]
        if self.table_name and failed is None:
            failed = table_name_failures(value)
        return failed


class _Boolean(_Node):
    __slots__ = ()
    plain_type = bool
    java_class = "java.lang.Boolean"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        return parse_boolean(value)

    def echo(self, value: Any) -> str:
        return "true" if value else "false"


class _Number(_Node):
    """Integer and Long (Java int and long) and Double, with the model's ranges."""

    __slots__ = ("integral", "java_name", "lo", "max", "min", "target")

    def __init__(self, shape: str, element: bool, kind: str) -> None:
        super().__init__(shape, element)
        self.min: float | None = None
        self.max: float | None = None
        self.integral = kind != "double"
        self.target = {"integer": "Integer", "long": "Long"}.get(kind, "Double")
        self.java_name = {"integer": "int", "long": "long"}.get(kind, "double")
        self.lo = -(2 ** (31 if kind == "integer" else 63))

    def java_type(self) -> str:
        return f"java.lang.{self.target}"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        kind = type(value)
        if kind is not int and kind is not float:
            raise SerializationException(
                conversion_error(self.target, f"java.lang.{self.target}", value)
            )
        if self.integral:
            if not self.lo <= value <= -self.lo - 1:
                raise SerializationException(
                    f"Numeric value ({value}) out of range of {self.java_name} "
                    f"({self.lo} - {-self.lo - 1})"
                )
            if kind is float:  # Jackson: a decimal read as an int truncates toward zero
                value = int(value)
        if self.has_own and self.own(value):
            dirty.append(True)
        return value

    def own(self, value: Any) -> list[tuple[str, str]] | None:
        failed: list[tuple[str, str]] | None = None
        if self.min is not None and value < self.min:
            failed = [(KIND_RANGE, f"Member must have value greater than or equal to {self.min}")]
        if self.max is not None and value > self.max:
            failed = (failed or []) + [
                (KIND_RANGE, f"Member must have value less than or equal to {self.max}")
            ]
        return failed

    def echo(self, value: Any) -> str:
        return str(value) if self.integral else java_double(float(value))


class _Timestamp(_Node):
    """Epoch seconds (the JSON protocol's timestamp form)."""

    __slots__ = ()
    java_class = "java.util.Date"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is int or type(value) is float:
            return value
        raise SerializationException(conversion_error("Date", "java.util.Date", value))

    def echo(self, value: Any) -> str:
        try:
            return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        except (OverflowError, OSError, ValueError):  # beyond what gmtime can represent
            return str(value)


class _Blob(_Node):
    __slots__ = ("max", "min")
    java_class = "java.nio.ByteBuffer"

    def __init__(self, shape: str, element: bool) -> None:
        super().__init__(shape, element)
        self.min: int | None = None
        self.max: int | None = None

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is str:
            error = base64_error(value) if value else None
            if error is not None:
                raise SerializationException(error)
            if self.has_own and self.own(value):
                dirty.append(True)
            return value
        if isinstance(value, list):
            raise SerializationException("Unrecognized collection type class java.nio.ByteBuffer")
        if isinstance(value, dict):
            raise SerializationException(STRUCTURE_NOT_EXPECTED)
        raise SerializationException("only base-64-encoded strings are convertible to bytes")

    def own(self, value: Any) -> list[tuple[str, str]] | None:
        size = binary_length(value)
        failed: list[tuple[str, str]] = []
        if self.min is not None and size < self.min:
            failed.append((KIND_LENGTH, min_length_text(self.min)))
        if self.max is not None and size > self.max:
            failed.append((KIND_LENGTH, max_length_text(self.max)))
        return failed or None

    def echo(self, value: Any) -> str:
        size = binary_length(value)
        return f"java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]"


class _Collection(_Node):
    __slots__ = ("dense", "max", "min")

    def __init__(self, shape: str, element: bool) -> None:
        super().__init__(shape, element)
        self.min: int | None = None
        self.max: int | None = None
        self.dense = False  # a null element is "Member must not be null"

    # The type pass (`convert`) stays written out in _List and _Map: it is the validator's
    # hottest code, and every shared form of the loop measured 5-15% slower on
    # BatchWriteItem bodies (maps check their keys in the same loop).

    def _inner_elements(
        self,
        value: Any,
        elements: Callable[[], Iterable[tuple[str, Any]]],
        member: _Node,
        label: str,
        kind: str,
        path: _Path,
        errors: list[_Error],
    ) -> None:
        """The constraint pass over a list's members or a map's values: `elements()` gives
        (path segment, element) pairs; `label` and `kind` name an element's own errors."""
        if member.has_own:
            text = f"{label} must satisfy constraint: [{', '.join(member.bracket)}]"
            for _, x in elements():
                if x is not None and member.own(x):
                    _add(errors, (path, value, self, kind, text))
        if member.has_inner or self.dense:
            for segment, x in elements():
                if x is not None:
                    if member.has_inner:
                        member.inner(x, (path, segment, True), errors)
                elif self.dense:
                    _add(errors, ((path, segment, True), None, self, KIND_NULL, _NOT_NULL))

    def own(self, value: Any) -> list[tuple[str, str]] | None:
        failed: list[tuple[str, str]] | None = None
        if self.min is not None and len(value) < self.min:
            failed = [(KIND_LENGTH, min_length_text(self.min))]
        if self.max is not None and len(value) > self.max:
            failed = (failed or []) + [(KIND_LENGTH, max_length_text(self.max))]
        return failed

    def _scalar_error(self) -> SerializationException:
        # Inside another collection Coral's reflection fails before it reads the token.
        return SerializationException(_CAST if self.element else "Unexpected field type")


class _List(_Collection):
    __slots__ = ("member", "single")

    def __init__(self, shape: str, element: bool) -> None:
        super().__init__(shape, element)
        self.member: _Node = _Node(shape, True)
        self.single: dict[str, type] | None = None  # see _single_member_fast

    def java_type(self) -> str:
        return f"java.util.List<{self.member.java_type()}>"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is list:
            member = self.member
            fast = member.fast
            single = self.single
            for position, x in enumerate(value):
                if type(x) is fast or x is None:
                    if x is None and self.dense:
                        dirty.append(True)
                    continue
                if single is not None and type(x) is dict and len(x) == 1:
                    ((name, y),) = x.items()
                    if type(y) is single.get(name):
                        continue
                converted = member.convert(x, dirty)
                if converted is not x:
                    value[position] = converted
            if self.has_own and self.own(value):
                dirty.append(True)
            return value
        if type(value) is dict:
            raise SerializationException(STRUCTURE_NOT_EXPECTED)
        raise self._scalar_error()

    def inner(self, value: Any, path: _Path, errors: list[_Error]) -> None:
        def elements() -> Iterator[tuple[str, Any]]:
            return ((str(position), x) for position, x in enumerate(value, 1))

        self._inner_elements(value, elements, self.member, "Member", KIND_MEMBERS, path, errors)

    def echo(self, value: Any) -> str:
        return "[" + ", ".join(_echo(self.member, x) for x in value) + "]"


class _Map(_Collection):
    __slots__ = ("key", "key_max", "single", "value")

    def __init__(self, shape: str, element: bool) -> None:
        super().__init__(shape, element)
        self.key: _Node = _Node(shape, False)
        self.value: _Node = _Node(shape, True)
        self.single: dict[str, type] | None = None  # see _single_member_fast
        self.key_max = _NO_LIMIT  # keys of at most this many characters need no check

    def java_type(self) -> str:
        return f"java.util.Map<java.lang.String, {self.value.java_type()}>"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is dict:
            member = self.value
            fast = member.fast
            single = self.single
            key_max = self.key_max
            for key, x in value.items():
                if len(key) > key_max and self.key.own(key):
                    dirty.append(True)
                if type(x) is fast or x is None:
                    if x is None and self.dense:
                        dirty.append(True)
                    continue
                if single is not None and type(x) is dict and len(x) == 1:
                    ((name, y),) = x.items()
                    if type(y) is single.get(name):
                        continue
                converted = member.convert(x, dirty)
                if converted is not x:
                    value[key] = converted
            if self.has_own and self.own(value):
                dirty.append(True)
            return value
        if type(value) is list:
            raise SerializationException(f"Unrecognized collection type {self.java_type()}")
        raise self._scalar_error()

    def inner(self, value: Any, path: _Path, errors: list[_Error]) -> None:
        key = self.key
        if key.has_own:
            text = f"Map keys must satisfy constraint: [{', '.join(key.bracket)}]"
            for name in value:
                if key.own(name):
                    _add(errors, (path, value, self, KIND_KEYS, text))
        self._inner_elements(value, value.items, self.value, "Map value", KIND_VALUES, path, errors)

    def echo(self, value: Any) -> str:
        return "{" + ", ".join(f"{k}={_echo(self.value, x)}" for k, x in value.items()) + "}"


class _Struct(_Node):
    __slots__ = (
        "checks",
        "java_name",
        "member_fast",
        "members",
        "model_order",
        "opaque",
        "required",
    )

    def __init__(self, shape: str, element: bool, java_name: str) -> None:
        super().__init__(shape, element)
        self.java_name = java_name
        self.members: dict[str, _Node] = {}
        self.member_fast: dict[str, type] = {}  # member -> its node's fast type
        self.model_order: tuple[str, ...] = ()
        self.required: tuple[str, ...] = ()
        # (member, node or None when only required, required) in DynamoDB's order
        self.checks: tuple[tuple[str, _Node | None, bool], ...] = ()
        self.opaque = False  # echoed as "<class>@<hash>"

    def convert(self, value: Any, dirty: list[bool]) -> Any:
        if type(value) is dict:
            fast = self.member_fast
            for name, x in value.items():
                plain = fast.get(name)
                # Unknown members are ignored; NoneType is the fast type of no value.
                if plain is None or type(x) is plain or x is None:
                    continue
                converted = self.members[name].convert(x, dirty)
                if converted is not x:
                    value[name] = converted
            for name in self.required:
                if value.get(name) is None:
                    dirty.append(True)
            return value
        if type(value) is list:
            raise SerializationException(f"Unrecognized collection type class {self.java_name}")
        raise SerializationException(
            "Unexpected value type in payload" if self.element else "Unexpected field type"
        )

    def inner(self, value: Any, path: _Path, errors: list[_Error]) -> None:
        for name, node, required in self.checks:
            x = value.get(name)
            if x is None:
                if required:
                    _add(errors, ((path, name, False), None, self, KIND_NULL, _NOT_NULL))
                continue
            if node is not None:
                node.check(x, (path, name, False), errors)

    def echo(self, value: Any) -> str:
        if self.opaque:
            canonical = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
            return f"{self.java_name}@{java_hash(canonical):x}"
        fields = ", ".join(
            f"{lower_first(name)}={_echo(self.members[name], value.get(name))}"
            for name in self.model_order
        )
        return f"{self.shape}({fields})"

    def java_type(self) -> str:
        return self.java_name


def _single_member_fast(node: _Node) -> dict[str, type] | None:
    """For a structure without required members: its members' fast types.

    A one-member object whose member is of its fast type needs no call into the
    structure's node; collections of AttributeValues (an Item) are mostly that.
    """
    if type(node) is _Struct and not node.required:
        return node.member_fast
    return None


def _echo(node: _Node, value: Any) -> str:
    return "null" if value is None else node.echo(value)


# --- compilation -----------------------------------------------------------------------


class _Compiler:
    """Turns model shapes into nodes, once each (per element/member context)."""

    def __init__(self, shapes_: Mapping[str, Any], deviations: Deviations) -> None:
        self.shapes = shapes_
        self.dev = deviations
        self.nodes: dict[tuple[str, bool], _Node] = {}
        self.constrained = self._constrained_shapes()

    def constraints(self, name: str) -> dict[str, Any]:
        shape = self.shapes[name]
        found = {key: shape[key] for key in ("min", "max", "pattern", "enum") if key in shape}
        found.update(self.dev.extra_constraints.get(name, {}))
        return found

    def _children(self, name: str) -> list[str]:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "structure":
            return [m["shape"] for m in shape.get("members", {}).values()]
        if kind == "list":
            return [shape["member"]["shape"]]
        if kind == "map":
            return [shape["key"]["shape"], shape["value"]["shape"]]
        return []

    def _dense(self, name: str) -> bool:
        """A list or map that rejects null elements (see the module docstring)."""
        shape = self.shapes[name]
        kind = shape["type"]
        if kind not in ("list", "map") or shape.get("sparse"):
            return False
        element = shape["member" if kind == "list" else "value"]["shape"]
        return element not in self.dev.nullable_elements

    def _constrained_shapes(self) -> frozenset[str]:
        """Shapes with a constraint on themselves or anywhere inside (a fixpoint)."""
        found = {
            name
            for name, shape in self.shapes.items()
            if self.constraints(name)
            or shape.get("required")
            or name in self.dev.table_name_shapes
            or self._dense(name)
        }
        children = {name: self._children(name) for name in self.shapes}
        grew = True
        while grew:
            grew = False
            for name in self.shapes:
                if name not in found and any(c in found for c in children[name]):
                    found.add(name)
                    grew = True
        return frozenset(found)

    def node(self, name: str, element: bool) -> _Node:
        existing = self.nodes.get((name, element))
        if existing is not None:
            return existing
        shape = self.shapes[name]
        kind = shape["type"]
        found = self.constraints(name)
        node: _Node
        if kind == "string":
            node = self._string(name, element, found)
        elif kind == "boolean":
            node = _Boolean(name, element)
        elif kind in ("integer", "long", "double", "float"):
            node = _Number(name, element, kind)
        elif kind == "timestamp":
            node = _Timestamp(name, element)
        elif kind == "blob":
            node = _Blob(name, element)
        elif kind == "list":
            node = _List(name, element)
        elif kind == "map":
            node = _Map(name, element)
        elif kind == "structure":
            node = _Struct(name, element, f"{self.dev.java_package}.{name}")
        else:
            raise ValueError(f"shape {name}: unknown type {kind}")
        if isinstance(node, _String | _Number | _Blob | _Collection):
            node.min, node.max = found.get("min"), found.get("max")
        if isinstance(node, _Collection):
            node.dense = self._dense(name)
        # Register before linking children: shapes can be recursive (AttributeValue).
        self.nodes[(name, element)] = node
        self._link(node, shape)
        if not node.bracket:
            enum_text = node.enum_text if isinstance(node, _String) else ""
            node.bracket = _bracket(found, isinstance(node, _Number), enum_text)
        node.has_own = bool(found) or name in self.dev.table_name_shapes
        if not node.has_own:
            node.fast = node.plain_type
        return node

    def _string(self, name: str, element: bool, found: dict[str, Any]) -> _String:
        node = _String(name, element)
        if "pattern" in found:
            text = found["pattern"]
            try:
                node.pattern = re.compile(self.dev.patterns.get(text, text))
                node.pattern_text = text
            except re.error:  # a Java-only construct with no translation: not checked
                node.pattern = None
        if "enum" in found and name not in self.dev.unchecked_enums:
            order = self.dev.enum_order.get(name, tuple(found["enum"]))
            node.enum = frozenset(found["enum"])
            node.enum_text = f"Member must satisfy enum value set: [{', '.join(order)}]"
        if name in self.dev.table_name_shapes:
            node.table_name = True
            # Listed, like any key constraint, longest-first: what DynamoDB prints.
            node.bracket = (
                max_length_text(TABLE_NAME_MAX),
                min_length_text(TABLE_NAME_MIN),
                pattern_text(TABLE_NAME_PATTERN),
            )
        return node

    def _link(self, node: _Node, shape: Mapping[str, Any]) -> None:
        if isinstance(node, _List):
            member = shape["member"]["shape"]
            node.member = self.node(member, True)
            node.has_inner = member in self.constrained or node.dense
            node.single = _single_member_fast(node.member)
        elif isinstance(node, _Map):
            key, value = shape["key"]["shape"], shape["value"]["shape"]
            node.key = self.node(key, False)
            node.value = self.node(value, True)
            node.has_inner = key in self.constrained or value in self.constrained or node.dense
            node.single = _single_member_fast(node.value)
            key_constraints = self.constraints(key)
            if key_constraints or key in self.dev.table_name_shapes:
                # Java length <= 2 * len(): with only a maximum, shorter keys pass.
                only_max = set(key_constraints) == {"max"} and key not in self.dev.table_name_shapes
                node.key_max = int(key_constraints["max"]) // 2 if only_max else -1
        elif isinstance(node, _Struct):
            self._link_struct(node, shape)

    def _link_struct(self, node: _Struct, shape: Mapping[str, Any]) -> None:
        members = shape.get("members", {})
        node.model_order = tuple(members)
        node.opaque = node.shape in self.dev.opaque_shapes
        # Set before building members: a recursive member may read it (_single_member_fast).
        node.required = tuple(shape.get("required", ()))
        node.members.update((m, self.node(spec["shape"], False)) for m, spec in members.items())
        # Filled in place, as collections may already hold this dict. Leaf nodes are
        # complete once built, so their fast types are final.
        node.member_fast.update((m, member.fast) for m, member in node.members.items())
        required = set(node.required)
        preferred = [m for m in self.dev.member_order.get(node.shape, ()) if m in members]
        order = preferred + [m for m in members if m not in preferred]
        node.checks = tuple(
            (
                member,
                node.members[member] if members[member]["shape"] in self.constrained else None,
                member in required,
            )
            for member in order
            if member in required or members[member]["shape"] in self.constrained
        )
        node.has_inner = bool(node.checks)


def _bracket(found: Mapping[str, Any], numeric: bool, enum_text: str) -> tuple[str, ...]:
    """Own constraints as Coral lists them inside "[...]": max, min, pattern, enum."""
    texts = []
    if "max" in found:
        n = found["max"]
        texts.append(
            f"Member must have value less than or equal to {n}" if numeric else max_length_text(n)
        )
    if "min" in found:
        n = found["min"]
        texts.append(
            f"Member must have value greater than or equal to {n}"
            if numeric
            else min_length_text(n)
        )
    if "pattern" in found:
        texts.append(pattern_text(found["pattern"]))
    if enum_text:
        texts.append(enum_text)
    return tuple(texts)


# --- the validator ---------------------------------------------------------------------


class _Operation:
    __slots__ = ("required", "root")

    def __init__(self, root: _Struct, required: tuple[tuple[str, str], ...]) -> None:
        self.root = root
        self.required = required  # (member, sentence) checked before the aggregated pass


class RequestValidator:
    """Validates request bodies of one service's operations (see the module docstring).

    Build it once (it compiles every operation), then call `validate` per request.
    """

    def __init__(self, model: Mapping[str, Any], deviations: Deviations | None = None) -> None:
        if deviations is None:
            deviations = shapes.generic(java_package(model))
        self._deviations = deviations
        compiler = _Compiler(model["shapes"], deviations)
        operations: dict[str, _Operation] = {}
        for name, spec in model["operations"].items():
            if "input" not in spec:
                continue
            root = compiler.node(spec["input"]["shape"], False)
            if not isinstance(root, _Struct):
                raise ValueError(f"operation {name}: its input is not a structure")
            required = tuple(
                (member, message)
                for (operation, member), message in deviations.required_messages.items()
                if operation == name
            )
            operations[name] = _Operation(root, required)
        self._operations = operations

    @classmethod
    def from_botocore(
        cls, service: str = "dynamodb", deviations: Deviations | None = None
    ) -> RequestValidator:
        """Load botocore's installed model of `service` (DynamoDB's deviations by default)."""
        from botocore.loaders import Loader

        model = Loader().load_service_model(service, "service-2")
        if deviations is None and service == "dynamodb":
            deviations = shapes.DYNAMODB
        return cls(model, deviations)

    def has_operation(self, operation: str) -> bool:
        return operation in self._operations

    def validate(self, operation: str, body: dict[str, Any]) -> None:
        """Raise DynamoDB's SerializationException or ValidationException for `body`.

        May convert values in place, as DynamoDB's parser does. An operation the
        model does not have (or without input) is not checked.
        """
        entry = self._operations.get(operation)
        if entry is None:
            return
        root = entry.root
        dirty: list[bool] = []
        root.convert(body, dirty)
        for member, message in entry.required:
            if body.get(member) is None:
                raise ValidationException(message)
        if dirty:
            errors: list[_Error] = []
            with contextlib.suppress(_Full):  # ten errors: Coral stops looking
                root.inner(body, None, errors)
            if errors:
                raise ValidationException(self._message(operation, errors))

    def _message(self, operation: str, errors: list[_Error]) -> str:
        count = len(errors)
        texts = "; ".join(self._render(operation, error) for error in errors)
        return f"{count} validation error{'s' if count > 1 else ''} detected: {texts}"

    def _render(self, operation: str, error: _Error) -> str:
        path, value, node, kind, text = error
        parts: list[tuple[str, bool]] = []
        while path is not None:
            path, segment, is_element = path
            parts.append((segment, is_element))
        parts.reverse()
        key = ".".join("*" if is_element else segment for segment, is_element in parts)
        renders = self._deviations.renders
        render = renders.get((operation, key, kind)) or renders.get((operation, key, ""), CLASSIC)
        where = ".".join(
            f"{segment}.member"
            if is_element
            else segment
            if render.raw_path
            else lower_first(segment)
            for segment, is_element in parts
        )
        if render.echo == ECHO_NONE:
            shown = "Value"
        elif value is None:
            shown = "Value null"
        elif render.echo == ECHO_JSON:
            shown = f"Value '{orjson.dumps(value).decode()}'"
        else:
            shown = f"Value '{node.echo(value)}'"
        return f"{shown} at '{where}' failed to satisfy constraint: {text}"
