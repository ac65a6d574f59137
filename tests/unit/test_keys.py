"""Order-preserving key encoding: ordering, round trips, ranges, hashing."""

from __future__ import annotations

import base64
import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynastore.engine.keys import (
    HASH_SIZE,
    decode_item_key,
    decode_key_value,
    encode_item_key,
    encode_key_value,
    item_key,
    partition_hash,
    partition_prefix,
    prefix_end,
    segment_of,
    segment_range,
    sort_key_range,
)
from dynastore.engine.values import AttrValue, format_number


def _n(value: Decimal | str) -> AttrValue:
    return {"N": str(value)}


def _b(raw: bytes) -> AttrValue:
    return {"B": base64.b64encode(raw).decode()}


def _cmp(x: Any, y: Any) -> int:
    return int((x > y) - (x < y))


# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99..E+125.
numbers = st.one_of(
    st.just(Decimal(0)),
    st.builds(
        lambda sign, digits, exp: Decimal((sign, tuple(int(c) for c in digits), exp)),
        st.integers(0, 1),
        st.text("0123456789", min_size=1, max_size=38).filter(lambda d: d.strip("0") != ""),
        st.integers(-130, 125),
    ).filter(lambda d: -130 <= d.adjusted() <= 125),
)
# Few distinct digits and exponents, so shared prefixes and equal values are common.
near_numbers = st.builds(
    lambda sign, digits, exp: Decimal((sign, tuple(int(c) for c in digits), exp)),
    st.integers(0, 1),
    st.text("0019", min_size=1, max_size=6),
    st.integers(-3, 3),
)
texts = st.text(st.characters(codec="utf-8"), max_size=20)
small_texts = st.text(st.sampled_from("\x00\x01ab\xff\u0100\U0001f600"), max_size=6)
blobs = st.binary(max_size=20)
small_blobs = st.lists(st.sampled_from([0, 1, 0x7F, 0xFE, 0xFF]), max_size=6).map(bytes)


@settings(max_examples=1000)
@given(st.one_of(numbers, near_numbers), st.one_of(numbers, near_numbers))
def test_number_order_matches_decimal(a: Decimal, b: Decimal) -> None:
    assert _cmp(encode_key_value(_n(a)), encode_key_value(_n(b))) == _cmp(a, b)


@settings(max_examples=500)
@given(st.one_of(numbers, near_numbers))
def test_number_round_trip(a: Decimal) -> None:
    encoded = encode_key_value(_n(a))
    assert len(encoded) <= 21
    value, end = decode_key_value(encoded + b"tail", 0, "N")
    assert end == len(encoded)
    assert value == {"N": format_number(a)}


@given(st.one_of(texts, small_texts), st.one_of(texts, small_texts))
def test_string_order_matches_utf8_bytes(a: str, b: str) -> None:
    got = _cmp(encode_key_value({"S": a}), encode_key_value({"S": b}))
    assert got == _cmp(a.encode(), b.encode())


@given(st.one_of(blobs, small_blobs), st.one_of(blobs, small_blobs))
def test_binary_order_matches_bytes(a: bytes, b: bytes) -> None:
    assert _cmp(encode_key_value(_b(a)), encode_key_value(_b(b))) == _cmp(a, b)


@given(st.one_of(texts, small_texts), st.integers(0, 3))
def test_string_round_trip(a: str, offset: int) -> None:
    data = b"x" * offset + encode_key_value({"S": a})
    assert decode_key_value(data + b"\x00\x01", offset, "S") == ({"S": a}, len(data))


@given(st.one_of(blobs, small_blobs))
def test_binary_round_trip(a: bytes) -> None:
    data = encode_key_value(_b(a))
    assert decode_key_value(data + b"\xff", 0, "B") == (_b(a), len(data))


@given(
    st.tuples(st.one_of(small_blobs, blobs), st.one_of(small_blobs, blobs)),
    st.tuples(st.one_of(small_blobs, blobs), st.one_of(small_blobs, blobs)),
)
def test_concatenation_orders_by_components(x: tuple[bytes, bytes], y: tuple[bytes, bytes]) -> None:
    def enc(pair: tuple[bytes, bytes]) -> bytes:
        return encode_key_value(_b(pair[0])) + encode_key_value(_b(pair[1]))

    assert _cmp(enc(x), enc(y)) == _cmp(x, y)


@given(st.tuples(small_texts, numbers), st.tuples(small_texts, numbers))
def test_string_then_number_orders_by_components(
    x: tuple[str, Decimal], y: tuple[str, Decimal]
) -> None:
    def enc(pair: tuple[str, Decimal]) -> bytes:
        return encode_key_value({"S": pair[0]}) + encode_key_value(_n(pair[1]))

    assert _cmp(enc(x), enc(y)) == _cmp((x[0].encode(), x[1]), (y[0].encode(), y[1]))


@pytest.mark.parametrize(
    "text",
    [
        "0", "-0", "+0", "0.000", "0E+5", "1.50", "+1.5", "01.50", ".5", "5.", "1e3", "1.5E+3",
        "-1E-130", "-0.00012300", "9.9999999999999999999999999999999999999E+125",
    ],
)  # fmt: skip
def test_number_equivalent_spellings_encode_alike(text: str) -> None:
    canonical = format_number(Decimal(text))
    assert encode_key_value({"N": text}) == encode_key_value({"N": canonical})
    assert decode_key_value(encode_key_value({"N": text}), 0, "N")[0] == {"N": canonical}


@pytest.mark.parametrize(
    "text", ["", "-", ".", "1e", "e5", "abc", "1.2.3", "NaN", "Infinity", "１"]
)
def test_number_malformed_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        encode_key_value({"N": text})


def test_number_out_of_range_rejected() -> None:
    with pytest.raises(ValueError):
        encode_key_value({"N": "1E+126"})
    with pytest.raises(ValueError):
        encode_key_value({"N": "1E-131"})


def test_unknown_type_rejected() -> None:
    with pytest.raises(ValueError):
        encode_key_value({"BOOL": True})
    with pytest.raises(ValueError):
        decode_key_value(b"\x00\x00", 0, "X")


def test_prefix_end() -> None:
    assert prefix_end(b"ab") == b"ac"
    assert prefix_end(b"a\xff\xff") == b"b"
    assert prefix_end(b"\xff") is None
    assert prefix_end(b"") is None


@given(st.binary(max_size=4), st.binary(max_size=4))
def test_prefix_end_bounds_every_extension(prefix: bytes, suffix: bytes) -> None:
    end = prefix_end(prefix)
    if end is not None:
        assert prefix + suffix < end
        assert end > prefix


def test_item_key_layout_and_decode() -> None:
    pk, sk = {"S": "user#1"}, {"N": "-12.5"}
    pk_enc, sk_enc = encode_key_value(pk), encode_key_value(sk)
    key = item_key(pk_enc, sk_enc)
    assert key == partition_hash(pk_enc) + pk_enc + sk_enc
    assert key.startswith(partition_prefix(pk_enc))
    assert len(partition_hash(pk_enc)) == HASH_SIZE
    assert encode_item_key(pk, sk) == key
    assert decode_item_key(key, "S", "N") == (pk, sk)
    assert decode_item_key(encode_item_key(_b(b"\x00")), "B") == (_b(b"\x00"), None)


def test_partition_hash_is_stable() -> None:
    # Stored on disk: the hash of a given encoding must never change.
    assert partition_hash(encode_key_value({"S": "a"})) == bytes.fromhex("a6fcdd6fd6277c27")


@pytest.mark.parametrize("total", [1, 2, 3, 7, 1000, 1_000_000])
def test_segments_partition_the_hash_space(total: int) -> None:
    ranges = [segment_range(s, total) for s in range(min(total, 50))]
    assert ranges[0][0] == b"\x00" * HASH_SIZE
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    if total <= 50:
        assert ranges[-1][1] is None
    for segment, (start, end) in enumerate(ranges):
        assert segment_of(start, total) == segment
        if end is not None:
            last = (int.from_bytes(end, "big") - 1).to_bytes(HASH_SIZE, "big")
            assert segment_of(last, total) == segment
            assert segment_of(end, total) == segment + 1


@given(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), st.integers(1, 1_000_000))
def test_segment_of_matches_segment_range(hash8: bytes, total: int) -> None:
    segment = segment_of(hash8, total)
    start, end = segment_range(segment, total)
    assert start <= hash8
    assert end is None or hash8 < end


def test_segment_range_rejects_bad_segment() -> None:
    with pytest.raises(ValueError):
        segment_range(3, 3)


# -- sort-key ranges: compare against brute force over a small key set ----------------

_SK_NUMBERS = ["-100", "-1.5", "-1", "0", "0.001", "1", "1.5", "2", "10", "100"]
_SK_STRINGS = ["", "\x00", "a", "a\x00", "a\x00b", "ab", "abc", "abd", "b", "\u00e9", "\U0001f600"]
_SK_BINARIES = [b"", b"\x00", b"\x00\xff", b"\x01", b"a", b"a\xff", b"a\xff\xff", b"b", b"\xff"]


def _sk_values() -> list[tuple[str, list[AttrValue]]]:
    return [
        ("N", [_n(v) for v in _SK_NUMBERS]),
        ("S", [{"S": v} for v in _SK_STRINGS]),
        ("B", [_b(v) for v in _SK_BINARIES]),
    ]


def _key_of(value: AttrValue) -> Any:
    if "N" in value:
        return Decimal(value["N"])
    if "S" in value:
        return value["S"].encode()
    return base64.b64decode(value["B"])


def _matches(op: str | None, v: Any, a: Any, b: Any) -> bool:
    if op is None:
        return True
    if op == "begins_with":
        return bool(v.startswith(a))
    if op == "BETWEEN":
        return bool(a <= v <= b)
    return bool({"=": v == a, "<": v < a, "<=": v <= a, ">": v > a, ">=": v >= a}[op])


@pytest.mark.parametrize(
    ("type_", "values", "op"),
    [
        (type_, values, op)
        for type_, values in _sk_values()
        for op in [None, "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]
        if not (type_ == "N" and op == "begins_with")
    ],
)
@pytest.mark.parametrize("suffix", [b"", b"\x00", b"\xff\xff"])
def test_sort_key_range_selects_exactly_matching_keys(
    type_: str, values: list[AttrValue], op: str | None, suffix: bytes
) -> None:
    pk = encode_key_value({"S": "p"})
    prefix = partition_prefix(pk)
    neighbours = [
        partition_prefix(encode_key_value({"S": "o"})),
        partition_prefix(encode_key_value({"S": "p\x00"})),
    ]
    for a in values:
        for b in values:
            if op != "BETWEEN" and b is not values[0]:
                continue
            start, end = sort_key_range(prefix, op, a, b)
            for v in values:
                key = prefix + encode_key_value(v) + suffix
                inside = start <= key and (end is None or key < end)
                expected = _matches(op, _key_of(v), _key_of(a), _key_of(b))
                assert inside == expected, (op, a, b, v)
            for other in neighbours:
                key = other + encode_key_value(values[0])
                assert not (start <= key and (end is None or key < end))


def test_sort_key_range_requires_operands() -> None:
    prefix = partition_prefix(encode_key_value({"S": "p"}))
    with pytest.raises(ValueError):
        sort_key_range(prefix, "=")
    with pytest.raises(ValueError):
        sort_key_range(prefix, "BETWEEN", {"N": "1"})
    with pytest.raises(ValueError):
        sort_key_range(prefix, "begins_with", {"N": "1"})
    with pytest.raises(ValueError):
        sort_key_range(prefix, "contains", {"S": "1"})
