"""AssumeRole's sessions in the store, and the SigV4 verifier accepting their keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

import pytest
from botocore.credentials import Credentials
from cryptography.exceptions import InvalidTag

from dynastore.engine import spaces
from dynastore.errors import ExpiredTokenException, UnrecognizedClientException
from dynastore.server.service import RequestContext
from dynastore.server.sigv4 import (
    AccessKey,
    SigV4Verifier,
    StaticCredentials,
    TemporaryKey,
)
from dynastore.services.kms.keystore import MasterKey
from dynastore.services.sts import SessionStore, sts_service
from dynastore.services.sts.store import RETENTION
from dynastore.storage.base import WriteTx
from dynastore.storage.sqlite import SqliteBackend
from tests.unit.clock import Clock
from tests.unit.test_sigv4 import presign, sign

ACCOUNT = "111111111111"
DEFAULT_ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Writer"
MASTER = MasterKey(b"\x07" * 32)  # seals the sessions' secrets
STATIC = StaticCredentials([AccessKey("AKIDALICE", "alice-secret", ACCOUNT)])
CALLER = RequestContext("request-id", ACCOUNT, "us-east-1", "AKIDALICE")


class CountingBackend:
    """A backend that counts single reads (the store's lookups)."""

    def __init__(self, backend: SqliteBackend) -> None:
        self.backend = backend
        self.gets = 0

    def get(self, space: int, key: bytes) -> bytes | None:
        self.gets += 1
        return self.backend.get(space, key)

    def write(self) -> AbstractContextManager[WriteTx]:
        return self.backend.write()


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "store.db")


@pytest.fixture
def backend(path: str) -> Iterator[SqliteBackend]:
    opened = SqliteBackend(path, checkpoint_interval=None)
    yield opened
    opened.close()


def assume_role(store: SessionStore, duration: int = 900) -> dict[str, Any]:
    service = sts_service(store, cross_account=False)
    request = {"RoleArn": ROLE, "RoleSessionName": "job", "DurationSeconds": duration}
    answer = service.operations["AssumeRole"](CALLER, request)
    assert isinstance(answer, dict)
    return answer


def credentials(answer: dict[str, Any], token: str | None = "") -> Credentials:
    issued = answer["Credentials"]
    return Credentials(
        issued["AccessKeyId"],
        issued["SecretAccessKey"],
        issued["SessionToken"] if token == "" else token,
    )


def verifier(store: SessionStore, mode: Literal["verify", "accept"] = "verify") -> SigV4Verifier:
    return SigV4Verifier(mode, STATIC, DEFAULT_ACCOUNT, "us-east-1", sessions=store)


def test_a_session_key_acts_in_the_roles_account(backend: SqliteBackend) -> None:
    store = SessionStore(backend, MASTER)
    answer = assume_role(store)
    caller = verifier(store).authenticate(*sign(creds=credentials(answer)))
    assert (caller.access_key, caller.account_id) == (answer["Credentials"]["AccessKeyId"], ACCOUNT)
    # A presigned URL carries the token as X-Amz-Security-Token.
    assert verifier(store).authenticate(*presign(creds=credentials(answer))).account_id == ACCOUNT


@pytest.mark.parametrize("token", [None, "another-token"])
def test_the_session_token_must_match(backend: SqliteBackend, token: str | None) -> None:
    store = SessionStore(backend, MASTER)
    answer = assume_role(store)
    for request in (
        sign(creds=credentials(answer, token)),
        presign(creds=credentials(answer, token)),
    ):
        with pytest.raises(UnrecognizedClientException) as err:
            verifier(store).authenticate(*request)
        assert err.value.message == "The security token included in the request is invalid"


def test_an_expired_session_is_refused(backend: SqliteBackend) -> None:
    clock = Clock(time.time())
    clock.now -= 1000  # issued 1000 s ago for 900 s
    store = SessionStore(backend, MASTER, clock)
    answer = assume_role(store, duration=900)
    with pytest.raises(ExpiredTokenException) as err:
        verifier(store).authenticate(*sign(creds=credentials(answer)))
    assert err.value.type_name == "ExpiredTokenException"
    assert err.value.message == "The security token included in the request is expired"
    assert err.value.body()["__type"] == "com.amazon.coral.service#ExpiredTokenException"
    # A wrong token is still the first error.
    with pytest.raises(UnrecognizedClientException):
        verifier(store).authenticate(*sign(creds=credentials(answer, "wrong")))


def test_expired_sessions_are_forgotten_after_retention(backend: SqliteBackend) -> None:
    clock = Clock(time.time())
    store = SessionStore(backend, MASTER, clock)
    old = assume_role(store, duration=900)
    clock.now += 900 + RETENTION + 2
    assume_role(store)  # issuing a session forgets long-expired ones
    fresh = SessionStore(backend, MASTER)  # a process that never saw it
    assert fresh.session(old["Credentials"]["AccessKeyId"]) is None
    with pytest.raises(UnrecognizedClientException) as err:
        verifier(fresh).authenticate(*sign(creds=credentials(old)))
    assert err.value.message == "The security token included in the request is invalid."


def test_another_process_on_the_store_knows_the_session(backend: SqliteBackend, path: str) -> None:
    answer = assume_role(SessionStore(backend, MASTER))
    other = SqliteBackend(path, checkpoint_interval=None)  # a second server process
    try:
        caller = verifier(SessionStore(other, MASTER)).authenticate(
            *sign(creds=credentials(answer))
        )
        assert caller.account_id == ACCOUNT
    finally:
        other.close()


def test_lookups_are_cached_and_static_keys_never_reach_the_store(
    backend: SqliteBackend,
) -> None:
    counting = CountingBackend(backend)
    store = SessionStore(counting, MASTER)  # type: ignore[arg-type]
    answer = assume_role(store)
    check = verifier(store)
    for _ in range(3):
        check.authenticate(*sign(creds=credentials(answer)))
    assert counting.gets == 1  # cached after the first lookup
    check.authenticate(*sign(creds=Credentials("AKIDALICE", "alice-secret")))
    with pytest.raises(UnrecognizedClientException):
        check.authenticate(*sign(creds=Credentials("AKIDUNKNOWN", "secret")))
    assert counting.gets == 1  # neither a file key nor a non-ASIA key looks in the store
    with pytest.raises(UnrecognizedClientException):
        check.authenticate(*sign(creds=Credentials("ASIAUNKNOWN0000000000", "s", "t")))
    assert counting.gets == 2


def test_accept_mode_is_unchanged_but_names_the_role(backend: SqliteBackend) -> None:
    store = SessionStore(backend, MASTER)
    answer = assume_role(store)
    caller = verifier(store, "accept").authenticate(*sign(creds=credentials(answer, "wrong")))
    assert caller.account_id == DEFAULT_ACCOUNT  # accept mode: any key, the default account
    ctx = RequestContext("id", caller.account_id, caller.region, caller.access_key)
    identity = sts_service(store).operations["GetCallerIdentity"](ctx, {})
    assert identity == {
        "UserId": answer["AssumedRoleUser"]["AssumedRoleId"],
        "Account": ACCOUNT,
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Writer/job",
    }


def test_only_a_digest_of_the_token_is_stored(backend: SqliteBackend) -> None:
    issued = assume_role(SessionStore(backend, MASTER))["Credentials"]
    found = SessionStore(backend, MASTER).temporary_key(issued["AccessKeyId"])
    assert isinstance(found, TemporaryKey)
    token = issued["SessionToken"]
    assert found.token_matches(token) and not found.token_matches(token + "x")
    stored = backend.get(spaces.STS_SESSIONS, b"K" + issued["AccessKeyId"].encode())
    assert stored is not None and token.encode() not in stored


def test_the_secret_is_stored_sealed(backend: SqliteBackend) -> None:
    issued = assume_role(SessionStore(backend, MASTER))["Credentials"]
    stored = backend.get(spaces.STS_SESSIONS, b"K" + issued["AccessKeyId"].encode())
    assert stored is not None and issued["SecretAccessKey"].encode() not in stored
    other_master = SessionStore(backend, MasterKey(b"\x08" * 32))
    with pytest.raises(InvalidTag):  # another master key cannot open it
        other_master.temporary_key(issued["AccessKeyId"])
