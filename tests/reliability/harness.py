"""Shared machinery of the reliability suite: a killable server and a raw JSON client.

The client speaks AWS JSON 1.0 over one keep-alive `http.client` connection: it is much
lighter than boto3 (the writers of the crash and concurrency tests share two cores with
the server) and it never retries, so "acknowledged" means exactly "this request was
answered 200". Servers run in `--auth accept` mode unless a test passes its own flags;
the client then sends a well-formed but unchecked Authorization header.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.api.conftest import _free_port, _stop, _wait_for_server

DYNAMODB = "DynamoDB_20120810"
STREAMS = "DynamoDBStreams_20120810"
REGION = "us-east-1"
JSON_10 = "application/x-amz-json-1.0"
FAKE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
# Log lines that mean the server hit a bug (an InternalServerError is logged with its
# traceback) or could not open its store.
BAD_LOG_MARKERS = ("Traceback", " ERROR ", " CRITICAL ")

Json = dict[str, Any]


class Unavailable(Exception):
    """The request's outcome is unknown: the connection failed before an answer."""


class ApiError(Exception):
    """A non-200 answer."""

    def __init__(self, status: int, body: Json) -> None:
        self.status = status
        self.body = body
        self.code = str(body.get("__type", "")).rpartition("#")[2]
        super().__init__(f"{status} {self.code}: {body.get('message') or body.get('Message')}")


class Api:
    """A raw AWS JSON client on one keep-alive connection; one per thread."""

    def __init__(self, url: str, timeout: float = 30.0, access_key: str = "test") -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self._host = host
        self._port = int(port)
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._auth = FAKE_AUTH.replace("Credential=test/", f"Credential={access_key}/")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def raw(self, operation: str, body: bytes, service: str = DYNAMODB) -> tuple[int, bytes]:
        """POST `body` as `service.operation`; (status, body) or Unavailable."""
        headers = {
            "Content-Type": JSON_10,
            "X-Amz-Target": f"{service}.{operation}",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "Authorization": self._auth,
        }
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
            self._conn.request("POST", "/", body=body, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unavailable(f"{operation}: {exc!r}") from exc
        if response.getheader("connection", "").lower() == "close":
            self.close()
        return response.status, data

    def call(self, operation: str, request: Json, service: str = DYNAMODB) -> Json:
        """The parsed answer of a 200; ApiError otherwise."""
        status, data = self.raw(operation, json.dumps(request).encode(), service)
        body: Json = json.loads(data) if data else {}
        if status != 200:
            raise ApiError(status, body)
        return body

    # -- conveniences ---------------------------------------------------------------------

    def scan(self, table: str, index: str | None = None) -> list[Json]:
        """Every item (or index entry), strongly consistent for the table."""
        request: Json = {"TableName": table}
        if index is None:
            request["ConsistentRead"] = True
        else:
            request["IndexName"] = index
        items: list[Json] = []
        while True:
            page = self.call("Scan", request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def wait_active(self, table: str, timeout: float = 120.0) -> Json:
        """The table's description once it and all its indexes are ACTIVE."""
        deadline = time.monotonic() + timeout
        while True:
            desc: Json = self.call("DescribeTable", {"TableName": table})["Table"]
            indexes = desc.get("GlobalSecondaryIndexes", [])
            if desc["TableStatus"] == "ACTIVE" and all(
                i["IndexStatus"] == "ACTIVE" for i in indexes
            ):
                return desc
            if time.monotonic() > deadline:
                raise AssertionError(f"{table} not ACTIVE after {timeout}s: {desc}")
            time.sleep(0.2)

    def stream_records(self, arn: str) -> list[Json]:
        """Every record of the stream: each shard read from TRIM_HORIZON to its end."""
        shards: list[Json] = []
        request: Json = {"StreamArn": arn}
        while True:
            desc = self.call("DescribeStream", request, STREAMS)["StreamDescription"]
            shards += desc["Shards"]
            if "LastEvaluatedShardId" not in desc:
                break
            request["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]
        records: list[Json] = []
        for shard in shards:
            iterator = self.call(
                "GetShardIterator",
                {
                    "StreamArn": arn,
                    "ShardId": shard["ShardId"],
                    "ShardIteratorType": "TRIM_HORIZON",
                },
                STREAMS,
            ).get("ShardIterator")
            while iterator:
                page = self.call("GetRecords", {"ShardIterator": iterator}, STREAMS)
                records += page["Records"]
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return records


class Server:
    """One `dynastore serve` process on a fixed port and data dir, killable and restartable."""

    def __init__(self, work: Path, *flags: str, data_dir: Path | None = None) -> None:
        self.work = work
        self.data_dir = data_dir or work / "data"
        self.port = _free_port()
        self.flags = flags
        self.log_path = work / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def db_path(self) -> Path:
        return self.data_dir / "dynastore.db"

    def start(self) -> None:
        command = [
            sys.executable, "-m", "dynastore", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--log-level", "warning",
            *self.flags,
        ]  # fmt: skip
        if "--credentials-file" not in self.flags and "--auth" not in self.flags:
            command += ["--auth", "accept"]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_server(self.proc, self.port, self.log_path)
        self.starts += 1

    def kill9(self) -> None:
        """SIGKILL to the server's PID (and, with --workers, to its worker processes)."""
        assert self.proc is not None
        children = self.children()
        os.kill(self.proc.pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        """PIDs of the server's direct children (uvicorn's worker processes)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def rss_kib(self) -> int:
        """Resident memory of the server process (plus its workers), in KiB."""
        total = 0
        for pid in [self.pid, *self.children()]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def mark_log(self) -> None:
        """Make `log_since_start` and `assert_clean_log` look only at lines after now."""
        self._log_offset = self.log_path.stat().st_size

    def log_since_start(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def assert_clean_log(self) -> None:
        """No traceback or error logged since this process started."""
        text = self.log_since_start()
        bad = [line for line in text.splitlines() if any(m in line for m in BAD_LOG_MARKERS)]
        assert not bad, "server logged errors:\n" + text[-5000:]

    def integrity_check(self) -> None:
        """SQLite's own check of the store, through a read-only connection."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        assert result == [("ok",)], result
