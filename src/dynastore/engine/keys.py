"""Order-preserving key encoding and partition hashing.

Design note
-----------
Storage is an ordered byte-string store, so every key attribute is encoded such that
``encoded(a) < encoded(b)`` (bytewise) exactly when DynamoDB orders ``a < b``, and every
encoding is *prefix-free* (no encoding is a prefix of another). Prefix-freeness is what
makes concatenations sort component by component: ``pk || sk`` orders by ``(pk, sk)``,
and an index key ``gsi_pk || gsi_sk || base_pk || base_sk`` too. The key schema fixes
each attribute's type, so no type tag is stored.

S and B
    The UTF-8 (S) or raw (B) bytes, each 0x00 escaped as 0x00 0xFF, then the terminator
    0x00 0x00. The terminator sorts below every continuation (0x00 0xFF or a non-zero
    byte), so a shorter string sorts first, as DynamoDB does. Escaping only turns 0x00
    into a two-byte code, so ``escape(p)`` is a prefix of ``encode(s)`` exactly when ``p``
    is a prefix of ``s`` — begins_with is a byte-prefix range.
N
    One marker byte (negative 0x01, zero 0x02, positive 0x03). A non-zero number is
    written as ``0.d1d2...dn * 10**e`` (d1 != 0, dn != 0); then one exponent byte
    ``e + 129`` (DynamoDB's range gives e in -129..126, exactly one byte) and the digits
    in pairs ("centimal" digits as in SQLite4 keys), padded with a 0 to an even count:
    pair X is the byte ``2*X + 1``, the last pair ``2*X``, so the last byte is the only
    even one (self-delimiting) and a longer mantissa with the same leading pairs sorts
    higher. Negative numbers complement exponent and digit bytes, reversing their order.
    38 digits take at most 21 bytes.

Base-table keys are ``hash8(pk) || encode(pk) || encode(sk)``: scan walks hash order,
parallel-scan segments are hash ranges, and a query is a range inside one partition
prefix. The hash is blake2b with an 8-byte digest, stable across processes and versions.
Everything here is stored on disk — do not change the byte layout.
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

from dynastore.engine.values import AttrValue, format_number

HASH_SIZE = 8

# Stored on disk — do not reorder or renumber.
_NEG = 0x01
_ZERO = 0x02
_POS = 0x03
_EXP_BIAS = 129  # byte = exponent + bias; DynamoDB exponents span -129..126
_TERMINATOR = b"\x00\x00"
_ESCAPED_NUL = b"\x00\xff"
_ZERO_ENCODED = bytes((_ZERO,))
_SPACE = 1 << (8 * HASH_SIZE)

# Sort-key comparison operators accepted by sort_key_range.
SORT_KEY_OPERATORS = frozenset(("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"))


def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\x00", _ESCAPED_NUL) if b"\x00" in raw else raw


# Digits are packed two per byte with bytes.fromhex ("37" -> 0x37), then translated in C
# to the centimal code 2*X + 1 (positive) or its complement (negative).
_CENTIMAL = bytes(
    (2 * (10 * (b >> 4) + (b & 15)) + 1) if (b >> 4) < 10 and (b & 15) < 10 else 0
    for b in range(256)
)
_CENTIMAL_NEG = bytes(255 - c if c else 0 for c in _CENTIMAL)


def _encode_number(text: str) -> bytes:
    negative = text[:1] == "-"
    body = text[1:] if text[:1] in "+-" else text
    mantissa, e, exp_text = body.replace("E", "e").partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    if not (whole or frac) or not (whole + frac).isascii() or not (whole + frac).isdigit():
        raise ValueError(f"not a number: {text!r}")
    significant = digits.rstrip("0")
    if not significant:
        return _ZERO_ENCODED
    try:
        exp10 = int(exp_text) if e else 0
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    # value = 0.<digits> * 10**exponent; trailing zeros don't change it.
    exponent = exp10 - len(frac) + len(digits)
    biased = exponent + _EXP_BIAS
    if not 0 <= biased <= 255:
        raise ValueError(f"number outside DynamoDB's range: {text!r}")
    if len(significant) % 2:
        significant += "0"
    packed = bytes.fromhex(significant)
    if negative:
        # The last pair is 255 - 2X: one more than the continuation code 255 - (2X + 1).
        code = packed.translate(_CENTIMAL_NEG)
        return bytes((_NEG, 255 - biased)) + code[:-1] + bytes((code[-1] + 1,))
    code = packed.translate(_CENTIMAL)
    return bytes((_POS, biased)) + code[:-1] + bytes((code[-1] - 1,))


def encode_key_value(attr: AttrValue) -> bytes:
    """Encode one S, N or B key value so byte order equals DynamoDB order (prefix-free)."""
    if "S" in attr:
        return _escape(attr["S"].encode()) + _TERMINATOR
    if "N" in attr:
        return _encode_number(attr["N"])
    if "B" in attr:
        return _escape(base64.b64decode(attr["B"])) + _TERMINATOR
    raise ValueError(f"not a key value type: {attr!r}")


def _decode_number(data: bytes, offset: int) -> tuple[str, int]:
    marker = data[offset]
    if marker == _ZERO:
        return "0", offset + 1
    negative = marker == _NEG
    if not negative and marker != _POS:
        raise ValueError(f"bad number marker {marker:#x} at offset {offset}")
    biased = data[offset + 1]
    if negative:
        biased = 255 - biased
    digits: list[str] = []
    pos = offset + 2
    while True:
        byte = data[pos]
        if negative:
            byte = 255 - byte
        pos += 1
        digits.append(f"{byte >> 1:02d}")
        if not byte & 1:
            break
    mantissa = "".join(digits)
    value = Decimal(f"{'-' if negative else ''}0.{mantissa}E{biased - _EXP_BIAS}")
    return format_number(value), pos


def decode_key_value(data: bytes, offset: int, type_: str) -> tuple[AttrValue, int]:
    """Decode the value of type ``type_`` ("S", "N", "B") at ``offset``.

    Returns the AttributeValue (numbers in canonical text, binaries in base64) and the
    offset just past its encoding.
    """
    if type_ == "N":
        text, end = _decode_number(data, offset)
        return {"N": text}, end
    stop = data.find(_TERMINATOR, offset)
    if stop < 0:
        raise ValueError("unterminated key value")
    raw = data[offset:stop]
    if b"\x00" in raw:
        raw = raw.replace(_ESCAPED_NUL, b"\x00")
    if type_ == "S":
        return {"S": raw.decode()}, stop + 2
    if type_ == "B":
        return {"B": base64.b64encode(raw).decode()}, stop + 2
    raise ValueError(f"not a key value type: {type_!r}")


def partition_hash(encoded_pk: bytes) -> bytes:
    """The 8-byte hash that places a partition in scan order."""
    return hashlib.blake2b(encoded_pk, digest_size=HASH_SIZE).digest()


def segment_of(hash8: bytes, total_segments: int) -> int:
    """The parallel-scan segment (0-based) holding a partition hash.

    The 64-bit hash space is split into ``total_segments`` contiguous ranges.
    """
    return (int.from_bytes(hash8, "big") * total_segments) >> (8 * HASH_SIZE)


def segment_range(segment: int, total_segments: int) -> tuple[bytes, bytes | None]:
    """The ``[start, end)`` base-key range of a parallel-scan segment (end None = last)."""
    if not 0 <= segment < total_segments:
        raise ValueError(f"segment {segment} outside 0..{total_segments - 1}")
    # Smallest h with segment_of(h) >= s is ceil(s * 2**64 / total).
    start = -(-segment * _SPACE // total_segments)
    if segment + 1 == total_segments:
        return start.to_bytes(HASH_SIZE, "big"), None
    end = -(-(segment + 1) * _SPACE // total_segments)
    return start.to_bytes(HASH_SIZE, "big"), end.to_bytes(HASH_SIZE, "big")


def partition_prefix(pk_enc: bytes) -> bytes:
    """The common prefix of every key in one partition: ``hash8 || pk_enc``."""
    return partition_hash(pk_enc) + pk_enc


def item_key(pk_enc: bytes, sk_enc: bytes | None = None) -> bytes:
    """A base-table storage key: ``hash8 || pk_enc || sk_enc``."""
    return partition_hash(pk_enc) + pk_enc + (sk_enc or b"")


def encode_item_key(pk: AttrValue, sk: AttrValue | None = None) -> bytes:
    """``item_key`` from AttributeValues."""
    return item_key(encode_key_value(pk), None if sk is None else encode_key_value(sk))


def decode_item_key(
    key: bytes, pk_type: str, sk_type: str | None = None
) -> tuple[AttrValue, AttrValue | None]:
    """Recover ``(pk, sk)`` from a base-table storage key (for LastEvaluatedKey)."""
    pk, offset = decode_key_value(key, HASH_SIZE, pk_type)
    if sk_type is None:
        return pk, None
    sk, _ = decode_key_value(key, offset, sk_type)
    return pk, sk


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``.

    None when there is none (``prefix`` is empty or all 0xFF): the range is unbounded.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def begins_with_bytes(attr: AttrValue) -> bytes:
    """The byte prefix shared by the encodings of every S or B value starting with ``attr``."""
    if "S" in attr:
        return _escape(attr["S"].encode())
    if "B" in attr:
        return _escape(base64.b64decode(attr["B"]))
    raise ValueError(f"begins_with needs an S or B value: {attr!r}")


def sort_key_range(
    prefix: bytes,
    op: str | None = None,
    value: AttrValue | None = None,
    upper: AttrValue | None = None,
) -> tuple[bytes, bytes | None]:
    """The ``[start, end)`` key range for a sort-key condition inside ``prefix``.

    ``prefix`` is a partition prefix (or any prefix the sort key follows). ``op`` is None
    (whole partition) or one of SORT_KEY_OPERATORS; BETWEEN takes ``value`` and ``upper``.
    Keys may carry a suffix after the sort key (index entries): ranges treat the encoded
    sort key as a prefix, so such suffixes stay inside the range. BETWEEN with
    ``value > upper`` gives an empty range (start >= end); callers validate first.
    """
    whole_end = prefix_end(prefix)
    if op is None:
        return prefix, whole_end
    if value is None:
        raise ValueError(f"sort key operator {op} needs a value")
    if op == "begins_with":
        head = prefix + begins_with_bytes(value)
        return head, prefix_end(head)
    at = prefix + encode_key_value(value)
    if op == "=":
        return at, prefix_end(at)
    if op == "<":
        return prefix, at
    if op == "<=":
        return prefix, prefix_end(at)
    if op == ">":
        after = prefix_end(at)
        return (after, whole_end) if after is not None else (at, at)
    if op == ">=":
        return at, whole_end
    if op == "BETWEEN":
        if upper is None:
            raise ValueError("BETWEEN needs an upper bound")
        return at, prefix_end(prefix + encode_key_value(upper))
    raise ValueError(f"unknown sort key operator {op!r}")
