"""The role sessions AssumeRole issued, kept in the store so that every server process
sharing it accepts their temporary keys, and a restart keeps them until they expire.

Layout of STS_SESSIONS (stored on disk — do not reorder or change):

- ``K access-key-id``: a session, ``{"secret" (base64, sealed by the server's master
  key, like KMS's keys), "token_sha256" (hex), "expiration" (epoch seconds), "account",
  "arn", "user_id"}``. Only a digest of the session token is kept and the secret is
  sealed, so reading the store does not give a usable session.
- ``E expiration (8 bytes, big-endian) access-key-id``: empty; the expiry order in which
  sessions are forgotten, RETENTION seconds after they expire (until then a request with
  the key is answered ExpiredToken; afterwards, as an unknown key).

Sessions never change once issued, so a process caches the ones it has read.
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from dynastore.engine import spaces
from dynastore.engine.crypto import Sealer
from dynastore.server.sigv4 import TemporaryKey
from dynastore.storage.base import Backend, WriteTx

SESSIONS_SPACE = spaces.STS_SESSIONS
RETENTION = 24 * 3600
_PRUNE_BATCH = 100  # expired sessions forgotten per AssumeRole
_CACHE_SIZE = 4096
_MAX_KEY_LENGTH = 128  # STS's longest AccessKeyId


@dataclass(frozen=True, slots=True)
class RoleSession:
    """One assumed-role session: its credentials and who it is."""

    access_key: str
    key: TemporaryKey
    arn: str  # arn:aws:sts::<account>:assumed-role/<role name>/<session name>
    user_id: str  # <role id>:<session name>


def _aad(access_key: str) -> bytes:
    """What a sealed secret is bound to: its session (a secret moved to another fails)."""
    return b"sts/session/" + access_key.encode()


def _session_key(access_key: str) -> bytes:
    return b"K" + access_key.encode()


def _expiry_key(expiration: float, access_key: str) -> bytes:
    return b"E" + struct.pack(">Q", max(0, int(expiration))) + access_key.encode()


class SessionStore:
    """Role sessions in the store, with a per-process cache of those already read.

    It is the verifier's `TemporaryKeys`; `clock` is the time of expiry and pruning.
    """

    def __init__(
        self, backend: Backend, sealer: Sealer, clock: Callable[[], float] = time.time
    ) -> None:
        self._backend = backend
        self._sealer = sealer
        self.clock = clock
        self._cache: dict[str, RoleSession] = {}  # bounded, oldest evicted first

    def save(self, session: RoleSession) -> None:
        """Store a new session, and forget a batch of long-expired ones."""
        record = {
            "secret": base64.b64encode(
                self._sealer.seal(session.key.secret_key.encode(), _aad(session.access_key))
            ).decode(),
            "token_sha256": session.key.token_sha256.hex(),
            "expiration": session.key.expiration,
            "account": session.key.account_id,
            "arn": session.arn,
            "user_id": session.user_id,
        }
        with self._backend.write() as tx:
            self._prune(tx, self.clock() - RETENTION)
            tx.put(SESSIONS_SPACE, _session_key(session.access_key), orjson.dumps(record))
            tx.put(SESSIONS_SPACE, _expiry_key(session.key.expiration, session.access_key), b"")

    def session(self, access_key: str) -> RoleSession | None:
        """The session of a temporary access key (expired or not), or None."""
        found = self._cache.get(access_key)
        if found is not None or not access_key.startswith("ASIA"):
            return found
        if len(access_key) > _MAX_KEY_LENGTH:
            return None
        raw = self._backend.get(SESSIONS_SPACE, _session_key(access_key))
        if raw is None:
            return None  # not cached: another process may issue it later
        record = orjson.loads(raw)
        found = RoleSession(
            access_key,
            TemporaryKey(
                self._sealer.unseal(base64.b64decode(record["secret"]), _aad(access_key)).decode(),
                bytes.fromhex(record["token_sha256"]),
                record["account"],
                record["expiration"],
            ),
            record["arn"],
            record["user_id"],
        )
        if len(self._cache) >= _CACHE_SIZE:
            del self._cache[next(iter(self._cache))]
        self._cache[access_key] = found
        return found

    def temporary_key(self, access_key: str) -> TemporaryKey | None:
        found = self.session(access_key)
        return None if found is None else found.key

    def _prune(self, tx: WriteTx, before: float) -> None:
        end = _expiry_key(before, "")
        for key, _ in list(tx.range(SESSIONS_SPACE, b"E", end, limit=_PRUNE_BATCH)):
            tx.delete(SESSIONS_SPACE, key)
            tx.delete(SESSIONS_SPACE, _session_key(key[9:].decode()))
