"""Hostile HTTP: oversized bodies and heads, slow and truncated uploads, idle connections,
HTTP/1.0, pipelining, garbage. Raw sockets against one server.

Each case must be answered with a 4xx (an AWS JSON error where the request reached the
dispatcher) or a closed connection: never a 5xx, never a traceback in the log. A sampler
thread reads the server's VmRSS every 50 ms for the whole module: memory must stay under
`RSS_LIMIT_MIB`, and the server must keep answering a normal client throughout. A
sentinel table written at the start must be unchanged at the end.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import FAKE_AUTH, JSON_10, Api, Json, Server

# The server's limits (server/http.py, config.py): keep in step.
MAX_BODY = 16 * 1024 * 1024 + 64 * 1024
MAX_HEAD = 64 * 1024
HEAD_TIMEOUT = 20.0
BODY_IDLE_TIMEOUT = 20.0
# Peak resident memory allowed: the baseline (~80 MiB) plus the JSON parse of one
# maximal hostile body (a 16 MiB array of empty arrays costs ~500 MiB of Python
# objects while it is parsed) plus the bounded buffer of large bodies.
RSS_LIMIT_MIB = 1024
IDLE_CONNECTIONS = 400
SLOW_CONNECTIONS = 50

SENTINEL = "sentinel"
SENTINEL_ITEMS = [{"pk": {"S": f"s-{i}"}, "v": {"N": str(i)}} for i in range(20)]


class RssSampler(threading.Thread):
    """Samples the server's resident memory until stopped; keeps the peak."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak_kib = 0
        self.samples = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._windows: list[list[int]] = []  # each: [peak during the window]

    def run(self) -> None:
        while not self._halt.wait(0.05):
            with self._lock:
                windows = list(self._windows)  # only those open before this sample began
            rss = self.server.rss_kib()
            with self._lock:
                self.peak_kib = max(self.peak_kib, rss)
                for window in windows:
                    window[0] = max(window[0], rss)
                self.samples += 1

    @contextlib.contextmanager
    def window(self) -> Iterator[list[int]]:
        """The peak of the samples taken wholly inside the `with` block (as `[peak_kib]`)."""
        window = [0]
        with self._lock:
            self._windows.append(window)
        try:
            yield window
        finally:
            with self._lock:
                self._windows.remove(window)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@pytest.fixture(scope="module")
def server(module_workdir: Path) -> Iterator[Server]:
    work = module_workdir
    srv = Server(work)
    srv.start()
    api = Api(srv.url)
    api.call(
        "CreateTable",
        {
            "TableName": SENTINEL,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    api.wait_active(SENTINEL)
    for item in SENTINEL_ITEMS:
        api.call("PutItem", {"TableName": SENTINEL, "Item": item})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def sampler(server: Server) -> Iterator[RssSampler]:
    sampler = RssSampler(server)
    sampler.start()
    yield sampler
    sampler.stop()


@pytest.fixture(autouse=True)
def still_serving(server: Server, sampler: RssSampler) -> Iterator[None]:
    """After every test: the server answers, logged nothing bad, and is within memory."""
    yield
    assert server.alive()
    items = Api(server.url).scan(SENTINEL)
    assert sorted(items, key=lambda i: int(i["v"]["N"])) == SENTINEL_ITEMS
    server.assert_clean_log()
    assert sampler.peak_kib < RSS_LIMIT_MIB * 1024, f"peak RSS {sampler.peak_kib // 1024} MiB"


# --- raw HTTP ---------------------------------------------------------------------------


def head(
    operation: str = "ListTables",
    length: int | None = None,
    extra: str = "",
    version: str = "1.1",
    content_type: str = JSON_10,
) -> bytes:
    lines = [
        f"POST / HTTP/{version}",
        "Host: localhost",
        f"Content-Type: {content_type}",
        f"X-Amz-Target: DynamoDB_20120810.{operation}",
        f"X-Amz-Date: {time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}",
        f"Authorization: {FAKE_AUTH}",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def request(operation: str, body: Json | bytes, **kwargs: str) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return head(operation, len(data), **kwargs) + data


def connect(server: Server, timeout: float = 30.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


class Reader:
    """Reads HTTP/1.1 responses (content-length framed) off one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(1 << 16)
        self.buffer += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"closed before a response: {self.buffer[:200]!r}")
        raw_head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = raw_head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                raise ConnectionError("closed inside a response body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """True when the server closed the connection (after any pending response)."""
        try:
            while self._fill():
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass
        return True


def error_type(body: bytes) -> str:
    return str(json.loads(body)["__type"]).rpartition("#")[2]


def send_all(sock: socket.socket, data: bytes) -> bool:
    """Send, tolerating the server closing early (it may refuse before reading all)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


# --- bodies -----------------------------------------------------------------------------


def test_oversized_bodies_are_refused(server: Server, numbers: Callable[[str], None]) -> None:
    cases = 0
    # Declared too large: refused from the header, before the body is read.
    with connect(server) as sock:
        sock.sendall(head("PutItem", MAX_BODY + 1, "Expect: 100-continue\r\n"))
        status, _, body = Reader(sock).response()
        assert (status, error_type(body)) == (413, "RequestEntityTooLarge")
        cases += 1
    # Sent too large: a chunked body that grows past the limit is cut off.
    with connect(server) as sock:
        sock.sendall(head("PutItem", None, "Transfer-Encoding: chunked\r\n"))
        chunk = b"x" * (1 << 20)
        for _ in range(MAX_BODY // len(chunk) + 2):
            if not send_all(sock, b"%x\r\n%s\r\n" % (len(chunk), chunk)):
                break
        status, _, body = Reader(sock).response()
        assert (status, error_type(body)) == (413, "RequestEntityTooLarge")
        cases += 1
    # Just under the limit: an item far over 400 KB is a ValidationException.
    big = {"TableName": SENTINEL, "Item": {"pk": {"S": "big"}, "blob": {"S": "b" * (16 << 20)}}}
    with connect(server, timeout=120) as sock:
        sock.sendall(request("PutItem", big))
        status, _, body = Reader(sock).response()
        assert (status, error_type(body)) == (400, "ValidationException"), body[:300]
        cases += 1
    # The costliest body to parse: 16 MiB of empty JSON arrays (memory, not an error).
    worst = b"[" + b"[]," * ((16 << 20) // 3 - 1) + b"[]]"
    with connect(server, timeout=120) as sock:
        sock.sendall(request("PutItem", worst))
        status, _, body = Reader(sock).response()
        assert status == 400, body[:300]
        cases += 1
    numbers(f"{cases} oversized or maximal bodies refused")


def test_concurrent_large_uploads_are_buffered_within_a_memory_budget(
    server: Server, sampler: RssSampler, numbers: Callable[[str], None]
) -> None:
    """Many clients uploading big bodies at once: the server buffers a few at a time
    (the others wait, unread), so memory does not grow with the number of uploaders."""
    uploaders = 40
    body = json.dumps(
        {"TableName": SENTINEL, "Item": {"pk": {"S": "big"}, "blob": {"S": "u" * (12 << 20)}}}
    ).encode()
    before = server.rss_kib()
    statuses: list[int] = []

    def upload() -> None:
        with connect(server, timeout=120) as sock:
            sock.sendall(head("PutItem", len(body)))
            for start in range(0, len(body), 1 << 20):  # 1 MiB per 50 ms
                sock.sendall(body[start : start + (1 << 20)])
                time.sleep(0.05)
            status, _, answer = Reader(sock).response()
            assert error_type(answer) == "ValidationException"
            statuses.append(status)

    threads = [threading.Thread(target=upload) for _ in range(uploaders)]
    with sampler.window() as peak:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert statuses == [400] * uploaders
    grown_mib = (peak[0] - before) / 1024
    # Without the budget: 40 x 12 MiB = 480 MiB of bodies at least. With it: four 16 MiB
    # bodies (or five of 12 MiB) at once, each with its copies while parsed.
    assert grown_mib < 250, f"{uploaders} uploads of 12 MiB grew the server by {grown_mib:.0f} MiB"
    numbers(f"{uploaders} concurrent 12 MiB uploads answered; peak growth {grown_mib:.0f} MiB")


# --- heads ------------------------------------------------------------------------------


def test_oversized_heads_are_refused(server: Server, numbers: Callable[[str], None]) -> None:
    cases = {
        "one 100 KiB header": b"X-Big: " + b"a" * (100 << 10) + b"\r\n",
        "one 32 MiB header": b"X-Big: " + b"a" * (32 << 20) + b"\r\n",
        "20,000 headers": b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)),
        "a 1 MiB URL": b"",
    }
    for name, extra in cases.items():
        with connect(server, timeout=60) as sock:
            data = head("ListTables", 2) + b"{}"
            if name == "a 1 MiB URL":
                data = data.replace(b"POST / ", b"POST /" + b"u" * (1 << 20) + b" ", 1)
            else:
                data = data.replace(b"\r\n\r\n", b"\r\n" + extra + b"\r\n", 1)
            send_all(sock, data)
            reader = Reader(sock)
            status, _, _ = reader.response()
            assert status == 431, name
            assert reader.closed()
    # Within the limit, a big but legal head is served.
    with connect(server) as sock:
        sock.sendall(head("ListTables", 2, "X-Big: " + "a" * 32_000 + "\r\n") + b"{}")
        assert Reader(sock).response()[0] == 200
    numbers(f"{len(cases)} oversized request heads refused with 431")


# --- slow, truncated and idle connections -----------------------------------------------


def test_truncated_upload_is_not_applied(server: Server) -> None:
    """A client that dies mid-body must not have its request executed."""
    body = json.dumps({"TableName": SENTINEL, "Item": {"pk": {"S": "ghost"}}}).encode()
    for declared in (len(body) + 100, len(body) + 1):
        with connect(server) as sock:
            sock.sendall(head("PutItem", declared) + body)
            time.sleep(0.3)
    time.sleep(0.5)
    got = Api(server.url).call("GetItem", {"TableName": SENTINEL, "Key": {"pk": {"S": "ghost"}}})
    assert "Item" not in got


def test_idle_and_slow_connections_are_bounded(
    server: Server, sampler: RssSampler, numbers: Callable[[str], None]
) -> None:
    """Hundreds of connections that send nothing, half a head, or half a body: the server
    keeps answering others at once, and drops them after its timeouts."""
    before = server.rss_kib()
    idle = [connect(server, timeout=60) for _ in range(IDLE_CONNECTIONS)]
    slow_heads = [connect(server, timeout=60) for _ in range(SLOW_CONNECTIONS)]
    for sock in slow_heads:
        sock.sendall(head("ListTables", 2)[:40])  # the head never completes
    slow_bodies = [connect(server, timeout=60) for _ in range(SLOW_CONNECTIONS)]
    for sock in slow_bodies:
        sock.sendall(head("PutItem", 1000) + b'{"TableName": ')  # the body never completes
    started = time.monotonic()
    api = Api(server.url, timeout=10)
    served = 0
    worst = 0.0
    while time.monotonic() - started < 3:
        t0 = time.monotonic()
        api.call("GetItem", {"TableName": SENTINEL, "Key": {"pk": {"S": "s-1"}}})
        worst = max(worst, time.monotonic() - t0)
        served += 1
    assert worst < 5.0, f"a request took {worst:.1f}s beside idle connections"
    grown_mib = (server.rss_kib() - before) / 1024
    assert grown_mib < 100, (
        f"{len(idle) + 2 * SLOW_CONNECTIONS} idle connections cost {grown_mib:.0f} MiB"
    )
    # Past the timeouts every one of them is closed by the server.
    time.sleep(max(HEAD_TIMEOUT, BODY_IDLE_TIMEOUT) + 3 - (time.monotonic() - started))
    for sock in [*idle, *slow_heads, *slow_bodies]:
        sock.settimeout(5)
    timed_out = 0
    for sock in slow_bodies:
        status, _, body = Reader(sock).response()
        assert (status, error_type(body)) == (408, "RequestTimeoutException")
        timed_out += 1
    for sock in slow_heads:
        assert Reader(sock).response()[0] == 408
        timed_out += 1
    for sock in [*idle, *slow_heads, *slow_bodies]:
        assert Reader(sock).closed()
        sock.close()
    numbers(
        f"{len(idle)} idle + {2 * SLOW_CONNECTIONS} slow connections held: {served} requests "
        f"served meanwhile (slowest {worst * 1000:.0f} ms), +{grown_mib:.0f} MiB, "
        f"{timed_out} slow requests answered 408, all closed after the timeouts"
    )


# --- protocol oddities ------------------------------------------------------------------


def test_protocol_oddities(server: Server, numbers: Callable[[str], None]) -> None:
    cases = 0
    # HTTP/1.0: answered, then closed.
    with connect(server) as sock:
        sock.sendall(request("ListTables", {}, version="1.0"))
        reader = Reader(sock)
        assert reader.response()[0] == 200
        assert reader.closed()
        cases += 1
    # Wrong or missing Content-Type: an error, not a crash.
    for content_type in ("text/plain", "application/xml", "", "application/x-amz-json-1.0\x7f"):
        with connect(server) as sock:
            sock.sendall(request("ListTables", {}, content_type=content_type))
            status, _, _ = Reader(sock).response()
            assert 400 <= status < 500, content_type
            cases += 1
    # Invalid UTF-8 and control bytes in header values and in the body.
    for data in (
        head("ListTables", 2).replace(b"ListTables", b"List\xff\xfeTables") + b"{}",
        head("ListTables", 2).replace(b"Host: localhost", b"Host: \xc3\x28") + b"{}",
        head("ListTables", 2).replace(b"Signature=0", b"Signature=\xff\x00") + b"{}",
        head("ListTables", 3) + b'"\xff"',
        head("PutItem", 40) + b'{"TableName": "\xed\xa0\x80", "Item": {}}'.ljust(40),
    ):
        with connect(server, timeout=5) as sock:
            sock.sendall(data)
            status, _, _ = Reader(sock).response()
            assert status < 500, data[:60]
            cases += 1
    # Not HTTP at all.
    for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 100, b"GET\r\n\r\n"):
        with connect(server) as sock:
            send_all(sock, garbage)
            reader = Reader(sock)
            assert reader.response()[0] == 400
            assert reader.closed()
            cases += 1
    # Pipelining: 200 requests in one write, answered in order; a read after a write in
    # the same pipeline sees it. Every tenth write is large (over 64 KiB: the ASGI path
    # rather than the direct one), so the two paths' answers interleave.
    pipeline = b""
    for i in range(100):
        key = {"pk": {"S": f"pipe-{i}"}}
        item = {**key, "big": {"S": "x" * 100_000}} if i % 10 == 5 else key
        pipeline += request("PutItem", {"TableName": SENTINEL + "-pipe", "Item": item})
        pipeline += request("GetItem", {"TableName": SENTINEL + "-pipe", "Key": key})
    Api(server.url).call(
        "CreateTable",
        {
            "TableName": SENTINEL + "-pipe",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    with connect(server) as sock:
        sock.sendall(pipeline)
        reader = Reader(sock)
        for i in range(100):
            assert reader.response()[:1] == (200,)
            status, _, body = reader.response()
            assert status == 200 and json.loads(body)["Item"]["pk"]["S"] == f"pipe-{i}"
        cases += 200
    numbers(f"{cases} odd requests (HTTP/1.0, content types, bad bytes, garbage, pipelined)")


def test_memory_stayed_bounded(sampler: RssSampler, numbers: Callable[[str], None]) -> None:
    """Last in the module: the peak over everything above (checked after each test too).
    Run alone, it measures the idle server for the sampler's first hundred samples."""
    deadline = time.monotonic() + 30
    while sampler.samples <= 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sampler.samples > 100
    assert sampler.peak_kib < RSS_LIMIT_MIB * 1024
    numbers(
        f"peak server RSS {sampler.peak_kib // 1024} MiB over {sampler.samples} samples "
        f"(limit {RSS_LIMIT_MIB} MiB)"
    )
