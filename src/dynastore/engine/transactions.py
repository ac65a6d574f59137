"""Client request tokens: idempotent TransactWriteItems and ExecuteTransaction.

A token is remembered for ten minutes after the transaction that used it committed,
inside that transaction's own storage transaction: a transaction is never acknowledged
without its token being durable, and a retry after a crash finds it. Only successful
transactions are remembered; a cancelled one may be retried with the same token.

Layout in space TOKEN_SPACE (stored on disk — do not reorder or reuse):

    b"t" account "/" region "/" token  ->  JSON {"f": fingerprint, "x": expiry, "r": replay}
    b"x" expiry (8 bytes, big-endian milliseconds) token key  ->  b""   (expiry order)

The expiry entries let each new token sweep a few expired ones, so the space stays
small without a background loop. Lookups check the expiry themselves, so an expired
token that was not swept yet is treated as new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.errors import IdempotentParameterMismatchException
from dynastore.storage.base import WriteTx

TOKEN_SPACE = spaces.TRANSACTION_TOKENS
TOKEN_LIFETIME = 600.0  # seconds a token stays valid after its transaction
_TOKEN = b"t"
_EXPIRY = b"x"
_SWEEP = 16  # expired tokens removed per new token
MISMATCH = "The request uses the same client token as a previous, but non-identical request."


@dataclass(frozen=True, slots=True)
class TokenUse:
    """One request's claim on a token: who, which token, and what the request was."""

    account: str
    region: str
    token: str
    fingerprint: str

    @property
    def key(self) -> bytes:
        return _TOKEN + f"{self.account}/{self.region}/{self.token}".encode()


def fingerprint(operation: str, body: dict[str, Any], ignored: tuple[str, ...] = ()) -> str:
    """A digest of a request that ignores member order (and the members in `ignored`)."""
    kept = {name: value for name, value in body.items() if name not in ignored}
    data = orjson.dumps([operation, kept], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


def replayed(tx: WriteTx, use: TokenUse, now: float) -> dict[str, Any] | None:
    """What the earlier transaction with this token recorded, or None for a new token.

    Raises IdempotentParameterMismatchException when the token was used by another request.
    """
    raw = tx.get(TOKEN_SPACE, use.key)
    if raw is None:
        return None
    record = orjson.loads(raw)
    if record["x"] <= now:
        return None
    if record["f"] != use.fingerprint:
        raise IdempotentParameterMismatchException(MISMATCH)
    replay: dict[str, Any] = record["r"]
    return replay


def remember(tx: WriteTx, use: TokenUse, replay: dict[str, Any], now: float) -> None:
    """Record a token inside the transaction that used it; sweep a few expired ones."""
    _sweep(tx, now)
    old = tx.get(TOKEN_SPACE, use.key)
    if old is not None:  # an expired record not swept yet: drop its expiry entry
        tx.delete(TOKEN_SPACE, _expiry_key(orjson.loads(old)["x"], use.key))
    expiry = now + TOKEN_LIFETIME
    record = {"f": use.fingerprint, "x": expiry, "r": replay}
    tx.put(TOKEN_SPACE, use.key, orjson.dumps(record))
    tx.put(TOKEN_SPACE, _expiry_key(expiry, use.key), b"")


def _expiry_key(expiry: float, token_key: bytes) -> bytes:
    return _EXPIRY + int(expiry * 1000).to_bytes(8, "big") + token_key


def _sweep(tx: WriteTx, now: float) -> None:
    end = _EXPIRY + int(now * 1000).to_bytes(8, "big")
    expired = [key for key, _ in tx.range(TOKEN_SPACE, _EXPIRY, end, limit=_SWEEP)]
    for key in expired:
        tx.delete(TOKEN_SPACE, key)
        tx.delete(TOKEN_SPACE, key[len(_EXPIRY) + 8 :])
